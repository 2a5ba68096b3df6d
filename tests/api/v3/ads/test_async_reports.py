"""Async delivery-metrics reports: request, poll, the worker's file and its download.

The scenario builds a campaign through the API, lets the reviewer approve it, simulates a
week with the engine, then checks the JSON and CSV files (downloaded without a token)
against the reporting core and the synchronous delivery-metrics endpoints.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinapi.domain.clock import FixedClock
from pinapi.domain.reporting import exports, reports
from pinapi.domain.reporting.query import parse_query, run
from pinapi.engine.runner import Simulator, simulate
from pinapi.jobs import reports as report_jobs  # noqa: F401  (registers the report writer)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import AsyncReport, Job
from tests.api.v3.ads.builders import AdsBuilder
from tests.api.v3.ads.helpers import ADS, Account, account, failure, make_campaign
from tests.conftest import START
from tests.factories import Factory

SCOPES = f"{ADS},read_pin_promotions,write_pin_promotions"
WEEK_FROM = datetime(2026, 10, 25, tzinfo=UTC)
WEEK_TO = WEEK_FROM + timedelta(days=7)
METRICS = "IMPRESSION_1,CLICKTHROUGH_1,SPEND_IN_MICRO_DOLLAR,CTR"
REPORT = {"start_date": "2026-10-25", "end_date": "2026-10-31", "granularity": "DAY", "metrics": METRICS}


def _path(acc: Account) -> str:
    return f"/ads/v3/reports/async/{acc.advertiser.id}/delivery_metrics/"


async def _drain(runtime: Runtime) -> int:
    return await Worker(sessions=runtime.sessions, clock=runtime.clock, handlers=HANDLERS).drain()


async def _request(client: httpx.AsyncClient, acc: Account, **kw: Any) -> str:
    r = await client.post(_path(acc), headers=acc.headers, **kw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_create_advertiser_delivery_metrics_report"
    token: str = body["data"]["token"]
    assert set(body["data"]) == {"token"} and len(token) >= 24
    return token


async def _poll(client: httpx.AsyncClient, acc: Account, token: str) -> httpx.Response:
    return await client.get(_path(acc), params={"token": token}, headers=acc.headers)


async def _finished_url(client: httpx.AsyncClient, acc: Account, token: str) -> str:
    r = await _poll(client, acc, token)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["report_status"] == "FINISHED", data
    url: str = data["url"]
    return url


@dataclass
class Delivered:
    acc: Account
    campaign_id: str
    ad_group_id: str
    promotion_ids: list[str]


@pytest.fixture
async def delivered(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, clock: FixedClock
) -> Delivered:
    """A campaign, ad group and two pin promotions made through the API, approved by the
    reviewer job, with a week of engine delivery behind them; the clock back at START."""
    clock.set(WEEK_FROM - timedelta(days=1))
    acc = await account(factory, SCOPES)
    ads = AdsBuilder(runtime)
    board = await ads.board(acc.user)
    pins = [await ads.pin(acc.user, board, title=f"Pin {i}") for i in range(2)]
    campaign = await make_campaign(client, acc, objective_type="AWARENESS")
    r = await client.post(
        "/ads/v3/ad_groups/",
        json={
            "campaign_id": campaign["id"],
            "name": "Week",
            "budget_in_micro_currency": 20_000_000,
            "bid_in_micro_currency": 8_000_000,
        },
        headers=acc.headers,
    )
    assert r.status_code == 200, r.text
    group = r.json()["data"]
    promotion_ids = []
    for pin in pins:
        r = await client.post(
            "/ads/v3/pin_promotions/",
            data={
                "ad_group_id": group["id"],
                "pin_id": str(pin.id),
                "destination_url": "https://shop.example.com/p",
            },
            headers=acc.headers,
        )
        assert r.status_code == 200, r.text
        promotion_ids.append(r.json()["data"]["id"])
    assert await _drain(runtime) == 2  # the reviewer approves both
    summary = await simulate(
        runtime.sessions,
        clock=clock,
        simulator=Simulator(seed=7, population=20_000),
        start=WEEK_FROM,
        end=WEEK_TO,
    )
    assert summary.hours == 7 * 24
    clock.set(START)
    return Delivered(acc, campaign["id"], group["id"], promotion_ids)


async def test_scenario_json_and_csv_reports_match_the_core_and_the_sync_metrics(
    client: httpx.AsyncClient, runtime: Runtime, delivered: Delivered
) -> None:
    acc = delivered.acc
    # JSON, parameters in the query string (as the v3 quickstart sends them).
    json_token = await _request(
        client, acc, params={**REPORT, "level": "AD_GROUP", "report_format": "json", "tag_version": "3"}
    )
    # CSV, parameters as a form body, with entity fields of the level and its parents.
    csv_token = await _request(
        client,
        acc,
        data={
            **REPORT,
            "level": "PIN_PROMOTION",
            "report_format": "csv",
            "entity_fields": "CAMPAIGN_ID,CAMPAIGN_NAME,AD_GROUP_ID,PIN_PROMOTION_STATUS",
            "click_window_days": "60",
            "attribution_types": "INDIVIDUAL",
        },
    )
    for token in (json_token, csv_token):  # nothing runs in the request
        r = await _poll(client, acc, token)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["endpoint_name"] == "ads_v3_get_advertiser_delivery_metrics_report_handler"
        assert body["data"] == {"report_status": "IN_PROGRESS"}
        assert r.headers["x-userendpoint-ratelimit-limit"] == str(
            runtime.settings.limit_ads_metrics_per_minute
        )

    assert await _drain(runtime) == 2
    json_url = await _finished_url(client, acc, json_token)
    csv_url = await _finished_url(client, acc, csv_token)
    assert json_url.startswith("http://testserver/reports/files/async/")
    assert json_url.split("?")[0].endswith("/metrics_report.json")
    assert csv_url.split("?")[0].endswith("/metrics_report.csv")

    # Downloads need no token.
    got_json = await client.get(json_url)
    assert got_json.status_code == 200, got_json.text
    assert got_json.headers["content-type"] == "application/json"
    report = got_json.json()
    got_csv = await client.get(csv_url)
    assert got_csv.status_code == 200, got_csv.text
    assert got_csv.headers["content-type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(got_csv.text)))

    # JSON: keyed by the ad group, a row per delivered day, the same rows as the sync endpoint.
    delivery_group = delivered.ad_group_id
    assert list(report) == [delivery_group]
    rows = report[delivery_group]
    assert [r["DATE"] for r in rows] == [
        (date(2026, 10, 25) + timedelta(days=i)).isoformat() for i in range(7)
    ]
    assert all(r["IMPRESSION_1"] > 0 and r["SPEND_IN_MICRO_DOLLAR"] > 0 for r in rows)
    sync = await client.get(
        f"/ads/v3/ad_groups/{delivery_group}/delivery_metrics/", params=REPORT, headers=acc.headers
    )
    assert sync.status_code == 200, sync.text
    assert sync.json()["data"] == rows

    # CSV: header, then one line per promotion and day, equal to the core's rows.
    assert lines[0] == [
        "PIN_PROMOTION_ID",
        "DATE",
        "PIN_PROMOTION_CAMPAIGN_ID",
        "PIN_PROMOTION_CAMPAIGN_NAME",
        "PIN_PROMOTION_AD_GROUP_ID",
        "PIN_PROMOTION_STATUS",
        *METRICS.split(","),
    ]
    async with runtime.sessions() as s:
        query = parse_query(
            {**REPORT, "click_window_days": "60"},
            advertiser=acc.advertiser,
            now=START,
            level="PIN_PROMOTION",
        )
        core_rows = await run(s, query, now=START)
    assert len(lines) - 1 == len(core_rows) > 7
    for line, row in zip(lines[1:], core_rows, strict=True):
        assert line[:6] == [
            str(row.entity_id),
            row.date.isoformat() if row.date else "",
            delivered.campaign_id,
            "C",
            delivered.ad_group_id,
            "APPROVED",
        ]
        assert [float(v) for v in line[6:]] == pytest.approx(
            [float(row.values[m]) for m in METRICS.split(",")]
        )
    assert {line[0] for line in lines[1:]} == set(delivered.promotion_ids)
    # The promotions' daily impressions add up to the ad group's, as the sync endpoint says.
    for day in rows:
        per_promo = [int(line[6]) for line in lines[1:] if line[1] == day["DATE"]]
        assert sum(per_promo) == day["IMPRESSION_1"]
    for promo in delivered.promotion_ids:
        sync = await client.get(
            f"/ads/v3/pin_promotions/{promo}/delivery_metrics/", params=REPORT, headers=acc.headers
        )
        assert sync.status_code == 200, sync.text
        mine = [line for line in lines[1:] if line[0] == promo]
        assert [(r["DATE"], r["IMPRESSION_1"], r["SPEND_IN_MICRO_DOLLAR"]) for r in sync.json()["data"]] == [
            (line[1], int(line[6]), int(line[8])) for line in mine
        ]

    # Stored: finished, with the file's row count; the stored parameters hold no credential.
    async with runtime.sessions() as s:
        stored = {r.token: r for r in (await s.scalars(select(AsyncReport))).all()}
    assert stored[json_token].status == stored[csv_token].status == "FINISHED"
    assert stored[json_token].row_count == 7 and stored[csv_token].row_count == len(core_rows)
    assert "access_token" not in stored[json_token].params


async def test_json_body_and_a_poll_again_gives_a_fresh_hour(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    acc = await account(factory)
    token = await _request(client, acc, json={**REPORT, "level": "ADVERTISER", "metrics": ["IMPRESSION_1"]})
    await _drain(runtime)
    url = await _finished_url(client, acc, token)
    got = await client.get(url)
    assert got.status_code == 200 and got.json() == {}  # no delivery: an empty report
    clock.advance(timedelta(hours=1))
    expired = await client.get(url)
    assert expired.status_code == 403
    assert expired.json()["code"] == 7 and "expired" in expired.json()["message"]
    fresh = await _finished_url(client, acc, token)
    assert fresh != url and (await client.get(fresh)).status_code == 200


async def test_forged_links_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory
) -> None:
    acc = await account(factory)
    token = await _request(client, acc, params={**REPORT, "level": "CAMPAIGN", "report_format": "csv"})
    await _drain(runtime)
    url = await _finished_url(client, acc, token)
    assert (
        await client.get(url)
    ).text == "CAMPAIGN_ID,DATE,IMPRESSION_1,CLICKTHROUGH_1,SPEND_IN_MICRO_DOLLAR,CTR\n"
    path, _, query = url.partition("?")
    for bad in (
        path,  # no signature
        url.replace("signature=", "signature=0"),
        url.replace("metrics_report.csv", "metrics_report.json"),
        f"{path}?{query.replace('expires=', 'expires=9')}",
    ):
        r = await client.get(bad)
        assert r.status_code == 403, bad
        assert r.json()["code"] == 7 and r.json()["message"] == "This download link is not valid."
    # A signed link to a file that is gone answers 404.
    gone = exports.download_url(
        runtime, "http://testserver", "async/1/metrics_report.csv", expires_at=START + timedelta(hours=1)
    )
    r = await client.get(gone)
    assert r.status_code == 404 and r.json()["code"] == 11


async def test_bad_input_answers_the_field_and_stores_nothing(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory
) -> None:
    acc = await account(factory)
    cases: list[tuple[dict[str, Any], int, int, str]] = [
        ({k: v for k, v in REPORT.items()}, 400, 1, "level"),
        ({**REPORT, "level": "PRODUCT_GROUP"}, 400, 1, "level"),
        ({**REPORT, "level": "KEYWORD"}, 400, 1, "level"),
        ({**REPORT, "level": "AD_GROUP", "start_date": "2026-10-32"}, 400, 1, "start_date"),
        ({**REPORT, "level": "AD_GROUP", "granularity": "YEAR"}, 400, 1, "granularity"),
        ({**REPORT, "level": "AD_GROUP", "metrics": "IMPRESSION_1,NOPE"}, 400, 1, "metrics"),
        ({**REPORT, "level": "AD_GROUP", "report_format": "xlsx"}, 400, 1, "report_format"),
        ({**REPORT, "level": "AD_GROUP", "tag_version": "1"}, 400, 1, "tag_version"),
        ({**REPORT, "level": "AD_GROUP", "click_window_days": "3"}, 400, 1, "click_window_days"),
        ({**REPORT, "level": "AD_GROUP", "entity_fields": "PIN_PROMOTION_NAME"}, 400, 1, "entity_fields"),
        (
            {**REPORT, "level": "AD_GROUP", "filters": '[{"field":"X","operator":"=","value":1}]'},
            400,
            1,
            "filters",
        ),
        ({**REPORT, "level": "AD_GROUP", "start_date": "2026-09-01"}, 413, 1124, ""),
    ]
    for values, status, code, field in cases:
        r = await client.post(_path(acc), params=values, headers=acc.headers)
        body = failure(r, status, code, field or None)
        if field:
            assert f"'{field}'" in body["message"], body
        else:
            assert "within 30 days" in body["message"], body
    r = await client.post("/ads/v3/reports/async/abc/delivery_metrics/", params=REPORT, headers=acc.headers)
    failure(r, 400, 1, "advertiser")
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AsyncReport)) == 0
        assert (
            await s.scalar(select(func.count()).select_from(Job).where(Job.kind == reports.REPORT_KIND)) == 0
        )


async def test_tokens_answer_1104_unless_the_callers_own_and_fresh(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    acc = await account(factory)
    token = await _request(client, acc, params={**REPORT, "level": "CAMPAIGN"})
    failure(await client.get(_path(acc), headers=acc.headers), 400, 1, "token")
    failure(await _poll(client, acc, "not-a-token"), 400, 1104)
    # The same user's other advertiser, and another user sharing this advertiser.
    other_adv = await factory.advertiser(acc.user, "Second")
    r = await client.get(
        f"/ads/v3/reports/async/{other_adv.id}/delivery_metrics/",
        params={"token": token},
        headers=acc.headers,
    )
    body = failure(r, 400, 1104)
    assert body["message"] == "The token you provided is not valid or has expired."
    analyst = await account(factory, name="Analyst Co")
    await factory.share(acc.advertiser, analyst.user, "ANALYST")
    failure(await _poll(client, Account(analyst.user, acc.advertiser, analyst.token), token), 400, 1104)
    # The token outlives the report's first hour but not its week.
    await _drain(runtime)
    clock.advance(reports.TOKEN_TTL - timedelta(seconds=1))
    assert (await _poll(client, acc, token)).json()["data"]["report_status"] == "FINISHED"
    clock.advance(timedelta(seconds=1))
    failure(await _poll(client, acc, token), 400, 1104)
    # The next request clears the expired report and its file away.
    async with runtime.sessions() as s:
        key = (await s.scalars(select(AsyncReport.file_key))).one()
    assert key is not None
    path = exports.report_path(runtime.settings.data_dir, key)
    assert path.is_file()
    await _request(client, acc, params={**REPORT, "level": "CAMPAIGN"})
    assert not path.exists()
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AsyncReport)) == 1


async def test_forbidden_without_the_scope_or_the_analytics_action(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory
) -> None:
    owner = await account(factory)
    token = await _request(client, owner, params={**REPORT, "level": "CAMPAIGN"})
    no_scope = Account(owner.user, owner.advertiser, await factory.token(owner.user, "read_campaigns"))
    r = await client.post(_path(no_scope), params={**REPORT, "level": "CAMPAIGN"}, headers=no_scope.headers)
    failure(r, 401, 3)
    failure(await _poll(client, no_scope, token), 401, 3)
    # AUDIENCE_MANAGER has no AD_ANALYTICS_READ; a stranger has no role at all.
    for role in ("AUDIENCE_MANAGER", None):
        other = await account(factory, name=f"Other {role}")
        if role:
            await factory.share(owner.advertiser, other.user, role)
        caller = Account(other.user, owner.advertiser, other.token)
        r = await client.post(_path(caller), params={**REPORT, "level": "CAMPAIGN"}, headers=caller.headers)
        body = failure(r, 403, 1902)
        if role:
            assert "AD_ANALYTICS_READ" in body["message"]
        failure(await _poll(client, caller, token), 403, 1902)
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AsyncReport)) == 1


async def test_a_failing_job_answers_1120_once_its_attempts_are_spent(
    client: httpx.AsyncClient,
    runtime: Runtime,
    factory: Factory,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acc = await account(factory)
    token = await _request(client, acc, params={**REPORT, "level": "CAMPAIGN"})

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_export", broken)
    for _ in range(reports.MAX_ATTEMPTS - 1):
        assert await _drain(runtime) == 1
        assert (await _poll(client, acc, token)).json()["data"] == {"report_status": "IN_PROGRESS"}
        clock.advance(timedelta(minutes=10))  # past the retry back-off
    assert await _drain(runtime) == 1
    body = failure(await _poll(client, acc, token), 500, 1120)
    assert body["message"] == "Reporting job failure."


async def test_a_report_with_too_many_rows_answers_1124(
    client: httpx.AsyncClient, runtime: Runtime, delivered: Delivered, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "MAX_ROWS", 3)
    acc = delivered.acc
    token = await _request(client, acc, params={**REPORT, "level": "PIN_PROMOTION"})
    await _drain(runtime)
    body = failure(await _poll(client, acc, token), 413, 1124)
    assert "more than 3 rows" in body["message"]
    async with runtime.sessions() as s:
        stored = (await s.scalars(select(AsyncReport))).one()
    assert (stored.status, stored.error_code, stored.file_key) == ("FAILED", 1124, None)
