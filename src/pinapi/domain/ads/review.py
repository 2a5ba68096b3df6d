"""Ad review: new and edited pin promotions wait PENDING until a reviewer job decides.

The decision is a pure function of the promotion, its pin and the policy, so it is tested
without a queue. A promotion is rejected, with every reason that applies, when:

- it has no destination URL (neither its own nor the pin's link): ``LANDING_PAGE``;
- the destination URL is not http(s): ``LANDING_PAGE_BROKEN``;
- the destination's host is a blocked domain or one of its subdomains
  (``PINAPI_BLOCKED_DOMAINS``): ``UNACCEPTABLE_BUSINESS``;
- the title, description or promotion name holds a prohibited word
  (``data/prohibited_words.txt``): ``PROHIBITED_PRODUCT``;
- the pin has no image (or was deleted): ``IMAGE``.

Reason names come from the v5 ad disapproval enum. Each job carries the promotion's
``review_version``; an edit bumps it, so a job queued for an older version does nothing and
the newer job decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.clock import Clock
from pinapi.jobs import queue
from pinapi.store.tables import Pin, PinPromotion

REVIEW_KIND = "ads.review_pin_promotion"
APPROVED, PENDING, REJECTED = "APPROVED", "PENDING", "REJECTED"

LABELS = {
    "LANDING_PAGE": "The promotion has no destination URL.",
    "LANDING_PAGE_BROKEN": "The destination URL must start with http:// or https://.",
    "UNACCEPTABLE_BUSINESS": "The destination domain is not allowed to advertise.",
    "PROHIBITED_PRODUCT": "The Pin promotes a prohibited product or claim.",
    "IMAGE": "The Pin has no image.",
}


@cache
def default_words() -> tuple[str, ...]:
    path = Path(__file__).with_name("data") / "prohibited_words.txt"
    lines = (line.strip().lower() for line in path.read_text().splitlines())
    return tuple(w for w in lines if w and not w.startswith("#"))


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """What the reviewer enforces; built from the settings by the caller."""

    delay_seconds: float = 0.0
    blocked_domains: tuple[str, ...] = ()
    prohibited_words: tuple[str, ...] = field(default_factory=lambda: default_words())


@cache
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Decision:
    status: str
    reasons: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        return [LABELS[r] for r in self.reasons]


def destination_of(promotion: PinPromotion, pin: Pin | None) -> str | None:
    """The URL a click leads to: the promotion's own, else the pin's link."""
    url = (promotion.destination_url or "").strip()
    if url:
        return url
    if pin is None:
        return None
    return (pin.link or "").strip() or None


def _blocked(host: str, blocked: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == b or host.endswith("." + b) for b in (d.lower().strip(".") for d in blocked) if b)


def decide(promotion: PinPromotion, pin: Pin | None, policy: ReviewPolicy) -> Decision:
    """Approve, or reject with every reason that applies (in a fixed order)."""
    reasons: list[str] = []
    url = destination_of(promotion, pin)
    if url is None:
        reasons.append("LANDING_PAGE")
    else:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            reasons.append("LANDING_PAGE_BROKEN")
        elif _blocked(parts.hostname, policy.blocked_domains):
            reasons.append("UNACCEPTABLE_BUSINESS")
    if policy.prohibited_words:
        texts = [promotion.name or ""]
        if pin is not None:
            texts += [pin.title or "", pin.description or ""]
        if _word_pattern(policy.prohibited_words).search("\n".join(texts)):
            reasons.append("PROHIBITED_PRODUCT")
    if pin is None or (pin.image_id is None and not pin.image_url and not pin.carousel):
        reasons.append("IMAGE")
    return Decision(REJECTED if reasons else APPROVED, tuple(reasons))


async def request_review(
    session: AsyncSession, *, clock: Clock, promotion: PinPromotion, policy: ReviewPolicy, edited: bool
) -> None:
    """Mark ``promotion`` PENDING and queue its review in the caller's transaction.

    A new promotion arrives PENDING already (and with its id set); the enqueue's flush
    writes it together with the job.
    """
    if edited:
        promotion.review_version += 1
        promotion.review_status = PENDING
        promotion.rejected_reasons = []
        promotion.rejection_labels = []
        promotion.reviewed_at = None
    await queue.enqueue(
        session,
        clock=clock,
        kind=REVIEW_KIND,
        payload={
            "pin_promotion_id": promotion.id,
            "version": promotion.review_version,
            "blocked_domains": list(policy.blocked_domains),
        },
        run_after=clock.now() + timedelta(seconds=policy.delay_seconds),
    )


async def run_review(session: AsyncSession, *, clock: Clock, payload: dict[str, Any]) -> dict[str, Any]:
    """The reviewer job: decide one promotion if the queued version is still current."""
    promotion = await session.get(PinPromotion, int(payload["pin_promotion_id"]))
    if promotion is None:
        return {"skipped": "deleted"}
    if promotion.review_version != int(payload["version"]) or promotion.review_status != PENDING:
        return {"skipped": "stale"}
    pin = await session.get(Pin, promotion.pin_id)
    policy = ReviewPolicy(blocked_domains=tuple(payload.get("blocked_domains") or ()))
    decision = decide(promotion, pin, policy)
    promotion.review_status = decision.status
    promotion.rejected_reasons = list(decision.reasons)
    promotion.rejection_labels = decision.labels
    promotion.reviewed_at = clock.now()
    await session.flush()
    return {"review_status": decision.status, "rejected_reasons": list(decision.reasons)}
