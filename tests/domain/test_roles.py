"""Account-sharing roles: the matrix of the "Roles and Actions" guide and the one check."""

from __future__ import annotations

import pytest

from pinapi.domain.access import roles, sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid
from pinapi.runtime import Runtime
from tests.factories import Factory

# Actions the guide lets ANALYST write: UI preferences and offline conversion uploads only.
ANALYST_WRITES = {
    "ADS_MANAGER_PREFERENCE_CREATE",
    "ADS_MANAGER_PREFERENCE_UPDATE",
    "OFFLINE_CONVERSION_UPDATE",
}


def test_exactly_the_seven_roles() -> None:
    assert set(roles.matrix()) == {
        "OWNER",
        "ADMIN",
        "ANALYST",
        "AUDIENCE_MANAGER",
        "FINANCE_MANAGER",
        "CAMPAIGN_MANAGER",
        "CATALOGS_MANAGER",
    }
    assert {role: len(actions) for role, actions in roles.matrix().items()} == {
        "OWNER": 76,
        "ADMIN": 75,
        "ANALYST": 24,
        "AUDIENCE_MANAGER": 13,
        "FINANCE_MANAGER": 16,
        "CAMPAIGN_MANAGER": 45,
        "CATALOGS_MANAGER": 5,
    }


def test_spot_checks_against_the_guide() -> None:
    m = roles.matrix()
    analyst = m["ANALYST"]
    assert {"AD_ANALYTICS_READ", "CAMPAIGN_READ", "AD_GROUP_READ", "PIN_PROMOTION_READ"} <= analyst
    writes = {a for a in analyst if a.endswith(("_CREATE", "_UPDATE", "_DISMISS", "_ACCEPT"))}
    assert writes == ANALYST_WRITES
    assert not {a for a in analyst if a.startswith(("CAMPAIGN_", "AD_GROUP_", "PIN_PROMOTION_"))} - {
        "CAMPAIGN_READ",
        "AD_GROUP_READ",
        "PIN_PROMOTION_READ",
    }
    assert "BILL_READ" in m["FINANCE_MANAGER"] and "CAMPAIGN_READ" not in m["FINANCE_MANAGER"]
    assert m["OWNER"] > m["ADMIN"] and m["OWNER"] - m["ADMIN"] == {"WRITE_OWNER"}
    assert {"CAMPAIGN_CREATE", "AD_GROUP_UPDATE", "PIN_PROMOTION_CREATE"} <= m["CAMPAIGN_MANAGER"]
    assert "BILLING_PROFILE_CREATE" not in m["CAMPAIGN_MANAGER"]
    assert {"USER_LIST_CREATE", "CONVERSION_TAG_READ"} <= m["AUDIENCE_MANAGER"]
    assert "CAMPAIGN_CREATE" not in m["AUDIENCE_MANAGER"]
    assert all("READ_ROLES" in actions for actions in m.values())
    assert roles.all_actions() == m["OWNER"]


def test_allows_rejects_unknown_actions() -> None:
    assert roles.allows(["ANALYST", "FINANCE_MANAGER"], "BILL_READ")
    assert not roles.allows(["ANALYST"], "CAMPAIGN_CREATE")
    assert roles.actions_for(["NOT_A_ROLE"]) == frozenset()
    with pytest.raises(ValueError, match="unknown action CAMPAIGN_DELETE"):
        roles.allows(["OWNER"], "CAMPAIGN_DELETE")


async def _check(rt: Runtime, principal: Principal, advertiser_id: int, action: str) -> list[str]:
    async with rt.sessions() as s:
        _, held = await sharing.require_action(
            s, principal=principal, advertiser_id=advertiser_id, action=action
        )
        return held


def _denied(exc: pytest.ExceptionInfo[AdvertiserAccessDenied]) -> str:
    assert exc.value.code == 1902
    return exc.value.message


async def test_require_action(runtime: Runtime, factory: Factory) -> None:
    owner, analyst, stranger = await factory.user(), await factory.user(), await factory.user()
    adv = await factory.advertiser(owner)
    await factory.share(adv, analyst, "ANALYST")
    as_owner = Principal(user_id=owner.id, app_id=1, scopes=frozenset())
    as_analyst = Principal(user_id=analyst.id, app_id=1, scopes=frozenset())
    as_stranger = Principal(user_id=stranger.id, app_id=1, scopes=frozenset())

    assert await _check(runtime, as_owner, adv.id, "CAMPAIGN_CREATE") == ["OWNER"]
    assert await _check(runtime, as_owner, adv.id, "WRITE_OWNER") == ["OWNER"]
    assert await _check(runtime, as_analyst, adv.id, "CAMPAIGN_READ") == ["ANALYST"]
    assert await _check(runtime, as_analyst, adv.id, "AD_ANALYTICS_READ") == ["ANALYST"]
    with pytest.raises(AdvertiserAccessDenied) as exc:
        await _check(runtime, as_analyst, adv.id, "CAMPAIGN_CREATE")
    assert "CAMPAIGN_CREATE" in _denied(exc)
    for who in (as_stranger, Principal(user_id=None, app_id=1, scopes=frozenset())):
        with pytest.raises(AdvertiserAccessDenied) as exc:
            await _check(runtime, who, adv.id, "CAMPAIGN_READ")
        assert _denied(exc) == "User is not authorized to access requested advertiser."
    with pytest.raises(AdvertiserAccessDenied) as exc:
        await _check(runtime, as_owner, adv.id + 1, "CAMPAIGN_READ")
    assert _denied(exc) == "User is not authorized to access requested advertiser."

    # Roles add up: a second role grants its actions too; sharing twice is idempotent.
    await factory.share(adv, analyst, "CAMPAIGN_MANAGER")
    await factory.share(adv, analyst, "CAMPAIGN_MANAGER")
    assert await _check(runtime, as_analyst, adv.id, "CAMPAIGN_CREATE") == ["ANALYST", "CAMPAIGN_MANAGER"]


async def test_share_validates_role_and_advertiser(runtime: Runtime, factory: Factory) -> None:
    owner = await factory.user()
    adv = await factory.advertiser(owner)
    with pytest.raises(Invalid) as exc:
        await factory.share(adv, owner, "SUPERUSER")
    assert exc.value.field == "role"
    async with runtime.sessions() as s:
        with pytest.raises(Invalid) as exc:
            await sharing.share(
                s, clock=runtime.clock, advertiser_id=adv.id + 1, user_id=owner.id, role="ADMIN"
            )
    assert exc.value.field == "advertiser"
