"""Ad groups: load-and-authorize, create, update, list by campaign.

An ad group belongs to one campaign and, through it, to one advertiser (``advertiser_id``
is copied from the campaign and never changes). Every write checks the whole prospective
state against its campaign (``rules.check_ad_group``) and parses ``targeting_spec`` against
the targeting resources, so no stored ad group breaks a rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import campaigns, rules, status, targeting
from pinapi.domain.ads.campaigns import ad_group_state, parse_id
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid, NotFound, ValidationFailed
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import AdGroup, Advertiser, Campaign

# wire name → stored name; v3 accepts ``bid``/``budget`` as the create-time aliases.
ALIASES = {"bid": "bid_in_micro_currency", "budget": "budget_in_micro_currency"}
FIELDS = (
    "name",
    "status",
    "budget_type",
    "budget_in_micro_currency",
    "bid_in_micro_currency",
    "bid_strategy_type",
    "billable_event",
    "pacing_delivery_type",
    "placement_group",
    "conversion_learning_mode_type",
    "auto_targeting_enabled",
    "lifetime_frequency_cap",
    "start_time",
    "end_time",
    "targeting_spec",
    "optimization_goal_metadata",
    "tracking_urls",
)
CHOICES = {
    "status": rules.ENTITY_STATUSES,
    "budget_type": rules.BUDGET_TYPES,
    "bid_strategy_type": rules.BID_STRATEGIES,
    "billable_event": rules.BILLABLE_EVENTS,
    "pacing_delivery_type": rules.PACING_TYPES,
    "placement_group": rules.PLACEMENT_GROUPS,
    "conversion_learning_mode_type": rules.LEARNING_MODES,
}
# Fields the rules read; the rest are stored as given.
RULED = {
    "name",
    "status",
    "billable_event",
    "budget_type",
    "budget_in_micro_currency",
    "bid_in_micro_currency",
    "bid_strategy_type",
    "lifetime_frequency_cap",
    "start_time",
    "end_time",
    "targeting_spec",
}
STATE_NAMES = {"budget_in_micro_currency": "budget", "bid_in_micro_currency": "bid"}


class AdGroupNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Ad group", code=3002, message="Ad group not found.")


@dataclass(slots=True)
class Loaded:
    ad_group: AdGroup
    campaign: Campaign
    advertiser: Advertiser
    roles: list[str]


async def load(session: AsyncSession, *, principal: Principal, ad_group_id: int, action: str) -> Loaded:
    group = await session.get(AdGroup, ad_group_id)
    if group is None or principal.user_id is None:
        raise AdGroupNotFound()
    advertiser = await session.get(Advertiser, group.advertiser_id)
    campaign = await session.get(Campaign, group.campaign_id)
    assert advertiser is not None and campaign is not None
    roles = await sharing.roles_of(session, user_id=principal.user_id, advertiser=advertiser)
    if not roles:
        raise AdGroupNotFound()
    if not role_lib.allows(roles, action):
        raise AdvertiserAccessDenied(
            f"User is not authorized to access requested advertiser (needs {action})."
        )
    return Loaded(group, campaign, advertiser, roles)


def _normalise(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k in FIELDS}
    for alias, name in ALIASES.items():
        if alias in values and name not in values:
            out[name] = values[alias]
    return out


def _parse(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in _normalise(values).items():
        if key == "name":
            out[key] = rules.parse_name(raw)
        elif key in CHOICES:
            if key == "conversion_learning_mode_type" and raw in (None, ""):
                out[key] = None
            else:
                out[key] = rules.parse_choice(key, raw, CHOICES[key])
        elif key in ("budget_in_micro_currency", "bid_in_micro_currency"):
            out[key] = rules.parse_micro(key, raw)
        elif key == "lifetime_frequency_cap":
            out[key] = None if raw in (None, "") else _parse_int(key, raw)
        elif key in ("start_time", "end_time"):
            out[key] = rules.parse_time(key, raw)
        elif key == "targeting_spec":
            out[key] = targeting.validate_spec(raw)
        elif key == "auto_targeting_enabled":
            out[key] = campaigns.parse_bool(key, raw)
        elif key == "tracking_urls":
            out[key] = rules.parse_tracking_urls(raw)
        elif key == "optimization_goal_metadata":
            out[key] = _parse_goal(raw)
    return out


def _parse_int(name: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise Invalid(name, "must be an integer")
    try:
        number = int(str(raw))
    except ValueError as exc:
        raise Invalid(name, "must be an integer") from exc
    if not 1 <= number <= 1_000_000:
        raise Invalid(name, "must be between 1 and 1000000")
    return number


def _parse_goal(raw: Any) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise Invalid("optimization_goal_metadata", "must be a JSON object") from exc
    allowed = ("conversionTagV3GoalMetadata", "frequencyGoalMetadata", "scrollupGoalMetadata")
    if not isinstance(raw, dict) or any(k not in allowed for k in raw):
        raise Invalid("optimization_goal_metadata", f"must be an object with keys among {', '.join(allowed)}")
    return dict(raw)


def _apply(state: rules.AdGroupState, parsed: Mapping[str, Any]) -> None:
    for key, value in parsed.items():
        if key in RULED:
            setattr(state, STATE_NAMES.get(key, key), value)


async def create(
    session: AsyncSession, *, clock: Clock, principal: Principal, values: Mapping[str, Any]
) -> Loaded:
    if values.get("campaign_id") in (None, ""):
        raise Invalid("campaign_id", "is required")
    campaign_id = parse_id("campaign_id", values["campaign_id"])
    parent = await campaigns.load(
        session, principal=principal, campaign_id=campaign_id, action="AD_GROUP_CREATE"
    )
    campaign, advertiser = parent.campaign, parent.advertiser
    if (
        values.get("advertiser_id") not in (None, "")
        and parse_id("advertiser_id", values["advertiser_id"]) != advertiser.id
    ):
        raise ValidationFailed("advertiser_id", "must be the advertiser of the campaign")
    if campaign.status == "ARCHIVED":
        raise ValidationFailed("campaign_id", "the campaign is ARCHIVED")
    if values.get("name") in (None, ""):
        raise Invalid("name", "is required")
    parsed = _parse(values)
    compat = rules.COMPAT[campaign.objective_type]
    state = rules.AdGroupState(
        name=parsed["name"],
        status="ACTIVE",
        billable_event=compat.billable_events[0],
        bid_strategy_type="MAX_BID" if "MAX_BID" in compat.bid_strategies else "AUTOMATIC_BID",
    )
    _apply(state, parsed)
    if state.status == "ARCHIVED":
        raise ValidationFailed("status", "a new ad group cannot be ARCHIVED")
    now = clock.now()
    rules.check_ad_group(
        state,
        campaign=campaigns.state_of(campaign),
        currency=advertiser.currency,
        now=now,
        changed=set(parsed),
    )
    group = AdGroup(
        advertiser_id=advertiser.id,
        campaign_id=campaign.id,
        name=state.name,
        status=state.status,
        budget_type=state.budget_type,
        budget_in_micro_currency=state.budget,
        bid_in_micro_currency=state.bid,
        bid_strategy_type=state.bid_strategy_type,
        billable_event=state.billable_event,
        pacing_delivery_type=parsed.get("pacing_delivery_type") or "STANDARD",
        placement_group=parsed.get("placement_group") or "ALL",
        conversion_learning_mode_type=parsed.get("conversion_learning_mode_type"),
        auto_targeting_enabled=parsed.get("auto_targeting_enabled", True) is not False,
        lifetime_frequency_cap=state.lifetime_frequency_cap,
        start_time=state.start_time,
        end_time=state.end_time,
        targeting_spec=state.targeting_spec,
        optimization_goal_metadata=parsed.get("optimization_goal_metadata"),
        tracking_urls=parsed.get("tracking_urls"),
        entity_version="NEW_ENTITY_MODEL",
        created_at=now,
        updated_at=now,
        status_updated_at=now,
    )
    session.add(group)
    await session.flush()
    return Loaded(group, campaign, advertiser, parent.roles)


async def update(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    ad_group_id: int,
    values: Mapping[str, Any],
) -> Loaded:
    loaded = await load(session, principal=principal, ad_group_id=ad_group_id, action="AD_GROUP_UPDATE")
    group, campaign = loaded.ad_group, loaded.campaign
    for fixed, current in (("campaign_id", group.campaign_id), ("advertiser_id", group.advertiser_id)):
        if values.get(fixed) not in (None, "") and parse_id(fixed, values[fixed]) != current:
            raise ValidationFailed(fixed, "an ad group cannot move to another parent")
    parsed = _parse(values)
    if group.status == "ARCHIVED":
        raise ValidationFailed("status", "the ad group is ARCHIVED; archived ad groups cannot be changed")
    if campaign.status == "ARCHIVED":
        raise ValidationFailed("status", "the campaign is ARCHIVED; its ad groups cannot be changed")
    state = ad_group_state(group)
    _apply(state, parsed)
    now = clock.now()
    rules.check_ad_group(
        state,
        campaign=campaigns.state_of(campaign),
        currency=loaded.advertiser.currency,
        now=now,
        changed=set(parsed),
    )
    if "status" in parsed and parsed["status"] != group.status:
        group.status_updated_at = now
    group.name = state.name
    group.status = state.status
    group.budget_type = state.budget_type
    group.budget_in_micro_currency = state.budget
    group.bid_in_micro_currency = state.bid
    group.bid_strategy_type = state.bid_strategy_type
    group.billable_event = state.billable_event
    group.lifetime_frequency_cap = state.lifetime_frequency_cap
    group.start_time = state.start_time
    group.end_time = state.end_time
    group.targeting_spec = state.targeting_spec
    for key in ("pacing_delivery_type", "placement_group"):
        if key in parsed:
            setattr(group, key, parsed[key])
    for key in ("conversion_learning_mode_type", "optimization_goal_metadata", "tracking_urls"):
        if key in parsed:
            setattr(group, key, parsed[key])
    if "auto_targeting_enabled" in parsed:
        group.auto_targeting_enabled = parsed["auto_targeting_enabled"] is not False
    group.updated_at = now
    await session.flush()
    return loaded


async def list_for_campaign(
    session: AsyncSession, *, campaign_id: int, after: list[int] | None, limit: int
) -> KeysetPage[AdGroup]:
    stmt = select(AdGroup).where(AdGroup.campaign_id == campaign_id)
    return await fetch_page(
        session, stmt, order=[AdGroup.__table__.c.id], after=after, limit=limit, key_of=lambda g: [g.id]
    )


def summary_status_of(
    group: AdGroup,
    campaign: Campaign,
    advertiser: Advertiser,
    now: datetime,
    spent: int = 0,
    campaign_spent: int = 0,
) -> str:
    """``spent``/``campaign_spent``: lifetime spend of the group and of its campaign (micro)."""
    return status.ad_group_summary_status(
        advertiser_status=advertiser.status,
        campaign_status=campaign.status,
        status=group.status,
        campaign_window=status.Window(campaign.start_time, campaign.end_time),
        window=status.Window(group.start_time, group.end_time),
        now=now,
        budget_type=group.budget_type,
        budget=group.budget_in_micro_currency,
        spent=spent,
        campaign_exhausted=status.lifetime_exhausted(campaign.lifetime_spend_cap, campaign_spent),
    )


async def pin_promotion_ids(session: AsyncSession, ad_group_ids: list[int]) -> dict[int, list[str]]:
    """Ids of the promotions under each ad group, when the promotions area is installed."""
    from pinapi.store.tables import Base

    out: dict[int, list[str]] = {i: [] for i in ad_group_ids}
    table = Base.metadata.tables.get("pin_promotions")
    if table is None or not ad_group_ids or "ad_group_id" not in table.c:
        return out
    rows = await session.execute(
        select(table.c.ad_group_id, table.c.id)
        .where(table.c.ad_group_id.in_(ad_group_ids))
        .order_by(table.c.id)
    )
    for gid, pid in rows:
        out[int(gid)].append(str(pid))
    return out
