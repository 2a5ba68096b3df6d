"""The ASGI entry point uvicorn imports (``pinapi.asgi:app``), configured from the environment."""

from pinapi.app import create_app

app = create_app()
