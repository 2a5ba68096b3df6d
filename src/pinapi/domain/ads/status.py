"""Derived summary statuses of campaigns, ad groups (and pin promotions).

``summary_status`` is never stored: it is computed from the entity statuses of the whole
chain (advertiser → campaign → ad group → …), the effective schedule against the clock and
the budget spent so far. Precedence, most decisive first:

1. ADVERTISER_DISABLED — the advertiser is not ACTIVE (nothing under it can deliver);
2. ARCHIVED — the object itself or a parent is archived (terminal);
3. COMPLETED — the effective end has passed, or a lifetime budget / spend cap is used up;
4. PAUSED — the object or a parent is paused;
5. NOT_STARTED — the effective start is still in the future;
6. RUNNING — otherwise.

COMPLETED wins over PAUSED because resuming a finished object would not make it deliver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

SUMMARY_STATUSES = ("ADVERTISER_DISABLED", "ARCHIVED", "COMPLETED", "NOT_STARTED", "PAUSED", "RUNNING")


@dataclass(frozen=True, slots=True)
class Window:
    """A schedule: either bound may be open (None)."""

    start: datetime | None = None
    end: datetime | None = None


def effective_window(windows: Iterable[Window]) -> Window:
    """The intersection of a chain of schedules: latest start, earliest end."""
    start: datetime | None = None
    end: datetime | None = None
    for w in windows:
        if w.start is not None and (start is None or w.start > start):
            start = w.start
        if w.end is not None and (end is None or w.end < end):
            end = w.end
    return Window(start, end)


def summary_status(
    *,
    advertiser_status: str,
    statuses: Sequence[str],
    windows: Iterable[Window],
    now: datetime,
    budget_exhausted: bool = False,
) -> str:
    """The summary status of the last object of a chain.

    ``statuses`` are the entity statuses from the campaign down to the object; ``windows``
    their schedules; ``budget_exhausted`` whether any lifetime budget or spend cap on the
    chain is used up (the delivery engine knows the spend; without it, pass False).
    """
    if advertiser_status != "ACTIVE":
        return "ADVERTISER_DISABLED"
    if "ARCHIVED" in statuses:
        return "ARCHIVED"
    window = effective_window(windows)
    if (window.end is not None and window.end <= now) or budget_exhausted:
        return "COMPLETED"
    if "PAUSED" in statuses:
        return "PAUSED"
    if window.start is not None and window.start > now:
        return "NOT_STARTED"
    return "RUNNING"


def lifetime_exhausted(cap: int | None, spent: int) -> bool:
    """A lifetime cap (micro-currency) is used up once spend reaches it; no cap never is."""
    return cap is not None and cap > 0 and spent >= cap


def campaign_summary_status(
    *,
    advertiser_status: str,
    status: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    lifetime_spend_cap: int | None = None,
    spent: int = 0,
) -> str:
    return summary_status(
        advertiser_status=advertiser_status,
        statuses=(status,),
        windows=(Window(start, end),),
        now=now,
        budget_exhausted=lifetime_exhausted(lifetime_spend_cap, spent),
    )


def ad_group_summary_status(
    *,
    advertiser_status: str,
    campaign_status: str,
    status: str,
    campaign_window: Window,
    window: Window,
    now: datetime,
    campaign_exhausted: bool = False,
    budget_type: str = "DAILY",
    budget: int | None = None,
    spent: int = 0,
) -> str:
    exhausted = campaign_exhausted or (budget_type == "LIFETIME" and lifetime_exhausted(budget, spent))
    return summary_status(
        advertiser_status=advertiser_status,
        statuses=(campaign_status, status),
        windows=(campaign_window, window),
        now=now,
        budget_exhausted=exhausted,
    )
