"""The rules a campaign and an ad group must satisfy, checked on every create and update.

Each check runs on the *prospective* state (stored values merged with the requested
changes), so create and update share one rule set and an update can never leave an object
breaking a rule. A malformed value answers code 1 (``Invalid``); a well-formed value that
breaks a business rule answers code 15 (``ValidationFailed``); both name the field.

The objective → billable event / bid strategy / creative type table is derived from the v5
reference where v3 is silent (documented in docs/compat.md, "Ads core").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pinapi.domain.errors import Invalid, ValidationFailed

DATA = Path(__file__).with_name("data")

ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED")
OBJECTIVES = (
    "APP_INSTALL",
    "AWARENESS",
    "AWARENESS_PREMIUM_RESERVED",
    "AWARENESS_RESERVED",
    "BOARD_ENGAGEMENT",
    "CATALOG_SALES",
    "CHECKOUT",
    "CONVERSIONS",
    "ENGAGEMENT",
    "ONSITE_RETARGETING",
    "TRAFFIC",
    "VIDEO_VIEW",
    "WEB_CONVERSION",
)
BILLABLE_EVENTS = ("CLICKTHROUGH", "IMPRESSION", "VIDEO_V_50_MRC")
BID_STRATEGIES = ("AUTOMATIC_BID", "MAX_BID", "TARGET_AVG")
BUDGET_TYPES = ("DAILY", "LIFETIME", "CBO_ADGROUP")
PACING_TYPES = ("STANDARD", "ACCELERATED")
PLACEMENT_GROUPS = ("ALL", "BROWSE", "SEARCH", "OTHER")
LEARNING_MODES = ("ACTIVE", "NOT_ACTIVE")
ENTITY_VERSIONS = ("NEW_ENTITY_MODEL", "ORIGINAL")
CREATIVE_TYPES = (
    "APP",
    "APP_VIDEO",
    "BOARD",
    "CAROUSEL",
    "CINEMATIC",
    "COMMERCE",
    "MAX_VIDEO",
    "NATIVE_VIDEO",
    "REGULAR",
    "SEARCH_PROMINENCE",
    "SEARCH_PROMINENCE_CAROUSEL",
    "SHOP_THE_PIN",
    "SHOPPING",
    "THIRD_PARTY",
    "VIDEO",
)
TRACKING_EVENTS = ("impression", "engagement", "click", "buyable_button", "audience_verification")
NAME_MAX = 255
# Unix seconds accepted for schedules: after 2000-01-01 and before 2100-01-01.
TIME_MIN, TIME_MAX = 946_684_800, 4_102_444_800


@dataclass(frozen=True, slots=True)
class Compat:
    billable_events: tuple[str, ...]
    bid_strategies: tuple[str, ...]
    creative_types: tuple[str, ...]


_STATIC = ("REGULAR", "CAROUSEL")
_VIDEO = ("VIDEO", "MAX_VIDEO", "NATIVE_VIDEO")
COMPAT: dict[str, Compat] = {
    "AWARENESS": Compat(
        ("IMPRESSION",),
        BID_STRATEGIES,
        (*_STATIC, *_VIDEO, "CINEMATIC", "SHOP_THE_PIN", "THIRD_PARTY"),
    ),
    "AWARENESS_RESERVED": Compat(("IMPRESSION",), ("MAX_BID",), ("REGULAR", *_VIDEO)),
    "AWARENESS_PREMIUM_RESERVED": Compat(("IMPRESSION",), ("MAX_BID",), ("REGULAR", *_VIDEO)),
    "TRAFFIC": Compat(
        ("CLICKTHROUGH",),
        BID_STRATEGIES,
        (
            *_STATIC,
            "VIDEO",
            "NATIVE_VIDEO",
            "CINEMATIC",
            "SHOP_THE_PIN",
            "SEARCH_PROMINENCE",
            "SEARCH_PROMINENCE_CAROUSEL",
        ),
    ),
    "ENGAGEMENT": Compat(
        ("CLICKTHROUGH",), ("AUTOMATIC_BID", "MAX_BID"), (*_STATIC, "VIDEO", "NATIVE_VIDEO")
    ),
    "BOARD_ENGAGEMENT": Compat(("CLICKTHROUGH",), ("AUTOMATIC_BID", "MAX_BID"), ("BOARD",)),
    "ONSITE_RETARGETING": Compat(("CLICKTHROUGH",), ("AUTOMATIC_BID", "MAX_BID"), _STATIC),
    "VIDEO_VIEW": Compat(("VIDEO_V_50_MRC",), BID_STRATEGIES, _VIDEO),
    "APP_INSTALL": Compat(("CLICKTHROUGH", "IMPRESSION"), ("AUTOMATIC_BID", "MAX_BID"), ("APP", "APP_VIDEO")),
    "WEB_CONVERSION": Compat(
        ("IMPRESSION",),
        ("AUTOMATIC_BID", "TARGET_AVG"),
        (*_STATIC, "VIDEO", "NATIVE_VIDEO", "SHOP_THE_PIN", "COMMERCE"),
    ),
    "CONVERSIONS": Compat(
        ("IMPRESSION",),
        ("AUTOMATIC_BID", "TARGET_AVG"),
        (*_STATIC, "VIDEO", "NATIVE_VIDEO", "SHOP_THE_PIN", "COMMERCE"),
    ),
    "CHECKOUT": Compat(
        ("IMPRESSION",), ("AUTOMATIC_BID", "TARGET_AVG"), (*_STATIC, "COMMERCE", "SHOP_THE_PIN")
    ),
    "CATALOG_SALES": Compat(("CLICKTHROUGH", "IMPRESSION"), BID_STRATEGIES, ("SHOPPING", "COMMERCE")),
}


def creative_types_for(objective: str) -> tuple[str, ...]:
    return COMPAT[objective].creative_types


def check_creative_type(objective: str, creative_type: str, *, field_name: str = "creative_type") -> None:
    """Pin promotions (ads B) call this: the creative must suit the campaign objective."""
    if creative_type not in CREATIVE_TYPES:
        raise Invalid(field_name, f"must be one of {', '.join(CREATIVE_TYPES)}")
    allowed = COMPAT[objective].creative_types
    if creative_type not in allowed:
        raise ValidationFailed(
            field_name,
            f"{creative_type} is not allowed for {objective} campaigns (allowed: {', '.join(allowed)})",
        )


# ---- accounts data: countries, currencies with minimums, time zones ----


@cache
def accounts() -> dict[str, Any]:
    return dict(json.loads((DATA / "accounts.json").read_text()))


@cache
def countries() -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in accounts()["countries"]}


@cache
def currencies() -> dict[str, dict[str, int]]:
    return dict(accounts()["currencies"])


@cache
def timezones() -> frozenset[str]:
    return frozenset(accounts()["timezones"])


@dataclass(frozen=True, slots=True)
class Minimums:
    daily_budget: int
    lifetime_budget: int
    min_bid: int
    max_bid: int


def minimums(currency: str) -> Minimums:
    c = currencies()[currency]
    return Minimums(
        c["min_daily_budget_in_micro_currency"],
        c["min_lifetime_budget_in_micro_currency"],
        c["min_bid_in_micro_currency"],
        c["max_bid_in_micro_currency"],
    )


# ---- value parsing shared by campaigns and ad groups ----


def parse_time(name: str, value: Any) -> datetime | None:
    """Unix seconds (number or digit string) → UTC datetime; None/"" clears the value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(name, "must be a Unix timestamp in seconds")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise Invalid(name, "must be a Unix timestamp in seconds") from exc
    if not number.is_integer() or not TIME_MIN <= number <= TIME_MAX:
        raise Invalid(name, "must be a Unix timestamp in seconds between 2000 and 2100")
    return datetime.fromtimestamp(int(number), UTC)


