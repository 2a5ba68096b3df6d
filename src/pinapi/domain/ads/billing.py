"""Billing: each advertiser's billing profile, and spend turned into bills.

The profile is created with the advertiser when the ads code calls ``ensure_profile``, and
lazily on the first billing read or recorded spend otherwise, so every advertiser has one.

``record_spend`` adds spend of one period (a day, say) to that period's bill;
``record_spend_lines`` adds several campaigns' spend of a period at once, which is what the
delivery engine calls for each advertiser-local day. Spend is paid first from unexpired ad
credits of the advertiser's currency (soonest to expire first) and only then charged. A
bill stays PENDING while its period is open; once the period has ended (by the clock) it
settles by billing type:

- nothing left to charge (all paid by credits) → COMPED;
- INVOICE → INVOICED; INTERNAL → INTERNAL; CREDIT_CARD, RECURRING, PREPAID → PAID (charged
  at settlement time).

Spend recorded after a bill settled stays on it and re-settles it. Amounts are integer
micro-currency; nothing here rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import Invalid, NotFound
from pinapi.store.tables import AdCredit, Advertiser, Bill, BillingProfile, Campaign

BILLING_TYPES = ("CREDIT_CARD", "INTERNAL", "INVOICE", "PREPAID", "RECURRING")
DEFAULT_BILLING_TYPE = "CREDIT_CARD"
BILL_NOT_FOUND = 3005
MARKETING_OFFER_CREDIT_APPLIED = 2  # v3 discountDetails type
SETTLED_BY_TYPE = {
    "INVOICE": "INVOICED",
    "INTERNAL": "INTERNAL",
    "CREDIT_CARD": "PAID",
    "RECURRING": "PAID",
    "PREPAID": "PAID",
}


@dataclass(frozen=True, slots=True)
class BillingData:
    profile: BillingProfile
    currency: str
    credit_balance_micro: int
    bill_ids: list[int]


async def ensure_profile(
    session: AsyncSession, *, clock: Clock, advertiser_id: int, billing_type: str = DEFAULT_BILLING_TYPE
) -> BillingProfile:
    """The advertiser's billing profile, created on first need (idempotent, race-safe)."""
    if billing_type not in BILLING_TYPES:
        raise Invalid("billing_type", f"must be one of {', '.join(BILLING_TYPES)}")
    found = await session.scalar(select(BillingProfile).where(BillingProfile.advertiser_id == advertiser_id))
    if found is not None:
        return found
    profile = BillingProfile(
        advertiser_id=advertiser_id,
        billing_type=billing_type,
        card_number="xxxxxxxxxxxx4242" if billing_type == "CREDIT_CARD" else None,
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():  # added inside: begin_nested flushes what is pending
            session.add(profile)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(
            select(BillingProfile).where(BillingProfile.advertiser_id == advertiser_id)
        )
        assert found is not None
        return found
    return profile


def _settle(bill: Bill, billing_type: str, now: datetime) -> None:
    if bill.end_time > now:
        bill.status = "PENDING"
        return
    due = bill.spend_micro - bill.credit_micro + bill.tax_micro
    bill.status = "COMPED" if due <= 0 else SETTLED_BY_TYPE.get(billing_type, "UNPAID")
    if bill.status == "PAID":
        bill.charge_time = now


def _add_lines(lines: list[Any], key: str, additions: list[tuple[str, dict[str, Any], int]]) -> list[Any]:
    """``lines`` with each ``(ident, extra, amount)`` added to the line of that ident, or
    appended as a new line; a new list of new dicts, so the JSON column sees a change."""
    out = [dict(x) for x in lines]
    at: dict[Any, dict[str, Any]] = {}
    for line in out:
        at.setdefault(line.get(key), line)
    for ident, extra, amount in additions:
        found = at.get(ident)
        if found is None:
            found = at[ident] = {key: ident, **extra, "spendInMicroCurrency": 0}
            out.append(found)
        found["spendInMicroCurrency"] += amount
    return out


def _new_bill(
    advertiser: Advertiser, profile: BillingProfile, start: datetime, end: datetime, now: datetime
) -> Bill:
    return Bill(
        advertiser_id=advertiser.id,
        billing_profile_id=profile.id,
        currency=advertiser.currency,
        status="PENDING",
        start_time=start,
        end_time=end,
        spend_micro=0,
        credit_micro=0,
        tax_micro=0,
        details=[],
        discount_details=[],
        created_at=now,
        updated_at=now,
    )


async def _open_bill(
    session: AsyncSession,
    *,
    advertiser: Advertiser,
    profile: BillingProfile,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Bill:
    """The period's bill, created if missing; a concurrent creator wins and we use its row."""
    bill = _new_bill(advertiser, profile, start, end, now)
    try:
        async with session.begin_nested():  # added inside: begin_nested flushes what is pending
            session.add(bill)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(
            select(Bill)
            .where(Bill.advertiser_id == advertiser.id, Bill.start_time == start)
            .with_for_update()
        )
        assert found is not None
        if found.end_time != end:
            raise Invalid("period_end", "differs from the period already billed from this start") from None
        return found
    return bill


async def record_spend(
    session: AsyncSession,
    *,
    clock: Clock,
    advertiser_id: int,
    amount_micro: int,
    period_start: datetime,
    period_end: datetime,
    campaign_id: int | None = None,
) -> Bill:
    """Add ``amount_micro`` of spend to the bill of ``[period_start, period_end)`` (the bill
    is opened even for zero spend, so callers always get one back)."""
    bill = await _record(
        session,
        clock=clock,
        advertiser_id=advertiser_id,
        period_start=period_start,
        period_end=period_end,
        lines=[(campaign_id, amount_micro)],
        open_empty=True,
    )
    assert bill is not None  # open_empty: never None
    return bill


async def record_spend_lines(
    session: AsyncSession,
    *,
    clock: Clock,
    advertiser_id: int,
    period_start: datetime,
    period_end: datetime,
    lines: Sequence[tuple[int | None, int]],
) -> Bill | None:
    """Add a period's spend lines ``(campaign_id, amount_micro)`` to its bill at once.

    The effect is that of ``record_spend`` once per line in order, at the cost of one: the
    delivery engine bills a day of every campaign of an advertiser together. Zero lines are
    skipped; when all are zero no bill is opened and None is returned.
    """
    return await _record(
        session,
        clock=clock,
        advertiser_id=advertiser_id,
        period_start=period_start,
        period_end=period_end,
        lines=lines,
        open_empty=False,
    )


async def _record(
    session: AsyncSession,
    *,
    clock: Clock,
    advertiser_id: int,
    period_start: datetime,
    period_end: datetime,
    lines: Sequence[tuple[int | None, int]],
    open_empty: bool,
) -> Bill | None:
    if any(amount < 0 for _, amount in lines):
        raise Invalid("amount_micro", "must not be negative")
    if period_end <= period_start:
        raise Invalid("period_end", "must be after period_start")
    advertiser = await session.get(Advertiser, advertiser_id)
    if advertiser is None:
        raise Invalid("advertiser_id", f"no advertiser {advertiser_id}")
    lines = [(campaign, amount) for campaign, amount in lines if amount > 0]
    if not lines and not open_empty:
        return None
    profile = await ensure_profile(session, clock=clock, advertiser_id=advertiser_id)
    now = clock.now()
    bill = await session.scalar(
        select(Bill)
        .where(Bill.advertiser_id == advertiser_id, Bill.start_time == period_start)
        .with_for_update()
    )
    if bill is None:
        bill = await _open_bill(
            session, advertiser=advertiser, profile=profile, start=period_start, end=period_end, now=now
        )
    elif bill.end_time != period_end:
        raise Invalid("period_end", "differs from the period already billed from this start")
    total = sum(amount for _, amount in lines)
    if total > 0:
        await _pay_from_credits(session, advertiser=advertiser, bill=bill, amount=total, since=period_start)
    bill.spend_micro += total
    campaigns = list(dict.fromkeys(c for c, _ in lines if c is not None))
    if campaigns:
        rows = await session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(campaigns)))
        names: dict[int, str] = {ident: name for ident, name in rows}
        bill.details = _add_lines(
            bill.details,
            "campaignId",
            [(str(c), {"campaignName": names.get(c) or ""}, amount) for c, amount in lines if c is not None],
        )
    bill.updated_at = now
    _settle(bill, profile.billing_type, now)
    await session.flush()
    return bill


