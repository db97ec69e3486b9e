"""What the server puts around the app on the command line's behalf: the controls refused when
workers do not share state, and the filter that keeps query-string keys out of uvicorn's log."""

from __future__ import annotations

import json
import logging
from typing import Any

from mockserver.state.journal import redacted_target


class ControlsRefused:
    """``--workers N --state memory``: each worker has its own state, so changing or reading it through
    one worker would mislead; the /__mock__/ controls answer 409 (the index and health still answer)."""

    OPEN = frozenset({"/__mock__", "/__mock__/", "/__mock__/health"})

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/__mock__/") and path not in self.OPEN:
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


class RedactQuerySecrets(logging.Filter):
    """Keeps a key passed in a query string (``?api_key=...``) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redacted_target(record.args[2]), *record.args[3:])
        return True
