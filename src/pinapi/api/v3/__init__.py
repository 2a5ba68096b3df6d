"""The v3 wire: one module per resource group, all mounted from ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from pinapi.api.v3 import users

ROUTERS: list[APIRouter] = [users.router]
