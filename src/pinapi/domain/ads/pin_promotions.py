"""Pin promotions: create, update, read and list the pins an ad group promotes.

Rules enforced here (each refusal names its field):

- hierarchy: a promotion belongs to an ad group, and through it to a campaign and an
  advertiser; the pin must exist and belong to the advertiser's owner (only the owner's
  pins may be promoted); batch items must be of the advertiser in the path;
- creative type: compatible with the campaign objective and with the pin (video creatives
  need a video pin, carousel creatives a carousel pin); when not given it is derived;
- ARCHIVED is terminal, and nothing is added under an archived campaign or ad group;
- every new promotion, and every edit of what the reviewer looks at, goes back to PENDING
  and queues a review (``review.py``); pausing or resuming does not.

Account sharing: the caller needs PIN_PROMOTION_READ / _CREATE / _UPDATE on the
advertiser. An object of an advertiser the caller holds no role on answers "not found".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.ad_groups import AdGroupNotFound
from pinapi.domain.ads.campaigns import CampaignNotFound
from pinapi.domain.ads.promotion_rules import (
    EDITABLE_FIELDS,
    REVIEWED_FIELDS,
    STATUSES,
    check_creative,
    check_values,
    derive_creative,
)
from pinapi.domain.ads.review import ReviewPolicy, request_review
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, DomainError, Invalid, NotFound, ValidationFailed
from pinapi.store.ids import new_id
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import AdGroup, Advertiser, Campaign, Pin, PinPromotion

# v3 names no "not found" code for ads objects; pinapi answers 404 with 3001 (campaign),
# 3002 (ad group, both in ads core) and 3003 (pin promotion).
PIN_PROMOTION_NOT_FOUND = 3003

MAX_BATCH = 1000  # the batch benchmark creates 1,000 in one call


class PinPromotionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Pin promotion", code=PIN_PROMOTION_NOT_FOUND)


@dataclass(frozen=True, slots=True)
class PromotionView:
    """A promotion with what its wire shape needs from its parents."""

    promotion: PinPromotion
    campaign_objective_type: str
    summary_status: str
    is_pin_deleted: bool


@dataclass(frozen=True, slots=True)
class BatchResult:
    view: PromotionView | None
    error: DomainError | None


def summary_status(
    *, advertiser_status: str, campaign_status: str, ad_group_status: str, status: str, review_status: str
) -> str:
    """v5 PinPromotionSummaryStatus: the chain's state first, then the review outcome."""
    if advertiser_status != "ACTIVE":
        return "ADVERTISER_DISABLED"
    chain = (campaign_status, ad_group_status, status)
    if "ARCHIVED" in chain:
        return "ARCHIVED"
    if "PAUSED" in chain:
        return "PAUSED"
    return review_status


async def require_object_action(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, action: str, missing: DomainError
) -> Advertiser:
    """Role check for an object reached by its own id: no role at all hides the object."""
    advertiser = await session.get(Advertiser, advertiser_id)
    if advertiser is None or principal.user_id is None:
        raise missing
    roles = await sharing.roles_of(session, user_id=principal.user_id, advertiser=advertiser)
    if not roles:
        raise missing
    if not role_lib.allows(roles, action):
        raise AdvertiserAccessDenied(
            f"User is not authorized to access requested advertiser (needs {action})."
        )
    return advertiser


# ---- loading ---------------------------------------------------------------------------------


async def _chain(session: AsyncSession, ad_group_id: int) -> tuple[AdGroup, Campaign, Advertiser] | None:
    row = (
        await session.execute(
            select(AdGroup, Campaign, Advertiser)
            .join(Campaign, Campaign.id == AdGroup.campaign_id)
            .join(Advertiser, Advertiser.id == AdGroup.advertiser_id)
            .where(AdGroup.id == ad_group_id)
        )
    ).first()
    if row is None:
        return None
    group, campaign, advertiser = row
    return group, campaign, advertiser


async def _view(session: AsyncSession, promotion: PinPromotion) -> PromotionView:
    chain = await _chain(session, promotion.ad_group_id)
    assert chain is not None
    ad_group, campaign, advertiser = chain
    pin_exists = await session.scalar(select(Pin.id).where(Pin.id == promotion.pin_id)) is not None
    return PromotionView(
        promotion=promotion,
        campaign_objective_type=campaign.objective_type,
        summary_status=summary_status(
            advertiser_status=advertiser.status,
            campaign_status=campaign.status,
            ad_group_status=ad_group.status,
            status=promotion.status,
            review_status=promotion.review_status,
        ),
        is_pin_deleted=not pin_exists,
    )