def parse_micro(name: str, value: Any) -> int | None:
    """A non-negative integer amount of micro-currency; None/"" clears it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(name, "must be an integer amount of micro-currency")
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError) as exc:
        raise Invalid(name, "must be an integer amount of micro-currency") from exc
    if isinstance(number, float) and not number.is_integer():
        raise Invalid(name, "must be an integer amount of micro-currency")
    amount = int(number)
    if amount < 0 or amount > 10**15:
        raise Invalid(name, "must be between 0 and 10^15")
    return amount


def parse_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.upper() not in allowed:
        raise Invalid(name, f"must be one of {', '.join(allowed)}")
    return value.upper()


def parse_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("name", "must be a non-empty string")
    if len(value.strip()) > NAME_MAX:
        raise Invalid("name", f"must be at most {NAME_MAX} characters")
    return value.strip()


def parse_tracking_urls(value: Any) -> dict[str, list[str]] | None:
    """``{"impression": [url, …], "click": […]}``: known events, up to three http(s) URLs each."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise Invalid("tracking_urls", "must be a JSON object") from exc
    if not isinstance(value, dict):
        raise Invalid("tracking_urls", "must be a JSON object of event → URL list")
    out: dict[str, list[str]] = {}
    for event, urls in value.items():
        key = str(event).lower()
        if key not in TRACKING_EVENTS:
            raise Invalid(f"tracking_urls.{event}", f"event must be one of {', '.join(TRACKING_EVENTS)}")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls) or len(urls) > 3:
            raise Invalid(f"tracking_urls.{event}", "must be a list of at most 3 URLs")
        for u in urls:
            if not u.startswith(("https://", "http://")) or len(u) > 2000:
                raise Invalid(f"tracking_urls.{event}", f"not an http(s) URL: {u[:80]}")
        out[key] = list(urls)
    return out


