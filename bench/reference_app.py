"""The reference: a bare Starlette app that returns precomputed bytes (the limit the emulator is held to).

BENCH_BODY=path/to/body.json BENCH_PATH=/butter/api/phone-numbers uvicorn bench.reference_app:app
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["BENCH_BODY"]).read_bytes()


async def endpoint(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route(os.environ["BENCH_PATH"], endpoint)])
