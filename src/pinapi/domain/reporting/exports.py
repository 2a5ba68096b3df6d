"""Report files: a delivery-metrics query written out as JSON or CSV, and its signed link.

Async reports, scheduled reports and batch entity reports all end in a file that clients
download without a token, so they share this module: ``parse_export`` reads the v3 report
parameters on top of the core query (``export_params``), ``write_export`` streams the core's
rows into a file under the data dir, and ``download_url`` signs a link to it (``links``).

File shapes (contract 5.2): JSON is an object keyed by the level's entity id (a string),
each value the array of that entity's rows; CSV is a header row of column names, then one
line per row. A row holds ``{LEVEL}_ID``, then ``DATE`` (the bucket start, not for TOTAL) and
``HOUR`` (HOUR granularity), then ``TARGETING_TYPE`` and ``TARGETING_VALUE`` (targeting
levels), then the requested entity fields, prefixed with the level when they belong to a
parent (``CAMPAIGN_ID`` at AD_GROUP level is written ``AD_GROUP_CAMPAIGN_ID``), then the
metric columns in the order asked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from itertools import compress, repeat
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.ads import pin_promotions
from pinapi.domain.reporting import catalog
from pinapi.domain.reporting import query as core
from pinapi.domain.reporting.export_params import (
    ENTITY_FIELDS,
    MAX_SPAN_DAYS,
    ExportSpec,
    Filter,
    ReportTooLarge,
    base_level,
    parse_export,
)
from pinapi.domain.reporting.links import (
    FILES_PATH,
    REPORTS_DIR,
    content_type,
    download_url,
    file_name,
    link_state,
    report_path,
)
from pinapi.store.tables import AdGroup, Advertiser, Campaign, PinPromotion

__all__ = [
    "ENTITY_FIELDS",
    "FILES_PATH",
    "MAX_ROWS",
    "MAX_SPAN_DAYS",
    "REPORTS_DIR",
    "ExportSpec",
    "Filter",
    "ReportTooLarge",
    "columns",
    "content_type",
    "download_url",
    "file_name",
    "link_state",
    "parse_export",
    "report_path",
    "write_export",
]

MAX_ROWS = 1_000_000
"""Rows of one report file, at most; a report that would hold more fails with 1124."""


def id_column(level: str) -> str:
    return f"{base_level(level)}_ID"


def columns(spec: ExportSpec) -> list[str]:
    """The file's column names, in order (the CSV header; the keys of a JSON row)."""
    q = spec.query
    out = [id_column(q.level)]
    if q.granularity != "TOTAL":
        out.append("DATE")
    if q.granularity == "HOUR":
        out.append("HOUR")
    if q.level.endswith("_TARGETING"):
        out += ["TARGETING_TYPE", "TARGETING_VALUE"]
    out += [_output_name(f, q.level) for f in spec.entity_fields if f != id_column(q.level)]
    out += list(q.metrics)
    return out


def _output_name(field: str, level: str) -> str:
    base = base_level(level)
    return field if ENTITY_FIELDS[field] == base else f"{base}_{field}"


async def _entities(session: AsyncSession, spec: ExportSpec) -> dict[int, dict[str, str]]:
    """Entity fields by id of the report level's entities (the advertiser's, in one read)."""
    q = spec.query
    base = base_level(q.level)
    adv = q.advertiser_id
    out: dict[int, dict[str, str]] = {}
    if base == "CAMPAIGN":
        for c in await session.scalars(select(Campaign).where(Campaign.advertiser_id == adv)):
            out[c.id] = _campaign_fields(c)
    elif base == "AD_GROUP":
        rows = await session.execute(
            select(AdGroup, Campaign)
            .join(Campaign, Campaign.id == AdGroup.campaign_id)
            .where(AdGroup.advertiser_id == adv)
        )
        for g, c in rows:
            out[g.id] = {**_campaign_fields(c), **_ad_group_fields(g)}
    elif base == "PIN_PROMOTION":
        advertiser = await session.get(Advertiser, adv)
        adv_status = advertiser.status if advertiser is not None else "ACTIVE"
        rows3 = await session.execute(
            select(PinPromotion, AdGroup, Campaign)
            .join(AdGroup, AdGroup.id == PinPromotion.ad_group_id)
            .join(Campaign, Campaign.id == PinPromotion.campaign_id)
            .where(PinPromotion.advertiser_id == adv)
        )
        for p, g, c in rows3:
            summary = pin_promotions.summary_status(
                advertiser_status=adv_status,
                campaign_status=c.status,
                ad_group_status=g.status,
                status=p.status,
                review_status=p.review_status,
            )
            out[p.id] = {
                **_campaign_fields(c),
                **_ad_group_fields(g),
                "PIN_PROMOTION_ID": str(p.id),
                "PIN_PROMOTION_NAME": p.name,
                "PIN_PROMOTION_STATUS": summary,
            }
    return out


