"""Report files pinapi serves itself, at the signed links the report polls hand out.

A link (``/reports/files/{key}?expires=…&signature=…``, see ``domain/reporting/exports``)
is the only credential: no token is needed, as with the signed storage URLs v3 clients
download from. A forged or expired link answers 403 and a link to a file that has been
purged answers 404, each in the v3 failure envelope so a client's error path can read it.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from pinapi.api.common.context import get_runtime
from pinapi.api.common.envelope import JSONBody, failure_body
from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import exports

router = APIRouter(tags=["files"])
ENDPOINT = "report_file"


def _refuse(status: int, code: int, message: str) -> Response:
    return JSONBody(failure_body(code=code, message=message, endpoint_name=ENDPOINT), status_code=status)


@router.api_route(exports.FILES_PATH + "/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def report_file(key: str, request: Request) -> Response:
    runtime = get_runtime(request)
    q = request.query_params
    state = exports.link_state(
        runtime.instance_key, key, q.get("expires", ""), q.get("signature", ""), now=runtime.clock.now()
    )
    if state == "forged":
        return _refuse(403, 7, "This download link is not valid.")
    if state == "expired":
        return _refuse(403, 7, "This download link has expired; poll the report again for a new one.")
    try:
        path = exports.report_path(runtime.settings.data_dir, key)
    except Invalid:
        return _refuse(404, 11, "Report file not found.")
    if not path.is_file():
        return _refuse(404, 11, "Report file not found.")
    return FileResponse(
        path,
        media_type=exports.content_type(key),
        filename=path.name,
        headers={"cache-control": "private, no-store"},
    )
