"""The ads reviewer job: decides PENDING pin promotions (rules in ``domain/ads/review.py``)."""

from __future__ import annotations

from typing import Any

from pinapi.domain.ads.review import REVIEW_KIND, run_review
from pinapi.jobs.worker import JobContext, handler


@handler(REVIEW_KIND)
async def review_pin_promotion(ctx: JobContext) -> dict[str, Any]:
    return await run_review(ctx.session, clock=ctx.clock, payload=dict(ctx.job.payload))