def _campaign_fields(c: Campaign) -> dict[str, str]:
    return {
        "CAMPAIGN_ID": str(c.id),
        "CAMPAIGN_NAME": c.name,
        "CAMPAIGN_STATUS": c.status,
        "CAMPAIGN_MANAGED_STATUS": c.managed_status,
        "CAMPAIGN_OBJECTIVE_TYPE": c.objective_type,
    }


def _ad_group_fields(g: AdGroup) -> dict[str, str]:
    return {"AD_GROUP_ID": str(g.id), "AD_GROUP_NAME": g.name, "AD_GROUP_STATUS": g.status}


def _entity_test(f: Filter) -> Callable[[dict[str, str]], bool]:
    if f.operator == "=":
        return lambda info: info.get(f.field) == f.value
    if f.operator == "!=":
        return lambda info: info.get(f.field) != f.value
    allowed = set(f.value)
    if f.operator == "IN":
        return lambda info: info.get(f.field) in allowed
    return lambda info: info.get(f.field) not in allowed


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _block_filter(
    spec: ExportSpec, entities: dict[int, dict[str, str]]
) -> Callable[[core.Block], core.Block] | None:
    """One filter for every filter of the spec: entity filters test the row's entity, metric
    filters the row's own value (per day at DAY granularity, over the range at TOTAL)."""
    entity_tests = [_entity_test(f) for f in spec.filters if f.field in ENTITY_FIELDS]
    metric_tests = [
        (f.field, _COMPARE[f.operator], float(f.value)) for f in spec.filters if f.field in catalog.CATALOG
    ]
    if not entity_tests and not metric_tests:
        return None
    allowed = {eid for eid, info in entities.items() if all(t(info) for t in entity_tests)}

    def keep(block: core.Block) -> core.Block:
        mask = [True] * len(block)
        if entity_tests:
            mask = [e in allowed for e in block.entity_ids]
        for name, cmp, bound in metric_tests:
            column = block.values[block.metrics.index(name)]
            mask = [m and cmp(float(v), bound) for m, v in zip(mask, column, strict=True)]
        if all(mask):
            return block

        def pick(column: Sequence[Any] | None) -> Sequence[Any] | None:
            return None if column is None else list(compress(column, mask))

        return core.Block(
            metrics=block.metrics,
            entity_ids=list(compress(block.entity_ids, mask)),
            dates=pick(block.dates),
            hours=pick(block.hours),
            targeting_types=pick(block.targeting_types),
            targeting_values=pick(block.targeting_values),
            values=[list(compress(column, mask)) for column in block.values],
        )

    return keep


class _Writer(Protocol):
    def write(self, block: core.Block) -> None: ...

    def close(self) -> None: ...


