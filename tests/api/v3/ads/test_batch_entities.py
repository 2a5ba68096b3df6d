"""The batch advertiser entities report: request, poll through its statuses, download."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from pinapi.domain.clock import FixedClock
from pinapi.domain.reporting import exports
from pinapi.jobs import (
    queue,
    scheduled_reports,  # noqa: F401  (registers the batch entities job)
)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import BatchEntitiesJob
from tests.api.v3.ads.builders import AdsBuilder
from tests.api.v3.ads.helpers import NOW, Account, account, failure, make_ad_group, make_campaign
from tests.factories import Factory, bearer

SCOPES = (
    "read_advertisers,write_advertisers,read_campaigns,write_campaigns,"
    "read_pin_promotions,write_pin_promotions"
)
PATH = "/ads/v3/advertisers/{}/entities/batch_report/"


async def _entities(client: httpx.AsyncClient, runtime: Runtime, acc: Account) -> dict[str, Any]:
    first = await make_campaign(client, acc, name="Spring")
    second = await make_campaign(client, acc, name="Autumn", objective_type="TRAFFIC")
    group = await make_ad_group(client, acc, first["id"], name="Main")
    ads = AdsBuilder(runtime)
    board = await ads.board(acc.user)
    pin = await ads.pin(acc.user, board)
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={
            "ad_group_id": group["id"],
            "pin_id": str(pin.id),
            "destination_url": "https://shop.example.com/",
        },
        headers=acc.headers,
    )
    assert r.status_code == 200, r.text
    return {"campaigns": [first, second], "group": group, "promotion": r.json()["data"], "pin": pin}


def _worker(runtime: Runtime) -> Worker:
    return Worker(sessions=runtime.sessions, clock=runtime.clock, handlers=HANDLERS)


async def _download(client: httpx.AsyncClient, url: str) -> httpx.Response:
    link = httpx.URL(url)
    return await client.get(link.path, params=dict(link.params))


async def test_request_poll_and_download_every_entity(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    acc = await account(factory, SCOPES)
    made = await _entities(client, runtime, acc)
    worker = _worker(runtime)
    await worker.drain()  # the promotion's review, so the next job is the batch's
    url = PATH.format(acc.advertiser.id)
    r = await client.post(url, headers=acc.headers)
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_create_advertiser_entities_batch_report_handler"
    batch_id = r.json()["data"]["batch_id"]
    adv, stamp, _ = batch_id.split("-")
    assert (adv, int(stamp)) == (str(acc.advertiser.id), NOW)

    r = await client.get(url, params={"batch_id": batch_id}, headers=acc.headers)
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_get_advertiser_entities_batch_report_handler"
    assert r.json()["data"] == {
        "batch_id": batch_id,
        "status": "QUEUED",
        "created_time": NOW,
        "entity_types": ["CAMPAIGN", "AD_GROUP", "PIN_PROMOTION"],
    }

    # claimed by a worker but not finished: PROCESSING
    async with runtime.sessions() as s:
        job = await queue.claim(s, clock=clock, worker_id="someone", lease_seconds=60)
        await s.commit()
    assert job is not None
    r = await client.get(url, params={"batch_id": batch_id}, headers=acc.headers)
    assert r.json()["data"]["status"] == "PROCESSING"
    clock.advance(timedelta(seconds=61))  # the lease lapses and this worker takes the job over
    assert await worker.drain() >= 1

    r = await client.get(url, params={"batch_id": batch_id}, headers=acc.headers)
    data = r.json()["data"]
    assert data["status"] == "SUCCEEDED" and data["created_time"] == NOW
    download = await _download(client, data["download_url"])
    assert download.status_code == 200, download.text
    assert httpx.URL(data["download_url"]).path.endswith(f"/core_entities_{batch_id}.json")
    body = orjson.loads(download.content)
    assert set(body) == {
        "advertiser_id",
        "batch_id",
        "generated_time",
        "campaigns",
        "ad_groups",
        "pin_promotions",
    }
    assert (body["advertiser_id"], body["batch_id"], body["generated_time"]) == (
        str(acc.advertiser.id),
        batch_id,
        NOW + 61,
    )
    campaigns = {c["id"]: c for c in body["campaigns"]}
    assert set(campaigns) == {c["id"] for c in made["campaigns"]}
    for wire in made["campaigns"]:
        listed = campaigns[wire["id"]]
        for field in ("name", "status", "objective_type", "daily_spend_cap", "created_time", "advertiser_id"):
            assert listed[field] == wire[field], field
        assert listed["summary_status"] == wire["summary_status"]
    [group] = body["ad_groups"]
    for field in (
        "id",
        "campaign_id",
        "name",
        "budget_in_micro_currency",
        "bid_in_micro_currency",
        "billable_event",
    ):
        assert group[field] == made["group"][field], field
    [promotion] = body["pin_promotions"]
    assert (promotion["id"], promotion["ad_group_id"], promotion["pin_id"]) == (
        made["promotion"]["id"],
        made["group"]["id"],
        str(made["pin"].id),
    )
    # the reviewer approved it before the batch ran; the file shows the state at the run
    assert (promotion["review_status"], promotion["summary_status"], promotion["destination_url"]) == (
        "APPROVED",
        "APPROVED",
        "https://shop.example.com/",
    )
    async with runtime.sessions() as s:
        stored = await s.scalar(select(BatchEntitiesJob).where(BatchEntitiesJob.batch_id == batch_id))
        assert stored is not None
        assert stored.counts == {"campaigns": 2, "ad_groups": 1, "pin_promotions": 1}

    # the link lasts an hour from the read
    clock.advance(timedelta(hours=1))
    assert (await _download(client, data["download_url"])).status_code == 403


async def test_entity_types_choose_the_lists(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory, SCOPES)
    await _entities(client, runtime, acc)
    url = PATH.format(acc.advertiser.id)
    r = await client.post(url, data={"entity_types": "campaign,pin_promotion"}, headers=acc.headers)
    assert r.status_code == 200, r.text
    batch_id = r.json()["data"]["batch_id"]
    await _worker(runtime).drain()
    data = (await client.get(url, params={"batch_id": batch_id}, headers=acc.headers)).json()["data"]
    assert data["entity_types"] == ["CAMPAIGN", "PIN_PROMOTION"]
    body = orjson.loads((await _download(client, data["download_url"])).content)
    assert (len(body["campaigns"]), len(body["pin_promotions"]), "ad_groups" in body) == (2, 1, False)


async def test_a_file_that_cannot_be_written_fails_the_batch(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory, SCOPES)
    url = PATH.format(acc.advertiser.id)
    blocker = runtime.settings.data_dir / exports.REPORTS_DIR / "entities"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    batch_id = (await client.post(url, headers=acc.headers)).json()["data"]["batch_id"]
    await _worker(runtime).drain()
    data = (await client.get(url, params={"batch_id": batch_id}, headers=acc.headers)).json()["data"]
    assert data["status"] == "FAILED" and "download_url" not in data
    assert data["error"]["message"].startswith("The report file could not be written")


async def test_bad_input_and_unknown_batches(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory, SCOPES)
    url = PATH.format(acc.advertiser.id)
    failure(
        await client.post(url, json={"entity_types": ["CAMPAIGN", "KEYWORD"]}, headers=acc.headers),
        400,
        1,
        "entity_types",
    )
    failure(await client.get(url, headers=acc.headers), 400, 1, "batch_id")
    failure(
        await client.get(url, params={"batch_id": "not-a-batch"}, headers=acc.headers), 400, 1, "batch_id"
    )
    r = await client.get(url, params={"batch_id": f"{acc.advertiser.id}-{NOW}-12345"}, headers=acc.headers)
    failure(r, 404, 1115)
    assert r.json()["message"] == "Entities batch job not found."
    # a batch of the user's other advertiser is not found under this one
    other = await factory.advertiser(acc.user, "Second")
    theirs = (await client.post(PATH.format(other.id), headers=acc.headers)).json()["data"]["batch_id"]
    failure(await client.get(url, params={"batch_id": theirs}, headers=acc.headers), 404, 1115)
    async with runtime.sessions() as s:
        stored = list(await s.scalars(select(BatchEntitiesJob)))
        assert [b.advertiser_id for b in stored] == [other.id]


async def test_scopes_and_roles(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await account(factory, SCOPES)
    url = PATH.format(owner.advertiser.id)
    batch_id = (await client.post(url, headers=owner.headers)).json()["data"]["batch_id"]

    no_scope = bearer(await factory.token(owner.user, "read_campaigns,read_pin_promotions"))
    failure(await client.post(url, headers=no_scope), 401, 3)
    failure(await client.get(url, params={"batch_id": batch_id}, headers=no_scope), 401, 3)

    analyst = await factory.user()
    await factory.share(owner.advertiser, analyst, "ANALYST")
    as_analyst = bearer(await factory.token(analyst, SCOPES))
    assert (await client.get(url, params={"batch_id": batch_id}, headers=as_analyst)).status_code == 200
    assert (await client.post(url, headers=as_analyst)).status_code == 200

    finance = await factory.user()
    await factory.share(owner.advertiser, finance, "FINANCE_MANAGER")
    stranger = await factory.user()
    for user in (finance, stranger):
        headers = bearer(await factory.token(user, SCOPES))
        failure(await client.post(url, headers=headers), 403, 1902)
        failure(await client.get(url, params={"batch_id": batch_id}, headers=headers), 403, 1902)
    async with runtime.sessions() as s:
        assert len(list(await s.scalars(select(BatchEntitiesJob)))) == 2  # the owner's and the analyst's