@dataclass(frozen=True, slots=True)
class Period:
    """One period's spend lines ``(campaign_id, amount_micro)`` of one advertiser."""

    advertiser_id: int
    start: datetime
    end: datetime
    lines: Sequence[tuple[int | None, int]]


async def record_spend_periods(session: AsyncSession, *, clock: Clock, periods: Sequence[Period]) -> int:
    """``record_spend_lines`` for each period in order, with the reads and writes of all of
    them batched: the delivery engine closes some fifty advertiser-days a simulated day, and
    one call each cost a dozen statements. Returns the number of bills that got spend.

    Bad input raises before anything changes. If a bill appears concurrently (a unique
    conflict on opening the new ones), the periods are recorded one by one instead, which
    handles that case."""
    for period in periods:
        if any(amount < 0 for _, amount in period.lines):
            raise Invalid("amount_micro", "must not be negative")
        if period.end <= period.start:
            raise Invalid("period_end", "must be after period_start")
    work = [p for p in periods if any(amount > 0 for _, amount in p.lines)]
    ids = sorted({p.advertiser_id for p in periods})
    advertisers = {a.id: a for a in (await session.scalars(select(Advertiser).where(Advertiser.id.in_(ids))))}
    for period in periods:
        if period.advertiser_id not in advertisers:
            raise Invalid("advertiser_id", f"no advertiser {period.advertiser_id}")
    if not work:
        return 0
    ids = sorted({p.advertiser_id for p in work})
    profiles = {
        p.advertiser_id: p
        for p in await session.scalars(select(BillingProfile).where(BillingProfile.advertiser_id.in_(ids)))
    }
    for ident in ids:
        if ident not in profiles:
            profiles[ident] = await ensure_profile(session, clock=clock, advertiser_id=ident)
    starts = sorted({p.start for p in work})
    bills = {
        (b.advertiser_id, b.start_time): b
        for b in await session.scalars(
            select(Bill).where(Bill.advertiser_id.in_(ids), Bill.start_time.in_(starts)).with_for_update()
        )
    }
    now = clock.now()
    opened: list[Bill] = []
    for period in work:
        key = (period.advertiser_id, period.start)
        bill = bills.get(key)
        if bill is None:
            advertiser = advertisers[period.advertiser_id]
            bill = bills[key] = _new_bill(advertiser, profiles[advertiser.id], period.start, period.end, now)
            opened.append(bill)
        elif bill.end_time != period.end:
            raise Invalid("period_end", "differs from the period already billed from this start")
    if opened:
        try:
            # Added inside the savepoint: ``begin_nested`` flushes what is pending before it
            # starts, so bills added earlier would conflict outside the savepoint and take the
            # whole transaction down; added here, its rollback also takes them back out.
            async with session.begin_nested():
                session.add_all(opened)
                await session.flush()
        except IntegrityError:  # someone opened one of them meanwhile: go one by one
            for period in work:
                await record_spend_lines(
                    session,
                    clock=clock,
                    advertiser_id=period.advertiser_id,
                    period_start=period.start,
                    period_end=period.end,
                    lines=period.lines,
                )
            return len(work)
    credits: dict[int, list[AdCredit]] = {}
    for credit in await session.scalars(
        select(AdCredit)
        .where(AdCredit.advertiser_id.in_(ids), AdCredit.remaining_micro > 0)
        .order_by(AdCredit.expires_at.is_(None), AdCredit.expires_at, AdCredit.id)
        .with_for_update()
    ):
        credits.setdefault(credit.advertiser_id, []).append(credit)
    campaigns = sorted({c for p in work for c, amount in p.lines if c is not None and amount > 0})
    rows = await session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(campaigns)))
    names: dict[int, str] = {ident: name for ident, name in rows}
    for period in work:
        advertiser = advertisers[period.advertiser_id]
        bill = bills[(period.advertiser_id, period.start)]
        lines = [(campaign, amount) for campaign, amount in period.lines if amount > 0]
        total = sum(amount for _, amount in lines)
        usable = [
            c
            for c in credits.get(advertiser.id, [])
            if c.currency == advertiser.currency
            and c.remaining_micro > 0
            and (c.expires_at is None or c.expires_at > period.start)
        ]
        _spend_credits(bill, usable, total)
        bill.spend_micro += total
        named = [
            (str(c), {"campaignName": names.get(c) or ""}, amount) for c, amount in lines if c is not None
        ]
        if named:
            bill.details = _add_lines(bill.details, "campaignId", named)
        bill.updated_at = now
        _settle(bill, profiles[advertiser.id].billing_type, now)
    await session.flush()
    return len(work)


