"""The batch advertiser entities report: one file of every entity of an advertiser.

A request stores a ``BatchEntitiesJob`` and queues a job; the job writes one JSON file under
the reports folder (served at a signed link like the report files). The file is an object:

    {"advertiser_id": "…", "batch_id": "…", "generated_time": <unix seconds>,
     "campaigns": [<campaign>, …], "ad_groups": [<ad group>, …], "pin_promotions": [<pin promotion>, …]}

each list ordered by id and holding the v3 object fields (ids as strings, times as Unix
seconds, money in micro-currency, the derived ``summary_status``); a list is left out when
``entity_types`` did not ask for it. The status a poll shows is final once the job settled
(SUCCEEDED, FAILED); before, the queue job's own state tells QUEUED from PROCESSING, since
the job's transaction commits only when it ends.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups as ad_group_rules
from pinapi.domain.ads import campaigns as campaign_rules
from pinapi.domain.ads import pin_promotions as promotion_rules
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid, NotFound
from pinapi.domain.measurement import spend
from pinapi.domain.reporting import exports
from pinapi.jobs import queue
from pinapi.store.ids import new_id
from pinapi.store.tables import AdGroup, Advertiser, BatchEntitiesJob, Campaign, Job, PinPromotion

KIND = "reports.batch_entities"
ENTITY_TYPES = ("CAMPAIGN", "AD_GROUP", "PIN_PROMOTION")
READ_ACTIONS = {
    "CAMPAIGN": "CAMPAIGN_READ",
    "AD_GROUP": "AD_GROUP_READ",
    "PIN_PROMOTION": "PIN_PROMOTION_READ",
}
MAX_ATTEMPTS = 3
_BATCH_ID = re.compile(r"^\d{1,19}-\d{1,12}-\d{1,19}$")


class BatchJobNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Entities batch job", code=1115, message="Entities batch job not found.")


@dataclass(frozen=True, slots=True)
class BatchView:
    """What a poll answers; ``report_key`` only once the file is there."""

    batch: BatchEntitiesJob
    status: str
    report_key: str | None
    error: str | None


def parse_entity_types(raw: Iterable[str]) -> list[str]:
    wanted = [t.strip().upper() for t in raw if t.strip()]
    for name in wanted:
        if name not in ENTITY_TYPES:
            raise Invalid("entity_types", f"must be among {', '.join(ENTITY_TYPES)}, got {name}")
    chosen = set(wanted) or set(ENTITY_TYPES)
    return [t for t in ENTITY_TYPES if t in chosen]


async def _authorize(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, entity_types: list[str]
) -> Advertiser:
    """The read action of every entity type the file lists (the first is checked by sharing)."""
    actions = [READ_ACTIONS[t] for t in entity_types]
    advertiser, roles = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action=actions[0]
    )
    for action in actions[1:]:
        if not role_lib.allows(roles, action):
            raise AdvertiserAccessDenied(
                f"User is not authorized to access requested advertiser (needs {action})."
            )
    return advertiser


def file_key(batch: BatchEntitiesJob) -> str:
    return f"entities/{batch.id}/core_entities_{batch.batch_id}.json"


def dir_text(data_dir: Path) -> str:
    """The data dir as job payloads carry it (absolute: the worker may run elsewhere)."""
    return str(data_dir.resolve())


async def request(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    advertiser_id: int,
    entity_types: Iterable[str],
    data_dir: Path,
) -> BatchEntitiesJob:
    """Store the request and queue its job; both commit with the request."""
    types = parse_entity_types(entity_types)
    advertiser = await _authorize(
        session, principal=principal, advertiser_id=advertiser_id, entity_types=types
    )
    now = clock.now()
    ident = new_id()
    batch = BatchEntitiesJob(
        id=ident,
        batch_id=f"{advertiser.id}-{int(now.timestamp())}-{ident}",
        advertiser_id=advertiser.id,
        user_id=principal.user_id,
        client_id=principal.app_id,
        entity_types=types,
        status="QUEUED",
        counts={},
        created_at=now,
    )
    session.add(batch)
    await session.flush()
    job = await queue.enqueue(
        session,
        clock=clock,
        kind=KIND,
        payload={"batch": batch.id, "data_dir": dir_text(data_dir)},
        max_attempts=MAX_ATTEMPTS,
    )
    batch.job_id = job.id
    await session.flush()
    return batch


async def poll(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, batch_id: str | None
) -> BatchView:
    if not batch_id:
        raise Invalid("batch_id", "is required")
    if not _BATCH_ID.match(batch_id):
        raise Invalid("batch_id", "must be a batch id as returned by the request (<advertiser>-<time>-<id>)")
    advertiser, roles = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action=READ_ACTIONS["CAMPAIGN"]
    )
    batch = await session.scalar(
        select(BatchEntitiesJob).where(
            BatchEntitiesJob.batch_id == batch_id, BatchEntitiesJob.advertiser_id == advertiser.id
        )
    )
    if batch is None:
        raise BatchJobNotFound()
    for kind in batch.entity_types:
        if not role_lib.allows(roles, READ_ACTIONS[kind]):
            raise AdvertiserAccessDenied(
                f"User is not authorized to access requested advertiser (needs {READ_ACTIONS[kind]})."
            )
    if batch.status in ("SUCCEEDED", "FAILED"):
        return BatchView(batch, batch.status, batch.report_key, batch.error)
    job = await session.get(Job, batch.job_id) if batch.job_id is not None else None
    if job is None or job.state in ("failed", "done"):  # done without a file: it was skipped
        return BatchView(batch, "FAILED", None, "The batch job failed; request a new one.")
    return BatchView(batch, "PROCESSING" if job.state == "running" else "QUEUED", None, None)


# ---------------------------------------------------------------- the job


def _seconds(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp())


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def campaign_fields(c: Campaign, advertiser: Advertiser, now: datetime, spent: int) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "advertiser_id": str(c.advertiser_id),
        "name": c.name,
        "status": c.status,
        "summary_status": campaign_rules.summary_status_of(c, advertiser, now, spent),
        "objective_type": c.objective_type,
        "managed_status": c.managed_status,
        "daily_spend_cap": c.daily_spend_cap,
        "lifetime_spend_cap": c.lifetime_spend_cap,
        "start_time": _seconds(c.start_time),
        "end_time": _seconds(c.end_time),
        "order_line_id": None if c.order_line_id is None else str(c.order_line_id),
        "billing_group": c.billing_group,
        "measurement_partner_campaign_id": c.measurement_partner_campaign_id,
        "product_filter": c.product_filter,
        "tracking_urls": _json_text(c.tracking_urls),
        "is_one_tap": c.is_one_tap,
        "entity_version": c.entity_version,
        "created_time": _seconds(c.created_at),
        "updated_time": _seconds(c.updated_at),
    }


def ad_group_fields(
    g: AdGroup, c: Campaign, advertiser: Advertiser, now: datetime, spent: int, campaign_spent: int
) -> dict[str, Any]:
    return {
        "id": str(g.id),
        "campaign_id": str(g.campaign_id),
        "advertiser_id": str(g.advertiser_id),
        "name": g.name,
        "status": g.status,
        "summary_status": ad_group_rules.summary_status_of(g, c, advertiser, now, spent, campaign_spent),
        "budget_type": g.budget_type,
        "budget_in_micro_currency": g.budget_in_micro_currency,
        "bid_in_micro_currency": g.bid_in_micro_currency,
        "bid_strategy_type": g.bid_strategy_type,
        "billable_event": g.billable_event,
        "pacing_delivery_type": g.pacing_delivery_type,
        "placement_group": g.placement_group,
        "campaign_objective_type": c.objective_type,
        "conversion_learning_mode_type": g.conversion_learning_mode_type,
        "auto_targeting_enabled": g.auto_targeting_enabled,
        "lifetime_frequency_cap": g.lifetime_frequency_cap,
        "start_time": _seconds(g.start_time),
        "end_time": _seconds(g.end_time),
        "targeting_spec": g.targeting_spec or {},
        "optimization_goal_metadata": g.optimization_goal_metadata,
        "tracking_urls": _json_text(g.tracking_urls),
        "entity_version": g.entity_version,
        "created_time": _seconds(g.created_at),
        "updated_time": _seconds(g.updated_at),
    }


def pin_promotion_fields(p: PinPromotion, g: AdGroup, c: Campaign, advertiser: Advertiser) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "ad_group_id": str(p.ad_group_id),
        "campaign_id": str(p.campaign_id),
        "advertiser_id": str(p.advertiser_id),
        "pin_id": str(p.pin_id),
        "name": p.name,
        "status": p.status,
        "review_status": p.review_status,
        "summary_status": promotion_rules.summary_status(
            advertiser_status=advertiser.status,
            campaign_status=c.status,
            ad_group_status=g.status,
            status=p.status,
            review_status=p.review_status,
        ),
        "creative_type": p.creative_type,
        "destination_url": p.destination_url,
        "click_tracking_url": p.click_tracking_url,
        "view_tracking_url": p.view_tracking_url,
        "android_deep_link": p.android_deep_link,
        "ios_deep_link": p.ios_deep_link,
        "carousel_android_deep_links": p.carousel_android_deep_links,
        "carousel_ios_deep_links": p.carousel_ios_deep_links,
        "carousel_destination_urls": p.carousel_destination_urls,
        "collection_items_destination_url_template": p.collection_items_destination_url_template,
        "tracking_urls": _json_text(p.tracking_urls),
        "is_removable": p.is_removable,
        "rejected_reasons": list(p.rejected_reasons or []),
        "rejection_labels": list(p.rejection_labels or []),
        "created_time": _seconds(p.created_at),
        "updated_time": _seconds(p.updated_at),
    }


async def entities(
    session: AsyncSession, *, advertiser: Advertiser, entity_types: list[str], now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Every entity of the advertiser of the asked types, as the file lists them."""
    campaigns = {
        c.id: c
        for c in await session.scalars(
            select(Campaign).where(Campaign.advertiser_id == advertiser.id).order_by(Campaign.id)
        )
    }
    groups = {
        g.id: g
        for g in await session.scalars(
            select(AdGroup).where(AdGroup.advertiser_id == advertiser.id).order_by(AdGroup.id)
        )
    }
    out: dict[str, list[dict[str, Any]]] = {}
    campaign_spent = await spend.lifetime_by_campaign(session, list(campaigns))
    if "CAMPAIGN" in entity_types:
        out["campaigns"] = [
            campaign_fields(c, advertiser, now, campaign_spent[c.id]) for c in campaigns.values()
        ]
    if "AD_GROUP" in entity_types:
        group_spent = await spend.lifetime_by_ad_group(session, list(groups))
        out["ad_groups"] = [
            ad_group_fields(
                g, campaigns[g.campaign_id], advertiser, now, group_spent[g.id], campaign_spent[g.campaign_id]
            )
            for g in groups.values()
        ]
    if "PIN_PROMOTION" in entity_types:
        promotions = await session.scalars(
            select(PinPromotion).where(PinPromotion.advertiser_id == advertiser.id).order_by(PinPromotion.id)
        )
        out["pin_promotions"] = [
            pin_promotion_fields(p, groups[p.ad_group_id], campaigns[p.campaign_id], advertiser)
            for p in promotions
        ]
    return out


