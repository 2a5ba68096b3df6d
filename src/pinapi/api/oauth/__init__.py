"""OAuth 2.0: the consent page (``GET /oauth/``) and the token exchange."""

from __future__ import annotations

from fastapi import APIRouter

from pinapi.api.oauth import authorize, token

ROUTERS: list[APIRouter] = [authorize.router, token.router]
