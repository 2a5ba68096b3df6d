"""The ASGI entry point uvicorn imports (``pinapi.asgi:app``), configured from the environment."""

from pinapi.api.common.middleware import SettleHeap
from pinapi.app import create_app

app = create_app()
# Production only (tests build apps of their own): see docs/performance.md.
app.add_middleware(SettleHeap)