async def get(session: AsyncSession, *, principal: Principal, promotion_id: int) -> PromotionView:
    promotion = await session.get(PinPromotion, promotion_id)
    if promotion is None:
        raise PinPromotionNotFound()
    await require_object_action(
        session,
        principal=principal,
        advertiser_id=promotion.advertiser_id,
        action="PIN_PROMOTION_READ",
        missing=PinPromotionNotFound(),
    )
    return await _view(session, promotion)


# ---- writes ----------------------------------------------------------------------------------


async def create(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    policy: ReviewPolicy,
    ad_group_id: int,
    pin_id: int,
    values: Mapping[str, Any],
    advertiser_id: int | None = None,
) -> PromotionView:
    """Create one promotion; ``advertiser_id`` (batch) pins the ad group to that advertiser."""
    check_values(values)
    chain = await _chain(session, ad_group_id)
    missing = Invalid("ad_group_id", f"no ad group {ad_group_id}")
    if chain is None:
        raise missing
    ad_group, campaign, advertiser = chain
    if advertiser_id is not None and advertiser.id != advertiser_id:
        raise Invalid("ad_group_id", f"ad group {ad_group_id} belongs to another advertiser")
    if advertiser_id is None:
        await require_object_action(
            session,
            principal=principal,
            advertiser_id=advertiser.id,
            action="PIN_PROMOTION_CREATE",
            missing=missing,
        )
    if "ARCHIVED" in (campaign.status, ad_group.status):
        raise ValidationFailed(
            "ad_group_id", "cannot add pin promotions under an archived campaign or ad group"
        )
    status = values.get("status", "ACTIVE")
    if status == "ARCHIVED":
        raise ValidationFailed("status", "a new pin promotion cannot be ARCHIVED")
    pin = await session.get(Pin, pin_id)
    if pin is None or pin.owner_id != advertiser.owner_user_id:
        raise Invalid("pin_id", f"no pin {pin_id} of the advertiser's owner")
    creative = values.get("creative_type") or derive_creative(campaign.objective_type, pin)
    check_creative(objective=campaign.objective_type, creative_type=creative, pin=pin, values=values)
    now = clock.now()
    promotion = PinPromotion(
        id=new_id(),
        advertiser_id=advertiser.id,
        campaign_id=campaign.id,
        ad_group_id=ad_group.id,
        pin_id=pin.id,
        name=values.get("name") or pin.title or "",
        status=status,
        review_status="PENDING",
        review_version=1,
        rejected_reasons=[],
        rejection_labels=[],
        creative_type=creative,
        is_removable=bool(values.get("is_removable", False)),
        created_at=now,
        updated_at=now,
        reviewed_at=None,
    )
    for name in EDITABLE_FIELDS - {"name", "status", "creative_type", "is_removable"}:
        if name in values:
            setattr(promotion, name, values[name])
    session.add(promotion)
    # The review request flushes the row together with its job (one round trip each).
    await request_review(session, clock=clock, promotion=promotion, policy=policy, edited=False)
    return PromotionView(
        promotion=promotion,
        campaign_objective_type=campaign.objective_type,
        summary_status=summary_status(
            advertiser_status=advertiser.status,
            campaign_status=campaign.status,
            ad_group_status=ad_group.status,
            status=promotion.status,
            review_status=promotion.review_status,
        ),
        is_pin_deleted=False,
    )


