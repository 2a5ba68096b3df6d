"""Campaigns: load-and-authorize, create, update (single and batch), list, summary counts.

Input arrives as a mapping of raw wire values (so batch items and single requests share one
path); each function parses it, merges it onto the stored state and checks the whole
prospective state (``rules.check_campaign``), plus the rules the campaign's ad groups impose
on it (spend caps bound their budgets, their schedules must stay inside the campaign's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import rules, status
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid, NotFound, ValidationFailed
from pinapi.domain.measurement import spend
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import AdGroup, Advertiser, Campaign, OrderLine

FIELDS = (
    "name",
    "objective_type",
    "status",
    "daily_spend_cap",
    "lifetime_spend_cap",
    "start_time",
    "end_time",
    "order_line_id",
    "billing_group",
    "tracking_urls",
    "measurement_partner_campaign_id",
    "product_filter",
    "is_one_tap",
)
LIST_STATUSES = ("ALL", "ACTIVE", "PAUSED", "ARCHIVED")
MANAGED_STATUSES = ("ALL", "MANAGED", "UNMANAGED")


class CampaignNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Campaign", code=3001, message="Campaign not found.")


@dataclass(slots=True)
class Loaded:
    campaign: Campaign
    advertiser: Advertiser
    roles: list[str]


def parse_id(name: str, value: Any) -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 19 or int(text) >= 2**63:
        raise Invalid(name, "must be a numeric id")
    return int(text)


async def load(session: AsyncSession, *, principal: Principal, campaign_id: int, action: str) -> Loaded:
    """The campaign if the caller may see it (else not found) and take ``action`` (else 1902)."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or principal.user_id is None:
        raise CampaignNotFound()
    advertiser = await session.get(Advertiser, campaign.advertiser_id)
    assert advertiser is not None
    roles = await sharing.roles_of(session, user_id=principal.user_id, advertiser=advertiser)
    if not roles:
        raise CampaignNotFound()
    if not role_lib.allows(roles, action):
        raise AdvertiserAccessDenied(
            f"User is not authorized to access requested advertiser (needs {action})."
        )
    return Loaded(campaign, advertiser, roles)


def state_of(c: Campaign) -> rules.CampaignState:
    return rules.CampaignState(
        name=c.name,
        objective_type=c.objective_type,
        status=c.status,
        daily_spend_cap=c.daily_spend_cap,
        lifetime_spend_cap=c.lifetime_spend_cap,
        start_time=c.start_time,
        end_time=c.end_time,
    )


def ad_group_state(g: AdGroup) -> rules.AdGroupState:
    return rules.AdGroupState(
        name=g.name,
        status=g.status,
        billable_event=g.billable_event,
        budget_type=g.budget_type,
        budget=g.budget_in_micro_currency,
        bid=g.bid_in_micro_currency,
        bid_strategy_type=g.bid_strategy_type,
        lifetime_frequency_cap=g.lifetime_frequency_cap,
        start_time=g.start_time,
        end_time=g.end_time,
        targeting_spec=dict(g.targeting_spec or {}),
    )