def _csv_field(value: Any) -> str:
    """One CSV field as the csv module's minimal quoting writes it."""
    if value is None:
        return ""
    text = str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class _RowMaker:
    """Turns a block's columns into the file's rows, in ``columns`` order.

    A report repeats each entity many times (5,000 promotions x 30 days), so the text of its
    entity fields is made once per entity."""

    def __init__(self, spec: ExportSpec, entities: dict[int, dict[str, str]]) -> None:
        q = spec.query
        self.targeting = q.level.endswith("_TARGETING")
        own = id_column(q.level)
        self.fields = [f for f in spec.entity_fields if f != own]
        self.n_metrics = len(q.metrics)
        self.entities = entities
        self._fields: dict[int, str] = {}

    def _key_columns(self, block: core.Block) -> list[Sequence[Any]]:
        out: list[Sequence[Any]] = []
        for column in (block.dates, block.hours, block.targeting_types, block.targeting_values):
            if column is not None:
                out.append(column)
        return out

    def cells(self, block: core.Block) -> list[tuple[Any, ...]]:
        """Each row's cells (a JSON row's values): ids as strings, dates as ISO dates (orjson
        writes ``date`` so), ``None`` for an empty cell. Metrics added only to filter on come
        after the asked ones and are cut off."""
        ids = [str(e) for e in block.entity_ids]
        columns: list[Sequence[Any]] = [ids, *self._key_columns(block)]
        if self.fields:
            infos = [self.entities.get(e, {}) for e in block.entity_ids]
            columns += [[info.get(f) for info in infos] for f in self.fields]
        columns += block.values[: self.n_metrics]
        return list(zip(*columns, strict=True))

    def csv(self, block: core.Block) -> bytes:
        """The block's CSV lines, with a final line break."""
        if not len(block):
            return b""
        if self.targeting or self.fields:
            return self._csv_text(block)
        # Only integers, dates and numbers: orjson writes the whole block as nested arrays,
        # and an array's brackets and the dates' quotes are all that differ from CSV.
        columns: list[Sequence[Any]] = [
            block.entity_ids,
            *self._key_columns(block),
            *block.values[: self.n_metrics],
        ]
        data = orjson.dumps(list(zip(*columns, strict=True)))
        return data[2:-2].replace(b"],[", b"\n").replace(b'"', b"") + b"\n"

    def _csv_text(self, block: core.Block) -> bytes:
        lines: list[str] = []
        key_columns = self._key_columns(block)
        keys = zip(*key_columns, strict=True) if key_columns else repeat(())
        metrics = zip(*block.values[: self.n_metrics], strict=True) if self.n_metrics else repeat(())
        for eid, key, values in zip(block.entity_ids, keys, metrics, strict=False):
            line = [str(eid)]
            line += (_csv_cell(v) for v in key)
            if self.fields:
                fields = self._fields.get(eid)
                if fields is None:
                    info = self.entities.get(eid, {})
                    fields = self._fields[eid] = ",".join(_csv_field(info.get(f)) for f in self.fields)
                line.append(fields)
            if values:
                line.append(orjson.dumps(values)[1:-1].decode())
            lines.append(",".join(line))
        return ("\n".join(lines) + "\n").encode()


def _csv_cell(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return _csv_field(value)


class _CsvWriter:
    def __init__(self, out: IO[bytes], names: list[str], maker: _RowMaker) -> None:
        self.out = out
        self.out.write(",".join(_csv_field(n) for n in names).encode() + b"\n")
        self.maker = maker

    def write(self, block: core.Block) -> None:
        self.out.write(self.maker.csv(block))

    def close(self) -> None:
        return None


class _JsonWriter:
    """Streams ``{"<id>": [row, …], …}``; rows arrive ordered by entity id (the core's order)."""

    def __init__(self, out: IO[bytes], names: list[str], maker: _RowMaker) -> None:
        self.out = out
        self.names = names
        self.maker = maker
        self.current: int | None = None
        self.out.write(b"{")

    def write(self, block: core.Block) -> None:
        parts: list[bytes] = []
        names = self.names
        for eid, cells in zip(block.entity_ids, self.maker.cells(block), strict=True):
            if eid != self.current:
                if self.current is not None:
                    parts.append(b"],")
                parts.append(b'"%d":[' % eid)
                self.current = eid
            else:
                parts.append(b",")
            parts.append(orjson.dumps(dict(zip(names, cells, strict=True))))
        self.out.write(b"".join(parts))

    def close(self) -> None:
        self.out.write(b"]}" if self.current is not None else b"}")


async def write_export(session: AsyncSession, spec: ExportSpec, *, path: Path, now: datetime) -> int:
    """Write the report file at ``path`` (atomically: a reader never sees half a file) and
    return its number of rows. Fails with 1124 past ``MAX_ROWS``, leaving no file."""
    query = spec.query
    wanted = [f.field for f in spec.filters if f.field in catalog.CATALOG and f.field not in query.metrics]
    if wanted:  # computed to filter on, not written out
        query = replace(query, metrics=query.metrics + tuple(dict.fromkeys(wanted)))
    needs_entities = bool(spec.entity_fields) or any(f.field in ENTITY_FIELDS for f in spec.filters)
    entities = await _entities(session, spec) if needs_entities else {}
    keep = _block_filter(spec, entities)
    names = columns(spec)
    maker = _RowMaker(spec, entities)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.partial")
    count = 0
    try:
        with draft.open("wb") as out:
            writer: _Writer = (_CsvWriter if spec.report_format == "csv" else _JsonWriter)(out, names, maker)
            # Closed on the way out even when the size check stops it, so the database
            # cursor it reads from is never left open in the session.
            blocks = contextlib.aclosing(core.stream_blocks(session, query, now=now))
            async with blocks as stream:
                async for block in stream:
                    rows = block if keep is None else keep(block)
                    count += len(rows)
                    if count > MAX_ROWS:
                        raise ReportTooLarge(
                            f"Reporting request too large: the report would hold more than {MAX_ROWS} rows; "
                            "narrow the dates, the level or the entities."
                        )
                    writer.write(rows)
            writer.close()
        os.replace(draft, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()
    return count
