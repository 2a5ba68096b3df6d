from __future__ import annotations

import httpx

from pinapi.domain.reporting.catalog import CATALOG
from tests.api.v3.ads.helpers import account, failure
from tests.factories import Factory, bearer

ANIMALS, PETS, DOGS = "888035077694", "549690615211", "626534780268"


async def test_countries(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    r = await client.get("/ads/v3/resources/advertiser/countries/", headers=acc.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_get_advertiser_countries_handler"
    us = [c for c in body["data"] if c["code"] == "US"]
    assert us == [{"code": "US", "currency": "USD", "index": 38, "name": "United States"}]
    assert len(body["data"]) == 38
    assert {c["code"]: c["currency"] for c in body["data"]}["DE"] == "EUR"


async def test_targeting_types_and_values(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    r = await client.get("/ads/v3/resources/targeting/types/", headers=acc.headers)
    assert r.status_code == 200
    assert r.json()["data"] == [
        "AGE_BUCKET",
        "APPTYPE",
        "AUDIENCE_EXCLUDE",
        "AUDIENCE_INCLUDE",
        "GENDER",
        "GEO",
        "INTEREST",
        "LOCALE",
        "LOCATION",
    ]
    r = await client.get("/ads/v3/resources/targeting/gender/", headers=acc.headers)
    assert r.json()["data"] == [
        {"value": "female", "name": "Female"},
        {"value": "male", "name": "Male"},
        {"value": "unknown", "name": "Unspecified"},
    ]
    assert r.json()["endpoint_name"] == "ads_v3_get_targeting_values_handler"
    loc = (await client.get("/ads/v3/resources/targeting/LOCATION/", headers=acc.headers)).json()["data"]
    us = next(c for c in loc if c["code"] == "US")
    assert {"code": "US-CA", "name": "California"} in us["regions"] and len(us["regions"]) == 51
    assert {"code": "807", "name": "San Francisco-Oakland-San Jose"} in us["metros"]
    interests = (await client.get("/ads/v3/resources/targeting/INTEREST/", headers=acc.headers)).json()[
        "data"
    ]
    assert len(interests) == 305
    assert sum(1 for i in interests if i["level"] == 1) == 26
    geo = (await client.get("/ads/v3/resources/targeting/GEO/", headers=acc.headers)).json()["data"]
    assert {"code": "DE-BY", "name": "Bavaria", "country": "DE"} in geo
    failure(await client.get("/ads/v3/resources/targeting/HOBBY/", headers=acc.headers), 404, 1002)
    failure(await client.get("/ads/v3/resources/targeting/AUDIENCE_INCLUDE/", headers=acc.headers), 404, 1002)


async def test_interest_with_children(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    r = await client.get(f"/ads/v3/resources/targeting/interests/{PETS}/", headers=acc.headers)
    assert r.status_code == 200
    d = r.json()["data"]
    assert r.json()["endpoint_name"] == "ads_v3_get_interest_handler"
    assert (d["id"], d["name"], d["level"], d["parent_id"]) == (PETS, "Pets", 2, ANIMALS)
    assert d["childInterests"][0] == DOGS and len(d["childInterests"]) == 6
    assert d["children"][0] == {"id": DOGS, "name": "Dogs", "level": 3}
    failure(await client.get("/ads/v3/resources/targeting/interests/1/", headers=acc.headers), 404, 330)


async def test_resources_need_an_ads_scope(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user()
    h = bearer(await factory.token(user, "read_pins"))
    for path in (
        "/ads/v3/resources/advertiser/countries/",
        "/ads/v3/resources/targeting/types/",
        f"/ads/v3/resources/targeting/interests/{PETS}/",
        "/ads/v3/resources/targeting/GENDER/",
    ):
        failure(await client.get(path, headers=h), 401, 3)


async def test_delivery_metrics_catalogue(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory, scopes="read_advertisers")
    r = await client.get("/ads/v3/resources/delivery_metrics/", headers=acc.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_get_delivery_metrics_handler"
    metrics = body["data"]["metrics"]
    assert [m["name"] for m in metrics] == list(CATALOG)
    by_name = {m["name"]: m for m in metrics}
    assert by_name["ADD_TO_CART_COST_PER_ACTION"] == {
        "name": "ADD_TO_CART_COST_PER_ACTION",
        "definition": "Spend divided by attributed add to cart events, in micro-currency.",
        "display_name": "CPA (Add to cart)",
    }
    assert by_name["CTR"]["definition"] == "Paid pin clicks divided by paid impressions."
    assert all(set(m) == {"name", "definition", "display_name"} for m in metrics)
    assert "INAPP_CHECKOUT_ROAS" not in by_name
    # The same for an account without any advertiser of its own.
    stranger = bearer(await factory.token(await factory.user(), "read_advertisers"))
    other = await client.get("/ads/v3/resources/delivery_metrics", headers=stranger)
    assert other.status_code == 200 and other.json()["data"] == body["data"]


async def test_delivery_metrics_catalogue_needs_a_token_with_the_scope(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    failure(await client.get("/ads/v3/resources/delivery_metrics/"), 401, 3)
    failure(await client.get("/ads/v3/resources/delivery_metrics/", headers=bearer("not-a-token")), 401, 2)
    h = bearer(await factory.token(await factory.user(), "read_pins,read_campaigns"))
    body = failure(await client.get("/ads/v3/resources/delivery_metrics/", headers=h), 401, 3)
    assert "read_advertisers" in body["message"]
