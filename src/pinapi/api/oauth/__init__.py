"""OAuth 2.0: the consent page (``GET /oauth/``) and the token exchange."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
