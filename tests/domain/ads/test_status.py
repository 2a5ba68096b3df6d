from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinapi.domain.ads.status import (
    Window,
    ad_group_summary_status,
    campaign_summary_status,
    effective_window,
    summary_status,
)

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("advertiser", "status", "start", "end", "cap", "spent", "expected"),
    [
        ("ACTIVE", "ACTIVE", None, None, None, 0, "RUNNING"),
        ("ACTIVE", "ACTIVE", NOW - H, NOW + H, None, 0, "RUNNING"),
        ("ACTIVE", "ACTIVE", NOW + H, None, None, 0, "NOT_STARTED"),
        ("ACTIVE", "ACTIVE", None, NOW, None, 0, "COMPLETED"),
        ("ACTIVE", "PAUSED", None, None, None, 0, "PAUSED"),
        ("ACTIVE", "PAUSED", NOW + H, None, None, 0, "PAUSED"),
        ("ACTIVE", "PAUSED", None, NOW - H, None, 0, "COMPLETED"),
        ("ACTIVE", "ARCHIVED", None, NOW - H, None, 0, "ARCHIVED"),
        ("PAUSED", "ACTIVE", None, None, None, 0, "ADVERTISER_DISABLED"),
        ("ARCHIVED", "ARCHIVED", None, None, None, 0, "ADVERTISER_DISABLED"),
        ("ACTIVE", "ACTIVE", None, NOW + H, 5_000_000, 5_000_000, "COMPLETED"),
        ("ACTIVE", "ACTIVE", None, NOW + H, 5_000_000, 4_999_999, "RUNNING"),
    ],
)
def test_campaign_summary_status(
    advertiser: str,
    status: str,
    start: datetime | None,
    end: datetime | None,
    cap: int | None,
    spent: int,
    expected: str,
) -> None:
    got = campaign_summary_status(
        advertiser_status=advertiser,
        status=status,
        start=start,
        end=end,
        now=NOW,
        lifetime_spend_cap=cap,
        spent=spent,
    )
    assert got == expected


def test_ad_group_status_inherits_the_campaign() -> None:
    def status(**kw: object) -> str:
        args: dict[str, object] = {
            "advertiser_status": "ACTIVE",
            "campaign_status": "ACTIVE",
            "status": "ACTIVE",
            "campaign_window": Window(),
            "window": Window(),
            "now": NOW,
        }
        args.update(kw)
        return ad_group_summary_status(**args)  # type: ignore[arg-type]

    assert status() == "RUNNING"
    assert status(campaign_status="PAUSED") == "PAUSED"
    assert status(campaign_status="ARCHIVED", status="PAUSED") == "ARCHIVED"
    assert status(campaign_window=Window(NOW + H, None)) == "NOT_STARTED"
    assert status(campaign_window=Window(None, NOW - H), window=Window(None, None)) == "COMPLETED"
    assert status(campaign_exhausted=True) == "COMPLETED"
    assert status(budget_type="LIFETIME", budget=10, spent=10) == "COMPLETED"
    assert status(budget_type="DAILY", budget=10, spent=10) == "RUNNING"


def test_effective_window_is_the_intersection() -> None:
    w = effective_window([Window(NOW - H, NOW + 5 * H), Window(NOW, None), Window(None, NOW + 2 * H)])
    assert w == Window(NOW, NOW + 2 * H)
    assert summary_status(advertiser_status="ACTIVE", statuses=(), windows=[], now=NOW) == "RUNNING"
