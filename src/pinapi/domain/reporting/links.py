"""Where report files live and the signed links that download them without a token.

A link carries its expiry and an HMAC of the file's name and that expiry, keyed by a key
derived from the instance key: any process of the instance can check it, nobody else can
make one, and it stops working at the expiry against the shared clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pinapi.domain.errors import Invalid

REPORTS_DIR = "reports"
"""The folder under the data dir that holds every report file."""
FILES_PATH = "/reports/files"
"""Where pinapi serves report files (``api/report_files.py``)."""
_KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def report_path(data_dir: Path, key: str) -> Path:
    """The file of ``key`` under the data dir's reports folder; a key that would leave the
    folder (``..``, absolute, odd characters) is refused."""
    parts = key.split("/")
    if not parts or not all(_KEY_PART.match(p) for p in parts):
        raise Invalid("key", "is not a report file name")
    return data_dir / REPORTS_DIR / Path(*parts)


def _mac(instance_key: str, key: str, expires: int) -> str:
    secret = hashlib.sha256(b"report-file:" + instance_key.encode()).digest()
    digest = hmac.new(secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()
    return digest[:40]


class _HasKey(Protocol):
    instance_key: str


def download_url(runtime: _HasKey, base_url: str, key: str, *, expires_at: datetime) -> str:
    """A link to the report file ``key`` that needs no token and stops working at
    ``expires_at`` (checked against the shared clock). It is signed with the instance key,
    so any process of the instance can verify it and no one else can mint one."""
    expires = int(expires_at.timestamp())
    path = urllib.parse.quote(key)
    signature = _mac(runtime.instance_key, key, expires)
    return f"{base_url.rstrip('/')}{FILES_PATH}/{path}?expires={expires}&signature={signature}"


def link_state(instance_key: str, key: str, expires: str, signature: str, *, now: datetime) -> str:
    """``valid``, ``expired`` or ``forged`` for a download link's parts."""
    if not expires.isdigit() or len(expires) > 12:
        return "forged"
    if not hmac.compare_digest(_mac(instance_key, key, int(expires)), signature):
        return "forged"
    if int(expires) <= now.timestamp():
        return "expired"
    return "valid"


def content_type(key: str) -> str:
    suffix = key.rsplit(".", 1)[-1].lower()
    return {
        "json": "application/json",
        "csv": "text/csv; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
    }.get(suffix, "application/octet-stream")


def file_name(report_format: str) -> str:
    """The last path segment of an async report's link (clients save under it)."""
    return f"metrics_report.{report_format}"
