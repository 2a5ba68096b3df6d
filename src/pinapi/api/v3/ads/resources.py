"""Ads resources: advertiser countries, targeting types, values, the interest tree and the
metric catalogue.

These are reference data, the same for every advertiser, so they need an ads read scope
(``read_advertisers``) but no role on any advertiser.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from pinapi.api.common.auth import access
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import rules, targeting
from pinapi.domain.reporting.catalog import CATALOG

router = make_router(tags=["resources"])
READ = access("read_advertisers")


@router.get("/ads/v3/resources/advertiser/countries/")
async def ads_v3_get_advertiser_countries_handler(
    principal: Principal = Depends(READ),
) -> list[dict[str, Any]]:
    return [
        {"code": c["code"], "currency": c["currency"], "index": c["index"], "name": c["name"]}
        for c in rules.countries().values()
    ]


@router.get("/ads/v3/resources/targeting/types/")
async def ads_v3_get_targeting_types_handler(principal: Principal = Depends(READ)) -> list[str]:
    return list(targeting.TARGETING_TYPES)


@router.get("/ads/v3/resources/targeting/interests/{interest}/")
async def ads_v3_get_interest_handler(interest: str, principal: Principal = Depends(READ)) -> dict[str, Any]:
    return targeting.interest_body(targeting.interest(interest), with_children=True)


@router.get("/ads/v3/resources/targeting/{targeting_type}/")
async def ads_v3_get_targeting_values_handler(
    targeting_type: str, principal: Principal = Depends(READ)
) -> list[dict[str, Any]]:
    return targeting.values_of(targeting_type)


@router.get("/ads/v3/resources/delivery_metrics/")
async def ads_v3_get_delivery_metrics_handler(principal: Principal = Depends(READ)) -> dict[str, Any]:
    """Every metric a report may ask for; ``display_name`` is null where there is none."""
    return {
        "metrics": [
            {"name": m.name, "definition": m.definition, "display_name": m.display_name}
            for m in CATALOG.values()
        ]
    }