async def update(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    policy: ReviewPolicy,
    promotion_id: int,
    values: Mapping[str, Any],
    advertiser_id: int | None = None,
) -> PromotionView:
    check_values(values)
    promotion = await session.get(PinPromotion, promotion_id)
    if promotion is None or (advertiser_id is not None and promotion.advertiser_id != advertiser_id):
        raise PinPromotionNotFound()
    if advertiser_id is None:
        await require_object_action(
            session,
            principal=principal,
            advertiser_id=promotion.advertiser_id,
            action="PIN_PROMOTION_UPDATE",
            missing=PinPromotionNotFound(),
        )
    if promotion.status == "ARCHIVED":
        raise ValidationFailed("status", "an archived pin promotion cannot be changed")
    chain = await _chain(session, promotion.ad_group_id)
    assert chain is not None
    if "ARCHIVED" in (chain[0].status, chain[1].status):
        raise ValidationFailed("status", "the campaign or ad group is archived: its pin promotions are final")
    changed = {k: v for k, v in values.items() if getattr(promotion, k) != v}
    if not changed:
        return await _view(session, promotion)
    if REVIEWED_FIELDS & changed.keys():
        pin = await session.get(Pin, promotion.pin_id)
        if pin is None:
            raise ValidationFailed("pin_id", "the promoted pin was deleted; only status can change")
        merged = {k: getattr(promotion, k) for k in EDITABLE_FIELDS} | dict(values)
        creative = str(merged["creative_type"])
        check_creative(objective=chain[1].objective_type, creative_type=creative, pin=pin, values=merged)
    for name, value in changed.items():
        setattr(promotion, name, value)
    promotion.updated_at = clock.now()
    if REVIEWED_FIELDS & changed.keys():
        await request_review(session, clock=clock, promotion=promotion, policy=policy, edited=True)
    await session.flush()
    return await _view(session, promotion)


async def batch(
    session: AsyncSession,
    *,
    principal: Principal,
    advertiser_id: int,
    action: str,
    items: Sequence[Any],
    run: Any,
) -> list[BatchResult]:
    """Run ``run(item)`` for each item in its own savepoint: all-or-nothing per item."""
    await sharing.require_action(session, principal=principal, advertiser_id=advertiser_id, action=action)
    if not items:
        raise Invalid("pin_promotions", "must hold at least one item")
    if len(items) > MAX_BATCH:
        raise Invalid("pin_promotions", f"must hold at most {MAX_BATCH} items")
    results: list[BatchResult] = []
    for item in items:
        try:
            async with session.begin_nested():
                view = await run(item)
            results.append(BatchResult(view=view, error=None))
        except DomainError as exc:
            results.append(BatchResult(view=None, error=exc))
    return results


# ---- lists -----------------------------------------------------------------------------------


async def _views(session: AsyncSession, rows: list[PinPromotion]) -> list[PromotionView]:
    if not rows:
        return []
    group_ids = {r.ad_group_id for r in rows}
    chains = {
        g.id: (g, c, a)
        for g, c, a in (
            await session.execute(
                select(AdGroup, Campaign, Advertiser)
                .join(Campaign, Campaign.id == AdGroup.campaign_id)
                .join(Advertiser, Advertiser.id == AdGroup.advertiser_id)
                .where(AdGroup.id.in_(group_ids))
            )
        ).all()
    }
    pins = set((await session.scalars(select(Pin.id).where(Pin.id.in_({r.pin_id for r in rows})))).all())
    out = []
    for r in rows:
        g, c, a = chains[r.ad_group_id]
        out.append(
            PromotionView(
                promotion=r,
                campaign_objective_type=c.objective_type,
                summary_status=summary_status(
                    advertiser_status=a.status,
                    campaign_status=c.status,
                    ad_group_status=g.status,
                    status=r.status,
                    review_status=r.review_status,
                ),
                is_pin_deleted=r.pin_id not in pins,
            )
        )
    return out


async def list_under(
    session: AsyncSession,
    *,
    principal: Principal,
    campaign_id: int | None = None,
    ad_group_id: int | None = None,
    statuses: Sequence[str] = STATUSES,
    after: list[Any] | None,
    limit: int,
) -> tuple[list[PromotionView], list[Any] | None]:
    """The promotions of a campaign or an ad group, oldest first, one keyset page."""
    if ad_group_id is not None:
        parent_adv = await session.scalar(select(AdGroup.advertiser_id).where(AdGroup.id == ad_group_id))
        missing: DomainError = AdGroupNotFound()
        where = PinPromotion.ad_group_id == ad_group_id
    else:
        parent_adv = await session.scalar(select(Campaign.advertiser_id).where(Campaign.id == campaign_id))
        missing = CampaignNotFound()
        where = PinPromotion.campaign_id == campaign_id
    if parent_adv is None:
        raise missing
    await require_object_action(
        session, principal=principal, advertiser_id=parent_adv, action="PIN_PROMOTION_READ", missing=missing
    )
    stmt = select(PinPromotion).where(where, PinPromotion.status.in_(list(statuses)))
    page: KeysetPage[PinPromotion] = await fetch_page(
        session, stmt, order=[PinPromotion.id.expression], after=after, limit=limit, key_of=lambda r: [r.id]
    )
    return await _views(session, page.rows), page.next_key
