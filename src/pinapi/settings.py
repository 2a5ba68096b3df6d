"""Runtime configuration, read once from ``PINAPI_*`` environment variables.

Every knob has a default that needs nothing installed beyond the package, so a bare
``pinapi serve`` works on a fresh machine (SQLite under the data dir, in-memory limits).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PINAPI_", extra="ignore")

    data_dir: Path = Path(".pinapi")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    demo: bool = True
    worker: bool = True
    controls: bool = True
    clock_refresh_seconds: float = 1.0
    worker_poll_seconds: float = 0.5
    job_lease_seconds: float = 300.0
    token_cache_seconds: float = 5.0
    bookmark_ttl_seconds: int = 86400
    signature_window_seconds: int = 300
    auth_code_ttl_seconds: int = 600
    # Rate limits (contract 1.8); counts per window.
    limit_ads_read_per_second: int = 500
    limit_ads_read_high_per_minute: int = 1000
    limit_ads_write_per_minute: int = 400
    limit_ads_metrics_per_minute: int = 1000
    limit_organic_per_hour: int = 100000
    log_level: str = "warning"
    fetch_allow: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])
    # Ads review (domain/ads/review.py): how long a new or edited pin promotion stays PENDING,
    # and the destination domains (with their subdomains) the reviewer always rejects.
    review_delay_seconds: float = 60.0
    blocked_domains: list[str] = Field(default_factory=lambda: ["blocked.example"])
    # Delivery engine (engine/runner.py, jobs/engine.py): off, live (follows the clock) or fast
    # (advances the clock by simulated hours); the seed and population size of the simulation.
    engine: Literal["off", "live", "fast"] = "off"
    engine_seed: int = 42
    engine_population: int = Field(default=1_000_000, gt=0)
    engine_fast_hours_per_second: float = Field(default=4.0, gt=0)
    engine_backfill_days: int = Field(default=30, ge=0)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'pinapi.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The signing key for bookmarks and download links.

        Kept in the data dir when not configured, so bookmarks survive restarts and every
        process of one instance agrees on it. The file is written aside and linked into place,
        which fails if it exists: processes starting together on a fresh data dir (``serve
        --workers N``) all end up reading the one key that won, never a half-written one.
        """
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret.key"
        if not path.exists():
            draft = self.data_dir / f".secret.key.{os.getpid()}.{secrets.token_hex(4)}"
            draft.write_text(secrets.token_urlsafe(32))
            draft.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
            draft.unlink()
        self.secret_key = path.read_text().strip()
        return self.secret_key

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
