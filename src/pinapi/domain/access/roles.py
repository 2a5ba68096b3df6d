"""Account-sharing roles and the actions each allows.

The matrix is data (``roles.json``, read from the v3 "Roles and Actions" guide); every ads
route asks one question of it: may this principal take this action on this advertiser?
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROLES = (
    "OWNER",
    "ADMIN",
    "ANALYST",
    "AUDIENCE_MANAGER",
    "FINANCE_MANAGER",
    "CAMPAIGN_MANAGER",
    "CATALOGS_MANAGER",
)


@cache
def matrix() -> dict[str, frozenset[str]]:
    raw = json.loads((Path(__file__).with_name("roles.json")).read_text())["roles"]
    return {role: frozenset(raw[role]) for role in ROLES}


@cache
def all_actions() -> frozenset[str]:
    return frozenset().union(*matrix().values())


def actions_for(roles: Iterable[str]) -> frozenset[str]:
    m = matrix()
    return frozenset().union(*(m.get(r, frozenset()) for r in roles))


def allows(roles: Iterable[str], action: str) -> bool:
    if action not in all_actions():
        raise ValueError(f"unknown action {action}")
    return action in actions_for(roles)
