"""search: full-text indexes over pins and boards, one per dialect; a followers index

SQLite gets FTS5 tables (``pins_fts``, ``boards_fts``; rowid = the row's id) kept in sync by
triggers, ranked with ``bm25()``. PostgreSQL gets a stored generated ``search_tsv`` column on
``pins`` and ``boards`` with a GIN index, ranked with ``ts_rank``. The ORM tables do not map
these objects: only ``store/tables/search.py`` queries them.

Also ``ix_user_follows_followee_follower`` so a followers page is an index range, not a
sort of every follower.

Revision ID: 0003_search
Revises: 0002_organic
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_search"
down_revision: str | None = "0002_organic"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (FTS table, indexed columns, PostgreSQL weights)
INDEXED: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "pins": ("pins_fts", ("title", "description", "alt_text"), ("A", "B", "C")),
    "boards": ("boards_fts", ("name", "description"), ("A", "B")),
}


def _sqlite_upgrade() -> None:
    for table, (fts, cols, _) in INDEXED.items():
        names = ", ".join(cols)
        new_vals = ", ".join(f"new.{c}" for c in cols)
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, tokenize='porter unicode61')")
        op.execute(f"INSERT INTO {fts}(rowid, {names}) SELECT id, {names} FROM {table}")
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new_vals}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"DELETE FROM {fts} WHERE rowid = old.id; END"
        )
        sets = ", ".join(f"{c} = new.{c}" for c in cols)
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "
            f"UPDATE {fts} SET {sets} WHERE rowid = old.id; END"
        )


def _sqlite_downgrade() -> None:
    for _table, (fts, _cols, _) in INDEXED.items():
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def _pg_upgrade() -> None:
    for table, (_fts, cols, weights) in INDEXED.items():
        vector = " || ".join(
            f"setweight(to_tsvector('english', coalesce({c}, '')), '{w}')"
            for c, w in zip(cols, weights, strict=True)
        )
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({vector}) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_search_tsv ON {table} USING gin (search_tsv)")


def _pg_downgrade() -> None:
    for table in INDEXED:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_tsv")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_tsv")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()
    op.create_index("ix_user_follows_followee_follower", "user_follows", ["followee_id", "follower_id"])


def downgrade() -> None:
    # IF EXISTS: databases upgraded before this index joined the revision lack it.
    op.execute("DROP INDEX IF EXISTS ix_user_follows_followee_follower")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _pg_downgrade()