def _spend_credits(bill: Bill, credits: Sequence[AdCredit], amount: int) -> None:
    """Pay up to ``amount`` of ``bill`` from ``credits``, in their order."""
    left = amount
    used_lines: list[tuple[str, dict[str, Any], int]] = []
    for credit in credits:
        if left == 0:
            break
        used = min(left, credit.remaining_micro)
        credit.remaining_micro -= used
        left -= used
        bill.credit_micro += used
        used_lines.append(
            (str(credit.id), {"name": credit.name, "type": MARKETING_OFFER_CREDIT_APPLIED}, used)
        )
    if used_lines:
        bill.discount_details = _add_lines(bill.discount_details, "creditId", used_lines)


async def _pay_from_credits(
    session: AsyncSession, *, advertiser: Advertiser, bill: Bill, amount: int, since: datetime
) -> None:
    """Pay up to ``amount`` from the advertiser's credits still valid at ``since``: soonest
    to expire first, then oldest. Spending the lines one by one would take the same credits
    in the same order, so the sum is taken at once."""
    credits = (
        await session.scalars(
            select(AdCredit)
            .where(
                AdCredit.advertiser_id == advertiser.id,
                AdCredit.currency == advertiser.currency,
                AdCredit.remaining_micro > 0,
                or_(AdCredit.expires_at.is_(None), AdCredit.expires_at > since),
            )
            .order_by(AdCredit.expires_at.is_(None), AdCredit.expires_at, AdCredit.id)
            .with_for_update()
        )
    ).all()
    _spend_credits(bill, credits, amount)


