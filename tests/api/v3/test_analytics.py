"""Organic analytics through the API: user metrics, top pins, top video pins.

The fact rows are written straight to the store (one small world, numbers chosen by hand),
so every expected value below is an exact sum of those rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from pinapi.runtime import Runtime
from pinapi.store.tables import (
    AggregatedPinData,
    DeliveryHour,
    EngineCheckpoint,
    OrganicPinHour,
    Pin,
    PinPromotion,
    User,
)
from tests.api.v3.ads.builders import AdsBuilder
from tests.factories import Factory, bearer

METRICS = "/v3/partners/analytics/users/{}/metrics/"
TOP = "/v3/partners/analytics/users/{}/pins/top/"
TOP_VIDEO = "/v3/partners/analytics/users/{}/pins/top/video/"
RANGE = {"start_date": "2026-10-31", "end_date": "2026-11-02"}
SCOPES = "read_users,read_pins"


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class AnalyticsWorld:
    owner: User
    token: str
    pins: dict[str, int]


async def _pin(ads: AdsBuilder, owner: User, board: Any, runtime: Runtime, **fields: Any) -> Pin:
    pin = await ads.pin(owner, board, **fields)
    if not fields.get("is_repin"):
        async with runtime.sessions() as s, s.begin():
            agg = AggregatedPinData(root_pin_id=pin.id, created_at=runtime.clock.now())
            s.add(agg)
            await s.flush()
            stored = await s.get(Pin, pin.id)
            assert stored is not None
            stored.aggregated_pin_data_id = agg.id
            pin.aggregated_pin_data_id = agg.id
    return pin


async def build(runtime: Runtime, factory: Factory, scopes: str = SCOPES) -> AnalyticsWorld:
    """A business pinner with a standard pin A, a video pin V (promoted), a repin R of
    someone else's pin, a pin S on a secret board, and a fan's save F of A."""
    ads = AdsBuilder(runtime)
    owner = await factory.user("maker", business=True)
    fan = await factory.user("fan")
    stranger = await factory.user("stranger")
    board = await ads.board(owner, "Main")
    secret = await ads.board(owner, "Hidden", privacy="secret")
    fan_board = await ads.board(fan, "Fan board")
    other_board = await ads.board(stranger, "Elsewhere")
    a = await _pin(ads, owner, board, runtime, title="A")
    v = await _pin(ads, owner, board, runtime, title="V", is_video=True)
    theirs = await _pin(ads, stranger, other_board, runtime, title="Theirs")
    r = await ads.pin(
        owner,
        board,
        title="R",
        is_repin=True,
        root_pin_id=theirs.id,
        aggregated_pin_data_id=theirs.aggregated_pin_data_id,
    )
    s_pin = await _pin(ads, owner, secret, runtime, title="S")
    f = await ads.pin(
        fan,
        fan_board,
        title="F",
        is_repin=True,
        root_pin_id=a.id,
        aggregated_pin_data_id=a.aggregated_pin_data_id,
    )
    advertiser = await factory.advertiser(owner)
    campaign = await ads.campaign(advertiser)
    group = await ads.ad_group(campaign)
    now = runtime.clock.now()
    organic = [
        (a.id, at(31, 10, 10), 100, 10, 5, 4, 3),
        (a.id, at(1, 9), 50, 2, 1, 1, 1),
        (v.id, at(1, 9), 40, 4, 2, 2, 2),
        (r.id, at(1, 10), 20, 1, 1, 1, 0),
        (s_pin.id, at(1, 11), 10, 1, 0, 0, 0),
        (f.id, at(1, 12), 30, 3, 1, 1, 1),
        (a.id, at(2, 8), 7, 1, 0, 0, 0),
        (theirs.id, at(1, 9), 999, 99, 99, 99, 99),  # not the owner's content: never counted
        (a.id, at(30, 23, 10), 5000, 0, 0, 0, 0),  # before the range
    ]
    async with runtime.sessions() as s, s.begin():
        promotion = PinPromotion(
            advertiser_id=advertiser.id,
            campaign_id=campaign.id,
            ad_group_id=group.id,
            pin_id=v.id,
            created_at=now,
            updated_at=now,
        )
        s.add(promotion)
        await s.flush()
        for pin_id, hour, imp, close, save, click, out in organic:
            s.add(
                OrganicPinHour(
                    pin_id=pin_id,
                    hour=hour,
                    impression=imp,
                    closeup=close,
                    save=save,
                    clickthrough=click,
                    outbound_click=out,
                )
            )
        s.add(
            DeliveryHour(
                pin_promotion_id=promotion.id,
                hour=at(1, 9),
                ad_group_id=group.id,
                campaign_id=campaign.id,
                advertiser_id=advertiser.id,
                local_date=date(2026, 11, 1),
                impression_1=200,
                closeup_1=20,
                save_1=10,
                clickthrough_1=8,
                outbound_click_1=6,
                video_start_1=50,
                video_10s_view_1=20,
                video_mrc_views_1=30,
                video_p95_combined_1=5,
                video_watch_time_ms_1=100_000,
                video_sum_v50_watchtime_in_millisecond_1=80_000,
                impression_2=16,
                closeup_2=2,
                save_2=1,
                clickthrough_2=1,
                outbound_click_2=1,
            )
        )
        s.add(EngineCheckpoint(hour=at(2, 6), seed=1, population=1, state=b"", created_at=now))
    token = await factory.token(owner, scopes)
    pins = {"A": a.id, "V": v.id, "R": r.id, "S": s_pin.id, "F": f.id}
    return AnalyticsWorld(owner, token, pins)


async def get(client: httpx.AsyncClient, path: str, token: str, **params: Any) -> httpx.Response:
    return await client.get(path, params=params, headers=bearer(token))


async def summary(client: httpx.AsyncClient, w: AnalyticsWorld, **params: Any) -> dict[str, Any]:
    r = await get(client, METRICS.format("me"), w.token, **{**RANGE, **params})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()["data"]["all"]["summary_metrics"]
    return out


async def test_user_metrics_sum_the_facts_per_utc_day(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    w = await build(runtime, factory)
    r = await get(client, METRICS.format("me"), w.token, **RANGE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_analytics_partner_metrics"
    data = body["data"]["all"]
    assert data["summary_metrics"] == {
        "IMPRESSION": 473,
        "SAVE": 21,
        "SAVE_RATE": 21 / 473,
        "CLOSEUP": 44,
        "CLOSEUP_RATE": 44 / 473,
        "CLICKTHROUGH": 18,
        "CLICKTHROUGH_RATE": 18 / 473,
        "ENGAGEMENT": 83,
        "ENGAGEMENT_RATE": 83 / 473,
    }
    days = data["daily_metrics"]
    assert [(d["date"], d["data_status"]) for d in days] == [
        ("2026-10-31", "READY"),
        ("2026-11-01", "READY"),
        ("2026-11-02", "PROCESSING"),
    ]
    assert days[0]["metrics"]["IMPRESSION"] == 100 and days[0]["metrics"]["SAVE_RATE"] == 0.05
    assert days[1]["metrics"]["IMPRESSION"] == 366 and days[1]["metrics"]["CLICKTHROUGH"] == 14
    assert days[2]["metrics"] == {**dict.fromkeys(data["summary_metrics"], 0), "IMPRESSION": 7, "CLOSEUP": 1,
                                  "CLOSEUP_RATE": 1 / 7, "ENGAGEMENT": 1, "ENGAGEMENT_RATE": 1 / 7,
                                  "SAVE_RATE": 0.0, "CLICKTHROUGH_RATE": 0.0}  # fmt: skip
    # The summary is the sum of the days, and its rates come from the summed counts.
    assert sum(d["metrics"]["IMPRESSION"] for d in days) == 473
    # The user's own id and username name the same account.
    by_id = await get(client, METRICS.format(w.owner.id), w.token, **RANGE)
    by_name = await get(client, METRICS.format("maker"), w.token, **RANGE)
    assert by_id.json()["data"] == by_name.json()["data"] == body["data"]


async def test_later_metric_names_and_video_metrics(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    w = await build(runtime, factory)
    names = "PIN_CLICK,pin_click_rate,OUTBOUND_CLICK,OUTBOUND_CLICK_RATE,SAVE_RATE"
    names += ",VIDEO_START,VIDEO_AVG_WATCH_TIME"
    got = await summary(client, w, metric_types=names)
    assert got == {
        "PIN_CLICK": 62,
        "PIN_CLICK_RATE": 62 / 473,
        "OUTBOUND_CLICK": 14,
        "OUTBOUND_CLICK_RATE": 14 / 473,
        "SAVE_RATE": 21 / 473,
        "VIDEO_START": 50,
        "VIDEO_AVG_WATCH_TIME": 2000.0,
    }


@pytest.mark.parametrize(
    ("params", "impressions"),
    [
        ({"paid": 0}, 273),
        ({"paid": 1}, 200),
        ({"paid": 2}, 473),
        ({"downstream": 0}, 457),
        ({"downstream": 1}, 16),
        ({"paid": 1, "downstream": 1}, 0),
        ({"in_profile": 1}, 443),
        ({"in_profile": 0}, 30),
        ({"include_curated": 0}, 453),
        ({"include_curated": 1}, 20),
        ({"publish_types": "published"}, 453),
        ({"publish_types": "all"}, 473),
        ({"pin_format": "video"}, 256),
        ({"pin_format": "standard"}, 217),
        ({"pin_format": "standard_product_stl_union"}, 217),
        ({"pin_format": "story"}, 0),
        ({"pin_format": "product"}, 0),
        ({"pin_format": "ALL"}, 473),
        ({"from_owned_content": 1}, 0),
        ({"from_owned_content": 0}, 473),
        ({"app_types": "mobile"}, 473),
    ],
)
async def test_filters(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, params: dict[str, Any], impressions: int
) -> None:
    w = await build(runtime, factory)
    got = await summary(client, w, metric_types="IMPRESSION", **params)
    assert got == {"IMPRESSION": impressions}


async def test_top_pins_rank_and_shape(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    w = await build(runtime, factory)
    r = await get(client, TOP.format("me"), w.token, **RANGE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_analytics_partner_top_pins"
    items = body["data"]
    # S is on a secret board and the token lacks read_secret_pins: not listed.
    assert [i["pin"]["id"] for i in items] == [str(w.pins[k]) for k in ("V", "A", "F", "R")]
    v, a, f = items[0], items[1], items[2]
    assert v["metrics"]["IMPRESSION"] == 256 and v["metrics"]["SAVE"] == 13
    assert v["metrics"]["SAVE_RATE"] == 13 / 256 and v["metrics"]["ENGAGEMENT"] == 26 + 13 + 11
    assert a["metrics"]["IMPRESSION"] == 157
    assert v["metadata"] == {
        "canonicalized": False,
        "in_profile": True,
        "in_profile_list": [True],
        "paid": True,
        "paid_list": [True],
        "pin_format_list": ["video"],
    }
    assert a["metadata"]["paid"] is False and a["metadata"]["pin_format_list"] == ["standard"]
    assert f["metadata"]["in_profile"] is False
    assert v["pin"]["title"] == "V" and v["pin"]["is_video"] is True and v["pin"]["type"] == "pin"
    assert v["pin"]["tracked_link"] == "https://shop.example.com/plaid"

    two = await get(client, TOP.format("me"), w.token, **RANGE, num_of_pins=2, sort_by_metrics="SAVE")
    assert [i["pin"]["id"] for i in two.json()["data"]] == [str(w.pins["V"]), str(w.pins["A"])]
    organic_only = await get(client, TOP.format("me"), w.token, **RANGE, paid=0, metric_types="IMPRESSION")
    data = organic_only.json()["data"]
    assert [i["pin"]["id"] for i in data] == [str(w.pins[k]) for k in ("A", "V", "F", "R")]
    assert data[1]["metrics"] == {"IMPRESSION": 56} and data[1]["metadata"]["paid"] is False


async def test_top_pins_with_secret_scope_list_secret_pins(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    w = await build(runtime, factory, scopes="read_users,read_pins,read_secret_pins")
    r = await get(client, TOP.format("me"), w.token, **RANGE, metric_types="IMPRESSION")
    assert [(i["pin"]["id"], i["metrics"]["IMPRESSION"]) for i in r.json()["data"]] == [
        (str(w.pins["V"]), 256),
        (str(w.pins["A"]), 157),
        (str(w.pins["F"]), 30),
        (str(w.pins["R"]), 20),
        (str(w.pins["S"]), 10),
    ]


async def test_top_video_pins(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    w = await build(runtime, factory)
    r = await get(client, TOP_VIDEO.format("me"), w.token, **RANGE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_partner_analytics_partner_top_video_pins"
    assert [i["pin"]["id"] for i in body["data"]] == [str(w.pins["V"])]
    assert body["data"][0]["metrics"] == {
        "IMPRESSION": 256,
        "SAVE": 13,
        "CLICKTHROUGH": 11,
        "VIDEO_START": 50,
        "VIDEO_10S_VIEW": 20,
        "VIDEO_MRC_VIEW": 30,
        "QUARTILE_95_PERCENT_VIEW": 5,
        "VIDEO_AVG_WATCH_TIME": 2000.0,
        "VIDEO_V50_WATCH_TIME": 80_000,
    }
    standard = await get(client, TOP_VIDEO.format("me"), w.token, **RANGE, pin_format="standard")
    assert standard.json()["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": None}, "start_date"),
        ({"end_date": None}, "end_date"),
        ({"start_date": "2026/10/31"}, "start_date"),
        ({"end_date": "2026-11-31"}, "end_date"),
        ({"start_date": "2026-11-02", "end_date": "2026-11-01"}, "end_date"),
        ({"end_date": "2026-11-03"}, "end_date"),
        ({"start_date": "2026-08-03"}, "start_date"),
        ({"metric_types": "IMPRESSION,BOGUS"}, "metric_types"),
        ({"paid": "3"}, "paid"),
        ({"in_profile": "yes"}, "in_profile"),
        ({"from_owned_content": "-1"}, "from_owned_content"),
        ({"downstream": "9"}, "downstream"),
        ({"include_curated": "x"}, "include_curated"),
        ({"pin_format": "gif"}, "pin_format"),
        ({"app_types": "watch"}, "app_types"),
        ({"publish_types": "draft"}, "publish_types"),
    ],
)
async def test_metrics_bad_input(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, params: dict[str, Any], field: str
) -> None:
    w = await build(runtime, factory)
    query = {k: v for k, v in {**RANGE, **params}.items() if v is not None}
    r = await get(client, METRICS.format("me"), w.token, **query)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == 1 and body["status"] == "failure" and body["param"] == field
    assert body["message"].startswith(f"Invalid parameter '{field}'")
    assert body["endpoint_name"] == "v3_analytics_partner_metrics"


async def test_range_rules_at_their_limits(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    w = await build(runtime, factory)
    # 90 days back from today (2026-11-02) is allowed, as is a 90-day span ending today.
    ok = await get(client, METRICS.format("me"), w.token, start_date="2026-08-04", end_date="2026-11-01")
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["data"]["all"]["daily_metrics"]) == 90
    long = await get(client, METRICS.format("me"), w.token, start_date="2026-08-04", end_date="2026-11-02")
    assert long.status_code == 400 and long.json()["param"] == "end_date"
    assert "at most 90 days" in long.json()["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"num_of_pins": "101"}, "num_of_pins"),
        ({"num_of_pins": "0"}, "num_of_pins"),
        ({"sort_by_metrics": "LIKES"}, "sort_by_metrics"),
        ({"metric_types": "NOPE"}, "metric_types"),
        ({"paid": "4"}, "paid"),
    ],
)
async def test_top_pins_bad_input(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, params: dict[str, Any], field: str
) -> None:
    w = await build(runtime, factory)
    for path in (TOP, TOP_VIDEO):
        r = await get(client, path.format("me"), w.token, **RANGE, **params)
        assert r.status_code == 400, r.text
        assert r.json()["code"] == 1 and r.json()["param"] == field


async def test_forbidden(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    w = await build(runtime, factory)
    # Missing scopes: read_users for all three, read_pins for the pin lists.
    pins_only = await factory.token(w.owner, "read_pins")
    users_only = await factory.token(w.owner, "read_users")
    for path, token in ((METRICS, pins_only), (TOP, users_only), (TOP_VIDEO, users_only)):
        r = await get(client, path.format("me"), token, **RANGE)
        assert r.status_code == 401 and r.json()["code"] == 3, r.text
    # Another user's analytics: refused, whoever they are.
    other = await factory.user("rival", business=True)
    other_token = await factory.token(other, SCOPES)
    for path in (METRICS, TOP, TOP_VIDEO):
        r = await get(client, path.format(w.owner.id), other_token, **RANGE)
        assert r.status_code == 401 and r.json()["code"] == 7, r.text
        assert "maker" in r.json()["message"]
    # A personal (non-business) account has no analytics.
    personal = await factory.user("personal")
    personal_token = await factory.token(personal, SCOPES)
    r = await get(client, METRICS.format("me"), personal_token, **RANGE)
    assert r.status_code == 401 and r.json()["code"] == 7 and "business" in r.json()["message"]
    # An unknown user.
    r = await get(client, METRICS.format("nobody-here"), w.token, **RANGE)
    assert r.status_code == 404 and r.json()["code"] == 30
    # No token at all.
    r = await client.get(METRICS.format("me"), params=RANGE)
    assert r.status_code == 401
