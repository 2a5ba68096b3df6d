"""Synchronous delivery metrics of advertisers, campaigns, ad groups and pin promotions (and
the targeting breakdowns), checked against the engine's fact rows, with their parameters,
scopes and roles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

import httpx
import pytest

from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from tests.api.v3.ads.builders import AdsBuilder
from tests.api.v3.ads.helpers import Account, account, failure, make_ad_group, make_campaign
from tests.api.v4.delivered import (
    COUNTS,
    FIRST,
    LAST,
    METRICS,
    RANGE,
    SCOPES,
    Delivered,
    by_day,
    deliver,
    expected,
    local_hour,
    with_ctr,
)
from tests.factories import Factory, bearer


@pytest.fixture
async def d(runtime: Runtime, factory: Factory) -> Delivered:
    return await deliver(runtime, factory)


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["code"] == 0 and "bookmark" not in body
    rows: list[dict[str, Any]] = body["data"]
    return rows


# ---- numbers --------------------------------------------------------------------------------


async def test_ad_group_by_day_is_the_sum_of_its_fact_rows(client: httpx.AsyncClient, d: Delivered) -> None:
    group = d.world.groups["main"]
    r = await client.get(
        f"/ads/v3/ad_groups/{group}/delivery_metrics/?{RANGE}&granularity=DAY&metrics={METRICS},CTR",
        headers=d.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_ad_group_delivery_metrics_handler"
    rows = r.json()["data"]
    facts = [f for f in d.hours if f.ad_group_id == group]
    want = with_ctr(expected(facts, id_field="AD_GROUP_ID", entity=lambda f: f.ad_group_id, bucket=by_day))
    assert [r["DATE"] for r in want] == ["2026-10-29", "2026-10-30", "2026-10-31"]
    assert rows == [{**w, "CTR": pytest.approx(w["CTR"])} for w in want]
    # keys in the documented order: id, bucket, then the metrics as asked
    assert list(rows[0]) == ["AD_GROUP_ID", "DATE", *COUNTS, "CTR"]
    # one pinner per household: both attribution types give the same rows
    for kind in ("INDIVIDUAL", "household", "INDIVIDUAL,HOUSEHOLD"):
        again = await client.get(
            f"/ads/v3/ad_groups/{group}/delivery_metrics/?{RANGE}&granularity=DAY&metrics={METRICS},CTR"
            f"&attribution_types={kind}",
            headers=d.headers,
        )
        assert again.status_code == 200 and again.json()["data"] == rows


async def test_total_of_each_level_adds_up_and_day_rows_sum_to_it(
    client: httpx.AsyncClient, d: Delivered
) -> None:
    adv = d.advertiser_id
    promotion = d.world.delivering["cpc"]
    campaign = next(f.campaign_id for f in d.hours if f.pin_promotion_id == promotion)
    group = d.world.groups["later"]
    cases = [
        (f"/ads/v3/advertisers/{adv}/delivery_metrics/", "ADVERTISER_ID", attrgetter("advertiser_id")),
        (f"/ads/v3/campaigns/{campaign}/delivery_metrics/", "CAMPAIGN_ID", attrgetter("campaign_id")),
        (f"/ads/v3/ad_groups/{group}/delivery_metrics/", "AD_GROUP_ID", attrgetter("ad_group_id")),
        (
            f"/ads/v3/pin_promotions/{promotion}/delivery_metrics/",
            "PIN_PROMOTION_ID",
            attrgetter("pin_promotion_id"),
        ),
    ]
    for path, id_field, entity in cases:
        mine = [f for f in d.hours if str(entity(f)) == path.split("/")[4]]
        assert mine, path
        total = await _get(client, f"{path}?{RANGE}&metrics={METRICS}", d.headers)
        assert total == expected(mine, id_field=id_field, entity=entity), path
        # ``columns`` is the v4-era alias of ``metrics``; DAY rows sum to the TOTAL row
        days = await _get(client, f"{path}?{RANGE}&columns={METRICS}&granularity=DAY", d.headers)
        assert days == expected(mine, id_field=id_field, entity=entity, bucket=by_day), path
        for name in COUNTS:
            assert sum(row[name] for row in days) == total[0][name]


async def test_hour_rows_are_local_hours_of_one_day(client: httpx.AsyncClient, d: Delivered) -> None:
    group = d.world.groups["main"]
    day = date(2026, 10, 30)
    rows = await _get(
        client,
        f"/ads/v3/ad_groups/{group}/delivery_metrics/?start_date={day}&end_date={day}"
        f"&granularity=HOUR&metrics={METRICS}",
        d.headers,
    )
    facts = [f for f in d.hours if f.ad_group_id == group and f.local_date == day]
    want = expected(
        facts,
        id_field="AD_GROUP_ID",
        entity=lambda f: f.ad_group_id,
        bucket=lambda f: {"DATE": f.local_date.isoformat(), "HOUR": local_hour(f)},
    )
    assert len(want) == 24
    assert rows == want


async def test_week_and_month_buckets_start_on_monday_and_the_first(
    client: httpx.AsyncClient, d: Delivered
) -> None:
    adv = d.advertiser_id
    mine = [f for f in d.hours if f.advertiser_id == adv]
    for granularity, start in (("WEEK", "2026-10-26"), ("MONTH", "2026-10-01")):
        rows = await _get(
            client,
            f"/ads/v3/advertisers/{adv}/delivery_metrics/?{RANGE}&granularity={granularity}&metrics={METRICS}",
            d.headers,
        )
        want = expected(mine, id_field="ADVERTISER_ID", entity=lambda f: f.advertiser_id)
        assert rows == [{"ADVERTISER_ID": str(adv), "DATE": start, **{k: want[0][k] for k in COUNTS}}]


async def test_targeting_rows_are_the_dimension_facts(client: httpx.AsyncClient, d: Delivered) -> None:
    group = d.world.groups["main"]
    r = await client.get(
        f"/ads/v3/ad_groups/{group}/targeting_delivery_metrics/?{RANGE}&metrics={METRICS}"
        "&targeting_types=COUNTRY,GENDER",
        headers=d.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_ad_group_per_targeting_delivery_metrics_handler"
    facts = [f for f in d.dims if f.ad_group_id == group and f.dimension_type in ("COUNTRY", "GENDER")]
    want = expected(
        facts,
        id_field="AD_GROUP_ID",
        entity=lambda f: f.ad_group_id,
        bucket=lambda f: {"TARGETING_TYPE": f.dimension_type, "TARGETING_VALUE": f.dimension_value},
    )
    assert {w["TARGETING_TYPE"] for w in want} == {"COUNTRY", "GENDER"}
    assert r.json()["data"] == want
    # each type's rows sum to the ad group's total
    total = await _get(
        client, f"/ads/v3/ad_groups/{group}/delivery_metrics/?{RANGE}&metrics={METRICS}", d.headers
    )
    for kind in ("COUNTRY", "GENDER"):
        assert sum(w["IMPRESSION_1"] for w in want if w["TARGETING_TYPE"] == kind) == total[0]["IMPRESSION_1"]


async def test_pin_promotion_targeting_by_day_with_the_singular_alias(
    client: httpx.AsyncClient, d: Delivered
) -> None:
    promotion = d.world.delivering["main"]
    r = await client.get(
        f"/ads/v3/pin_promotions/{promotion}/targeting_delivery_metrics/?{RANGE}&metrics={METRICS}"
        "&granularity=DAY&targeting_type=AGE_BUCKET",
        headers=d.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_pin_promotion_per_targeting_delivery_metrics_handler"
    facts = [f for f in d.dims if f.pin_promotion_id == promotion and f.dimension_type == "AGE_BUCKET"]
    want = expected(
        facts,
        id_field="PIN_PROMOTION_ID",
        entity=lambda f: f.pin_promotion_id,
        bucket=lambda f: {
            "DATE": f.local_date.isoformat(),
            "TARGETING_TYPE": f.dimension_type,
            "TARGETING_VALUE": f.dimension_value,
        },
    )
    assert len({w["TARGETING_VALUE"] for w in want}) > 1
    assert r.json()["data"] == want


async def test_offline_shows_closed_days_and_realtime_the_hours_three_hours_old(
    client: httpx.AsyncClient, d: Delivered, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 10, 31, 12, tzinfo=UTC))  # 08:00 in New York: Oct 30 is closed
    group = d.world.groups["main"]
    path = f"/ads/v3/ad_groups/{group}/delivery_metrics/?{RANGE}&granularity=DAY&metrics={METRICS}"
    mine = [f for f in d.hours if f.ad_group_id == group]
    closed = [f for f in mine if f.local_date <= date(2026, 10, 30)]
    want = expected(closed, id_field="AD_GROUP_ID", entity=attrgetter("ad_group_id"), bucket=by_day)
    assert await _get(client, path, d.headers) == want
    cutoff = datetime(2026, 10, 31, 9, tzinfo=UTC)
    seen = [f for f in mine if (f.hour if f.hour.tzinfo else f.hour.replace(tzinfo=UTC)) < cutoff]
    want = expected(seen, id_field="AD_GROUP_ID", entity=attrgetter("ad_group_id"), bucket=by_day)
    assert want[-1]["DATE"] == "2026-10-31"
    assert await _get(client, f"{path}&data_source=REALTIME", d.headers) == want


async def test_no_delivery_answers_an_empty_list(client: httpx.AsyncClient, d: Delivered) -> None:
    silent = d.world.silent["paused"]
    assert await _get(client, f"/ads/v3/pin_promotions/{silent}/delivery_metrics/?{RANGE}", d.headers) == []
    group = d.world.groups["main"]
    before = "start_date=2026-09-01&end_date=2026-09-30&granularity=DAY"
    assert await _get(client, f"/ads/v3/ad_groups/{group}/delivery_metrics/?{before}", d.headers) == []


async def test_parameters_may_come_as_a_json_array_or_repeated_keys(
    client: httpx.AsyncClient, d: Delivered
) -> None:
    group = d.world.groups["main"]
    base = f"/ads/v3/ad_groups/{group}/delivery_metrics/?{RANGE}"
    plain = await _get(client, f"{base}&metrics={METRICS}", d.headers)
    repeated = "&".join(f"metrics={m}" for m in COUNTS)
    assert await _get(client, f"{base}&{repeated}", d.headers) == plain
    as_json = '["' + '","'.join(COUNTS) + '"]'
    assert await _get(client, f"{base}&metrics={as_json}", d.headers) == plain
    assert await _get(client, f"{base}&metrics={METRICS.lower()}", d.headers) == plain
    individual = f"{base}&metrics={METRICS}&attribution_types=INDIVIDUAL"
    assert await _get(client, individual, d.headers) == plain


# ---- bad input --------------------------------------------------------------------------------


@pytest.fixture
async def tree(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> tuple[Account, dict[str, str]]:
    """An advertiser with a campaign, ad group and pin promotion (no delivery yet)."""
    owner = await account(factory, SCOPES + ",write_campaigns,write_pin_promotions")
    camp = await make_campaign(client, owner)
    group = await make_ad_group(client, owner, camp["id"])
    ads = AdsBuilder(runtime)
    pin = await ads.pin(owner.user, await ads.board(owner.user))
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={
            "ad_group_id": group["id"],
            "pin_id": str(pin.id),
            "destination_url": "https://shop.example.com/",
        },
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    ids = {"adv": str(owner.advertiser.id), "c": camp["id"], "g": group["id"], "pp": r.json()["data"]["id"]}
    return owner, ids


V3_PATHS = {
    "ads_v3_advertiser_delivery_metrics_handler": "/ads/v3/advertisers/{adv}/delivery_metrics/",
    "ads_v3_campaign_delivery_metrics_handler": "/ads/v3/campaigns/{c}/delivery_metrics/",
    "ads_v3_ad_group_delivery_metrics_handler": "/ads/v3/ad_groups/{g}/delivery_metrics/",
    "ads_v3_ad_group_per_targeting_delivery_metrics_handler": (
        "/ads/v3/ad_groups/{g}/targeting_delivery_metrics/"
    ),
    "ads_v3_pin_promotion_delivery_metrics_handler": "/ads/v3/pin_promotions/{pp}/delivery_metrics/",
    "ads_v3_pin_promotion_per_targeting_delivery_metrics_handler": (
        "/ads/v3/pin_promotions/{pp}/targeting_delivery_metrics/"
    ),
}


def _path(template: str, ids: dict[str, str]) -> str:
    for k, v in ids.items():
        template = template.replace("{" + k + "}", v)
    return template


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (f"end_date={LAST}", "start_date"),
        (f"start_date={FIRST}", "end_date"),
        (f"start_date=2026-13-01&end_date={LAST}", "start_date"),
        (f"start_date={LAST}&end_date={FIRST}", "end_date"),
        ("start_date=2026-07-01&end_date=2026-10-30", "end_date"),
        (f"{RANGE}&granularity=YEAR", "granularity"),
        (f"{RANGE}&metrics=IMPRESSION_1,NOT_A_METRIC", "metrics"),
        (f"{RANGE}&columns=NOT_A_METRIC", "columns"),
        (f"{RANGE}&click_window_days=5", "click_window_days"),
        (f"{RANGE}&engagement_window_days=x", "engagement_window_days"),
        (f"{RANGE}&view_window_days=90", "view_window_days"),
        (f"{RANGE}&conversion_report_time=LATER", "conversion_report_time"),
        (f"{RANGE}&data_source=SOMETIMES", "data_source"),
        ("start_date=2026-10-01&end_date=2026-10-02&granularity=HOUR", "start_date"),
        (f"start_date={LAST}&end_date={LAST}&granularity=HOUR&metrics=TOTAL_CONVERSIONS", "metrics"),
        (f"{RANGE}&attribution_types=NEIGHBOURHOOD", "attribution_types"),
        (f"{RANGE}&metrics=[IMPRESSION_1", "metrics"),
    ],
)
async def test_bad_parameters_are_refused_naming_the_field(
    client: httpx.AsyncClient, tree: tuple[Account, dict[str, str]], query: str, param: str
) -> None:
    owner, ids = tree
    for template in V3_PATHS.values():
        r = await client.get(f"{_path(template, ids)}?{query}", headers=owner.headers)
        body = failure(r, 400, 1, param)
        assert param in body["message"], body


async def test_bad_targeting_type_and_bad_ids(
    client: httpx.AsyncClient, tree: tuple[Account, dict[str, str]]
) -> None:
    owner, ids = tree
    for level in ("ad_groups/{g}", "pin_promotions/{pp}"):
        path = _path(f"/ads/v3/{level}/targeting_delivery_metrics/", ids)
        failure(await client.get(f"{path}?{RANGE}&targeting_types=SHOE_SIZE", headers=owner.headers), 400, 1,
                "targeting_types")  # fmt: skip
    for level, name in (
        ("advertisers", "advertiser"),
        ("campaigns", "campaign"),
        ("ad_groups", "ad_group"),
        ("pin_promotions", "pin_promotion"),
    ):
        r = await client.get(f"/ads/v3/{level}/12x/delivery_metrics/?{RANGE}", headers=owner.headers)
        failure(r, 400, 1, name)


# ---- access -----------------------------------------------------------------------------------

ROLES_THAT_READ = ("OWNER", "ADMIN", "ANALYST", "CAMPAIGN_MANAGER")
ROLES_REFUSED = ("FINANCE_MANAGER", "AUDIENCE_MANAGER", "CATALOGS_MANAGER")
HIDDEN = {"adv": (403, 1902), "c": (404, 3001), "g": (404, 3002), "pp": (404, 3003)}


@pytest.mark.parametrize("role", [*ROLES_THAT_READ, *ROLES_REFUSED, None])
async def test_roles_need_ad_analytics_read(
    client: httpx.AsyncClient, factory: Factory, tree: tuple[Account, dict[str, str]], role: str | None
) -> None:
    owner, ids = tree
    if role == "OWNER":
        headers = owner.headers
    else:
        member = await factory.user()
        if role is not None:
            await factory.share(owner.advertiser, member, role)
        headers = bearer(await factory.token(member, SCOPES))
    for template in V3_PATHS.values():
        r = await client.get(f"{_path(template, ids)}?{RANGE}", headers=headers)
        if role in ROLES_THAT_READ:
            assert r.status_code == 200 and r.json()["data"] == [], r.text
        elif role is None:
            status, code = HIDDEN[template.split("{")[1].split("}")[0]]
            failure(r, status, code)
        else:
            body = failure(r, 403, 1902)
            assert "AD_ANALYTICS_READ" in body["message"]


@pytest.mark.parametrize(
    ("template", "scope"),
    [
        ("/ads/v3/advertisers/{adv}/delivery_metrics/", "read_advertisers"),
        ("/ads/v3/campaigns/{c}/delivery_metrics/", "read_campaigns"),
        ("/ads/v3/ad_groups/{g}/delivery_metrics/", "read_campaigns"),
        ("/ads/v3/ad_groups/{g}/targeting_delivery_metrics/", "read_campaigns"),
        ("/ads/v3/pin_promotions/{pp}/delivery_metrics/", "read_pin_promotions"),
        ("/ads/v3/pin_promotions/{pp}/targeting_delivery_metrics/", "read_pin_promotions"),
    ],
)
async def test_each_level_needs_its_read_scope(
    client: httpx.AsyncClient,
    factory: Factory,
    tree: tuple[Account, dict[str, str]],
    template: str,
    scope: str,
) -> None:
    owner, ids = tree
    others = ",".join(s for s in SCOPES.split(",") if s != scope)
    lacking = bearer(await factory.token(owner.user, others))
    body = failure(await client.get(f"{_path(template, ids)}?{RANGE}", headers=lacking), 401, 3)
    assert scope in body["message"]
    only = bearer(await factory.token(owner.user, scope))
    r = await client.get(f"{_path(template, ids)}?{RANGE}", headers=only)
    assert r.status_code == 200, r.text
    # the METRICS rate-limit category (1,000 a minute), not READ (500 a second)
    assert r.headers["x-userendpoint-ratelimit-limit"] == "1000"


async def test_unknown_objects_are_not_found(
    client: httpx.AsyncClient, tree: tuple[Account, dict[str, str]]
) -> None:
    owner, _ = tree
    missing = {"adv": "1", "c": "1", "g": "1", "pp": "1"}
    for template in V3_PATHS.values():
        status, code = HIDDEN[template.split("{")[1].split("}")[0]]
        failure(await client.get(f"{_path(template, missing)}?{RANGE}", headers=owner.headers), status, code)
