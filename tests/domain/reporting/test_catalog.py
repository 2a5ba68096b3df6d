"""The metric catalogue: names, definitions, formulas and ``resolve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinapi.domain.errors import Invalid
from pinapi.domain.reporting.catalog import CATALOG, DEFAULT_METRICS, EVENTS, TOUCHES, bases_of, resolve
from pinapi.store.tables.facts import METRIC_COLUMNS

V5 = Path("/work/shared/reference/pinterest-v5-openapi.json")
V3_NAMES = (
    "IMPRESSION_1",
    "IMPRESSION_2",
    "CLICKTHROUGH_1",
    "CLICKTHROUGH_2",
    "CLICKTHROUGH_1_GROSS",
    "IMPRESSION_1_GROSS",
    "OUTBOUND_CLICK_1",
    "OUTBOUND_CLICK_2",
    "SPEND_IN_MICRO_DOLLAR",
    "SPEND_IN_DOLLAR",
    "TOTAL_CLICKTHROUGH",
    "TOTAL_CONVERSIONS",
    "TOTAL_CONVERSIONS_QUANTITY",
    "TOTAL_CONVERSIONS_VALUE_IN_MICRO_DOLLAR",
    "REPIN_1",
    "REPIN_2",
    "ENGAGEMENT_1",
    "ENGAGEMENT_2",
    "CLOSEUP_1",
    "CLOSEUP_2",
    "CPV_IN_MICRO_DOLLAR",
    "CPCV_IN_MICRO_DOLLAR",
    "ADD_TO_CART_COST_PER_ACTION",
)
PINAPI_NAMES = {
    # The engine's own video columns, which no v3 or v5 name covers.
    "VIDEO_START_1",
    "VIDEO_2S_VIEW_1",
    "VIDEO_10S_VIEW_1",
    "VIDEO_WATCH_TIME_IN_MILLISECOND_1",
    "VIDEO_V50_WATCH_TIME_IN_MILLISECOND_1",
}


def test_every_v3_name_of_the_contract_the_facts_support() -> None:
    for name in V3_NAMES:
        assert name in CATALOG, name
    assert CATALOG["ADD_TO_CART_COST_PER_ACTION"].display_name == "CPA (Add to cart)"


def test_names_come_from_v3_v5_or_the_conversion_naming_rule() -> None:
    if not V5.exists():
        pytest.skip("the v5 reference is not on this machine")
    v5 = set(json.loads(V5.read_text())["components"]["schemas"]["ReportingColumnAsync"]["enum"])
    family = {
        f"TOTAL_{t}_{e}{s}"
        for t in TOUCHES
        for e in EVENTS
        for s in ("", "_QUANTITY", "_VALUE_IN_MICRO_DOLLAR")
    }
    family |= {f"TOTAL_{e}{s}" for e in EVENTS for s in ("", "_QUANTITY", "_VALUE_IN_MICRO_DOLLAR")}
    family |= {f"{e}_{s}" for e in EVENTS for s in ("COST_PER_ACTION", "ROAS")}
    unexplained = set(CATALOG) - v5 - set(V3_NAMES) - family - PINAPI_NAMES
    assert unexplained == set()
    assert len(set(CATALOG) & v5) > 120
    for refused in (
        "INAPP_CHECKOUT_ROAS",
        "TOTAL_OFFLINE_CHECKOUT",
        "TOTAL_WEB_SESSIONS",
        "TOTAL_IMPRESSION_USER",
    ):
        assert refused not in CATALOG


def test_definitions_and_formulas() -> None:
    bases = set(METRIC_COLUMNS) | {f"{k}:{t}:{e}" for k in "cqv" for t in TOUCHES for e in EVENTS}
    for m in CATALOG.values():
        assert m.name == m.name.upper()
        assert m.definition.endswith(".") and len(m.definition) > 20, m.name
        assert m.display_name is None or m.display_name
        assert set(m.formula.bases()) <= bases, m.name
        assert m.conversion == any(":" in b for b in m.formula.bases())
        assert m.realtime == (not m.conversion)
    assert CATALOG["IMPRESSION_1"].additive and not CATALOG["CTR"].additive
    assert not CATALOG["SPEND_IN_DOLLAR"].additive
    assert CATALOG["TOTAL_CONVERSIONS"].conversion and not CATALOG["IMPRESSION_1"].conversion


def test_resolve() -> None:
    assert resolve(None) == DEFAULT_METRICS
    assert resolve([]) == DEFAULT_METRICS
    assert resolve("") == DEFAULT_METRICS
    assert resolve("ctr, impression_1,CTR") == ("CTR", "IMPRESSION_1")
    assert resolve(["CTR,REPIN_1", "spend_in_dollar"]) == ("CTR", "REPIN_1", "SPEND_IN_DOLLAR")
    assert resolve("all") == tuple(CATALOG)
    assert resolve(["CTR", "ALL"]) == tuple(CATALOG)
    with pytest.raises(Invalid) as err:
        resolve("CTR,BOGUS_METRIC", field="columns")
    assert (err.value.field, err.value.reason) == ("columns", "unknown metric: BOGUS_METRIC")
    with pytest.raises(Invalid) as err:
        resolve([3])  # type: ignore[list-item]
    assert err.value.field == "metrics"
    assert not any(CATALOG[m].conversion for m in DEFAULT_METRICS)


def test_bases_of() -> None:
    assert bases_of(["CTR", "CPC_IN_MICRO_DOLLAR"]) == (
        "clickthrough_1",
        "impression_1",
        "spend_in_micro_dollar",
    )
    assert bases_of(["TOTAL_CHECKOUT"]) == tuple(f"c:{t}:CHECKOUT" for t in TOUCHES)