# ---- prospective states and their checks ----


@dataclass(slots=True)
class CampaignState:
    name: str
    objective_type: str
    status: str
    daily_spend_cap: int | None = None
    lifetime_spend_cap: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(slots=True)
class AdGroupState:
    name: str
    status: str
    billable_event: str
    budget_type: str = "DAILY"
    budget: int | None = None
    bid: int | None = None
    bid_strategy_type: str = "MAX_BID"
    lifetime_frequency_cap: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    targeting_spec: dict[str, Any] = field(default_factory=dict)


def check_schedule(start: datetime | None, end: datetime | None, *, now: datetime, changed: set[str]) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("end_time", "must be after start_time")
    if end is not None and "end_time" in changed and end <= now:
        raise ValidationFailed("end_time", "must be in the future")


def check_campaign(c: CampaignState, *, currency: str, now: datetime, changed: set[str]) -> None:
    mins = minimums(currency)
    if c.daily_spend_cap is not None and c.daily_spend_cap < mins.daily_budget:
        raise ValidationFailed("daily_spend_cap", f"must be at least {mins.daily_budget} micro-{currency}")
    if c.lifetime_spend_cap is not None:
        if c.lifetime_spend_cap < mins.lifetime_budget:
            raise ValidationFailed(
                "lifetime_spend_cap", f"must be at least {mins.lifetime_budget} micro-{currency}"
            )
        if c.end_time is None:
            raise ValidationFailed("end_time", "is required when lifetime_spend_cap is set")
        if c.daily_spend_cap is not None and c.daily_spend_cap > c.lifetime_spend_cap:
            raise ValidationFailed("daily_spend_cap", "must not exceed lifetime_spend_cap")
    check_schedule(c.start_time, c.end_time, now=now, changed=changed)