def _parse(values: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for the fields present in ``values`` (absent fields stay absent)."""
    out: dict[str, Any] = {}
    for key in FIELDS:
        if key not in values:
            continue
        raw = values[key]
        if key == "name":
            out[key] = rules.parse_name(raw)
        elif key == "objective_type":
            out[key] = rules.parse_choice(key, raw, rules.OBJECTIVES)
        elif key == "status":
            out[key] = rules.parse_choice(key, raw, rules.ENTITY_STATUSES)
        elif key in ("daily_spend_cap", "lifetime_spend_cap"):
            out[key] = rules.parse_micro(key, raw)
        elif key in ("start_time", "end_time"):
            out[key] = rules.parse_time(key, raw)
        elif key == "order_line_id":
            out[key] = None if raw in (None, "") else parse_id(key, raw)
        elif key == "tracking_urls":
            out[key] = rules.parse_tracking_urls(raw)
        elif key == "is_one_tap":
            out[key] = parse_bool(key, raw)
        else:
            if raw is not None and not isinstance(raw, str):
                raise Invalid(key, "must be a string")
            limit = 64 if key == "measurement_partner_campaign_id" else 255
            if raw is not None and len(raw) > limit:
                raise Invalid(key, f"must be at most {limit} characters")
            out[key] = raw or None
    return out


def parse_bool(name: str, raw: Any) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise Invalid(name, "must be true or false")


async def create(
    session: AsyncSession, *, clock: Clock, principal: Principal, values: Mapping[str, Any]
) -> Loaded:
    if values.get("advertiser_id") in (None, ""):
        raise Invalid("advertiser_id", "is required")
    advertiser_id = parse_id("advertiser_id", values.get("advertiser_id"))
    advertiser, roles = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="CAMPAIGN_CREATE"
    )
    return await create_for(session, clock=clock, advertiser=advertiser, roles=roles, values=values)


async def create_for(
    session: AsyncSession,
    *,
    clock: Clock,
    advertiser: Advertiser,
    roles: list[str],
    values: Mapping[str, Any],
) -> Loaded:
    """Create under an advertiser already authorized for CAMPAIGN_CREATE (batch reuses it)."""
    if (
        values.get("advertiser_id") not in (None, "")
        and parse_id("advertiser_id", values["advertiser_id"]) != advertiser.id
    ):
        raise ValidationFailed("advertiser_id", "does not match the advertiser of this request")
    for required in ("name", "objective_type"):
        if values.get(required) in (None, ""):
            raise Invalid(required, "is required")
    parsed = _parse(values)
    now = clock.now()
    state = rules.CampaignState(
        name=parsed["name"],
        objective_type=parsed["objective_type"],
        status=parsed.get("status") or "ACTIVE",
        daily_spend_cap=parsed.get("daily_spend_cap"),
        lifetime_spend_cap=parsed.get("lifetime_spend_cap"),
        start_time=parsed.get("start_time"),
        end_time=parsed.get("end_time"),
    )
    if state.status == "ARCHIVED":
        raise ValidationFailed("status", "a new campaign cannot be ARCHIVED")
    rules.check_campaign(state, currency=advertiser.currency, now=now, changed=set(parsed))
    await _check_order_line(session, advertiser_id=advertiser.id, order_line_id=parsed.get("order_line_id"))
    campaign = Campaign(
        advertiser_id=advertiser.id,
        name=state.name,
        objective_type=state.objective_type,
        status=state.status,
        managed_status="UNMANAGED",
        daily_spend_cap=state.daily_spend_cap,
        lifetime_spend_cap=state.lifetime_spend_cap,
        start_time=state.start_time,
        end_time=state.end_time,
        order_line_id=parsed.get("order_line_id"),
        billing_group=parsed.get("billing_group"),
        measurement_partner_campaign_id=parsed.get("measurement_partner_campaign_id"),
        product_filter=parsed.get("product_filter"),
        tracking_urls=parsed.get("tracking_urls"),
        is_one_tap=parsed.get("is_one_tap"),
        entity_version="NEW_ENTITY_MODEL",
        created_at=now,
        updated_at=now,
        status_updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    return Loaded(campaign, advertiser, roles)


async def update(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    campaign_id: int,
    values: Mapping[str, Any],
) -> Loaded:
    loaded = await load(session, principal=principal, campaign_id=campaign_id, action="CAMPAIGN_UPDATE")
    await apply_update(session, clock=clock, loaded=loaded, values=values)
    return loaded


async def apply_update(
    session: AsyncSession, *, clock: Clock, loaded: Loaded, values: Mapping[str, Any]
) -> None:
    campaign = loaded.campaign
    if (
        values.get("advertiser_id") not in (None, "")
        and parse_id("advertiser_id", values["advertiser_id"]) != campaign.advertiser_id
    ):
        raise ValidationFailed("advertiser_id", "a campaign cannot move to another advertiser")
    parsed = _parse(values)
    if campaign.status == "ARCHIVED":
        raise ValidationFailed("status", "the campaign is ARCHIVED; archived campaigns cannot be changed")
    if "objective_type" in parsed and parsed["objective_type"] != campaign.objective_type:
        raise ValidationFailed("objective_type", "cannot be changed after the campaign is created")
    if "name" in parsed and parsed["name"] is None:
        raise Invalid("name", "must be a non-empty string")
    if "status" in parsed and parsed["status"] is None:
        raise Invalid("status", f"must be one of {', '.join(rules.ENTITY_STATUSES)}")
    state = state_of(campaign)
    for key in ("name", "status", "daily_spend_cap", "lifetime_spend_cap", "start_time", "end_time"):
        if key in parsed:
            setattr(state, key, parsed[key])
    now = clock.now()
    rules.check_campaign(state, currency=loaded.advertiser.currency, now=now, changed=set(parsed))
    if parsed.get("order_line_id") not in (None, campaign.order_line_id):
        await _check_order_line(
            session, advertiser_id=campaign.advertiser_id, order_line_id=parsed["order_line_id"]
        )
    await _check_children(
        session,
        campaign=campaign,
        state=state,
        currency=loaded.advertiser.currency,
        now=now,
        changed=set(parsed),
    )
    if "status" in parsed and parsed["status"] != campaign.status:
        campaign.status_updated_at = now
    for key, value in parsed.items():
        setattr(campaign, key, value)
    campaign.updated_at = now
    await session.flush()


async def _check_order_line(session: AsyncSession, *, advertiser_id: int, order_line_id: int | None) -> None:
    """A campaign bills against an order line of its own advertiser that is still open."""
    if order_line_id is None:
        return
    line = await session.get(OrderLine, order_line_id)
    if line is None or line.advertiser_id != advertiser_id:
        raise ValidationFailed("order_line_id", f"no order line {order_line_id} for this advertiser")
    if line.status == "DELETED":
        raise ValidationFailed("order_line_id", f"order line {order_line_id} is DELETED")


async def _check_children(
    session: AsyncSession,
    *,
    campaign: Campaign,
    state: rules.CampaignState,
    currency: str,
    now: datetime,
    changed: set[str],
) -> None:
    """The new campaign state must keep every live ad group under it valid."""
    if not changed & {"daily_spend_cap", "lifetime_spend_cap", "start_time", "end_time"}:
        return
    groups = await session.scalars(
        select(AdGroup).where(AdGroup.campaign_id == campaign.id, AdGroup.status != "ARCHIVED")
    )
    for group in groups:
        try:
            rules.check_ad_group(
                ad_group_state(group), campaign=state, currency=currency, now=now, changed=set()
            )
        except ValidationFailed as exc:
            order = ("daily_spend_cap", "lifetime_spend_cap", "start_time", "end_time")
            field = exc.field if exc.field in changed else next(f for f in order if f in changed)
            raise ValidationFailed(field, f"conflicts with ad group {group.id}: {exc.reason}") from exc


async def list_for(
    session: AsyncSession,
    *,
    advertiser_id: int,
    campaign_status: str,
    managed_status: str,
    after: list[int] | None,
    limit: int,
) -> KeysetPage[Campaign]:
    stmt = select(Campaign).where(Campaign.advertiser_id == advertiser_id)
    if campaign_status != "ALL":
        stmt = stmt.where(Campaign.status == campaign_status)
    if managed_status != "ALL":
        stmt = stmt.where(Campaign.managed_status == managed_status)
    return await fetch_page(
        session, stmt, order=[Campaign.__table__.c.id], after=after, limit=limit, key_of=lambda c: [c.id]
    )


async def ad_group_ids(session: AsyncSession, campaign_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in campaign_ids}
    if campaign_ids:
        rows = await session.execute(
            select(AdGroup.campaign_id, AdGroup.id)
            .where(AdGroup.campaign_id.in_(campaign_ids))
            .order_by(AdGroup.id)
        )
        for cid, gid in rows:
            out[cid].append(str(gid))
    return out


def summary_status_of(campaign: Campaign, advertiser: Advertiser, now: datetime, spent: int = 0) -> str:
    return status.campaign_summary_status(
        advertiser_status=advertiser.status,
        status=campaign.status,
        start=campaign.start_time,
        end=campaign.end_time,
        now=now,
        lifetime_spend_cap=campaign.lifetime_spend_cap,
        spent=spent,
    )


async def summary(session: AsyncSession, *, advertiser: Advertiser, now: datetime) -> dict[str, int]:
    """Counts of the advertiser's campaigns by summary status (every status present, zeros too)."""
    counts = dict.fromkeys(status.SUMMARY_STATUSES, 0)
    rows = await session.execute(
        select(
            Campaign.status, Campaign.start_time, Campaign.end_time, Campaign.lifetime_spend_cap, func.count()
        )
        .where(Campaign.advertiser_id == advertiser.id, Campaign.lifetime_spend_cap.is_(None))
        .group_by(Campaign.status, Campaign.start_time, Campaign.end_time, Campaign.lifetime_spend_cap)
    )
    for st, start, end, cap, n in rows:
        key = status.campaign_summary_status(
            advertiser_status=advertiser.status,
            status=st,
            start=start,
            end=end,
            now=now,
            lifetime_spend_cap=cap,
        )
        counts[key] += int(n)
    # Campaigns with a lifetime cap depend on their own spend: take them one by one.
    capped = list(
        await session.scalars(
            select(Campaign).where(
                Campaign.advertiser_id == advertiser.id, Campaign.lifetime_spend_cap.is_not(None)
            )
        )
    )
    spent = await spend.lifetime_by_campaign(session, [c.id for c in capped])
    for c in capped:
        counts[summary_status_of(c, advertiser, now, spent[c.id])] += 1
    return counts


# ---- batch create / update: each item all-or-nothing in its own savepoint ----

MAX_BATCH = 250


@dataclass(slots=True)
class ItemResult:
    campaign: Campaign | None
    error: Exception | None


async def batch(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    advertiser_id: int,
    items: list[Any],
    creating: bool,
) -> tuple[Advertiser, list[ItemResult]]:
    """Create or update many campaigns of one advertiser; one item's failure spares the rest."""
    action = "CAMPAIGN_CREATE" if creating else "CAMPAIGN_UPDATE"
    advertiser, roles = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action=action
    )
    if not items:
        raise Invalid("campaigns", "must hold at least one item")
    if len(items) > MAX_BATCH:
        raise Invalid("campaigns", f"must hold at most {MAX_BATCH} items")
    results: list[ItemResult] = []
    for item in items:
        try:
            async with session.begin_nested():
                if not isinstance(item, Mapping):
                    raise Invalid("campaigns", "each item must be an object")
                if creating:
                    made = await create_for(
                        session, clock=clock, advertiser=advertiser, roles=roles, values=item
                    )
                else:
                    made = await _batch_update_one(
                        session, clock=clock, advertiser=advertiser, roles=roles, item=item
                    )
            results.append(ItemResult(made.campaign, None))
        except (Invalid, NotFound) as exc:
            results.append(ItemResult(None, exc))
    return advertiser, results


async def _batch_update_one(
    session: AsyncSession, *, clock: Clock, advertiser: Advertiser, roles: list[str], item: Mapping[str, Any]
) -> Loaded:
    if item.get("id") in (None, ""):
        raise Invalid("id", "is required")
    campaign = await session.get(Campaign, parse_id("id", item["id"]))
    if campaign is None or campaign.advertiser_id != advertiser.id:
        raise CampaignNotFound()
    loaded = Loaded(campaign, advertiser, roles)
    await apply_update(session, clock=clock, loaded=loaded, values=item)
    return loaded
