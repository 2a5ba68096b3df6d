"""Marketing offers: codes from ``data/offers.json`` that become ad credit when redeemed.

A code is redeemable while its validity window holds (by the injected clock), by
advertisers of the countries it names (all when none), once per advertiser (a unique
constraint backs the check against concurrent redemptions). The credit is in the
advertiser's currency and expires ``credit_valid_days`` after redemption; ``record_spend``
(billing.py) draws on credits before charging anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import Invalid, NotFound, ValidationFailed
from pinapi.store.tables import AdCredit

OFFER_NOT_FOUND = 3006


@dataclass(frozen=True, slots=True)
class Offer:
    code: str
    name: str
    amounts: dict[str, int]
    valid_from: datetime | None
    valid_until: datetime | None
    credit_valid_days: int | None
    countries: tuple[str, ...] | None

    def amount_for(self, currency: str) -> int | None:
        return self.amounts.get(currency, self.amounts.get("default"))


def _when(raw: Any) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


@cache
def catalogue() -> dict[str, Offer]:
    raw = json.loads((Path(__file__).with_name("data") / "offers.json").read_text())
    out: dict[str, Offer] = {}
    for o in raw["offers"]:
        out[o["code"].upper()] = Offer(
            code=o["code"].upper(),
            name=o["name"],
            amounts={k: int(v) for k, v in o["amounts"].items()},
            valid_from=_when(o.get("valid_from")),
            valid_until=_when(o.get("valid_until")),
            credit_valid_days=o.get("credit_valid_days"),
            countries=tuple(o["countries"]) if o.get("countries") else None,
        )
    return out


async def redeem(
    session: AsyncSession, *, clock: Clock, principal: Principal, advertiser_id: int, offer_code: str
) -> AdCredit:
    advertiser, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="BILLING_PROFILE_CREATE"
    )
    code = offer_code.strip().upper()
    if not code or len(code) > 64:
        raise Invalid("offer_code", "must be a marketing offer code")
    offer = catalogue().get(code)
    if offer is None:
        raise NotFound("Marketing offer", code=OFFER_NOT_FOUND, message=f"Marketing offer {code} not found.")
    now = clock.now()
    if offer.valid_from is not None and now < offer.valid_from:
        raise ValidationFailed(
            "offer_code", f"offer {code} is not redeemable before {offer.valid_from:%Y-%m-%d}"
        )
    if offer.valid_until is not None and now > offer.valid_until:
        raise ValidationFailed("offer_code", f"offer {code} expired on {offer.valid_until:%Y-%m-%d}")
    if offer.countries is not None and advertiser.country not in offer.countries:
        raise ValidationFailed(
            "offer_code", f"offer {code} is only for advertisers in {', '.join(offer.countries)}"
        )
    amount = offer.amount_for(advertiser.currency)
    if amount is None:
        raise ValidationFailed("offer_code", f"offer {code} has no credit in {advertiser.currency}")
    existing = await session.scalar(
        select(AdCredit.id).where(AdCredit.advertiser_id == advertiser.id, AdCredit.offer_code == code)
    )
    if existing is not None:
        raise ValidationFailed("offer_code", f"offer {code} was already redeemed by this advertiser")
    credit = AdCredit(
        advertiser_id=advertiser.id,
        offer_code=code,
        name=offer.name,
        currency=advertiser.currency,
        amount_micro=amount,
        remaining_micro=amount,
        expires_at=now + timedelta(days=offer.credit_valid_days) if offer.credit_valid_days else None,
        created_at=now,
    )
    try:
        async with session.begin_nested():  # added inside: begin_nested flushes what is pending
            session.add(credit)
            await session.flush()
    except IntegrityError as exc:
        raise ValidationFailed("offer_code", f"offer {code} was already redeemed by this advertiser") from exc
    return credit
