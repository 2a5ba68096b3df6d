"""Billing data and bill receipts (``/ads/v3/advertisers/{advertiser}/billing_data/`` …).

These objects are camelCase on the v3 wire (the Billing and BillingProfile schemas), unlike
the rest of the ads API.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import billing as domain
from pinapi.domain.errors import Invalid
from pinapi.store.tables import Bill

router = make_router(tags=["billing"])
READ = access("read_advertisers")


def _id(raw: str, what: str) -> int:
    if not raw.isdigit():
        raise Invalid(what, "must be a numeric id")
    return int(raw)


def bill_body(bill: Bill) -> dict[str, Any]:
    return {
        "id": str(bill.id),
        "advertiserId": str(bill.advertiser_id),
        "billingProfileId": str(bill.billing_profile_id),
        "businessProfileId": None,
        "chargeTime": unix_seconds(bill.charge_time),
        "creationDate": unix_seconds(bill.created_at),
        "currency": bill.currency,
        "details": bill.details,
        "discountDetails": bill.discount_details,
        "startTime": unix_seconds(bill.start_time),
        "endTime": unix_seconds(bill.end_time),
        "originalBillId": None,
        "reconciliationId": None,
        "spendInMicroCurrency": bill.spend_micro,
        "spendInMicroDollar": bill.spend_micro if bill.currency == "USD" else None,
        "creditInMicroCurrency": bill.credit_micro,
        "taxInMicroCurrency": bill.tax_micro,
        "amountDueInMicroCurrency": bill.spend_micro - bill.credit_micro + bill.tax_micro,
        "status": bill.status,
    }


@router.get("/ads/v3/advertisers/{advertiser}/billing_data/")
async def ads_v3_get_billing_data_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    data = await domain.billing_data(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        advertiser_id=_id(advertiser, "advertiser"),
    )
    p = data.profile
    return {
        "id": str(p.id),
        "advertiserId": str(p.advertiser_id),
        "billingType": p.billing_type,
        "cardNumber": p.card_number,
        "billingIds": {},
        "billingGroups": {},
        "currency": data.currency,
        "creditBalanceInMicroCurrency": data.credit_balance_micro,
        "billIds": [str(i) for i in data.bill_ids],
    }


@router.get("/ads/v3/advertisers/{advertiser}/bill_receipts/{bill}/")
async def ads_v3_get_bill_receipt_handler(
    advertiser: str,
    bill: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    found = await domain.bill_receipt(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        advertiser_id=_id(advertiser, "advertiser"),
        bill_id=_id(bill, "bill"),
    )
    return bill_body(found)
