"""The yardstick: a bare FastAPI hello-world served exactly like pinapi.

``bench/users_me.py`` runs this app under the same uvicorn flags as ``pinapi serve`` (uvloop,
httptools, no access log) so the ratio pinapi/hello measures what pinapi adds on top of the
framework, whatever the machine's speed or load.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "hello, world"}
