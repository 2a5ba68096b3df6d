"""The async report job: writes one report's file (rules in ``domain/reporting/reports.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pinapi.domain.reporting.reports import REPORT_KIND, run
from pinapi.jobs.worker import JobContext, handler


@handler(REPORT_KIND)
async def write_async_report(ctx: JobContext) -> dict[str, Any]:
    payload = dict(ctx.job.payload)
    return await run(
        ctx.session, clock=ctx.clock, report_id=int(payload["report_id"]), data_dir=Path(payload["data_dir"])
    )
