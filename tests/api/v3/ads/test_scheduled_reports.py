"""Scheduled reports over the wire: create, update, read, completed runs with signed links."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from pinapi.domain.clock import FixedClock
from pinapi.jobs import scheduled_reports  # noqa: F401  (registers the scheduler and run jobs)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import ScheduledReport
from tests.api.v3.ads.helpers import NOW, Account, account, failure
from tests.domain.reporting import builder
from tests.factories import Factory, bearer

SCOPES = "read_advertisers,write_advertisers"
BASE = "/ads/v3/reports/scheduled/{}/"
DEFINITION: dict[str, Any] = {
    "report_level": "CAMPAIGN",
    "columns": ["IMPRESSION_1", "SPEND_IN_MICRO_DOLLAR"],
    "granularity": "DAILY",
    "days_of_the_week": [0, 3],
    "report_start_relative_days_in_past": 7,
    "report_end_relative_days_in_past": 1,
    "click_window_days": 7,
    "engagement_window_days": 7,
    "view_window_days": 1,
    "conversion_report_time_type": "CONVERSION_EVENT",
    "email_list": ["ops@example.com"],
    "expiration_date": NOW + 90 * 86_400,
}


async def _create(client: httpx.AsyncClient, acc: Account, **fields: Any) -> dict[str, Any]:
    r = await client.post(BASE.format(acc.advertiser.id), json={**DEFINITION, **fields}, headers=acc.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def _run_worker(runtime: Runtime) -> None:
    worker = Worker(
        sessions=runtime.sessions,
        clock=runtime.clock,
        handlers=HANDLERS,
        services={"data_dir": runtime.settings.data_dir},
    )
    await worker.schedule_periodic()
    await worker.drain()


async def test_create_answers_the_scheduled_report_and_stores_it(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory, SCOPES)
    r = await client.post(BASE.format(acc.advertiser.id), json=DEFINITION, headers=acc.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_create_scheduled_report_handler"
    data = body["data"]
    assert data == {
        "id": data["id"],
        "advertiser_id": str(acc.advertiser.id),
        "user_id": str(acc.user.id),
        "client_id": data["client_id"],
        "report_template_id": None,
        "status": "ACTIVE",
        "report_level": "CAMPAIGN",
        "columns": ["IMPRESSION_1", "SPEND_IN_MICRO_DOLLAR"],
        "granularity": "DAY",
        "report_format": "csv",
        "data_source": "OFFLINE",
        "days_of_the_week": [0, 3],
        "days_of_the_month": [],
        "months_of_the_year": [],
        "report_start_relative_days_in_past": 7,
        "report_end_relative_days_in_past": 1,
        "click_window_days": 7,
        "engagement_window_days": 7,
        "view_window_days": 1,
        "conversion_report_time_type": "CONVERSION_EVENT",
        "filters_json": None,
        "entity_fields": [],
        "email_list": ["ops@example.com"],
        "expiration_date": NOW + 90 * 86_400,
        "created_time": NOW,
        "updated_time": NOW,
    }
    async with runtime.sessions() as s:
        stored = await s.get(ScheduledReport, int(data["id"]))
        assert stored is not None
        assert (stored.advertiser_id, stored.days_of_the_week, stored.start_days_in_past) == (
            acc.advertiser.id,
            [0, 3],
            7,
        )

    # a form body with comma lists, as v3-era clients send it, stores the same definition
    form = {
        "report_level": "ADVERTISER",
        "columns": "IMPRESSION_1,CLICKTHROUGH_1",
        "days_of_the_month": "1,15",
        "months_of_the_year": "1,4,7,10",
        "filters_json": '[{"field": "SPEND_IN_MICRO_DOLLAR", "operator": ">", "value": 0}]',
        "report_format": "json",
    }
    r = await client.post(BASE.format(acc.advertiser.id), data=form, headers=acc.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["columns"], data["days_of_the_month"], data["months_of_the_year"]) == (
        ["IMPRESSION_1", "CLICKTHROUGH_1"],
        [1, 15],
        [1, 4, 7, 10],
    )
    assert (data["report_format"], data["filters_json"], data["days_of_the_week"]) == (
        "json",
        form["filters_json"],
        [],
    )


async def test_create_refuses_bad_input_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory, SCOPES)
    url = BASE.format(acc.advertiser.id)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"report_level": None}, "report_level"),
        ({"report_level": "PRODUCT_GROUP"}, "report_level"),
        ({"columns": ["IMPRESSION_1", "NOT_A_METRIC"]}, "columns"),
        ({"granularity": "FORTNIGHTLY"}, "granularity"),
        ({"days_of_the_week": [0, 7]}, "days_of_the_week"),
        ({"days_of_the_month": [32]}, "days_of_the_month"),
        ({"months_of_the_year": [0]}, "months_of_the_year"),
        ({"report_start_relative_days_in_past": "soon"}, "report_start_relative_days_in_past"),
        ({"report_end_relative_days_in_past": 9}, "report_start_relative_days_in_past"),
        ({"view_window_days": 2}, "view_window_days"),
        ({"conversion_report_time_type": "NOW"}, "conversion_report_time_type"),
        ({"filters_json": '[{"field": "NOPE", "operator": "=", "value": 1}]'}, "filters_json"),
        ({"email_list": ["nobody"]}, "email_list"),
        ({"expiration_date": NOW - 1}, "expiration_date"),
        ({"status": "DELETED"}, "status"),
    ]
    for fields, param in cases:
        body = {k: v for k, v in {**DEFINITION, **fields}.items() if v is not None}
        r = await client.post(url, json=body, headers=acc.headers)
        failure(r, 400, 1, param)
        assert param in r.json()["message"]
    r = await client.post("/ads/v3/reports/scheduled/abc/", json=DEFINITION, headers=acc.headers)
    failure(r, 400, 1, "advertiser")
    async with runtime.sessions() as s:
        assert list(await s.scalars(select(ScheduledReport))) == []


async def test_update_changes_fields_and_status_and_checks_the_result(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    acc = await account(factory, SCOPES)
    made = await _create(client, acc)
    url = BASE.format(acc.advertiser.id) + made["id"] + "/"
    clock.advance(timedelta(minutes=5))
    r = await client.put(
        url, data={"status": "INACTIVE", "days_of_the_week": "4", "granularity": "WEEK"}, headers=acc.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_update_scheduled_report_handler"
    data = r.json()["data"]
    assert (data["status"], data["days_of_the_week"], data["granularity"]) == ("INACTIVE", [4], "WEEK")
    assert (data["updated_time"], data["created_time"]) == (NOW + 300, NOW)
    assert data["columns"] == made["columns"]  # untouched fields keep their values

    # the merged definition is checked: the end may not pass the stored start
    r = await client.put(url, json={"report_end_relative_days_in_past": 8}, headers=acc.headers)
    failure(r, 400, 1, "report_start_relative_days_in_past")
    r = await client.put(url, json={"status": "PAUSED"}, headers=acc.headers)
    failure(r, 400, 1, "status")

    got = await client.get(url, headers=acc.headers)
    assert got.status_code == 200 and got.json()["data"] == data
    listed = await client.get(BASE.format(acc.advertiser.id), headers=acc.headers)
    assert [d["id"] for d in listed.json()["data"]] == [made["id"]]

    # another advertiser's schedule, or an unknown one, is not found
    other = await account(factory, SCOPES, name="Other")
    theirs = await _create(client, other)
    r = await client.put(BASE.format(acc.advertiser.id) + theirs["id"] + "/", json={}, headers=acc.headers)
    failure(r, 404, 3010)
    r = await client.get(BASE.format(acc.advertiser.id) + "123/", headers=acc.headers)
    failure(r, 404, 3010)
    async with runtime.sessions() as s:
        stored = await s.get(ScheduledReport, int(theirs["id"]))
        assert stored is not None and stored.status == "ACTIVE"


async def test_completed_runs_page_newest_first_with_links_that_work_for_an_hour(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    acc = await account(factory, SCOPES)
    world = await builder.build(
        runtime, acc.advertiser, start=builder.utc(2026, 10, 20), hours=24 * 20, dims=False
    )
    made = await _create(client, acc, report_level="ADVERTISER", granularity="TOTAL", days_of_the_week=[])
    url = BASE.format(acc.advertiser.id) + "completed/"
    r = await client.get(url, headers=acc.headers)
    assert r.status_code == 200 and r.json()["data"] == [] and "bookmark" not in r.json()

    await _run_worker(runtime)  # Monday 2026-11-02
    clock.advance(timedelta(days=1))
    await _run_worker(runtime)  # Tuesday

    r = await client.get(url, params={"page_size": 1}, headers=acc.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_get_completed_scheduled_reports_handler"
    [newest] = body["data"]
    assert newest["report_schedule_id"] == made["id"]
    assert (newest["execution_status"], newest["report_date"]) == ("SUCCESS", "2026-11-03")
    assert (newest["start_date"], newest["end_date"]) == ("2026-10-27", "2026-11-02")
    assert newest["report_time"] == NOW + 86_400
    assert (newest["advertiser_id"], newest["user_id"]) == (str(acc.advertiser.id), str(acc.user.id))
    r2 = await client.get(url, params={"page_size": 1, "bookmark": body["bookmark"]}, headers=acc.headers)
    [older] = r2.json()["data"]
    assert older["report_date"] == "2026-11-02" and "bookmark" not in r2.json()
    by_schedule = await client.get(url, params={"report_schedule_id": made["id"]}, headers=acc.headers)
    assert [d["id"] for d in by_schedule.json()["data"]] == [newest["id"], older["id"]]

    # the link needs no token, and holds the sums of the facts for the range
    link = httpx.URL(newest["report_link"])
    download = await client.get(link.path, params=dict(link.params))
    assert download.status_code == 200, download.text
    [row] = list(csv.DictReader(io.StringIO(download.text)))
    in_range = [h for h in world.hours if "2026-10-27" <= h["local_date"].isoformat() <= "2026-11-02"]
    assert int(row["IMPRESSION_1"]) == sum(h["impression_1"] for h in in_range)
    assert int(row["SPEND_IN_MICRO_DOLLAR"]) == sum(h["spend_in_micro_dollar"] for h in in_range)

    # an hour after the read the link is refused; a new read signs a new one
    clock.advance(timedelta(hours=1))
    expired = await client.get(link.path, params=dict(link.params))
    assert expired.status_code == 403
    fresh = (await client.get(url, headers=acc.headers)).json()["data"][0]["report_link"]
    fresh_url = httpx.URL(fresh)
    assert (await client.get(fresh_url.path, params=dict(fresh_url.params))).status_code == 200

    r = await client.get(url, params={"page_size": 251}, headers=acc.headers)
    failure(r, 400, 22)
    r = await client.get(url, params={"report_schedule_id": "x"}, headers=acc.headers)
    failure(r, 400, 1, "report_schedule_id")


async def test_scopes_and_roles(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await account(factory, SCOPES)
    made = await _create(client, owner)
    base = BASE.format(owner.advertiser.id)
    one = base + made["id"] + "/"

    # a token without write_advertisers may read but not write; one without read_advertisers neither
    reader = bearer(await factory.token(owner.user, "read_advertisers"))
    failure(await client.post(base, json=DEFINITION, headers=reader), 401, 3)
    failure(await client.put(one, json={"status": "INACTIVE"}, headers=reader), 401, 3)
    assert (await client.get(base + "completed/", headers=reader)).status_code == 200
    campaigns_only = bearer(await factory.token(owner.user, "read_campaigns,write_advertisers"))
    failure(await client.get(base + "completed/", headers=campaigns_only), 401, 3)
    failure(await client.get(one, headers=campaigns_only), 401, 3)

    # ANALYST reads reports but may not create or change schedules
    analyst = await factory.user()
    await factory.share(owner.advertiser, analyst, "ANALYST")
    as_analyst = bearer(await factory.token(analyst, SCOPES))
    failure(await client.post(base, json=DEFINITION, headers=as_analyst), 403, 1902)
    failure(await client.put(one, json={"status": "INACTIVE"}, headers=as_analyst), 403, 1902)
    assert (await client.get(base + "completed/", headers=as_analyst)).status_code == 200
    assert (await client.get(one, headers=as_analyst)).status_code == 200

    # AUDIENCE_MANAGER holds no reporting action at all; a stranger holds no role
    audience = await factory.user()
    await factory.share(owner.advertiser, audience, "AUDIENCE_MANAGER")
    stranger = await factory.user()
    for user in (audience, stranger):
        headers = bearer(await factory.token(user, SCOPES))
        failure(await client.get(base + "completed/", headers=headers), 403, 1902)
        failure(await client.get(one, headers=headers), 403, 1902)
        failure(await client.get(base, headers=headers), 403, 1902)
        failure(await client.post(base, json=DEFINITION, headers=headers), 403, 1902)
        failure(await client.put(one, json={"status": "INACTIVE"}, headers=headers), 403, 1902)

    # ADMIN may write
    admin = await factory.user()
    await factory.share(owner.advertiser, admin, "ADMIN")
    as_admin = bearer(await factory.token(admin, SCOPES))
    r = await client.put(one, json={"status": "INACTIVE"}, headers=as_admin)
    assert r.status_code == 200 and r.json()["data"]["status"] == "INACTIVE"
    async with runtime.sessions() as s:
        stored = await s.get(ScheduledReport, int(made["id"]))
        assert stored is not None and stored.status == "INACTIVE"
