"""A period's spend lines billed at once: the same bill, credits and details as one call per
line, for one load and one flush."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import billing, offers
from pinapi.domain.errors import Invalid
from pinapi.runtime import Runtime
from pinapi.store.tables import AdCredit, Advertiser, Bill, BillingProfile, Campaign
from tests.api.v3.ads.builders import AdsBuilder
from tests.factories import Factory

DAY1 = datetime(2026, 11, 1, tzinfo=UTC)  # over by the clock's now: its bill settles
DAY2 = DAY1 + timedelta(days=1)  # still open: its bill stays PENDING
DAY3 = DAY2 + timedelta(days=1)
GHOST_CAMPAIGN = 987_654_321  # spend of a campaign since deleted: a line with an empty name


async def _advertiser(factory: Factory, runtime: Runtime, name: str) -> tuple[Advertiser, Campaign, Campaign]:
    owner = await factory.user(name)
    adv = await factory.advertiser(owner)
    traffic = await AdsBuilder(runtime).campaign(adv)
    awareness = await AdsBuilder(runtime).campaign(adv, "AWARENESS")
    return adv, traffic, awareness


async def _credits(runtime: Runtime, adv: Advertiser) -> list[AdCredit]:
    """Four credits: HOLIDAY50 (expires in 60 days), WELCOME100 (90 days), one that never
    expires and one already expired by DAY1 (never used)."""
    principal = Principal(user_id=adv.owner_user_id, app_id=0, scopes=frozenset())
    now = runtime.clock.now()
    async with runtime.sessions() as s, s.begin():
        out = [
            await offers.redeem(
                s, clock=runtime.clock, principal=principal, advertiser_id=adv.id, offer_code=code
            )
            for code in ("WELCOME100", "HOLIDAY50")
        ]
        for code, expires in (("FOREVER20", None), ("GONE10", DAY1 - timedelta(hours=1))):
            credit = AdCredit(
                advertiser_id=adv.id,
                offer_code=code,
                name=f"{code} credit",
                currency=adv.currency,
                amount_micro=20_000_000 if expires is None else 10_000_000,
                remaining_micro=20_000_000 if expires is None else 10_000_000,
                expires_at=expires,
                created_at=now,
            )
            s.add(credit)
            out.append(credit)
    return out


async def _state(s: AsyncSession, adv: Advertiser) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    bills = (
        await s.scalars(select(Bill).where(Bill.advertiser_id == adv.id).order_by(Bill.start_time))
    ).all()
    credits = (
        await s.execute(
            select(AdCredit.offer_code, AdCredit.remaining_micro)
            .where(AdCredit.advertiser_id == adv.id)
            .order_by(AdCredit.offer_code)
        )
    ).all()
    return (
        [
            (
                b.start_time,
                b.end_time,
                b.currency,
                b.status,
                b.spend_micro,
                b.credit_micro,
                b.charge_time,
                b.details,
                b.discount_details,
                b.updated_at,
            )
            for b in bills
        ],
        [tuple(c) for c in credits],
    )


async def _spend_lines(
    s: AsyncSession,
    runtime: Runtime,
    adv: Advertiser,
    lines: list[tuple[int | None, int]],
    start: datetime = DAY1,
    end: datetime | None = None,
) -> Bill | None:
    return await billing.record_spend_lines(
        s,
        clock=runtime.clock,
        advertiser_id=adv.id,
        period_start=start,
        period_end=end or start + timedelta(days=1),
        lines=lines,
    )


@contextmanager
def _statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)


@pytest.mark.parametrize("start", [DAY1, DAY2], ids=["settled", "pending"])
async def test_lines_at_once_equal_one_call_per_line(
    factory: Factory, runtime: Runtime, start: datetime
) -> None:
    adv, traffic, awareness = await _advertiser(factory, runtime, "batcher")
    welcome, holiday, forever, _ = await _credits(runtime, adv)
    # A bill already holding spend, details and a discount line that the lines add to.
    async with runtime.sessions() as s, s.begin():
        await billing.record_spend(
            s,
            clock=runtime.clock,
            advertiser_id=adv.id,
            amount_micro=5_000_000,
            period_start=start,
            period_end=start + timedelta(days=1),
            campaign_id=awareness.id,
        )
    lines: list[tuple[int | None, int]] = [
        (traffic.id, 30_000_000),
        (None, 7_000_000),
        (awareness.id, 0),
        (awareness.id, 25_000_000),
        (traffic.id, 40_000_000),
        (GHOST_CAMPAIGN, 3_000_000),
        (awareness.id, 80_000_000),
    ]

    async with runtime.sessions() as s:
        for campaign, amount in lines:
            await billing.record_spend(
                s,
                clock=runtime.clock,
                advertiser_id=adv.id,
                amount_micro=amount,
                period_start=start,
                period_end=start + timedelta(days=1),
                campaign_id=campaign,
            )
        one_by_one = await _state(s, adv)
        await s.rollback()

    async with runtime.sessions() as s, s.begin():
        bill = await _spend_lines(s, runtime, adv, lines, start)
        assert bill is not None and bill.start_time == start
        assert await _state(s, adv) == one_by_one
    async with runtime.sessions() as s:
        stored = await _state(s, adv)
    assert stored == one_by_one

    # And what that is: 190 of spend, of which the 170 of valid credit pays 5 + 165 (soonest
    # to expire first, the expired credit untouched) and 20 is charged.
    [(_, end, currency, status, spend, credit, charge_time, details, discounts, _)] = stored[0]
    assert (end, currency, spend, credit) == (start + timedelta(days=1), "USD", 190_000_000, 170_000_000)
    if start == DAY1:
        assert (status, charge_time) == ("PAID", runtime.clock.now())
    else:
        assert (status, charge_time) == ("PENDING", None)
    assert details == [
        {
            "campaignId": str(awareness.id),
            "campaignName": "AWARENESS campaign",
            "spendInMicroCurrency": 110_000_000,
        },
        {
            "campaignId": str(traffic.id),
            "campaignName": "TRAFFIC campaign",
            "spendInMicroCurrency": 70_000_000,
        },
        {"campaignId": str(GHOST_CAMPAIGN), "campaignName": "", "spendInMicroCurrency": 3_000_000},
    ]
    assert discounts == [
        {"creditId": str(c.id), "name": c.name, "type": 2, "spendInMicroCurrency": used}
        for c, used in ((holiday, 50_000_000), (welcome, 100_000_000), (forever, 20_000_000))
    ]
    assert stored[1] == [("FOREVER20", 0), ("GONE10", 10_000_000), ("HOLIDAY50", 0), ("WELCOME100", 0)]


async def test_zero_lines_open_no_bill(factory: Factory, runtime: Runtime) -> None:
    adv, traffic, awareness = await _advertiser(factory, runtime, "idle")
    async with runtime.sessions() as s, s.begin():
        assert await _spend_lines(s, runtime, adv, []) is None
        assert await _spend_lines(s, runtime, adv, [(traffic.id, 0), (None, 0), (awareness.id, 0)]) is None
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Bill)) == 0
    # Zero lines beside others are skipped: no detail line for them.
    async with runtime.sessions() as s, s.begin():
        bill = await _spend_lines(s, runtime, adv, [(traffic.id, 0), (awareness.id, 4_000_000)])
        assert bill is not None and bill.spend_micro == 4_000_000 and bill.status == "PAID"
        assert [d["campaignId"] for d in bill.details] == [str(awareness.id)]


async def test_bad_input_names_the_field_and_changes_nothing(factory: Factory, runtime: Runtime) -> None:
    adv, traffic, _ = await _advertiser(factory, runtime, "careless")
    async with runtime.sessions() as s, s.begin():
        await _spend_lines(s, runtime, adv, [(traffic.id, 1_000_000)])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"advertiser_id": adv.id, "lines": [(traffic.id, 2_000_000), (None, -1)]}, "amount_micro"),
        ({"advertiser_id": adv.id, "period_end": DAY1}, "period_end"),
        ({"advertiser_id": adv.id, "period_end": DAY1 - timedelta(hours=1)}, "period_end"),
        ({"advertiser_id": adv.id, "period_end": DAY3}, "period_end"),  # DAY1's bill ends at DAY2
        ({"advertiser_id": 424_242}, "advertiser_id"),
        ({"advertiser_id": 424_242, "lines": [(None, 0)]}, "advertiser_id"),
    ]
    for overrides, field in cases:
        kwargs: dict[str, Any] = {
            "period_start": DAY1,
            "period_end": DAY2,
            "lines": [(traffic.id, 2_000_000)],
            **overrides,
        }
        async with runtime.sessions() as s:
            with pytest.raises(Invalid) as err:
                await billing.record_spend_lines(s, clock=runtime.clock, **kwargs)
            assert err.value.field == field, overrides
    async with runtime.sessions() as s:
        bills = (await s.scalars(select(Bill))).all()
        assert [(b.spend_micro, b.start_time) for b in bills] == [(1_000_000, DAY1)]


async def test_statements_do_not_grow_with_lines(factory: Factory, runtime: Runtime) -> None:
    adv, traffic, awareness = await _advertiser(factory, runtime, "many")
    more = [
        await AdsBuilder(runtime).campaign(adv, objective) for objective in ("VIDEO_VIEW", "CONSIDERATION")
    ]
    async with runtime.sessions() as s, s.begin():
        await _spend_lines(s, runtime, adv, [(traffic.id, 1_000_000)])

    async def count(lines: list[tuple[int | None, int]]) -> int:
        with _statements(runtime) as seen:
            async with runtime.sessions() as s, s.begin():
                await _spend_lines(s, runtime, adv, lines)
        return len(seen)

    one = await count([(traffic.id, 1_000_000)])
    many = await count(
        [(c.id, 1_000_000 + i) for i, c in enumerate([traffic, awareness, *more, awareness])] + [(None, 5)]
    )
    assert many == one
    async with runtime.sessions() as s:
        bill = await s.scalar(select(Bill).where(Bill.advertiser_id == adv.id))
        assert bill is not None and bill.spend_micro == 2_000_000 + 5 * 1_000_000 + 0 + 1 + 2 + 3 + 4 + 5
        assert [d["campaignName"] for d in bill.details] == [
            "TRAFFIC campaign",
            "AWARENESS campaign",
            "VIDEO_VIEW campaign",
            "CONSIDERATION campaign",
        ]


async def test_periods_at_once_equal_one_call_per_period(factory: Factory, runtime: Runtime) -> None:
    """Two advertisers, three days (one bill already open), credits shared across the days:
    the same bills, credits and details as ``record_spend_lines`` per period, in fewer
    statements than one call per period."""
    adv, traffic, awareness = await _advertiser(factory, runtime, "periods")
    other, other_traffic, _ = await _advertiser(factory, runtime, "others")
    await _credits(runtime, adv)
    async with runtime.sessions() as s, s.begin():
        await _spend_lines(s, runtime, adv, [(awareness.id, 5_000_000)], DAY2)
    periods = [
        billing.Period(adv.id, DAY1, DAY2, [(traffic.id, 90_000_000), (awareness.id, 0)]),
        billing.Period(other.id, DAY1, DAY2, [(other_traffic.id, 4_000_000)]),
        billing.Period(adv.id, DAY2, DAY3, [(awareness.id, 60_000_000), (None, 1), (GHOST_CAMPAIGN, 2)]),
        billing.Period(other.id, DAY2, DAY3, [(other_traffic.id, 0)]),  # nothing: no bill
        billing.Period(adv.id, DAY3, DAY3 + timedelta(days=1), [(traffic.id, 70_000_000)]),
    ]

    async def states(s: AsyncSession) -> list[Any]:
        return [await _state(s, a) for a in (adv, other)]

    with _statements(runtime) as sequential:
        async with runtime.sessions() as s:
            for p in periods:
                await billing.record_spend_lines(
                    s,
                    clock=runtime.clock,
                    advertiser_id=p.advertiser_id,
                    period_start=p.start,
                    period_end=p.end,
                    lines=p.lines,
                )
            one_by_one = await states(s)
            await s.rollback()
    with _statements(runtime) as batched:
        async with runtime.sessions() as s, s.begin():
            assert await billing.record_spend_periods(s, clock=runtime.clock, periods=periods) == 4
    async with runtime.sessions() as s:
        assert await states(s) == one_by_one
    assert len(batched) < len(sequential) / 2
    assert [len(bills) for bills, _ in one_by_one] == [3, 1]


async def test_bad_periods_name_the_field_and_change_nothing(factory: Factory, runtime: Runtime) -> None:
    adv, traffic, _ = await _advertiser(factory, runtime, "strict")
    async with runtime.sessions() as s, s.begin():
        await _spend_lines(s, runtime, adv, [(traffic.id, 1_000_000)])
    good = billing.Period(adv.id, DAY2, DAY3, [(traffic.id, 1)])
    cases = [
        (billing.Period(adv.id, DAY1, DAY2, [(traffic.id, -1)]), "amount_micro"),
        (billing.Period(adv.id, DAY2, DAY2, [(traffic.id, 1)]), "period_end"),
        (billing.Period(adv.id, DAY1, DAY3, [(traffic.id, 1)]), "period_end"),  # DAY1's bill ends at DAY2
        (billing.Period(424_242, DAY1, DAY2, [(None, 0)]), "advertiser_id"),
    ]
    for bad, field in cases:
        async with runtime.sessions() as s:
            with pytest.raises(Invalid) as err:
                await billing.record_spend_periods(s, clock=runtime.clock, periods=[good, bad])
            assert err.value.field == field, bad
    async with runtime.sessions() as s:
        bills = (await s.scalars(select(Bill))).all()
        assert [(b.spend_micro, b.start_time) for b in bills] == [(1_000_000, DAY1)]


Compete = Callable[[], Awaitable[None]]


def _race_at_savepoint(
    s: AsyncSession, monkeypatch: pytest.MonkeyPatch, compete: Compete, raced: list[bool]
) -> None:
    """Run ``compete`` (another writer, committing) once, just before ``s``'s first savepoint:
    billing opens new rows in a savepoint, so the other writer gets in first."""
    savepoint = s.begin_nested

    @asynccontextmanager
    async def late_savepoint() -> AsyncIterator[Any]:
        if not raced:
            raced.append(True)
            await compete()
        async with savepoint() as nested:
            yield nested

    monkeypatch.setattr(s, "begin_nested", late_savepoint)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_bill_another_writer_opens_meanwhile_gets_the_batch_spend_too(
    factory: Factory, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the batch's look for existing bills and its flush, another transaction opens
    DAY2's bill and commits (only PostgreSQL lets two writers in at once): the unique conflict
    sends the batch period by period, and both spends end on the one bill."""
    adv, traffic, awareness = await _advertiser(factory, runtime, "racer")
    async with runtime.sessions() as s, s.begin():
        await _spend_lines(s, runtime, adv, [(traffic.id, 1_000_000)])  # the profile exists

    async def compete() -> None:
        async with runtime.sessions() as other, other.begin():
            await _spend_lines(other, runtime, adv, [(awareness.id, 5_000_000)], DAY2, DAY3)

    raced: list[bool] = []
    periods = [
        billing.Period(adv.id, DAY2, DAY3, [(traffic.id, 2_000_000)]),
        billing.Period(adv.id, DAY3, DAY3 + timedelta(days=1), [(traffic.id, 3_000_000)]),
    ]
    async with runtime.sessions() as s, s.begin():
        _race_at_savepoint(s, monkeypatch, compete, raced)
        assert await billing.record_spend_periods(s, clock=runtime.clock, periods=periods) == 2
    assert raced == [True]
    async with runtime.sessions() as s:
        bills = (
            await s.scalars(select(Bill).where(Bill.advertiser_id == adv.id).order_by(Bill.start_time))
        ).all()
        assert [(b.start_time, b.spend_micro) for b in bills] == [
            (DAY1, 1_000_000),
            (DAY2, 7_000_000),
            (DAY3, 3_000_000),
        ]
        lines = {line["campaignId"]: line["spendInMicroCurrency"] for line in bills[1].details}
        assert lines == {str(traffic.id): 2_000_000, str(awareness.id): 5_000_000}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_one_period_and_a_first_profile_survive_a_writer_that_got_there_first(
    factory: Factory, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``record_spend_lines`` for an advertiser without a billing profile yet: another writer
    opens the profile and the period's bill first; this transaction uses both."""
    adv, traffic, awareness = await _advertiser(factory, runtime, "second")

    async def compete() -> None:
        async with runtime.sessions() as other, other.begin():
            await _spend_lines(other, runtime, adv, [(awareness.id, 5_000_000)], DAY2, DAY3)

    raced: list[bool] = []
    async with runtime.sessions() as s, s.begin():
        _race_at_savepoint(s, monkeypatch, compete, raced)
        bill = await _spend_lines(s, runtime, adv, [(traffic.id, 2_000_000)], DAY2, DAY3)
        assert bill is not None
    assert raced == [True]
    async with runtime.sessions() as s:
        bills = (await s.scalars(select(Bill).where(Bill.advertiser_id == adv.id))).all()
        assert [(b.start_time, b.spend_micro) for b in bills] == [(DAY2, 7_000_000)]
        profiles = await s.scalar(
            select(func.count()).select_from(BillingProfile).where(BillingProfile.advertiser_id == adv.id)
        )
        assert profiles == 1
