"""The parameters of a report file: the v3 async-report names on top of the core query.

``parse_export`` reads ``level``, ``entity_fields``, ``filters``, ``report_format``,
``tag_version`` and ``attribution_types`` (contract 5.2), checks the 30-day span, and
leaves dates, granularity, metrics, windows and entity ids to the core's ``parse_query``, so
an async report and the synchronous metrics read one request the same way.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from pinapi.domain.errors import DomainError, Invalid
from pinapi.domain.reporting import catalog
from pinapi.domain.reporting import query as core
from pinapi.domain.reporting.query import ReportQuery
from pinapi.store.tables import Advertiser

FORMATS = ("json", "csv")
TAG_VERSIONS = (2, 3)
ATTRIBUTION_TYPES = ("INDIVIDUAL", "HOUSEHOLD")
MAX_SPAN_DAYS = 30
"""``end_date - start_date`` of one report, at most (contract 5.2: "within 30 days of each
other"); more answers 1124."""

HIERARCHY = ("ADVERTISER", "CAMPAIGN", "AD_GROUP", "PIN_PROMOTION")
UNAVAILABLE_LEVELS = {
    "PRODUCT_GROUP": "product groups",
    "PRODUCT_GROUP_TARGETING": "product groups",
    "PRODUCT_ITEM": "product items",
    "PRODUCT_ITEM_TARGETING": "product items",
    "ITEM": "product items",
    "KEYWORD": "keywords",
    "SEARCH_QUERY": "search queries",
}
"""Levels of the v3 list whose entities pinapi does not have yet: refused, never faked."""

ENTITY_FIELDS: Mapping[str, str] = {
    "CAMPAIGN_ID": "CAMPAIGN",
    "CAMPAIGN_NAME": "CAMPAIGN",
    "CAMPAIGN_STATUS": "CAMPAIGN",
    "CAMPAIGN_MANAGED_STATUS": "CAMPAIGN",
    "CAMPAIGN_OBJECTIVE_TYPE": "CAMPAIGN",
    "AD_GROUP_ID": "AD_GROUP",
    "AD_GROUP_NAME": "AD_GROUP",
    "AD_GROUP_STATUS": "AD_GROUP",
    "PIN_PROMOTION_ID": "PIN_PROMOTION",
    "PIN_PROMOTION_NAME": "PIN_PROMOTION",
    "PIN_PROMOTION_STATUS": "PIN_PROMOTION",
}
"""Entity fields and the entity each belongs to. Statuses are what the v3 objects show as
``status`` (ACTIVE, PAUSED, ARCHIVED), except PIN_PROMOTION_STATUS: the promotion's summary
status (APPROVED, PENDING, REJECTED, PAUSED, ARCHIVED, ADVERTISER_DISABLED), which is what
the contract's filter example (``PIN_PROMOTION_STATUS = APPROVED``) compares against."""
UNAVAILABLE_FIELDS = {"PRODUCT_GROUP_ID": "product groups"}

ENTITY_OPERATORS = ("=", "!=", "IN", "NOT_IN")
METRIC_OPERATORS = ("=", "!=", ">", ">=", "<", "<=")
_OPERATOR_ALIASES = {
    "==": "=",
    "EQUALS": "=",
    "EQ": "=",
    "<>": "!=",
    "NOT_EQUALS": "!=",
    "NE": "!=",
    "GREATER_THAN": ">",
    "GT": ">",
    "GREATER_THAN_OR_EQUAL": ">=",
    "GTE": ">=",
    "LESS_THAN": "<",
    "LT": "<",
    "LESS_THAN_OR_EQUAL": "<=",
    "LTE": "<=",
    "NOT IN": "NOT_IN",
}


class ReportTooLarge(DomainError):
    """The request spans too many days, or its file would hold too many rows (v3 1124)."""

    code = 1124
    http_status = 413
    default_message = "Reporting request too large."


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    operator: str
    value: Any


@dataclass(frozen=True, slots=True)
class ExportSpec:
    query: ReportQuery
    report_format: str  # "json" | "csv"
    entity_fields: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    tag_version: int = 3
    attribution_types: tuple[str, ...] = ("INDIVIDUAL",)


# --- parameters ---------------------------------------------------------------------------


def _one(values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = _one(values, name)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise Invalid(name, "must be a string")
    return str(value).strip()


def _names(values: Mapping[str, Any], name: str) -> list[str]:
    """A list parameter as upper-case names: comma strings, JSON arrays or lists alike."""
    value = values.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, (dict, list)):
            raise Invalid(name, "must be a list of names")
        text = str(item).strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                decoded = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise Invalid(name, "is not a valid JSON array") from exc
            if not isinstance(decoded, list) or any(isinstance(x, (dict, list)) for x in decoded):
                raise Invalid(name, "must be a list of names")
            out.extend(str(x).strip().upper() for x in decoded if str(x).strip())
        else:
            out.extend(p.strip().upper() for p in text.split(",") if p.strip())
    return list(dict.fromkeys(out))


def base_level(level: str) -> str:
    """The entity level of a report level (``AD_GROUP_TARGETING`` -> ``AD_GROUP``)."""
    return level.removesuffix("_TARGETING")


def _level(values: Mapping[str, Any]) -> str:
    raw = _text(values, "level")
    if raw is None:
        raise Invalid("level", "is required")
    level = raw.upper()
    if level in UNAVAILABLE_LEVELS:
        raise Invalid(
            "level",
            f"{level} is not available: pinapi has no {UNAVAILABLE_LEVELS[level]}; "
            f"use one of {', '.join(core.LEVELS)}",
        )
    if level not in core.LEVELS:
        raise Invalid("level", f"must be one of {', '.join(core.LEVELS)}")
    return level


def _check_span(values: Mapping[str, Any]) -> None:
    """1124 for a range wider than 30 days; malformed dates are left to the core to name."""
    start, end = _text(values, "start_date"), _text(values, "end_date")
    try:
        first = date.fromisoformat(start or "")
        last = date.fromisoformat(end or "")
    except ValueError:
        return
    if (last - first).days > MAX_SPAN_DAYS:
        raise ReportTooLarge(
            f"Reporting request too large: start_date and end_date must be within {MAX_SPAN_DAYS} "
            f"days of each other (asked {(last - first).days})."
        )


def _entity_fields(values: Mapping[str, Any], level: str) -> tuple[str, ...]:
    fields = _names(values, "entity_fields")
    for name in fields:
        _check_entity_field(name, level, "entity_fields")
    return tuple(fields)


def _check_entity_field(name: str, level: str, param: str) -> None:
    if name in UNAVAILABLE_FIELDS:
        raise Invalid(param, f"{name} is not available: pinapi has no {UNAVAILABLE_FIELDS[name]}")
    owner = ENTITY_FIELDS.get(name)
    if owner is None:
        raise Invalid(param, f"unknown entity field: {name}")
    base = base_level(level)
    if HIERARCHY.index(owner) > HIERARCHY.index(base):
        raise Invalid(param, f"{name} is not allowed at {level} level (only the level and its parents)")


def _filters(values: Mapping[str, Any], level: str) -> tuple[Filter, ...]:
    raw = _one(values, "filters")
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("%"):  # encoded twice on its way here
            text = urllib.parse.unquote(text)
        try:
            raw = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise Invalid("filters", "is not a valid JSON array") from exc
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise Invalid("filters", "must be a JSON array of {field, operator, value}")
    return tuple(_filter(item, level) for item in raw)


def _filter(item: Any, level: str) -> Filter:
    if not isinstance(item, dict) or not {"field", "operator", "value"} <= set(item):
        raise Invalid("filters", "each filter needs field, operator and value")
    field = str(item["field"]).strip().upper()
    raw_op = str(item["operator"]).strip().upper()
    op = _OPERATOR_ALIASES.get(raw_op, raw_op)
    value = item["value"]
    if field in ENTITY_FIELDS or field in UNAVAILABLE_FIELDS:
        _check_entity_field(field, level, "filters")
        if op not in ENTITY_OPERATORS:
            allowed = ", ".join(ENTITY_OPERATORS)
            raise Invalid("filters", f"operator {raw_op} is not allowed on {field}: use {allowed}")
        if op in ("IN", "NOT_IN"):
            items = value if isinstance(value, list) else str(value).split(",")
            if any(isinstance(v, (dict, list)) for v in items):
                raise Invalid("filters", f"the value of {field} must be a list of strings")
            value = tuple(_entity_text(field, v) for v in items)
        elif isinstance(value, (dict, list)):
            raise Invalid("filters", f"the value of {field} must be a string")
        else:
            value = _entity_text(field, value)
        return Filter(field, op, value)
    if field in catalog.CATALOG:
        if op not in METRIC_OPERATORS:
            allowed = ", ".join(METRIC_OPERATORS)
            raise Invalid("filters", f"operator {raw_op} is not allowed on {field}: use {allowed}")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, bool):
            raise Invalid("filters", f"the value of {field} must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise Invalid("filters", f"the value of {field} must be a number") from exc
        return Filter(field, op, number)
    raise Invalid("filters", f"unknown filter field: {field}")


def _entity_text(field: str, value: Any) -> str:
    text = str(value).strip()
    return text.upper() if field.endswith("STATUS") or field.endswith("TYPE") else text


def _tag_version(values: Mapping[str, Any]) -> int:
    raw = _text(values, "tag_version")
    if raw is None:
        return 3
    if raw not in {str(v) for v in TAG_VERSIONS}:
        raise Invalid("tag_version", "must be 2 or 3")
    return int(raw)


def _format(values: Mapping[str, Any]) -> str:
    raw = _text(values, "report_format")
    if raw is None:
        return "json"
    if raw.lower() not in FORMATS:
        raise Invalid("report_format", "must be json or csv")
    return raw.lower()


def _attribution(values: Mapping[str, Any]) -> tuple[str, ...]:
    names = _names(values, "attribution_types")
    for name in names:
        if name not in ATTRIBUTION_TYPES:
            raise Invalid("attribution_types", f"must be among {', '.join(ATTRIBUTION_TYPES)}")
    return tuple(names) or ("INDIVIDUAL",)


def parse_export(values: Mapping[str, Any], *, advertiser: Advertiser, now: datetime) -> ExportSpec:
    """Read an async or scheduled report request; every violation names its parameter.

    A range wider than 30 days answers 1124 (too large) before anything else is read, as
    the contract's clients expect; everything else the core checks (dates, granularity,
    windows, metrics) fails as the core says. HOUR granularity needs REALTIME here (5.2).
    """
    level = _level(values)
    _check_span(values)
    query = core.parse_query(values, advertiser=advertiser, now=now, level=level)
    if query.granularity == "HOUR" and query.data_source != "REALTIME":
        raise Invalid("granularity", "HOUR granularity needs data_source=REALTIME")
    return ExportSpec(
        query=query,
        report_format=_format(values),
        entity_fields=_entity_fields(values, level),
        filters=_filters(values, level),
        tag_version=_tag_version(values),
        attribution_types=_attribution(values),
    )