async def settle_due(session: AsyncSession, *, clock: Clock, advertiser_id: int) -> int:
    """Settle the advertiser's PENDING bills whose period has ended; returns how many."""
    profile = await ensure_profile(session, clock=clock, advertiser_id=advertiser_id)
    now = clock.now()
    bills = (
        await session.scalars(
            select(Bill).where(
                Bill.advertiser_id == advertiser_id, Bill.status == "PENDING", Bill.end_time <= now
            )
        )
    ).all()
    for bill in bills:
        _settle(bill, profile.billing_type, now)
    await session.flush()
    return len(bills)


async def billing_data(
    session: AsyncSession, *, clock: Clock, principal: Principal, advertiser_id: int
) -> BillingData:
    advertiser, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="BILLING_PROFILE_READ"
    )
    profile = await ensure_profile(session, clock=clock, advertiser_id=advertiser_id)
    await settle_due(session, clock=clock, advertiser_id=advertiser_id)
    now = clock.now()
    balance = sum(
        (
            await session.scalars(
                select(AdCredit.remaining_micro).where(
                    AdCredit.advertiser_id == advertiser_id,
                    AdCredit.currency == advertiser.currency,
                    or_(AdCredit.expires_at.is_(None), AdCredit.expires_at > now),
                )
            )
        ).all()
    )
    bill_ids = list(
        (
            await session.scalars(
                select(Bill.id).where(Bill.advertiser_id == advertiser_id).order_by(Bill.id.desc()).limit(100)
            )
        ).all()
    )
    return BillingData(
        profile=profile, currency=advertiser.currency, credit_balance_micro=balance, bill_ids=bill_ids
    )


async def bill_receipt(
    session: AsyncSession, *, clock: Clock, principal: Principal, advertiser_id: int, bill_id: int
) -> Bill:
    await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="BILL_READ"
    )
    bill = await session.get(Bill, bill_id)
    if bill is None or bill.advertiser_id != advertiser_id:
        raise NotFound("Bill", code=BILL_NOT_FOUND)
    if bill.status == "PENDING" and bill.end_time <= clock.now():
        await settle_due(session, clock=clock, advertiser_id=advertiser_id)
    return bill
