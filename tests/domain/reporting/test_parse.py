"""Reading report parameters: every rule, and the field each failure names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pinapi.domain.errors import Invalid
from pinapi.domain.reporting.catalog import CATALOG, DEFAULT_METRICS
from pinapi.domain.reporting.query import ReportQuery, Windows, parse_query
from pinapi.store.tables import Advertiser

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)  # 07:00 in New York
ADV = Advertiser(id=42, name="A", owner_user_id=1, timezone="America/New_York")
BASE = {"start_date": "2026-10-01", "end_date": "2026-10-30"}


def parse(at: str | None = "AD_GROUP", **values: Any) -> ReportQuery:
    return parse_query({**BASE, **values}, advertiser=ADV, now=NOW, level=at)


def fails(field: str, reason_part: str, at: str | None = "AD_GROUP", **values: Any) -> None:
    with pytest.raises(Invalid) as err:
        parse(at, **values)
    assert err.value.field == field, err.value.message
    assert reason_part in err.value.reason, err.value.reason
    assert err.value.code == 1
    assert field in err.value.message


def test_defaults() -> None:
    q = parse()
    assert q == ReportQuery(
        advertiser_id=42,
        level="AD_GROUP",
        start_date=date(2026, 10, 1),
        end_date=date(2026, 10, 30),
        granularity="TOTAL",
        metrics=DEFAULT_METRICS,
        windows=Windows(30, 30, 1),
        conversion_report_time="AD_EVENT",
        data_source="OFFLINE",
    )


def test_every_parameter_read() -> None:
    q = parse(
        None,
        level=["pin_promotion_targeting"],
        granularity="day",
        columns="impression_1, CTR,TOTAL_CHECKOUT",
        click_window_days="7",
        engagement_window_days=14,
        view_window_days="0",
        conversion_report_time="CONVERSION_EVENT",
        data_source="offline",
        campaign_ids="1,2",
        ad_group_ids=["3", "4,5"],
        pin_promotion_ids=[6],
        targeting_type="country,APPTYPE",
    )
    assert q.level == "PIN_PROMOTION_TARGETING" and q.granularity == "DAY"
    assert q.metrics == ("IMPRESSION_1", "CTR", "TOTAL_CHECKOUT")
    assert q.windows == Windows(7, 14, 0)
    assert q.conversion_report_time == "CONVERSION_EVENT"
    assert (q.campaign_ids, q.ad_group_ids, q.pin_promotion_ids) == ((1, 2), (3, 4, 5), (6,))
    assert q.targeting_types == ("COUNTRY", "APPTYPE")
    assert parse(metrics=["IMPRESSION_1"], columns="CTR").metrics == ("IMPRESSION_1",)  # metrics wins
    assert parse(targeting_types="GENDER").targeting_types is None  # not a targeting level
    assert parse(start_date=["2026-10-01"]).start_date == date(2026, 10, 1)  # repeated-key lists


def test_dates() -> None:
    fails("start_date", "is required", start_date=None)
    fails("end_date", "is required", end_date="")
    fails("start_date", "YYYY-MM-DD", start_date="2026/10/01")
    fails("end_date", "YYYY-MM-DD", end_date="2026-02-30")
    fails("end_date", "YYYY-MM-DD", end_date="20261030")
    fails("end_date", "must not be before start_date", end_date="2026-09-30")
    fails("end_date", "at most 90 days", start_date="2026-01-01", end_date="2026-04-01")
    assert parse(start_date="2026-01-01", end_date="2026-03-31").end_date == date(2026, 3, 31)  # 90 days
    with pytest.raises(Invalid) as err:
        parse_query(
            {**BASE, "end_date": "2026-10-31"}, advertiser=ADV, now=NOW, level="AD_GROUP", max_days=30
        )
    assert err.value.field == "end_date" and "30 days" in err.value.reason
    fails("start_date", "single value", start_date=["2026-10-01", "2026-10-02"])


def test_enums() -> None:
    fails("level", "is required", None)
    fails("level", "must be one of", None, level="KEYWORD")
    fails("level", "must be one of", "ITEM")
    fails("granularity", "must be one of", granularity="YEAR")
    fails("data_source", "must be one of", data_source="LIVE")
    fails("conversion_report_time", "must be one of", conversion_report_time="CLICK")
    fails(
        "targeting_types",
        "unknown targeting type INTEREST",
        "AD_GROUP_TARGETING",
        targeting_types="INTEREST",
    )
    fails(
        "targeting_type",
        "unknown targeting type",
        "AD_GROUP_TARGETING",
        targeting_type=["AGE", "GENDER"],
    )


def test_windows() -> None:
    for name in ("click_window_days", "engagement_window_days", "view_window_days"):
        fails(name, "must be one of 0, 1, 7, 14, 30, 60", **{name: "3"})
        fails(name, "must be one of", **{name: "week"})
    assert parse(click_window_days="60").windows.click == 60


def test_ids() -> None:
    fails("campaign_ids", "list of ids", campaign_ids="1,x")
    fails("ad_group_ids", "list of ids", ad_group_ids="-4")
    fails("pin_promotion_ids", "list of ids", pin_promotion_ids=[{"id": 1}])
    assert parse(campaign_ids="").campaign_ids is None


def test_metrics() -> None:
    fails("metrics", "unknown metric: NOPE", metrics="IMPRESSION_1,NOPE")
    fails("columns", "unknown metric: INAPP_CHECKOUT_ROAS", columns=["INAPP_CHECKOUT_ROAS"])
    fails("metrics", "list of metric names", metrics={"a": 1})
    assert parse(metrics="ALL").metrics == tuple(CATALOG)


def test_hour_rules() -> None:
    assert parse(granularity="HOUR", start_date="2026-10-25", end_date="2026-11-02").granularity == "HOUR"
    fails(
        "start_date",
        "at most 8 days back",
        granularity="HOUR",
        start_date="2026-10-24",
        end_date="2026-11-02",
    )
    fails(
        "metrics",
        "not available at HOUR granularity: TOTAL_CHECKOUT",
        granularity="HOUR",
        start_date="2026-10-30",
        end_date="2026-11-01",
        metrics="IMPRESSION_1,TOTAL_CHECKOUT",
    )
    q = parse(granularity="HOUR", start_date="2026-10-30", end_date="2026-11-01", metrics="ALL")
    assert q.metrics and not any(CATALOG[m].conversion for m in q.metrics)
    assert "IMPRESSION_1" in q.metrics
    for level in ("AD_GROUP_TARGETING", "PIN_PROMOTION_TARGETING"):
        assert parse(level, granularity="HOUR", start_date="2026-10-30").granularity == "HOUR"


def test_realtime_and_targeting_refuse_conversions() -> None:
    fails("metrics", "REALTIME: TOTAL_CONVERSIONS", data_source="REALTIME", metrics="TOTAL_CONVERSIONS")
    assert all(CATALOG[m].realtime for m in parse(data_source="REALTIME", metrics="ALL").metrics)
    fails("metrics", "COUNTRY or APPTYPE", "AD_GROUP_TARGETING", metrics="TOTAL_LEAD")
    fails(
        "metrics",
        "COUNTRY or APPTYPE",
        "AD_GROUP_TARGETING",
        metrics="TOTAL_LEAD",
        targeting_types="COUNTRY,GENDER",
    )
    q = parse("AD_GROUP_TARGETING", metrics="TOTAL_LEAD", targeting_types="APPTYPE")
    assert q.metrics == ("TOTAL_LEAD",)
    all_targeting = parse("AD_GROUP_TARGETING", metrics="ALL")
    assert not any(CATALOG[m].conversion for m in all_targeting.metrics)