def check_ad_group(
    g: AdGroupState, *, campaign: CampaignState, currency: str, now: datetime, changed: set[str]
) -> None:
    """Every ad-group rule except targeting (``targeting.validate_spec`` parses that)."""
    compat = COMPAT[campaign.objective_type]
    if g.billable_event not in compat.billable_events:
        raise ValidationFailed(
            "billable_event",
            f"{campaign.objective_type} campaigns bill {', '.join(compat.billable_events)}",
        )
    if g.bid_strategy_type not in compat.bid_strategies:
        raise ValidationFailed(
            "bid_strategy_type",
            f"{campaign.objective_type} campaigns allow {', '.join(compat.bid_strategies)}",
        )
    mins = minimums(currency)
    _check_budget(g, campaign=campaign, currency=currency, mins=mins)
    _check_bid(g, currency=currency, mins=mins)
    if g.lifetime_frequency_cap is not None:
        if g.billable_event != "IMPRESSION":
            raise ValidationFailed("lifetime_frequency_cap", "is only allowed for CPM (IMPRESSION) ad groups")
        if g.end_time is None:
            raise ValidationFailed("lifetime_frequency_cap", "needs an ad group end_time")
        if g.lifetime_frequency_cap < 1:
            raise Invalid("lifetime_frequency_cap", "must be at least 1")
    check_schedule(g.start_time, g.end_time, now=now, changed=changed)
    if campaign.start_time is not None and g.start_time is not None and g.start_time < campaign.start_time:
        raise ValidationFailed("start_time", "must not be before the campaign's start_time")
    if campaign.end_time is not None and g.end_time is not None and g.end_time > campaign.end_time:
        raise ValidationFailed("end_time", "must not be after the campaign's end_time")
    if campaign.end_time is not None and g.start_time is not None and g.start_time >= campaign.end_time:
        raise ValidationFailed("start_time", "must be before the campaign's end_time")


def _check_budget(g: AdGroupState, *, campaign: CampaignState, currency: str, mins: Minimums) -> None:
    name = "budget_in_micro_currency"
    if g.budget_type == "CBO_ADGROUP":
        if campaign.daily_spend_cap is None and campaign.lifetime_spend_cap is None:
            raise ValidationFailed("budget_type", "CBO_ADGROUP needs a campaign with a spend cap")
        if g.budget is not None:
            raise ValidationFailed(name, "must be empty for CBO_ADGROUP (the campaign budget applies)")
        return
    if g.budget is None:
        raise ValidationFailed(name, f"is required for {g.budget_type} budgets")
    if g.budget_type == "DAILY":
        if g.budget < mins.daily_budget:
            raise ValidationFailed(name, f"must be at least {mins.daily_budget} micro-{currency}")
        if campaign.daily_spend_cap is not None and g.budget > campaign.daily_spend_cap:
            raise ValidationFailed(name, "must not exceed the campaign's daily_spend_cap")
    else:
        if g.budget < mins.lifetime_budget:
            raise ValidationFailed(name, f"must be at least {mins.lifetime_budget} micro-{currency}")
        if g.end_time is None and campaign.end_time is None:
            raise ValidationFailed("end_time", "is required for a LIFETIME budget")
    if campaign.lifetime_spend_cap is not None and g.budget > campaign.lifetime_spend_cap:
        raise ValidationFailed(name, "must not exceed the campaign's lifetime_spend_cap")


def _check_bid(g: AdGroupState, *, currency: str, mins: Minimums) -> None:
    name = "bid_in_micro_currency"
    if g.bid_strategy_type == "AUTOMATIC_BID":
        if g.bid is not None:
            raise ValidationFailed(name, "must be empty with bid_strategy_type AUTOMATIC_BID")
        return
    if g.bid is None:
        raise ValidationFailed(name, f"is required with bid_strategy_type {g.bid_strategy_type}")
    if not mins.min_bid <= g.bid <= mins.max_bid:
        raise ValidationFailed(name, f"must be between {mins.min_bid} and {mins.max_bid} micro-{currency}")
    if g.budget_type == "DAILY" and g.budget is not None and g.bid > g.budget:
        raise ValidationFailed(name, "must not exceed the daily budget")
