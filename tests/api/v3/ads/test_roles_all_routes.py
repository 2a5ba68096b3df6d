"""Every role (and no role) over EVERY ``/ads/v3/`` route the app serves.

Each route names, by hand, the action the v3 "Roles and Actions" guide requires for it; the
role → action table below is also written by hand from the guide (and cross-checked against
``roles.json``), so neither a route checking the wrong action nor a wrong matrix file slips
through. ``test_table_covers_every_ads_route`` fails when a new ads route is not in the table.
Routes that are not about one advertiser (account lists, resources, gone previews) carry no
action and must answer the same to every caller.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from pinapi.app import create_app
from pinapi.domain.ads import billing, order_lines
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from tests.api.v3.ads.builders import AdsBuilder
from tests.api.v3.ads.helpers import account, make_ad_group, make_campaign
from tests.factories import Factory, bearer

SCOPES = (
    "read_advertisers,write_advertisers,read_campaigns,write_campaigns,read_pin_promotions,"
    "write_pin_promotions,read_boards,write_boards,read_pins,write_pins"
)


def _png() -> str:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 32), (10, 20, 30)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


PNG = _png()


@dataclass(frozen=True)
class Route:
    name: str  # the route function = the v3 endpoint_name
    method: str
    path: str  # {adv} {c} {g} {pp} {board} {pin} {bill} {ol} {gone_board} {gone_pin} filled per test
    action: str | None  # what the guide requires; None: not about one advertiser
    body: Any = None
    form: bool = False  # send the body as a form (the organic-style routes) instead of JSON
    hidden: tuple[int, int] = (403, 1902)  # no role at all: accounts refuse, objects are not found
    free: tuple[int, int] = (200, 0)  # routes without an action: the answer to every caller


METRICS_RANGE = "start_date=2026-10-01&end_date=2026-10-31"

ROUTES = [
    # advertisers and their campaign views
    Route("ads_v3_get_advertisers_handler", "GET", "/ads/v3/advertisers/", None),
    # the caller's own advertiser, else the oldest shared with them (every role reads it)
    Route(
        "ads_v3_get_advertiser_me_handler",
        "GET",
        "/ads/v3/advertisers/me/",
        "ADVERTISER_READ",
        hidden=(404, 1000),
    ),
    Route("ads_v3_get_advertiser_handler", "GET", "/ads/v3/advertisers/{adv}/", "ADVERTISER_READ"),
    Route(
        "ads_v3_get_advertiser_campaigns_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/campaigns/",
        "CAMPAIGN_READ",
    ),
    Route(
        "ads_v3_get_advertiser_campaigns_summary_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/campaigns/summary/",
        "CAMPAIGN_READ",
    ),
    Route(
        "ads_v3_get_campaign_handler", "GET", "/ads/v3/campaigns/{c}/", "CAMPAIGN_READ", hidden=(404, 3001)
    ),
    Route(
        "ads_v3_get_campaign_ad_groups_handler",
        "GET",
        "/ads/v3/campaigns/{c}/ad_groups/",
        "AD_GROUP_READ",
        hidden=(404, 3001),
    ),
    Route(
        "ads_v3_get_ad_group_handler", "GET", "/ads/v3/ad_groups/{g}/", "AD_GROUP_READ", hidden=(404, 3002)
    ),
    # pin promotions
    Route(
        "ads_v3_get_pin_promotion_handler",
        "GET",
        "/ads/v3/pin_promotions/{pp}/",
        "PIN_PROMOTION_READ",
        hidden=(404, 3003),
    ),
    Route(
        "ads_v3_get_campaign_pin_promotions_handler",
        "GET",
        "/ads/v3/campaigns/{c}/pin_promotions/",
        "PIN_PROMOTION_READ",
        hidden=(404, 3001),
    ),
    Route(
        "ads_v3_get_ad_group_pin_promotions_handler",
        "GET",
        "/ads/v3/ad_groups/{g}/pin_promotions/",
        "PIN_PROMOTION_READ",
        hidden=(404, 3002),
    ),
    # billing, order lines, offers
    Route(
        "ads_v3_get_billing_data_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/billing_data/",
        "BILLING_PROFILE_READ",
    ),
    Route(
        "ads_v3_get_bill_receipt_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/bill_receipts/{bill}/",
        "BILL_READ",
    ),
    Route(
        "ads_v3_get_advertiser_order_lines_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/order_lines/",
        "ORDER_LINE_READ",
    ),
    Route(
        "ads_v3_get_order_line_handler",
        "GET",
        "/ads/v3/order_lines/{ol}/",
        "ORDER_LINE_READ",
        hidden=(404, 3004),
    ),
    # the owner's boards and pins, worked on by the advertiser's team
    Route(
        "ads_v3_get_advertiser_boards_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/boards/",
        "PUBLIC_BOARD_READ",
    ),
    Route("ads_v3_get_advertiser_pins_handler", "GET", "/ads/v3/advertisers/{adv}/pins/", "PIN_READ"),
    Route(
        "ads_v3_search_advertiser_pins_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/pins/search/?query=plaid",
        "PIN_READ",
    ),
    Route(
        "ads_v3_get_board_pins_handler", "GET", "/ads/v3/boards/{board}/pins/", "PIN_READ", hidden=(404, 40)
    ),
    Route("ads_v3_get_pin_handler", "GET", "/ads/v3/pins/{pin}/", "PIN_READ", hidden=(404, 50)),
    # synchronous delivery metrics
    Route(
        "ads_v3_advertiser_delivery_metrics_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/delivery_metrics/?" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
    ),
    Route(
        "ads_v3_campaign_delivery_metrics_handler",
        "GET",
        "/ads/v3/campaigns/{c}/delivery_metrics/?" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
        hidden=(404, 3001),
    ),
    Route(
        "ads_v3_ad_group_delivery_metrics_handler",
        "GET",
        "/ads/v3/ad_groups/{g}/delivery_metrics/?" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
        hidden=(404, 3002),
    ),
    Route(
        "ads_v3_ad_group_per_targeting_delivery_metrics_handler",
        "GET",
        "/ads/v3/ad_groups/{g}/targeting_delivery_metrics/?" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
        hidden=(404, 3002),
    ),
    Route(
        "ads_v3_pin_promotion_delivery_metrics_handler",
        "GET",
        "/ads/v3/pin_promotions/{pp}/delivery_metrics/?" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
        hidden=(404, 3003),
    ),
    Route(
        "ads_v3_pin_promotion_per_targeting_delivery_metrics_handler",
        "GET",
        "/ads/v3/pin_promotions/{pp}/targeting_delivery_metrics/?" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
        hidden=(404, 3003),
    ),
    # scheduled reports, the batch entities report, books closed
    Route(
        "ads_v3_create_scheduled_report_handler",
        "POST",
        "/ads/v3/reports/scheduled/{adv}/",
        "SCHEDULED_REPORT_CREATE",
        body={"report_level": "ADVERTISER"},
    ),
    Route(
        "ads_v3_get_scheduled_reports_handler", "GET", "/ads/v3/reports/scheduled/{adv}/", "AD_ANALYTICS_READ"
    ),
    Route(
        "ads_v3_get_completed_scheduled_reports_handler",
        "GET",
        "/ads/v3/reports/scheduled/{adv}/completed/",
        "AD_ANALYTICS_READ",
    ),
    Route(
        "ads_v3_get_scheduled_report_handler",
        "GET",
        "/ads/v3/reports/scheduled/{adv}/{sr}/",
        "AD_ANALYTICS_READ",
    ),
    Route(
        "ads_v3_update_scheduled_report_handler",
        "PUT",
        "/ads/v3/reports/scheduled/{adv}/{sr}/",
        "SCHEDULED_REPORT_UPDATE",
        body={"status": "ACTIVE"},
    ),
    Route(
        "ads_v3_create_advertiser_entities_batch_report_handler",
        "POST",
        "/ads/v3/advertisers/{adv}/entities/batch_report/",
        "CAMPAIGN_READ",
    ),
    Route(
        "ads_v3_get_advertiser_entities_batch_report_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/entities/batch_report/?batch_id={batch}",
        "CAMPAIGN_READ",
    ),
    Route(
        "ads_v3_get_advertiser_books_closed_handler",
        "GET",
        "/ads/v3/advertisers/{adv}/books_closed/?date=2026-11-01",
        "AD_ANALYTICS_READ",
    ),
    # async reports: the poll reads the caller's own token, taken from the request just before
    Route(
        "ads_v3_create_advertiser_delivery_metrics_report",
        "POST",
        "/ads/v3/reports/async/{adv}/delivery_metrics/?level=CAMPAIGN&" + METRICS_RANGE,
        "AD_ANALYTICS_READ",
    ),
    Route(
        "ads_v3_get_advertiser_delivery_metrics_report_handler",
        "GET",
        "/ads/v3/reports/async/{adv}/delivery_metrics/?token={report_token}",
        "AD_ANALYTICS_READ",
    ),
    # resources: the same for everyone holding the scope
    Route("ads_v3_get_advertiser_countries_handler", "GET", "/ads/v3/resources/advertiser/countries/", None),
    Route("ads_v3_get_targeting_types_handler", "GET", "/ads/v3/resources/targeting/types/", None),
    Route("ads_v3_get_interest_handler", "GET", "/ads/v3/resources/targeting/interests/549690615211/", None),
    Route("ads_v3_get_targeting_values_handler", "GET", "/ads/v3/resources/targeting/GENDER/", None),
    Route("ads_v3_get_delivery_metrics_handler", "GET", "/ads/v3/resources/delivery_metrics/", None),
    # previews: with an advertiser they need its pin promotion reads; three are gone
    Route(
        "ads_v3_create_preview_with_image_handler",
        "POST",
        "/ads/v3/previews/image/",
        "PIN_PROMOTION_READ",
        {"image_base64": PNG, "advertiser_id": "{adv}"},
    ),
    Route(
        "ads_v3_create_preview_with_pin_handler",
        "POST",
        "/ads/v3/previews/pin/",
        "PIN_PROMOTION_READ",
        {"pin_id": "{pin}", "advertiser_id": "{adv}"},
    ),
    Route(
        "ads_v3_create_preview_with_pin_url_handler",
        "POST",
        "/ads/v3/previews/pin_url/",
        None,
        free=(410, 2051),
    ),
    Route(
        "ads_v3_create_preview_with_pin_id_handler",
        "POST",
        "/ads/v3/previews/pin_id/",
        None,
        free=(410, 2051),
    ),
    Route("ads_v3_get_preview_handler", "GET", "/ads/v3/previews/abc/", None, free=(410, 2051)),
    # writes
    Route("ads_v3_create_advertiser_handler", "POST", "/ads/v3/advertisers/", None, {"name": "Mine"}),
    Route(
        "ads_v3_create_campaign_handler",
        "POST",
        "/ads/v3/campaigns/",
        "CAMPAIGN_CREATE",
        {"advertiser_id": "{adv}", "name": "n", "objective_type": "AWARENESS"},
    ),
    Route(
        "ads_v3_update_campaign_handler",
        "PUT",
        "/ads/v3/campaigns/{c}/",
        "CAMPAIGN_UPDATE",
        {"name": "renamed"},
        hidden=(404, 3001),
    ),
    Route(
        "ads_v3_create_advertiser_campaigns_batch_handler",
        "POST",
        "/ads/v3/advertisers/{adv}/campaigns/batch/",
        "CAMPAIGN_CREATE",
        [{"name": "b", "objective_type": "TRAFFIC"}],
    ),
    Route(
        "ads_v3_update_advertiser_campaigns_batch_handler",
        "PUT",
        "/ads/v3/advertisers/{adv}/campaigns/batch/",
        "CAMPAIGN_UPDATE",
        [{"id": "{c}", "name": "bu"}],
    ),
    Route(
        "ads_v3_create_ad_group_handler",
        "POST",
        "/ads/v3/ad_groups/",
        "AD_GROUP_CREATE",
        {"campaign_id": "{c}", "name": "g2", "budget": 10_000_000, "bid": 1_000_000},
        hidden=(404, 3001),
    ),
    Route(
        "ads_v3_update_ad_group_handler",
        "PUT",
        "/ads/v3/ad_groups/{g}/",
        "AD_GROUP_UPDATE",
        {"name": "g-renamed"},
        hidden=(404, 3002),
    ),
    Route(
        "ads_v3_create_pin_promotion_handler",
        "POST",
        "/ads/v3/pin_promotions/",
        "PIN_PROMOTION_CREATE",
        {"ad_group_id": "{g}", "pin_id": "{pin}", "destination_url": "https://shop.example.com/a"},
        hidden=(400, 1),  # a hidden ad group reads as an unknown ad_group_id, like a missing one
    ),
    Route(
        "ads_v3_update_pin_promotion_handler",
        "PUT",
        "/ads/v3/pin_promotions/{pp}/",
        "PIN_PROMOTION_UPDATE",
        {"name": "pp-renamed"},
        hidden=(404, 3003),
    ),
    Route(
        "ads_v3_create_advertiser_pin_promotions_handler",
        "POST",
        "/ads/v3/advertisers/{adv}/pin_promotions/batch/",
        "PIN_PROMOTION_CREATE",
        [{"ad_group_id": "{g}", "pin_id": "{pin}", "destination_url": "https://shop.example.com/b"}],
    ),
    Route(
        "ads_v3_update_advertiser_pin_promotions_handler",
        "PUT",
        "/ads/v3/advertisers/{adv}/pin_promotions/batch/",
        "PIN_PROMOTION_UPDATE",
        [{"id": "{pp}", "name": "pp-bu"}],
    ),
    Route(
        "ads_v3_redeem_marketing_offer_handler",
        "POST",
        "/ads/v3/advertisers/{adv}/marketing_offers/WELCOME100/redeem/",
        "BILLING_PROFILE_CREATE",
    ),
    Route(
        "ads_v3_create_advertiser_board_handler",
        "POST",
        "/ads/v3/advertisers/{adv}/boards/",
        "PUBLIC_BOARD_CREATE",
        {"name": "Team board"},
        form=True,
    ),
    Route(
        "ads_v3_update_board_handler",
        "PUT",
        "/ads/v3/boards/{board}/",
        "PUBLIC_BOARD_UPDATE",
        {"description": "edited"},
        form=True,
        hidden=(404, 40),
    ),
    Route(
        "ads_v3_update_board_cover_handler",
        "PUT",
        "/ads/v3/boards/{board}/cover/",
        "PUBLIC_BOARD_UPDATE",
        {"pin_id": "{pin}"},
        form=True,
        hidden=(404, 40),
    ),
    Route(
        "ads_v3_create_board_pin_handler",
        "POST",
        "/ads/v3/boards/{board}/pins/",
        "PIN_CREATE",
        {"title": "Team pin", "image_base64": PNG},
        form=True,
        hidden=(404, 40),
    ),
    Route(
        "ads_v3_update_pin_handler",
        "PUT",
        "/ads/v3/pins/{pin}/",
        "PIN_UPDATE",
        {"title": "edited"},
        form=True,
        hidden=(404, 50),
    ),
    Route(
        "ads_v3_upload_pin_carousel_images_handler",
        "PUT",
        "/ads/v3/pincarousel/images/upload/",
        "PIN_CREATE",
        {"images_base64": PNG, "advertiser_id": "{adv}"},
        form=True,
    ),
    # deleting counts as updating (guide); last, on objects kept for it
    Route("ads_v3_delete_pin_handler", "DELETE", "/ads/v3/pins/{gone_pin}/", "PIN_UPDATE", hidden=(404, 50)),
    Route(
        "ads_v3_delete_board_handler",
        "DELETE",
        "/ads/v3/boards/{gone_board}/",
        "PUBLIC_BOARD_UPDATE",
        hidden=(404, 40),
    ),
]

# The guide's matrix for the actions the ads routes use, written out by hand.
BOARD_PIN_READ = {"PUBLIC_BOARD_READ", "PIN_READ"}
MANAGE = {
    "ADVERTISER_READ",
    "CAMPAIGN_READ",
    "CAMPAIGN_CREATE",
    "CAMPAIGN_UPDATE",
    "AD_GROUP_READ",
    "AD_GROUP_CREATE",
    "AD_GROUP_UPDATE",
    "PIN_PROMOTION_READ",
    "PIN_PROMOTION_CREATE",
    "PIN_PROMOTION_UPDATE",
    "ORDER_LINE_READ",
    "BILLING_PROFILE_READ",
    "BILL_READ",
    *BOARD_PIN_READ,
    "PIN_CREATE",
    "PIN_UPDATE",
    "AD_ANALYTICS_READ",
}
FULL = MANAGE | {"BILLING_PROFILE_CREATE", "PUBLIC_BOARD_CREATE", "PUBLIC_BOARD_UPDATE"}
FULL |= {"SCHEDULED_REPORT_CREATE", "SCHEDULED_REPORT_UPDATE"}
ROLE_ACTIONS: dict[str | None, set[str]] = {
    "OWNER": FULL,
    "ADMIN": FULL,
    "CAMPAIGN_MANAGER": MANAGE,
    "ANALYST": {
        "ADVERTISER_READ",
        "CAMPAIGN_READ",
        "AD_GROUP_READ",
        "PIN_PROMOTION_READ",
        "BILL_READ",
        *BOARD_PIN_READ,
        "AD_ANALYTICS_READ",
    },
    "FINANCE_MANAGER": {
        "ADVERTISER_READ",
        "ORDER_LINE_READ",
        "BILLING_PROFILE_READ",
        "BILLING_PROFILE_CREATE",
        "BILL_READ",
    },
    "AUDIENCE_MANAGER": {"ADVERTISER_READ"},
    "CATALOGS_MANAGER": {"ADVERTISER_READ"},
    None: set(),
}
ROLES_JSON = Path(__file__).resolve().parents[4] / "src" / "pinapi" / "domain" / "access" / "roles.json"


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for k, v in ids.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _ads_routes() -> set[tuple[str, str]]:
    """(method, path) of every ``/ads/v3/`` route, looking through included routers."""
    app = create_app(Settings(_env_file=None), migrate=False, demo=False)
    found: set[tuple[str, str]] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
                continue
            path = getattr(route, "path", "")
            if path.startswith("/ads/v3/"):
                for method in set(getattr(route, "methods", None) or ()) - {"HEAD"}:
                    found.add((method, path))

    walk(app.routes)
    return found


def test_table_covers_every_ads_route() -> None:
    from pinapi.api.v3 import ROUTERS

    served = _ads_routes()
    names = {route.name for router in ROUTERS for route in router.routes if hasattr(route, "name")}
    assert len(served) == len(ROUTES), "a served ads route is missing from ROUTES (or vice versa)"
    assert {r.name for r in ROUTES} <= names
    by_name = {
        route.name: (m, route.path)  # type: ignore[attr-defined]
        for router in ROUTERS
        for route in router.routes
        for m in getattr(route, "methods", ())
        if m != "HEAD"
    }
    table = {by_name[r.name] for r in ROUTES}
    assert table == served
    for r in ROUTES:
        assert r.method == by_name[r.name][0], r.name


def test_hand_matrix_matches_roles_json() -> None:
    data = json.loads(ROLES_JSON.read_text())["roles"]
    used = {r.action for r in ROUTES if r.action is not None}
    for role, actions in ROLE_ACTIONS.items():
        if role is not None:
            assert set(data[role]) & used == actions & used, role


async def _world(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> tuple[Any, dict[str, str]]:
    owner = await account(factory, SCOPES)
    camp = await make_campaign(client, owner)
    group = await make_ad_group(client, owner, camp["id"])
    ads = AdsBuilder(runtime)
    board = await ads.board(owner.user)
    pin = await ads.pin(owner.user, board)
    gone_board = await ads.board(owner.user, "Doomed")
    gone_pin = await ads.pin(owner.user, board, title="Doomed pin")
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={
            "ad_group_id": group["id"],
            "pin_id": str(pin.id),
            "destination_url": "https://shop.example.com/",
        },
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    start = datetime(2026, 11, 1, tzinfo=UTC)
    async with runtime.sessions() as s, s.begin():
        bill = await billing.record_spend(
            s,
            clock=runtime.clock,
            advertiser_id=owner.advertiser.id,
            amount_micro=5_000_000,
            period_start=start,
            period_end=start + timedelta(days=1),
        )
        line = await order_lines.create_order_line(
            s, clock=runtime.clock, advertiser_id=owner.advertiser.id, name="Q4", budget_micro=50_000_000
        )
    ids = {
        "adv": str(owner.advertiser.id),
        "c": camp["id"],
        "g": group["id"],
        "pp": r.json()["data"]["id"],
        "board": str(board.id),
        "pin": str(pin.id),
        "gone_board": str(gone_board.id),
        "gone_pin": str(gone_pin.id),
        "bill": str(bill.id),
        "ol": str(line.id),
    }
    adv = ids["adv"]
    sr = await client.post(
        f"/ads/v3/reports/scheduled/{adv}/", json={"report_level": "ADVERTISER"}, headers=owner.headers
    )
    batch = await client.post(f"/ads/v3/advertisers/{adv}/entities/batch_report/", headers=owner.headers)
    assert sr.status_code == 200 and batch.status_code == 200, (sr.text, batch.text)
    ids |= {"sr": sr.json()["data"]["id"], "batch": batch.json()["data"]["batch_id"]}
    return owner, ids


@pytest.mark.parametrize("role", list(ROLE_ACTIONS))
async def test_every_role_over_every_ads_route(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, role: str | None
) -> None:
    owner, ids = await _world(client, factory, runtime)
    if role == "OWNER":
        headers = owner.headers
    else:
        member = await factory.user()
        if role is not None:
            await factory.share(owner.advertiser, member, role)
        headers = bearer(await factory.token(member, SCOPES))
    seen: dict[str, tuple[int, int]] = {}
    expected: dict[str, tuple[int, int]] = {}
    for route in ROUTES:
        body = _fill(route.body, ids)
        kwargs: dict[str, Any] = {"data": body} if route.form else {"json": body}
        r = await client.request(route.method, _fill(route.path, ids), headers=headers, **kwargs)
        seen[route.name] = (r.status_code, r.json()["code"])
        if route.name == "ads_v3_create_advertiser_delivery_metrics_report" and r.status_code == 200:
            ids["report_token"] = r.json()["data"]["token"]
        if route.action is None:
            expected[route.name] = route.free
        elif route.action in ROLE_ACTIONS[role]:
            expected[route.name] = (200, 0)
        else:
            expected[route.name] = route.hidden if role is None else (403, 1902)
        if r.status_code == 200 and isinstance(r.json()["data"], list) and "batch" in route.path:
            assert all(item["exceptions"] == [] for item in r.json()["data"]), r.text
    assert seen == expected
