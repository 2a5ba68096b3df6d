"""Scheduled report and batch-entities jobs (rules in ``domain/reporting/scheduled.py`` and
``domain/reporting/batch_entities.py``).

The scheduler is periodic: each pass queues one run job per due (schedule, day), against the
shared clock, so moving the clock (or a frozen clock advanced by tests) triggers the runs.
It learns the data dir from the worker's services (``data_dir``) or, in a worker process,
from the settings; the run jobs carry it in their payload, as the async report jobs do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pinapi.domain.reporting import batch_entities, scheduled
from pinapi.jobs.worker import JobContext, handler
from pinapi.settings import Settings


def data_dir_of(services: dict[str, object]) -> Path:
    found = services.get("data_dir")
    if isinstance(found, (str, Path)):
        return Path(found)
    return Settings().data_dir


@handler(scheduled.SCHEDULER_KIND, every_seconds=scheduled.SCHEDULER_EVERY_SECONDS)
async def queue_due_scheduled_reports(ctx: JobContext) -> dict[str, Any]:
    queued = await scheduled.queue_due(ctx.session, clock=ctx.clock, data_dir=data_dir_of(ctx.services))
    return {"queued": queued}


@handler(scheduled.RUN_KIND)
async def run_scheduled_report(ctx: JobContext) -> dict[str, Any]:
    payload = dict(ctx.job.payload)
    execution = await scheduled.execute(
        ctx.session,
        clock=ctx.clock,
        schedule_id=int(payload["schedule"]),
        run_date=date.fromisoformat(str(payload["run_date"])),
        data_dir=Path(payload["data_dir"]),
    )
    if execution is None:
        return {"skipped": "schedule gone or inactive"}
    return {"execution": execution.id, "status": execution.execution_status, "rows": execution.row_count}


@handler(batch_entities.KIND)
async def write_batch_entities(ctx: JobContext) -> dict[str, Any]:
    payload = dict(ctx.job.payload)
    return await batch_entities.run(
        ctx.session, clock=ctx.clock, batch_pk=int(payload["batch"]), data_dir=Path(payload["data_dir"])
    )
