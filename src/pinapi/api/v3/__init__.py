"""The v3 wire: one module per resource group, all mounted from ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from pinapi.api.v3 import analytics, boards, comments, follows, pins, search, sections, users
from pinapi.api.v3.ads import ad_groups as ads_ad_groups
from pinapi.api.v3.ads import ads_boards, ads_pins, pin_promotions
from pinapi.api.v3.ads import advertisers as ads_advertisers
from pinapi.api.v3.ads import batch_entities as ads_batch_entities
from pinapi.api.v3.ads import billing as ads_billing
from pinapi.api.v3.ads import books_closed as ads_books_closed
from pinapi.api.v3.ads import campaigns as ads_campaigns
from pinapi.api.v3.ads import delivery_metrics as ads_delivery_metrics
from pinapi.api.v3.ads import offers as ads_offers
from pinapi.api.v3.ads import order_lines as ads_order_lines
from pinapi.api.v3.ads import previews as ads_previews
from pinapi.api.v3.ads import reports as ads_reports
from pinapi.api.v3.ads import resources as ads_resources
from pinapi.api.v3.ads import scheduled_reports as ads_scheduled_reports
from pinapi.api.v4 import delivery_metrics as v4_delivery_metrics

# The hot single-object reads (users, pins) come first: routers are tried in order.
ROUTERS: list[APIRouter] = [users.router, pins.router, follows.router, search.router, comments.router]
ROUTERS += [boards.router, sections.router]
ROUTERS += [pin_promotions.router, ads_billing.router, ads_order_lines.router, ads_offers.router]
ROUTERS += [ads_previews.router, ads_boards.router, ads_pins.router]
ROUTERS += [ads_advertisers.router, ads_campaigns.router, ads_ad_groups.router, ads_resources.router]
ROUTERS += [ads_delivery_metrics.router, v4_delivery_metrics.router]
ROUTERS += [ads_reports.router]
ROUTERS += [analytics.router]
ROUTERS += [ads_scheduled_reports.router, ads_batch_entities.router, ads_books_closed.router]
