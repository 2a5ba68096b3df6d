"""Books closed: whether a day's metrics are final, from the clock and the advertiser's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser
from tests.api.v3.ads.helpers import account, failure
from tests.factories import Factory, bearer

PATH = "/ads/v3/advertisers/{}/books_closed/"


async def _ready(client: httpx.AsyncClient, url: str, day: str, headers: dict[str, str]) -> tuple[bool, bool]:
    r = await client.get(url, params={"date": day}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_get_advertiser_books_closed_handler"
    data = r.json()["data"]
    assert set(data) == {"conversion_metrics_ready", "non_conversion_metrics_ready"}
    return data["non_conversion_metrics_ready"], data["conversion_metrics_ready"]


async def test_days_close_at_six_local_and_conversions_a_day_later(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    acc = await account(factory, "read_advertisers")
    async with runtime.sessions() as s, s.begin():
        await s.execute(
            update(Advertiser).where(Advertiser.id == acc.advertiser.id).values(timezone="America/New_York")
        )
    url = PATH.format(acc.advertiser.id)
    clock.set(datetime(2026, 11, 2, 10, 59, tzinfo=UTC))  # 05:59 on Monday in New York
    assert await _ready(client, url, "2026-11-01", acc.headers) == (False, False)
    assert await _ready(client, url, "2026-10-31", acc.headers) == (True, False)
    assert await _ready(client, url, "2026-10-30", acc.headers) == (True, True)
    clock.set(datetime(2026, 11, 2, 11, 0, tzinfo=UTC))  # 06:00
    assert await _ready(client, url, "2026-11-01", acc.headers) == (True, False)
    assert await _ready(client, url, "2026-10-31", acc.headers) == (True, True)
    assert await _ready(client, url, "2026-11-02", acc.headers) == (False, False)
    assert await _ready(client, url, "2027-01-01", acc.headers) == (False, False)


async def test_a_missing_or_bad_date_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory, "read_advertisers")
    url = PATH.format(acc.advertiser.id)
    failure(await client.get(url, headers=acc.headers), 400, 1, "date")
    for bad in ("yesterday", "2026-13-01", "2026-02-30", "20261101", "2026-11-01T00:00:00"):
        r = await client.get(url, params={"date": bad}, headers=acc.headers)
        failure(r, 400, 1, "date")
        assert "date" in r.json()["message"]
    failure(await client.get(PATH.format("x1"), params={"date": "2026-11-01"}, headers=acc.headers), 400, 1)


async def test_scope_and_roles(client: httpx.AsyncClient, factory: Factory) -> None:
    owner = await account(factory, "read_advertisers")
    url = PATH.format(owner.advertiser.id)
    params = {"date": "2026-11-01"}
    no_scope = bearer(await factory.token(owner.user, "read_campaigns,write_advertisers"))
    failure(await client.get(url, params=params, headers=no_scope), 401, 3)

    analyst = await factory.user()
    await factory.share(owner.advertiser, analyst, "ANALYST")
    headers = bearer(await factory.token(analyst, "read_advertisers"))
    assert (await client.get(url, params=params, headers=headers)).status_code == 200

    audience = await factory.user()
    await factory.share(owner.advertiser, audience, "AUDIENCE_MANAGER")
    stranger = await factory.user()
    for user in (audience, stranger):
        headers = bearer(await factory.token(user, "read_advertisers"))
        failure(await client.get(url, params=params, headers=headers), 403, 1902)
    failure(await client.get(PATH.format(10**12), params=params, headers=owner.headers), 403, 1902)
