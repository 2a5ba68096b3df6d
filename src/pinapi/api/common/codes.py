"""The v3 response-code table (name, code, HTTP status), shipped as ``response_codes.csv``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_CSV = Path(__file__).with_name("response_codes.csv")


@cache
def table() -> dict[int, tuple[str, int]]:
    """code -> (name, HTTP status); the first row wins where the export repeats a code."""
    out: dict[int, tuple[str, int]] = {}
    for line in _CSV.read_text().splitlines():
        cells = [c.strip() for c in line.split(",")]
        # A few rows of the export hold two records run together; read cells three at a time.
        for i in range(0, len(cells) - 2, 3):
            name, code, status = cells[i : i + 3]
            if code.isdigit() and status.isdigit():
                out.setdefault(int(code), (name, int(status)))
    return out


def http_status(code: int, fallback: int) -> int:
    hit = table().get(code)
    return hit[1] if hit else fallback