def _write(path: Path, body: dict[str, Any]) -> None:
    """Atomically: a download never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        draft.write_bytes(orjson.dumps(body))
        os.replace(draft, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()


async def run(session: AsyncSession, *, clock: Clock, batch_pk: int, data_dir: Path) -> dict[str, Any]:
    """Write one batch's file (the job's body). A file that cannot be written marks the batch
    FAILED with the reason; the database errors propagate, so the job is retried."""
    batch = await session.get(BatchEntitiesJob, batch_pk)
    if batch is None or batch.status in ("SUCCEEDED", "FAILED"):
        return {"skipped": "no such pending batch"}
    advertiser = await session.get(Advertiser, batch.advertiser_id)
    if advertiser is None:
        return {"skipped": "advertiser is gone"}
    now = clock.now()
    listed = await entities(session, advertiser=advertiser, entity_types=list(batch.entity_types), now=now)
    body: dict[str, Any] = {
        "advertiser_id": str(advertiser.id),
        "batch_id": batch.batch_id,
        "generated_time": int(now.timestamp()),
        **listed,
    }
    key = file_key(batch)
    try:
        _write(exports.report_path(data_dir, key), body)
    except OSError as exc:
        batch.status = "FAILED"
        batch.error = f"The report file could not be written: {exc.strerror or exc}"
        batch.finished_at = clock.now()
        return {"batch": batch.batch_id, "failed": batch.error}
    batch.status = "SUCCEEDED"
    batch.report_key = key
    batch.counts = {name: len(items) for name, items in listed.items()}
    batch.finished_at = clock.now()
    return {"batch": batch.batch_id, "counts": batch.counts}
