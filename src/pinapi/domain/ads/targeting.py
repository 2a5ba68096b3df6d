"""Targeting resources (types, values, the interest tree) and ``targeting_spec`` validation.

The values are data files in ``data/`` (authored for pinapi, deterministic ids), so the
resource routes and the validation of ad groups read one source: a value the resources do
not list is refused with the field that holds it, never silently dropped.

Value formats follow v5 where v3 is silent: LOCATION holds country codes and US metro
(Nielsen DMA) codes, GEO holds region codes ``CC-RR``, LOCALE two-letter language codes,
INTEREST interest ids; AUDIENCE_INCLUDE/EXCLUDE hold ids of the advertiser's audiences (an
area pinapi does not have yet, so none exist and every audience id is refused as unknown).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any

from pinapi.domain.ads.rules import DATA
from pinapi.domain.errors import Invalid, NotFound

TARGETING_TYPES = (
    "AGE_BUCKET",
    "APPTYPE",
    "AUDIENCE_EXCLUDE",
    "AUDIENCE_INCLUDE",
    "GENDER",
    "GEO",
    "INTEREST",
    "LOCALE",
    "LOCATION",
)
# Types whose values are listed by /resources/targeting/{type}/ (audiences are per advertiser).
LISTED_TYPES = ("AGE_BUCKET", "APPTYPE", "GENDER", "GEO", "INTEREST", "LOCALE", "LOCATION")
MAX_VALUES = 500


class TargetingNotFound(NotFound):
    def __init__(self, what: str) -> None:
        super().__init__(what, code=1002, message=f"Targeting attribute not found: {what}.")


class InterestNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Interest", code=330, message="Interest not found.")


@dataclass(frozen=True, slots=True)
class InterestNode:
    id: str
    name: str
    level: int
    parent_id: str | None
    children: tuple[str, ...]


@cache
def _targeting() -> dict[str, Any]:
    return dict(json.loads((DATA / "targeting.json").read_text()))


@cache
def interests() -> dict[str, InterestNode]:
    raw = json.loads((DATA / "interests.json").read_text())["interests"]
    return {
        n["id"]: InterestNode(n["id"], n["name"], n["level"], n["parent_id"], tuple(n["children"]))
        for n in raw
    }


def interest(interest_id: str) -> InterestNode:
    node = interests().get(interest_id)
    if node is None:
        raise InterestNotFound()
    return node


@cache
def _location_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(LOCATION codes: countries and metros, GEO codes: regions)."""
    location: set[str] = set()
    geo: set[str] = set()
    for country in _targeting()["LOCATION"]:
        location.add(country["code"])
        location.update(m["code"] for m in country["metros"])
        geo.update(r["code"] for r in country["regions"])
    return frozenset(location), frozenset(geo)


@cache
def allowed_values(kind: str) -> frozenset[str]:
    if kind == "LOCATION":
        return _location_codes()[0]
    if kind == "GEO":
        return _location_codes()[1]
    if kind == "INTEREST":
        return frozenset(interests())
    return frozenset(v["value"] for v in _targeting()[kind])


def values_of(kind: str) -> list[dict[str, Any]]:
    """The wire listing of one targeting type's values."""
    key = kind.upper()
    if key not in LISTED_TYPES:
        raise TargetingNotFound(f"targeting type {kind}")
    if key == "LOCATION":
        return list(_targeting()["LOCATION"])
    if key == "GEO":
        out: list[dict[str, Any]] = []
        for country in _targeting()["LOCATION"]:
            out.extend(
                {"code": r["code"], "name": r["name"], "country": country["code"]} for r in country["regions"]
            )
        return out
    if key == "INTEREST":
        return [interest_body(n) for n in interests().values()]
    return [dict(v) for v in _targeting()[key]]


def interest_body(node: InterestNode, *, with_children: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": node.id,
        "name": node.name,
        "level": node.level,
        "parent_id": node.parent_id,
        "childInterests": list(node.children),
    }
    if with_children:
        tree = interests()
        body["children"] = [{"id": c, "name": tree[c].name, "level": tree[c].level} for c in node.children]
    return body


def validate_spec(raw: Any, *, audiences: Collection[str] = ()) -> dict[str, list[str]]:
    """Parse a ``targeting_spec`` (object or JSON string) into canonical lists of values.

    ``audiences`` holds the ids of the advertiser's audiences: AUDIENCE_INCLUDE/EXCLUDE may
    name only those. pinapi has no audiences area yet, so callers pass none and any audience
    id is refused as unknown rather than accepted and silently matching nobody.
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise Invalid("targeting_spec", "must be a JSON object") from exc
    if not isinstance(raw, dict):
        raise Invalid("targeting_spec", "must be a JSON object of targeting type → values")
    spec: dict[str, list[str]] = {}
    for key, values in raw.items():
        kind = str(key).upper()
        field = f"targeting_spec.{key}"
        if kind not in TARGETING_TYPES:
            raise Invalid(field, f"unknown targeting type; one of {', '.join(TARGETING_TYPES)}")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in values
        ):
            raise Invalid(field, "must be a list of values")
        if len(values) > MAX_VALUES:
            raise Invalid(field, f"must hold at most {MAX_VALUES} values")
        clean = [str(v).strip() for v in values]
        if kind in ("AUDIENCE_INCLUDE", "AUDIENCE_EXCLUDE"):
            bad = [v for v in clean if not v.isdigit() or v not in audiences]
        else:
            allowed = allowed_values(kind)
            bad = [v for v in clean if v not in allowed]
        if bad:
            raise Invalid(field, f"unknown value '{bad[0]}'")
        if clean:
            spec[kind] = sorted(set(clean), key=clean.index)
    both = set(spec.get("AUDIENCE_INCLUDE", ())) & set(spec.get("AUDIENCE_EXCLUDE", ()))
    if both:
        raise Invalid("targeting_spec.AUDIENCE_EXCLUDE", f"audience {sorted(both)[0]} is also included")
    return spec
