"""The v3 wire: one module per resource group, all mounted from ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from pinapi.api.v3 import boards, comments, follows, pins, search, sections, users
from pinapi.api.v3.ads import ad_groups as ads_ad_groups
from pinapi.api.v3.ads import ads_boards, ads_pins, pin_promotions
from pinapi.api.v3.ads import advertisers as ads_advertisers
from pinapi.api.v3.ads import billing as ads_billing
from pinapi.api.v3.ads import campaigns as ads_campaigns
from pinapi.api.v3.ads import offers as ads_offers
from pinapi.api.v3.ads import order_lines as ads_order_lines
from pinapi.api.v3.ads import previews as ads_previews
from pinapi.api.v3.ads import resources as ads_resources

# The hot single-object reads (users, pins) come first: routers are tried in order.
ROUTERS: list[APIRouter] = [users.router, pins.router, follows.router, search.router, comments.router]
ROUTERS += [boards.router, sections.router]
ROUTERS += [pin_promotions.router, ads_billing.router, ads_order_lines.router, ads_offers.router]
ROUTERS += [ads_previews.router, ads_boards.router, ads_pins.router]
ROUTERS += [ads_advertisers.router, ads_campaigns.router, ads_ad_groups.router, ads_resources.router]
