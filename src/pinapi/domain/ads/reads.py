"""Single ads objects for the read-only routes, each in ONE statement through the hot-path reader.

``campaigns.load`` and friends read through the request's session: the object, its
advertiser, the caller's roles, then the child ids and the spend the summary status needs,
one statement each (six round trips, each a thread hop on SQLite). A ``GET`` of one campaign,
ad group or pin promotion needs nothing from a unit of work, so these functions ask for all
of it at once: the object's columns joined to its parents, plus scalar subqueries for the
caller's shared roles (``uid``), the child ids and the lifetime spend. The answers and the
checks are the same as the session path's: an object whose advertiser the caller holds no
role on is not found, and a role that lacks the action is refused with 1902 naming it.

Rows come back as transient ORM objects (made like the ORM's own loader makes them, see
``_loaded``), so the wire shapes serve them exactly like session-loaded rows. They are only
ever read, never added to a session.

The statement runs on every call. When it returns a row equal to one already seen for the
same caller (``store.db.Row.key``: the object, its parents, the caller's roles, the child
ids and the spend all unchanged), the object built from that row is returned again instead
of converting and building it anew (``_BUILT``); the role check still runs on every call.
The same object coming back lets a route keep the body it formatted for it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, bindparam, cast, exists, func, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.ad_groups import AdGroupNotFound
from pinapi.domain.ads.campaigns import CampaignNotFound
from pinapi.domain.ads.pin_promotions import PinPromotionNotFound, PromotionView, summary_status
from pinapi.domain.errors import AdvertiserAccessDenied, NotFound
from pinapi.store.db import Memo, Reader
from pinapi.store.tables import AdGroup, Advertiser, AdvertiserMember, Campaign, Pin, PinPromotion
from pinapi.store.tables.facts import DeliveryHour

_Row = TypeVar("_Row", Campaign, AdGroup, Advertiser, PinPromotion)
# The separator written into the SQL (``aggregate_strings`` binds a plain string as a
# parameter rendered per call, which the reader's compiled-once path does not take).
_COMMA: Any = literal_column("','")


def _keys(cls: type[Any]) -> tuple[str, ...]:
    return tuple(attr.key for attr in cls.__mapper__.column_attrs)


def _columns(cls: type[Any]) -> list[InstrumentedAttribute[Any]]:
    return [getattr(cls, key) for key in _keys(cls)]


def _shared_roles(advertiser_id: InstrumentedAttribute[int]) -> ColumnElement[Any]:
    """The roles shared with the caller (``uid``) on the advertiser, comma-separated, or NULL."""
    return (
        select(func.aggregate_strings(AdvertiserMember.role, _COMMA))
        .where(AdvertiserMember.advertiser_id == advertiser_id, AdvertiserMember.user_id == bindparam("uid"))
        .scalar_subquery()
    )


def _ids_of(
    table: type[Any], parent_column: InstrumentedAttribute[int], parent_id: Any
) -> ColumnElement[Any]:
    return (
        select(func.aggregate_strings(cast(table.id, String), _COMMA))
        .where(parent_column == parent_id)
        .scalar_subquery()
    )


def _spend_of(column: InstrumentedAttribute[int], object_id: Any) -> ColumnElement[Any]:
    """Lifetime spend (micro) from the engine's fact rows, as ``spend.lifetime_by_*`` sums it."""
    return (
        select(func.coalesce(func.sum(DeliveryHour.spend_in_micro_dollar), 0))
        .where(column == object_id)
        .scalar_subquery()
    )


def _loaded(cls: type[_Row], keys: Sequence[str], values: Sequence[Any]) -> _Row:
    """A transient ``cls`` holding ``values``, made the way the ORM's own loader makes rows.

    The declarative constructor fires an attribute event per column, which costs more than
    the whole query on this path; the class manager's bare instance filled directly does not.
    """
    obj: _Row = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(zip(keys, values, strict=True))
    return obj


_BUILT = Memo()
"""What ``read_*`` built, by (kind, reader row, caller): see the module."""


