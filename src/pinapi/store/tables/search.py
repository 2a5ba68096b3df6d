"""Full-text match subqueries over pins and boards, one implementation per dialect.

The indexes come from migration ``0003_search``: SQLite FTS5 tables (``pins_fts``,
``boards_fts``, rowid = the row's id, porter stemming) and, on PostgreSQL, a generated
``search_tsv`` column with a GIN index. Each builder returns a subquery of ``(id, score)``
for the rows matching any of the terms, where a LOWER score is a better match (FTS5's
``bm25()`` already works that way; PostgreSQL's ``ts_rank`` is negated), so callers sort
ascending on ``(score, id)``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Float, Subquery, func, literal_column, select, table
from sqlalchemy.sql.elements import ColumnElement

from pinapi.store.tables.organic import Board, Pin

TERM_RE = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16

# Column weights: title/name count most, then descriptions, then alt text.
_FTS = {
    "pins": ("pins_fts", (10.0, 4.0, 1.0)),
    "boards": ("boards_fts", (10.0, 4.0)),
}


def terms_of(query: str) -> list[str]:
    """The words of a free-text query (punctuation and FTS operators dropped)."""
    return TERM_RE.findall(query.lower())[:MAX_TERMS]


def _fts5_match(terms: list[str]) -> str:
    # Each term quoted, so words like AND/NOT/NEAR are matched literally.
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


def _sqlite(kind: str, terms: list[str]) -> Subquery:
    name, weights = _FTS[kind]
    fts = table(name)
    ref: ColumnElement[Any] = literal_column(name)
    score = func.bm25(ref, *weights, type_=Float)
    return (
        select(literal_column(f"{name}.rowid").label("id"), score.label("score"))
        .select_from(fts)
        .where(ref.op("MATCH")(_fts5_match(terms)))
        .subquery(f"{kind}_match")
    )


def _postgresql(kind: str, terms: list[str]) -> Subquery:
    source = Pin if kind == "pins" else Board
    vector: ColumnElement[Any] = literal_column(f"{source.__tablename__}.search_tsv")
    query = func.websearch_to_tsquery("english", " or ".join(terms))
    score: ColumnElement[float] = -func.ts_rank(vector, query, type_=Float)
    return (
        select(source.id.label("id"), score.label("score"))
        .where(vector.op("@@")(query))
        .subquery(f"{kind}_match")
    )


def match_subquery(dialect: str, kind: str, terms: list[str]) -> Subquery:
    """``(id, score)`` of the pins or boards (``kind``) matching any of ``terms``."""
    if not terms:
        raise ValueError("no search terms")
    return _sqlite(kind, terms) if dialect == "sqlite" else _postgresql(kind, terms)
