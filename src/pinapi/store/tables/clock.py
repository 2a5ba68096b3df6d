"""The simulation clock's shared state: one row every process reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base


class ClockState(Base):
    """``mode`` is ``wall`` (wall time plus ``offset_seconds``) or ``frozen`` (at ``frozen_at``)."""

    __tablename__ = "sim_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mode: Mapped[str] = mapped_column(String(10), default="wall")
    offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    frozen_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