def _roles(owner_user_id: int, uid: int, shared: str | None) -> list[str]:
    """The caller's roles in matrix order, as ``sharing.roles_of`` lists them."""
    held = set(shared.split(",")) if shared else set()
    if owner_user_id == uid:
        held.add("OWNER")
    return [r for r in role_lib.ROLES if r in held]


@functools.cache
def _allows(roles: tuple[str, ...], action: str) -> bool:
    """``roles.allows``, kept per role set (it unites the roles' action sets on every call)."""
    return role_lib.allows(roles, action)


def _authorize(roles: list[str], action: str, missing: NotFound) -> None:
    """No role at all hides the object; a role without ``action`` is refused (1902)."""
    if not roles:
        raise missing
    if not _allows(tuple(roles), action):
        raise AdvertiserAccessDenied(
            f"User is not authorized to access requested advertiser (needs {action})."
        )


def _ids(joined: str | None) -> list[str]:
    """Child ids in id order, as the list routes and the session path give them."""
    return [str(i) for i in sorted(int(x) for x in joined.split(","))] if joined else []


# ---- campaign -------------------------------------------------------------------------------

_CAMPAIGN = _keys(Campaign)
_ADVERTISER = _keys(Advertiser)
_AD_GROUP = _keys(AdGroup)
_PROMOTION = _keys(PinPromotion)

_READ_CAMPAIGN = (
    select(
        *_columns(Campaign),
        *_columns(Advertiser),
        _shared_roles(Campaign.advertiser_id).label("shared_roles"),
        _ids_of(AdGroup, AdGroup.campaign_id, Campaign.id).label("ad_group_ids"),
        _spend_of(DeliveryHour.campaign_id, Campaign.id).label("spent"),
    )
    .join(Advertiser, Advertiser.id == Campaign.advertiser_id)
    .where(Campaign.id == bindparam("id"))
)


@dataclass(slots=True)
class CampaignRead:
    """``campaigns.Loaded`` plus what the campaign's body needs: its ad group ids and spend."""

    campaign: Campaign
    advertiser: Advertiser
    roles: list[str]
    ad_group_ids: list[str]
    spent: int


async def read_campaign(
    reader: Reader, *, principal: Principal, campaign_id: int, action: str
) -> CampaignRead:
    """``campaigns.load`` (same answers) plus the body's ad group ids and spend, in one read."""
    uid = principal.user_id
    if uid is None:
        raise CampaignNotFound()
    row = await reader.first_row(_READ_CAMPAIGN, {"id": campaign_id, "uid": uid})
    if row is None:
        raise CampaignNotFound()
    key = None if row.key is None else ("campaign", row.key, uid)
    found: CampaignRead | None = None if key is None else _BUILT.get(key)
    if found is None:
        values = row.values
        c, a = len(_CAMPAIGN), len(_CAMPAIGN) + len(_ADVERTISER)
        campaign = _loaded(Campaign, _CAMPAIGN, values[:c])
        advertiser = _loaded(Advertiser, _ADVERTISER, values[c:a])
        shared, group_ids, spent = values[a:]
        roles = _roles(advertiser.owner_user_id, uid, shared)
        found = CampaignRead(campaign, advertiser, roles, _ids(group_ids), int(spent or 0))
        if key is not None:
            _BUILT.put(key, found)
    _authorize(found.roles, action, CampaignNotFound())
    return found


# ---- ad group -------------------------------------------------------------------------------

_READ_AD_GROUP = (
    select(
        *_columns(AdGroup),
        *_columns(Campaign),
        *_columns(Advertiser),
        _shared_roles(AdGroup.advertiser_id).label("shared_roles"),
        _ids_of(PinPromotion, PinPromotion.ad_group_id, AdGroup.id).label("pin_promotion_ids"),
        _spend_of(DeliveryHour.ad_group_id, AdGroup.id).label("spent"),
        _spend_of(DeliveryHour.campaign_id, AdGroup.campaign_id).label("campaign_spent"),
    )
    .join(Campaign, Campaign.id == AdGroup.campaign_id)
    .join(Advertiser, Advertiser.id == AdGroup.advertiser_id)
    .where(AdGroup.id == bindparam("id"))
)


