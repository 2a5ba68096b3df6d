"""Report files: parameters, JSON and CSV shapes, entity fields, filters, size limits and
signed links, over real entities and fact rows written straight into the tables."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update

from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import exports
from pinapi.domain.reporting.exports import ExportSpec, Filter, ReportTooLarge, parse_export
from pinapi.domain.reporting.query import run
from pinapi.runtime import Runtime
from pinapi.store.tables import (
    AdGroup,
    Advertiser,
    Campaign,
    DeliveryHour,
    PinPromotion,
)
from pinapi.store.tables.facts import METRIC_COLUMNS
from tests.api.v3.ads.builders import AdsBuilder
from tests.breakdown_rows import write_dimension_rows
from tests.conftest import START
from tests.factories import Factory

DAYS = [date(2026, 10, 28) + timedelta(days=i) for i in range(4)]  # all closed at START
BASE = {"start_date": "2026-10-28", "end_date": "2026-10-31", "metrics": "IMPRESSION_1,SPEND_IN_MICRO_DOLLAR"}


@dataclass
class Setup:
    advertiser: Advertiser
    campaign: Campaign
    groups: list[AdGroup]
    promos: list[PinPromotion]  # [approved in group 0, approved in group 1, pending in group 1]


async def _promo(runtime: Runtime, group: AdGroup, name: str, review: str) -> PinPromotion:
    now = runtime.clock.now()
    async with runtime.sessions() as s, s.begin():
        promo = PinPromotion(
            advertiser_id=group.advertiser_id,
            campaign_id=group.campaign_id,
            ad_group_id=group.id,
            pin_id=1,
            name=name,
            review_status=review,
            created_at=now,
            updated_at=now,
        )
        s.add(promo)
    return promo


def _metrics(promo_index: int, day_index: int) -> dict[str, int]:
    values = dict.fromkeys(METRIC_COLUMNS, 0)
    values["impression_1"] = 100 * (promo_index + 1) + day_index
    values["spend_in_micro_dollar"] = 1_000 * (promo_index + 1) * (day_index + 1)
    values["clickthrough_1"] = promo_index + day_index
    return values


@pytest.fixture
async def setup(runtime: Runtime, factory: Factory) -> Setup:
    owner = await factory.user(business=True)
    adv = await factory.advertiser(owner, "Exports")
    ads = AdsBuilder(runtime)
    campaign = await ads.campaign(adv)
    groups = [await ads.ad_group(campaign), await ads.ad_group(campaign, status="PAUSED")]
    promos = [
        await _promo(runtime, groups[0], "First", "APPROVED"),
        await _promo(runtime, groups[1], "Second", "APPROVED"),
        await _promo(runtime, groups[1], "Third", "PENDING"),
    ]
    hours: list[dict[str, Any]] = []
    dims: list[dict[str, Any]] = []
    for p_i, promo in enumerate(promos):
        for d_i, day in enumerate(DAYS):
            ids = {
                "pin_promotion_id": promo.id,
                "ad_group_id": promo.ad_group_id,
                "campaign_id": promo.campaign_id,
                "advertiser_id": adv.id,
                "hour": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                "local_date": day,
            }
            metrics = _metrics(p_i, d_i)
            hours.append({**ids, **metrics})
            us = {c: v // 2 for c, v in metrics.items()}
            ca = {c: v - us[c] for c, v in metrics.items()}
            dims.append({**ids, "dimension_type": "COUNTRY", "dimension_value": "US", **us})
            dims.append({**ids, "dimension_type": "COUNTRY", "dimension_value": "CA", **ca})
    async with runtime.sessions() as s, s.begin():
        await s.execute(insert(DeliveryHour), hours)
        await write_dimension_rows(s, dims)
    return Setup(adv, campaign, groups, promos)


def _spec(setup: Setup, **values: Any) -> ExportSpec:
    return parse_export({**BASE, **values}, advertiser=setup.advertiser, now=START)


async def _write(runtime: Runtime, spec: ExportSpec, tmp_path: Path, name: str = "r.txt") -> tuple[int, str]:
    path = tmp_path / "out" / name
    async with runtime.sessions() as s:
        count = await exports.write_export(s, spec, path=path, now=START)
    return count, path.read_text()


# --- parameters ---------------------------------------------------------------------------


async def test_parse_defaults_and_every_option(setup: Setup) -> None:
    spec = _spec(setup, level="pin_promotion")
    assert (spec.report_format, spec.tag_version, spec.entity_fields, spec.filters) == ("json", 3, (), ())
    assert spec.attribution_types == ("INDIVIDUAL",)
    assert spec.query.level == "PIN_PROMOTION" and spec.query.granularity == "TOTAL"
    assert spec.query.metrics == ("IMPRESSION_1", "SPEND_IN_MICRO_DOLLAR")

    spec = _spec(
        setup,
        level="AD_GROUP",
        report_format="CSV",
        tag_version="2",
        granularity="DAY",
        entity_fields="campaign_id,AD_GROUP_NAME",
        filters='[{"field":"AD_GROUP_STATUS","operator":"=","value":"active"},'
        '{"field":"impression_1","operator":"GREATER_THAN","value":"10"}]',
        attribution_types=["INDIVIDUAL", "HOUSEHOLD"],
        click_window_days="60",
    )
    assert (spec.report_format, spec.tag_version) == ("csv", 2)
    assert spec.entity_fields == ("CAMPAIGN_ID", "AD_GROUP_NAME")
    assert spec.filters == (
        Filter("AD_GROUP_STATUS", "=", "ACTIVE"),
        Filter("IMPRESSION_1", ">", 10.0),
    )
    assert spec.attribution_types == ("INDIVIDUAL", "HOUSEHOLD")
    assert spec.query.windows.click == 60
    assert exports.columns(spec) == [
        "AD_GROUP_ID",
        "DATE",
        "AD_GROUP_CAMPAIGN_ID",
        "AD_GROUP_NAME",
        "IMPRESSION_1",
        "SPEND_IN_MICRO_DOLLAR",
    ]
    # A JSON body's list of filter objects, and a filter encoded twice, read the same.
    listed = _spec(
        setup, level="AD_GROUP", filters=[{"field": "AD_GROUP_ID", "operator": "IN", "value": ["1"]}]
    )
    encoded = _spec(
        setup,
        level="AD_GROUP",
        filters="%5B%7B%22field%22%3A%22AD_GROUP_ID%22%2C%22operator%22%3A%22IN"
        "%22%2C%22value%22%3A%5B%221%22%5D%7D%5D",
    )
    assert listed.filters == encoded.filters == (Filter("AD_GROUP_ID", "IN", ("1",)),)


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({}, "level", "is required"),
        ({"level": "NOPE"}, "level", "must be one of ADVERTISER, CAMPAIGN"),
        ({"level": "PRODUCT_GROUP"}, "level", "PRODUCT_GROUP is not available: pinapi has no product groups"),
        ({"level": "KEYWORD"}, "level", "pinapi has no keywords"),
        ({"level": "SEARCH_QUERY"}, "level", "pinapi has no search queries"),
        ({"level": "ITEM"}, "level", "pinapi has no product items"),
        ({"level": "AD_GROUP", "report_format": "xml"}, "report_format", "must be json or csv"),
        ({"level": "AD_GROUP", "tag_version": "4"}, "tag_version", "must be 2 or 3"),
        ({"level": "AD_GROUP", "attribution_types": "FAMILY"}, "attribution_types", "must be among"),
        (
            {"level": "AD_GROUP", "entity_fields": "PIN_PROMOTION_ID"},
            "entity_fields",
            "not allowed at AD_GROUP",
        ),
        (
            {"level": "ADVERTISER", "entity_fields": "CAMPAIGN_NAME"},
            "entity_fields",
            "not allowed at ADVERTISER",
        ),
        ({"level": "AD_GROUP", "entity_fields": "COLOUR"}, "entity_fields", "unknown entity field: COLOUR"),
        (
            {"level": "PIN_PROMOTION", "entity_fields": "PRODUCT_GROUP_ID"},
            "entity_fields",
            "no product groups",
        ),
        ({"level": "AD_GROUP", "filters": "[{"}, "filters", "is not a valid JSON array"),
        ({"level": "AD_GROUP", "filters": '"x"'}, "filters", "must be a JSON array"),
        ({"level": "AD_GROUP", "filters": '[{"field":"AD_GROUP_ID"}]'}, "filters", "needs field, operator"),
        (
            {"level": "AD_GROUP", "filters": '[{"field":"COLOUR","operator":"=","value":"x"}]'},
            "filters",
            "unknown filter field: COLOUR",
        ),
        (
            {"level": "AD_GROUP", "filters": '[{"field":"AD_GROUP_NAME","operator":">","value":"x"}]'},
            "filters",
            "operator > is not allowed on AD_GROUP_NAME",
        ),
        (
            {"level": "AD_GROUP", "filters": '[{"field":"IMPRESSION_1","operator":"IN","value":[1]}]'},
            "filters",
            "operator IN is not allowed on IMPRESSION_1",
        ),
        (
            {"level": "AD_GROUP", "filters": '[{"field":"IMPRESSION_1","operator":">","value":"many"}]'},
            "filters",
            "the value of IMPRESSION_1 must be a number",
        ),
        (
            {"level": "CAMPAIGN", "filters": '[{"field":"AD_GROUP_ID","operator":"=","value":"1"}]'},
            "filters",
            "AD_GROUP_ID is not allowed at CAMPAIGN level",
        ),
        ({"level": "AD_GROUP", "granularity": "HOUR"}, "granularity", "needs data_source=REALTIME"),
        ({"level": "AD_GROUP", "start_date": "2026-13-01"}, "start_date", "YYYY-MM-DD"),
        ({"level": "AD_GROUP", "metrics": "NOPE_1"}, "metrics", "unknown metric: NOPE_1"),
    ],
)
async def test_parse_refuses_naming_the_field(
    setup: Setup, values: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(Invalid) as caught:
        _spec(setup, **values)
    assert caught.value.field == field
    assert reason in caught.value.reason, caught.value.reason


async def test_span_over_thirty_days_is_too_large(setup: Setup) -> None:
    ok = _spec(setup, level="AD_GROUP", start_date="2026-10-01", end_date="2026-10-31")
    assert (ok.query.end_date - ok.query.start_date).days == 30
    with pytest.raises(ReportTooLarge) as caught:
        _spec(setup, level="AD_GROUP", start_date="2026-09-30", end_date="2026-10-31")
    assert caught.value.code == 1124 and caught.value.http_status == 413
    assert "within 30 days" in caught.value.message


# --- files --------------------------------------------------------------------------------


async def test_json_file_keyed_by_entity_with_dates_fields_and_the_core_numbers(
    runtime: Runtime, setup: Setup, tmp_path: Path
) -> None:
    spec = _spec(
        setup,
        level="PIN_PROMOTION",
        granularity="DAY",
        entity_fields="CAMPAIGN_ID,AD_GROUP_ID,AD_GROUP_STATUS,PIN_PROMOTION_NAME,PIN_PROMOTION_STATUS",
    )
    count, text = await _write(runtime, spec, tmp_path)
    data = json.loads(text)
    assert count == 12
    assert list(data) == [str(p.id) for p in sorted(setup.promos, key=lambda p: p.id)]
    first = data[str(setup.promos[0].id)]
    assert [r["DATE"] for r in first] == [d.isoformat() for d in DAYS]
    assert first[1] == {
        "PIN_PROMOTION_ID": str(setup.promos[0].id),
        "DATE": "2026-10-29",
        "PIN_PROMOTION_CAMPAIGN_ID": str(setup.campaign.id),
        "PIN_PROMOTION_AD_GROUP_ID": str(setup.groups[0].id),
        "PIN_PROMOTION_AD_GROUP_STATUS": "ACTIVE",
        "PIN_PROMOTION_NAME": "First",
        "PIN_PROMOTION_STATUS": "APPROVED",
        "IMPRESSION_1": 101,
        "SPEND_IN_MICRO_DOLLAR": 2_000,
    }
    statuses = {k: v[0]["PIN_PROMOTION_STATUS"] for k, v in data.items()}
    assert statuses == {
        str(setup.promos[0].id): "APPROVED",
        str(setup.promos[1].id): "PAUSED",  # its ad group is paused
        str(setup.promos[2].id): "PAUSED",
    }
    async with runtime.sessions() as s:
        rows = await run(s, spec.query, now=START)
    flat = [r for v in data.values() for r in v]
    written = [
        (r["PIN_PROMOTION_ID"], r["DATE"], r["IMPRESSION_1"], r["SPEND_IN_MICRO_DOLLAR"]) for r in flat
    ]
    assert written == [
        (str(r.entity_id), r.date.isoformat() if r.date else None, *(r.values[m] for m in spec.query.metrics))
        for r in rows
    ]


async def test_csv_file_has_a_header_and_the_total_rows(
    runtime: Runtime, setup: Setup, tmp_path: Path
) -> None:
    spec = _spec(
        setup,
        level="AD_GROUP",
        report_format="csv",
        entity_fields="CAMPAIGN_ID,CAMPAIGN_NAME,AD_GROUP_NAME",
        metrics="IMPRESSION_1,CTR",
    )
    count, text = await _write(runtime, spec, tmp_path)
    lines = list(csv.reader(io.StringIO(text)))
    assert count == 2
    assert lines[0] == [
        "AD_GROUP_ID",
        "AD_GROUP_CAMPAIGN_ID",
        "AD_GROUP_CAMPAIGN_NAME",
        "AD_GROUP_NAME",
        "IMPRESSION_1",
        "CTR",
    ]
    g0, g1 = setup.groups
    imp0 = sum(_metrics(0, d)["impression_1"] for d in range(4))
    imp1 = sum(_metrics(p, d)["impression_1"] for p in (1, 2) for d in range(4))
    clicks0 = sum(_metrics(0, d)["clickthrough_1"] for d in range(4))
    by_id = {line[0]: line for line in lines[1:]}
    assert by_id[str(g0.id)][:5] == [
        str(g0.id),
        str(setup.campaign.id),
        "TRAFFIC campaign",
        "Ad group",
        str(imp0),
    ]
    assert by_id[str(g1.id)][4] == str(imp1)
    assert float(by_id[str(g0.id)][5]) == pytest.approx(clicks0 / imp0)


async def test_csv_quotes_names_as_the_csv_module_does(
    runtime: Runtime, setup: Setup, tmp_path: Path
) -> None:
    tricky = 'Fall, "big" sale\nnow'
    async with runtime.sessions() as s, s.begin():
        await s.execute(update(Campaign).where(Campaign.id == setup.campaign.id).values(name=tricky))
    spec = _spec(setup, level="CAMPAIGN", report_format="csv", entity_fields="CAMPAIGN_NAME", metrics="CTR")
    _, text = await _write(runtime, spec, tmp_path)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["CAMPAIGN_ID", "CAMPAIGN_NAME", "CTR"]
    assert lines[1][:2] == [str(setup.campaign.id), tricky]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    assert text == buffer.getvalue()  # byte for byte what the csv module writes


async def test_hourly_realtime_rows_carry_the_local_hour(
    runtime: Runtime, setup: Setup, tmp_path: Path
) -> None:
    spec = _spec(setup, level="CAMPAIGN", granularity="HOUR", data_source="REALTIME", metrics="IMPRESSION_1")
    count, text = await _write(runtime, spec, tmp_path)
    rows = json.loads(text)[str(setup.campaign.id)]
    assert count == 4
    assert rows[0] == {
        "CAMPAIGN_ID": str(setup.campaign.id),
        "DATE": "2026-10-28",
        "HOUR": 12,
        "IMPRESSION_1": sum(_metrics(p, 0)["impression_1"] for p in range(3)),
    }
    assert [(r["DATE"], r["HOUR"]) for r in rows] == [(d.isoformat(), 12) for d in DAYS]


async def test_targeting_level_rows_carry_type_and_value(
    runtime: Runtime, setup: Setup, tmp_path: Path
) -> None:
    spec = _spec(setup, level="CAMPAIGN_TARGETING", targeting_types="COUNTRY", report_format="csv")
    count, text = await _write(runtime, spec, tmp_path)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "CAMPAIGN_ID",
        "TARGETING_TYPE",
        "TARGETING_VALUE",
        "IMPRESSION_1",
        "SPEND_IN_MICRO_DOLLAR",
    ]
    assert count == 2 and [line[1:3] for line in lines[1:]] == [["COUNTRY", "CA"], ["COUNTRY", "US"]]
    total = sum(_metrics(p, d)["impression_1"] for p in range(3) for d in range(4))
    assert sum(int(line[3]) for line in lines[1:]) == total


async def test_filters_on_entity_fields_and_metrics(runtime: Runtime, setup: Setup, tmp_path: Path) -> None:
    approved = _spec(
        setup,
        level="PIN_PROMOTION",
        filters='[{"field":"PIN_PROMOTION_STATUS","operator":"=","value":"APPROVED"}]',
    )
    _, text = await _write(runtime, approved, tmp_path)
    assert list(json.loads(text)) == [str(setup.promos[0].id)]

    not_in = _spec(
        setup,
        level="PIN_PROMOTION",
        filters=[{"field": "AD_GROUP_ID", "operator": "NOT IN", "value": [str(setup.groups[0].id)]}],
    )
    _, text = await _write(runtime, not_in, tmp_path)
    assert sorted(json.loads(text)) == sorted(str(p.id) for p in setup.promos[1:])

    # Per-row metric comparison, on a metric that is computed but not written out.
    busy = _spec(
        setup,
        level="PIN_PROMOTION",
        granularity="DAY",
        metrics="IMPRESSION_1",
        filters='[{"field":"SPEND_IN_MICRO_DOLLAR","operator":">=","value":6000}]',
    )
    count, text = await _write(runtime, busy, tmp_path)
    kept = {
        (str(setup.promos[p].id), DAYS[d].isoformat())
        for p in range(3)
        for d in range(4)
        if _metrics(p, d)["spend_in_micro_dollar"] >= 6000
    }
    data = json.loads(text)
    assert count == len(kept) and {(k, r["DATE"]) for k, v in data.items() for r in v} == kept
    assert all(set(r) == {"PIN_PROMOTION_ID", "DATE", "IMPRESSION_1"} for v in data.values() for r in v)


async def test_no_rows_gives_an_empty_object_or_a_header(
    runtime: Runtime, setup: Setup, tmp_path: Path
) -> None:
    spec = _spec(setup, level="CAMPAIGN", start_date="2026-10-01", end_date="2026-10-02")
    assert await _write(runtime, spec, tmp_path) == (0, "{}")
    spec = _spec(setup, level="CAMPAIGN", start_date="2026-10-01", end_date="2026-10-02", report_format="csv")
    assert await _write(runtime, spec, tmp_path) == (0, "CAMPAIGN_ID,IMPRESSION_1,SPEND_IN_MICRO_DOLLAR\n")


async def test_too_many_rows_fails_and_leaves_no_file(
    runtime: Runtime, setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "MAX_ROWS", 5)
    spec = _spec(setup, level="PIN_PROMOTION", granularity="DAY")
    path = tmp_path / "out" / "big.json"
    async with runtime.sessions() as s:
        with pytest.raises(ReportTooLarge) as caught:
            await exports.write_export(s, spec, path=path, now=START)
    assert caught.value.code == 1124 and "more than 5 rows" in caught.value.message
    assert list(path.parent.iterdir()) == []


# --- links --------------------------------------------------------------------------------


async def test_signed_links_expire_and_cannot_be_forged(runtime: Runtime) -> None:
    expires = START + timedelta(hours=1)
    url = exports.download_url(runtime, "http://h/", "async/7/metrics_report.csv", expires_at=expires)
    path, _, query = url.partition("?")
    assert path == "http://h/reports/files/async/7/metrics_report.csv"
    params = dict(p.split("=") for p in query.split("&"))
    assert params["expires"] == str(int(expires.timestamp()))
    key, sig = "async/7/metrics_report.csv", params["signature"]
    check = exports.link_state
    assert check(runtime.instance_key, key, params["expires"], sig, now=START) == "valid"
    assert check(runtime.instance_key, key, params["expires"], sig, now=expires) == "expired"
    assert (
        check(runtime.instance_key, "async/8/metrics_report.csv", params["expires"], sig, now=START)
        == "forged"
    )
    later = str(int(expires.timestamp()) + 3600)
    assert check(runtime.instance_key, key, later, sig, now=START) == "forged"
    assert check("another-instance", key, params["expires"], sig, now=START) == "forged"
    assert check(runtime.instance_key, key, "soon", sig, now=START) == "forged"


def test_report_paths_stay_in_the_reports_folder(tmp_path: Path) -> None:
    assert exports.report_path(tmp_path, "async/1/metrics_report.json") == (
        tmp_path / "reports" / "async" / "1" / "metrics_report.json"
    )
    for bad in ("../secret.key", "async/../../x", "/etc/passwd", "a//b", "", "async/.hidden"):
        with pytest.raises(Invalid):
            exports.report_path(tmp_path, bad)
    assert exports.content_type("a/metrics_report.json") == "application/json"
    assert exports.content_type("a/metrics_report.csv") == "text/csv; charset=utf-8"
