"""Organic analytics of a pinner: daily account metrics, top pins and the owner's pin stats.

Every number is a sum of fact rows the engine wrote; nothing is estimated at read time.

* ``organic_pin_hours``: activity on a pin itself, per UTC hour (organic, not downstream).
* ``delivery_hours`` of the promotions of those pins (joined through ``pin_promotions``):
  the paid columns (``*_1``, the only facts with video playback) and the earned columns
  (``*_2``: activity on the copies a paid save put on other boards and feeds, which is what
  v3's ``downstream`` filter selects).

Counts are summed first and every rate is computed from the sums (``SAVE_RATE`` = saves /
impressions over the whole day or range), never averaged. Days are UTC days.

The pins counted for a user: their own pins (``in_profile``), and the saves other pinners
made of the user's own (non-repin) pins, found through the aggregated pin data every repin
shares with its root. Filters that the facts cannot tell apart are accepted and change
nothing (``app_types``: organic facts carry no device); filters naming content pinapi does
not have select nothing (``from_owned_content=1``: pinapi has no claimed domains; product
and shop-the-look formats). ``docs/compat.md`` lists each rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import DateTime, TypeDecorator

from pinapi.domain.errors import Invalid
from pinapi.domain.organic.visibility import PROTECTED, PUBLIC, SECRET, SECRET_PINS_SCOPE
from pinapi.store.tables import (
    Board,
    BoardCollaborator,
    DeliveryHour,
    EngineCheckpoint,
    OrganicPinHour,
    Pin,
    PinPromotion,
)

# ---------------------------------------------------------------------------------------------
# The metric catalogue

BASES = (
    "IMPRESSION",
    "CLOSEUP",
    "SAVE",
    "CLICKTHROUGH",
    "OUTBOUND_CLICK",
    "VIDEO_START",
    "VIDEO_10S_VIEW",
    "VIDEO_MRC_VIEW",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_WATCH_TIME",
    "VIDEO_V50_WATCH_TIME",
)
"""The summed counts every metric is computed from (watch times in milliseconds)."""

_ORGANIC_COLUMNS: dict[str, Any] = {
    "IMPRESSION": OrganicPinHour.impression,
    "CLOSEUP": OrganicPinHour.closeup,
    "SAVE": OrganicPinHour.save,
    "CLICKTHROUGH": OrganicPinHour.clickthrough,
    "OUTBOUND_CLICK": OrganicPinHour.outbound_click,
}
_PAID_COLUMNS: dict[str, Any] = {
    "IMPRESSION": DeliveryHour.impression_1,
    "CLOSEUP": DeliveryHour.closeup_1,
    "SAVE": DeliveryHour.save_1,
    "CLICKTHROUGH": DeliveryHour.clickthrough_1,
    "OUTBOUND_CLICK": DeliveryHour.outbound_click_1,
    "VIDEO_START": DeliveryHour.video_start_1,
    "VIDEO_10S_VIEW": DeliveryHour.video_10s_view_1,
    "VIDEO_MRC_VIEW": DeliveryHour.video_mrc_views_1,
    "QUARTILE_95_PERCENT_VIEW": DeliveryHour.video_p95_combined_1,
    "VIDEO_WATCH_TIME": DeliveryHour.video_watch_time_ms_1,
    "VIDEO_V50_WATCH_TIME": DeliveryHour.video_sum_v50_watchtime_in_millisecond_1,
}
_EARNED_COLUMNS: dict[str, Any] = {
    "IMPRESSION": DeliveryHour.impression_2,
    "CLOSEUP": DeliveryHour.closeup_2,
    "SAVE": DeliveryHour.save_2,
    "CLICKTHROUGH": DeliveryHour.clickthrough_2,
    "OUTBOUND_CLICK": DeliveryHour.outbound_click_2,
}


@dataclass(frozen=True, slots=True)
class Metric:
    """``sum(numerator)``, or ``sum(numerator) / sum(denominator)`` (0 when that is 0)."""

    name: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()

    def value(self, totals: Mapping[str, int]) -> int | float:
        top = sum(totals.get(b, 0) for b in self.numerator)
        if not self.denominator:
            return top
        bottom = sum(totals.get(b, 0) for b in self.denominator)
        return top / bottom if bottom else 0.0


_ENGAGED = ("CLOSEUP", "SAVE", "CLICKTHROUGH")
_PIN_CLICKS = ("CLOSEUP", "CLICKTHROUGH")
_IMP = ("IMPRESSION",)
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        # v3 organic metric types
        Metric("IMPRESSION", _IMP),
        Metric("CLOSEUP", ("CLOSEUP",)),
        Metric("CLOSEUP_RATE", ("CLOSEUP",), _IMP),
        Metric("SAVE", ("SAVE",)),
        Metric("SAVE_RATE", ("SAVE",), _IMP),
        Metric("CLICKTHROUGH", ("CLICKTHROUGH",)),
        Metric("CLICKTHROUGH_RATE", ("CLICKTHROUGH",), _IMP),
        Metric("ENGAGEMENT", _ENGAGED),
        Metric("ENGAGEMENT_RATE", _ENGAGED, _IMP),
        # the later names v3-era clients already send
        Metric("PIN_CLICK", _PIN_CLICKS),
        Metric("PIN_CLICK_RATE", _PIN_CLICKS, _IMP),
        Metric("OUTBOUND_CLICK", ("OUTBOUND_CLICK",)),
        Metric("OUTBOUND_CLICK_RATE", ("OUTBOUND_CLICK",), _IMP),
        # video pin metric types (paid facts only: see the module docstring)
        Metric("VIDEO_START", ("VIDEO_START",)),
        Metric("VIDEO_10S_VIEW", ("VIDEO_10S_VIEW",)),
        Metric("VIDEO_MRC_VIEW", ("VIDEO_MRC_VIEW",)),
        Metric("QUARTILE_95_PERCENT_VIEW", ("QUARTILE_95_PERCENT_VIEW",)),
        Metric("VIDEO_V50_WATCH_TIME", ("VIDEO_V50_WATCH_TIME",)),
        Metric("VIDEO_AVG_WATCH_TIME", ("VIDEO_WATCH_TIME",), ("VIDEO_START",)),
    )
}
ORGANIC_DEFAULT = (
    "IMPRESSION",
    "SAVE",
    "SAVE_RATE",
    "CLOSEUP",
    "CLOSEUP_RATE",
    "CLICKTHROUGH",
    "CLICKTHROUGH_RATE",
    "ENGAGEMENT",
    "ENGAGEMENT_RATE",
)
"""The v3 "Metric types": what a request without ``metric_types`` gets."""
VIDEO_DEFAULT = (
    "IMPRESSION",
    "SAVE",
    "CLICKTHROUGH",
    "VIDEO_START",
    "VIDEO_10S_VIEW",
    "VIDEO_MRC_VIEW",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_AVG_WATCH_TIME",
    "VIDEO_V50_WATCH_TIME",
)
"""The v3 "Video pin metric types"."""


def metric_names(
    raw: Iterable[str], default: Sequence[str], *, field_name: str = "metric_types"
) -> tuple[str, ...]:
    """The requested metric names in order, without repeats; an unknown one is refused by name."""
    out: list[str] = []
    for item in raw:
        name = item.strip().upper()
        if name not in METRICS:
            raise Invalid(field_name, f"unknown metric {item.strip()!r}; known: {', '.join(METRICS)}")
        if name not in out:
            out.append(name)
    return tuple(out) or tuple(default)


def compute(names: Sequence[str], totals: Mapping[str, int]) -> dict[str, int | float]:
    return {n: METRICS[n].value(totals) for n in names}


# ---------------------------------------------------------------------------------------------
# Filters and date ranges

PIN_FORMATS = (
    "all",
    "product",
    "standard",
    "standard_product_stl_union",
    "standard_product_union",
    "standard_stl_union",
    "stl",
    "story",
    "video",
)
APP_TYPES = ("all", "mobile", "tablet", "web")
PUBLISH_TYPES = ("all", "published")
MAX_RANGE_DAYS = 90
"""A range spans at most 90 days and starts at most 90 days before today (UTC)."""
MAX_TOP_PINS = 100


@dataclass(frozen=True, slots=True)
class Filters:
    """The v3 filters; the integer ones mean 0 = without, 1 = only, 2 = both (the default)."""

    paid: int = 2
    in_profile: int = 2
    from_owned_content: int = 2
    downstream: int = 2
    pin_format: str = "all"
    app_types: str = "all"
    publish_types: str = "all"
    include_curated: int = 2

    @property
    def organic(self) -> bool:
        """Activity on the pins themselves (not paid, not downstream)."""
        return self.paid != 1 and self.downstream != 1

    @property
    def paid_part(self) -> bool:
        return self.paid != 0 and self.downstream != 1

    @property
    def earned(self) -> bool:
        """Downstream activity: organic impressions that a paid save brought to copies."""
        return self.paid != 1 and self.downstream != 0


def date_range(start: date, end: date, *, today: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in UTC, after the range rules (each names its field)."""
    if end < start:
        raise Invalid("end_date", "must not be before start_date")
    if end > today:
        raise Invalid("end_date", f"must not be after today ({today.isoformat()}, UTC)")
    if start < today - timedelta(days=MAX_RANGE_DAYS):
        raise Invalid("start_date", f"must not be more than {MAX_RANGE_DAYS} days before today")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid("end_date", f"the range may span at most {MAX_RANGE_DAYS} days")
    return _midnight(start), _midnight(end + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _standard() -> ColumnElement[bool]:
    return and_(Pin.is_video.is_(False), Pin.native_format_type != "STORY_PIN")


def _format(pin_format: str) -> ColumnElement[bool]:
    """Product and shop-the-look pins do not exist in pinapi: those formats select nothing,
    and their unions with ``standard`` are ``standard``."""
    if pin_format == "all":
        return true()
    if pin_format == "video":
        return Pin.is_video.is_(True)
    if pin_format == "story":
        return and_(Pin.is_video.is_(False), Pin.native_format_type == "STORY_PIN")
    if pin_format in ("product", "stl"):
        return false()
    return _standard()


def format_of(pin: Pin) -> str:
    if pin.is_video:
        return "video"
    return "story" if pin.native_format_type == "STORY_PIN" else "standard"


def pin_set(
    user_id: int, filters: Filters, *, video_only: bool = False, visible_to: frozenset[str] | None = None
) -> Select[Any]:
    """The ids of the pins whose activity counts for ``user_id`` under ``filters``.

    ``visible_to`` (the caller's scopes) restricts the set to pins the caller may see
    listed: their own on public and protected boards (secret with ``read_secret_pins``),
    other pinners' saves only on public boards.
    """
    parts: list[ColumnElement[bool]] = []
    if filters.in_profile != 0:
        own: list[ColumnElement[bool]] = [Pin.owner_id == user_id]
        if filters.include_curated == 0 or filters.publish_types == "published":
            own.append(Pin.is_repin.is_(False))
        elif filters.include_curated == 1:
            own.append(Pin.is_repin.is_(True))
        parts.append(and_(*own))
    if filters.in_profile != 1 and filters.include_curated != 1:
        roots = select(Pin.aggregated_pin_data_id).where(
            Pin.owner_id == user_id, Pin.is_repin.is_(False), Pin.aggregated_pin_data_id.is_not(None)
        )
        parts.append(and_(Pin.aggregated_pin_data_id.in_(roots), Pin.owner_id != user_id))
    where: list[ColumnElement[bool]] = [or_(*parts) if parts else false(), _format(filters.pin_format)]
    if filters.from_owned_content == 1:
        where.append(false())  # no claimed domains or accounts in pinapi
    if video_only:
        where.append(Pin.is_video.is_(True))
    stmt = select(Pin.id).where(*where)
    if visible_to is not None:
        member = or_(
            Board.owner_id == user_id,
            exists().where(BoardCollaborator.board_id == Board.id, BoardCollaborator.user_id == user_id),
        )
        secret_ok = true() if SECRET_PINS_SCOPE in visible_to else false()
        stmt = stmt.join(Board, Board.id == Pin.board_id).where(
            or_(
                Board.privacy == PUBLIC,
                and_(Pin.owner_id == user_id, Board.privacy == PROTECTED, member),
                and_(Pin.owner_id == user_id, Board.privacy == SECRET, member, secret_ok),
            )
        )
    return stmt


# ---------------------------------------------------------------------------------------------
# Reading the facts


def _sums(columns: Mapping[str, Any], prefix: str) -> list[Any]:
    return [func.coalesce(func.sum(columns[b]), 0).label(f"{prefix}{b}") for b in BASES if b in columns]


async def _totals(
    session: AsyncSession,
    *,
    pins: Select[Any],
    filters: Filters,
    start: datetime,
    end: datetime,
    by_pin: bool,
    paid_seen: set[Any] | None = None,
) -> dict[Any, dict[str, int]]:
    """Summed bases per UTC hour (or per pin), over the sources ``filters`` select;
    ``paid_seen`` collects the keys that had paid impressions."""
    out: dict[Any, dict[str, int]] = {}

    def add(key: Any, values: Mapping[Any, Any], columns: Iterable[str], prefix: str) -> None:
        slot = out.setdefault(key, dict.fromkeys(BASES, 0))
        for b in columns:
            slot[b] += int(values[f"{prefix}{b}"])

    if filters.organic:
        key = OrganicPinHour.pin_id if by_pin else OrganicPinHour.hour
        stmt = (
            select(key.label("k"), *_sums(_ORGANIC_COLUMNS, "o_"))
            .where(OrganicPinHour.pin_id.in_(pins), OrganicPinHour.hour >= start, OrganicPinHour.hour < end)
            .group_by(key)
        )
        for row in (await session.execute(stmt)).mappings():
            add(row["k"], row, _ORGANIC_COLUMNS, "o_")
    if filters.paid_part or filters.earned:
        key = PinPromotion.pin_id if by_pin else DeliveryHour.hour
        cols = (_sums(_PAID_COLUMNS, "p_") if filters.paid_part else []) + (
            _sums(_EARNED_COLUMNS, "e_") if filters.earned else []
        )
        stmt = (
            select(key.label("k"), *cols)
            .join(PinPromotion, PinPromotion.id == DeliveryHour.pin_promotion_id)
            .where(PinPromotion.pin_id.in_(pins), DeliveryHour.hour >= start, DeliveryHour.hour < end)
            .group_by(key)
        )
        for row in (await session.execute(stmt)).mappings():
            if filters.paid_part:
                add(row["k"], row, _PAID_COLUMNS, "p_")
                if paid_seen is not None and row["p_IMPRESSION"]:
                    paid_seen.add(row["k"])
            if filters.earned:
                add(row["k"], row, _EARNED_COLUMNS, "e_")
    return out


async def closed_through(session: AsyncSession, *, now: datetime) -> datetime | None:
    """The end of the hours whose facts are final: the engine's frontier, capped at the
    clock's hour; None while nothing was simulated."""
    frontier: datetime | None = await session.scalar(select(func.max(EngineCheckpoint.hour)))
    if frontier is None:
        return None
    return min(frontier, _floor_hour(now))


def _floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_status(day: date, closed: datetime | None) -> str:
    """READY once every hour of the day is simulated and past; PROCESSING before that."""
    return "READY" if closed is not None and _midnight(day + timedelta(days=1)) <= closed else "PROCESSING"


@dataclass(frozen=True, slots=True)
class DayMetrics:
    day: date
    status: str
    metrics: dict[str, int | float]


@dataclass(frozen=True, slots=True)
class UserMetrics:
    summary: dict[str, int | float]
    days: list[DayMetrics]


async def user_metrics(
    session: AsyncSession,
    *,
    user_id: int,
    start: date,
    end: date,
    names: Sequence[str],
    filters: Filters,
    now: datetime,
) -> UserMetrics:
    """The account's metrics per UTC day of [start, end] and over the whole range."""
    lo, hi = date_range(start, end, today=now.astimezone(UTC).date())
    hourly = await _totals(
        session, pins=pin_set(user_id, filters), filters=filters, start=lo, end=hi, by_pin=False
    )
    daily: dict[date, dict[str, int]] = {}
    for hour, values in hourly.items():
        slot = daily.setdefault(hour.astimezone(UTC).date(), dict.fromkeys(BASES, 0))
        for b in BASES:
            slot[b] += values[b]
    total = dict.fromkeys(BASES, 0)
    for values in daily.values():
        for b in BASES:
            total[b] += values[b]
    closed = await closed_through(session, now=now)
    days: list[DayMetrics] = []
    day = start
    while day <= end:
        days.append(DayMetrics(day, day_status(day, closed), compute(names, daily.get(day, {}))))
        day += timedelta(days=1)
    return UserMetrics(compute(names, total), days)


@dataclass(frozen=True, slots=True)
class TopPin:
    pin: Pin
    board: Board
    metrics: dict[str, int | float]
    in_profile: bool
    paid: bool
    pin_format: str


async def top_pins(
    session: AsyncSession,
    *,
    user_id: int,
    scopes: frozenset[str],
    start: date,
    end: date,
    names: Sequence[str],
    sort_by: Sequence[str],
    limit: int,
    filters: Filters,
    now: datetime,
    video_only: bool = False,
) -> list[TopPin]:
    """The user's pins with activity in [start, end], best first by ``sort_by`` (each
    descending in turn, then by id), at most ``limit``; only pins the caller may see."""
    if not 1 <= limit <= MAX_TOP_PINS:
        raise Invalid("num_of_pins", f"must be between 1 and {MAX_TOP_PINS}")
    lo, hi = date_range(start, end, today=now.astimezone(UTC).date())
    pins = pin_set(user_id, filters, video_only=video_only, visible_to=scopes)
    paid_pins: set[int] = set()
    per_pin = await _totals(
        session, pins=pins, filters=filters, start=lo, end=hi, by_pin=True, paid_seen=paid_pins
    )
    ranked = sorted(
        per_pin.items(),
        key=lambda kv: (tuple(-METRICS[s].value(kv[1]) for s in sort_by), kv[0]),
    )[:limit]
    if not ranked:
        return []
    ids = [k for k, _ in ranked]
    rows = {
        p.id: (p, b)
        for p, b in (
            await session.execute(
                select(Pin, Board).join(Board, Board.id == Pin.board_id).where(Pin.id.in_(ids))
            )
        ).all()
    }
    out: list[TopPin] = []
    for pin_id, totals in ranked:
        found = rows.get(pin_id)
        if found is None:  # deleted between the two reads
            continue
        pin, board = found
        out.append(
            TopPin(
                pin=pin,
                board=board,
                metrics=compute(names, totals),
                in_profile=pin.owner_id == user_id,
                paid=pin_id in paid_pins,
                pin_format=format_of(pin),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Pin stats on the owner's GET /v3/pins/{pin}/

STATS_FIELDS = ("impression", "save", "closeup", "clickthrough")
STATS_WINDOWS = ("24h", "7d", "30d")
_ZERO: Any = literal_column("0")
_COMMA = literal_column("','", String)


class _ConvertedHour(TypeDecorator[Any]):
    """A bound hour that arrives already in the store's form (``pin_stats_binds``): no
    conversion per read, while PostgreSQL still sees a timestamp parameter."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


_STATS_PARTS = (("s_h24", "s_hour"), ("s_d7", "s_day"), ("s_d30", "s_d7"))
"""The primary-key ranges read: the 24 h window, the 7-day window, and the 23 days before
it (the 30-day window is the last two added), so no fact row is read twice."""


def pin_stats_column(pin_id: Any, owner_id: Any, is_repin: Any) -> ColumnElement[str | None]:
    """One text column for a pin read: its stats when the reader (``uid``) owns it, else NULL.

    Correlated aggregates over ranges of the pin's ``organic_pin_hours`` primary key
    (``_STATS_PARTS``): per range the row count and the sums of ``STATS_FIELDS``, all
    comma-joined. Plain sums over exact ranges cost a fraction of conditional sums over one
    30-day scan. Inside a CASE on the owner, so a reader who is not the owner costs the
    database nothing (SQLite and PostgreSQL evaluate the subqueries only when taken).
    """
    h = OrganicPinHour
    kind = _ConvertedHour()
    text: Any = None
    for lo_name, hi_name in _STATS_PARTS:
        values: list[Any] = [func.count()] + [
            func.coalesce(func.sum(getattr(h, f)), _ZERO) for f in STATS_FIELDS
        ]
        joined: Any = None
        for value in values:
            part = cast(value, String)
            joined = part if joined is None else joined + _COMMA + part
        sub = (
            select(joined)
            .where(
                h.pin_id == pin_id,
                h.hour >= bindparam(lo_name, type_=kind),
                h.hour < bindparam(hi_name, type_=kind),
            )
            .scalar_subquery()
        )
        text = sub if text is None else text + _COMMA + sub
    return case(
        (and_(owner_id == bindparam("uid"), is_repin.is_(False)), text),
        else_=null(),
    ).label("pin_stats")


def pin_stats_windows(now: datetime) -> dict[str, datetime]:
    """The window bounds ``pin_stats_column`` reads, from the clock."""
    hour = _floor_hour(now)
    day = _midnight(hour.date())
    return {
        "s_hour": hour,
        "s_h24": hour - timedelta(hours=24),
        "s_day": day,
        "s_d7": day - timedelta(days=7),
        "s_d30": day - timedelta(days=30),
    }


def pin_stats_binds(now: datetime, dialect: Dialect) -> Mapping[str, Any]:
    """``pin_stats_windows`` as ``dialect`` stores them, for ``pin_stats_column``'s binds.

    Every authenticated pin read sends these, owner or not; converting five datetimes per
    read (the column type's bind processing) would cost more than the rest of the statement,
    so they are converted once per clock hour and the binds carry no type processing.
    """
    return _binds_for_hour(_floor_hour(now), dialect)


@functools.lru_cache(maxsize=16)
def _binds_for_hour(hour: datetime, dialect: Dialect) -> Mapping[str, Any]:
    process = OrganicPinHour.hour.type.dialect_impl(dialect).bind_processor(dialect)
    windows = pin_stats_windows(hour)
    return MappingProxyType({k: process(v) if process else v for k, v in windows.items()})


@dataclass(frozen=True, slots=True)
class StatsWindow:
    name: str
    last_updated: datetime
    values: dict[str, int] = field(default_factory=dict)


def parse_pin_stats(raw: str | None, now: datetime) -> list[StatsWindow] | None:
    """The windows of a ``pin_stats_column`` value; None (v3 ``pin_stats: null``) for a pin
    that is not the reader's, or that had no activity in the last 30 days."""
    if raw is None:
        return None
    params = pin_stats_windows(now)
    numbers = [int(float(x)) for x in str(raw).split(",")]
    n = 1 + len(STATS_FIELDS)
    h24, d7, older = (numbers[i * n : (i + 1) * n] for i in range(len(_STATS_PARTS)))
    if h24[0] + d7[0] + older[0] == 0:
        return None
    d30 = [a + b for a, b in zip(d7, older, strict=True)]
    windows = (("24h", h24, params["s_hour"]), ("7d", d7, params["s_day"]), ("30d", d30, params["s_day"]))
    return [
        StatsWindow(name, last, dict(zip(STATS_FIELDS, sums[1:], strict=True)))
        for name, sums, last in windows
    ]