@dataclass(slots=True)
class AdGroupRead:
    """``ad_groups.Loaded`` plus its body's pin promotion ids and the two spends."""

    ad_group: AdGroup
    campaign: Campaign
    advertiser: Advertiser
    roles: list[str]
    pin_promotion_ids: list[str]
    spent: int
    campaign_spent: int


async def read_ad_group(
    reader: Reader, *, principal: Principal, ad_group_id: int, action: str
) -> AdGroupRead:
    """``ad_groups.load`` (same answers) plus the body's promotion ids and spends, in one read."""
    uid = principal.user_id
    if uid is None:
        raise AdGroupNotFound()
    row = await reader.first_row(_READ_AD_GROUP, {"id": ad_group_id, "uid": uid})
    if row is None:
        raise AdGroupNotFound()
    key = None if row.key is None else ("ad_group", row.key, uid)
    found: AdGroupRead | None = None if key is None else _BUILT.get(key)
    if found is None:
        values = row.values
        g = len(_AD_GROUP)
        c = g + len(_CAMPAIGN)
        a = c + len(_ADVERTISER)
        group = _loaded(AdGroup, _AD_GROUP, values[:g])
        campaign = _loaded(Campaign, _CAMPAIGN, values[g:c])
        advertiser = _loaded(Advertiser, _ADVERTISER, values[c:a])
        shared, promotion_ids, spent, campaign_spent = values[a:]
        roles = _roles(advertiser.owner_user_id, uid, shared)
        found = AdGroupRead(
            group, campaign, advertiser, roles, _ids(promotion_ids), int(spent or 0), int(campaign_spent or 0)
        )
        if key is not None:
            _BUILT.put(key, found)
    _authorize(found.roles, action, AdGroupNotFound())
    return found


# ---- pin promotion --------------------------------------------------------------------------

_READ_PROMOTION = (
    select(
        *_columns(PinPromotion),
        Advertiser.owner_user_id,
        Advertiser.status,
        Campaign.status,
        Campaign.objective_type,
        AdGroup.status,
        _shared_roles(PinPromotion.advertiser_id).label("shared_roles"),
        exists().where(Pin.id == PinPromotion.pin_id).label("pin_exists"),
    )
    .join(AdGroup, AdGroup.id == PinPromotion.ad_group_id)
    .join(Campaign, Campaign.id == AdGroup.campaign_id)
    .join(Advertiser, Advertiser.id == PinPromotion.advertiser_id)
    .where(PinPromotion.id == bindparam("id"))
)


async def read_pin_promotion(reader: Reader, *, principal: Principal, promotion_id: int) -> PromotionView:
    """``pin_promotions.get`` (same view, same answers) in one read."""
    uid = principal.user_id
    if uid is None or promotion_id >= 2**63:  # no such row; a driver would refuse the number
        raise PinPromotionNotFound()
    row = await reader.first_row(_READ_PROMOTION, {"id": promotion_id, "uid": uid})
    if row is None:
        raise PinPromotionNotFound()
    key = None if row.key is None else ("promotion", row.key, uid)
    kept: tuple[PromotionView, list[str]] | None = None if key is None else _BUILT.get(key)
    if kept is None:
        values = row.values
        p = len(_PROMOTION)
        promotion = _loaded(PinPromotion, _PROMOTION, values[:p])
        owner, advertiser_status, campaign_status, objective, group_status, shared, pin_exists = values[p:]
        view = PromotionView(
            promotion=promotion,
            campaign_objective_type=objective,
            summary_status=summary_status(
                advertiser_status=advertiser_status,
                campaign_status=campaign_status,
                ad_group_status=group_status,
                status=promotion.status,
                review_status=promotion.review_status,
            ),
            is_pin_deleted=not pin_exists,
        )
        kept = (view, _roles(owner, uid, shared))
        if key is not None:
            _BUILT.put(key, kept)
    _authorize(kept[1], "PIN_PROMOTION_READ", PinPromotionNotFound())
    return kept[0]
