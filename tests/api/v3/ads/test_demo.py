from __future__ import annotations

import httpx
from sqlalchemy import select

from pinapi.demo import access, ads
from pinapi.runtime import Runtime
from pinapi.store.tables import User
from tests.factories import Factory, bearer


async def test_demo_ads_dataset(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.sessions() as s, s.begin():
        await access.load(runtime, s)
        await ads.load(runtime, s)
    factory = Factory(runtime)
    async with runtime.sessions() as s:
        demo = await s.scalar(select(User).where(User.username == "demo"))
        analyst = await s.scalar(select(User).where(User.username == "analyst"))
    assert demo is not None and analyst is not None
    h = bearer(await factory.token(analyst, "read_advertisers,read_campaigns,write_campaigns"))
    r = await client.get("/ads/v3/advertisers/", params={"include_acl": "true"}, headers=h)
    advs = r.json()["data"]
    assert [(a["currency"], a["roles"]) for a in advs] == [("USD", ["ANALYST"]), ("EUR", ["ANALYST"])]
    assert advs[1]["timezone"] == "Europe/Berlin" and advs[0]["timezone"] != "Europe/Berlin"
    objectives = []
    for adv in advs:
        camps = (await client.get(f"/ads/v3/advertisers/{adv['id']}/campaigns/", headers=h)).json()["data"]
        objectives += [c["objective_type"] for c in camps]
        for c in camps:
            if c["status"] != "ARCHIVED":
                assert c["ad_group_ids"], c["name"]
    assert sorted(objectives) == sorted(
        ["AWARENESS", "TRAFFIC", "VIDEO_VIEW", "WEB_CONVERSION", "CATALOG_SALES", "AWARENESS"]
    )
    summary = (await client.get(f"/ads/v3/advertisers/{advs[0]['id']}/campaigns/summary/", headers=h)).json()
    assert (
        summary["data"]["RUNNING"] == 2
        and summary["data"]["NOT_STARTED"] == 1
        and summary["data"]["PAUSED"] == 1
    )
    # the analyst reads but never writes
    camp = (await client.get(f"/ads/v3/advertisers/{advs[0]['id']}/campaigns/", headers=h)).json()["data"][0]
    r = await client.put(f"/ads/v3/campaigns/{camp['id']}/", json={"name": "mine"}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == 1902
