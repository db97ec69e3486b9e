"""What the server puts around the app on the command line's behalf: the controls refused when
workers do not share state."""

from __future__ import annotations

import json
from typing import Any

from mockserver.engine.routing import CONTROL_PREFIX


class ControlsRefused:
    """``--workers N --state memory``: each worker has its own state, so changing or reading it through
    one worker would mislead; the /__mock__/ controls answer 409 (the index, health and liveness still
    answer)."""

    OPEN = frozenset(
        {CONTROL_PREFIX, f"{CONTROL_PREFIX}/", f"{CONTROL_PREFIX}/health", f"{CONTROL_PREFIX}/live"}
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(f"{CONTROL_PREFIX}/") and path not in self.OPEN:
            body = json.dumps(
                {
                    "error": "state_not_shared",
                    "message": "these workers do not share state (--state memory): serve with "
                    "--state redis://... or one worker to use the /__mock__/ controls",
                }
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 409, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
