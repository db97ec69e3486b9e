"""The vendor app's own per-request CPU cost, in-process: this tree against another (``--base``).

Two requests of ``make bench``, as uvicorn hands them to the app (its scope, wrk's headers): Butter's
documented request (``doc``) and page 2 of ``status=assigned&page_size=20`` by cursor (``page2``, the
default fixtures). For each it times:

- ``reply``: the synchronous ``VendorApp.reply(scope)`` (route, drift check, auth, limits, faults, the
  cached answer, the journal entry);
- ``asgi``: the whole ``await app(scope, receive, send)`` of ``create_app()`` behind ``serve``'s request
  log (text lines to a null stream), the sends a no-op; ``ref`` is the same call to the reference
  (``bench/reference_app.py``: Starlette, one route, the same body precomputed), for scale;
- the slices, each alone: ``journal`` (one ``Journal.record``), ``auth`` (``authenticate`` of the parsed
  headers), ``headers`` (``route_path`` and ``request_headers``), ``drift`` (the drift check with no
  drift on), ``answer`` (``Endpoint.answer``, cached), ``log`` (one request-log line).

CPU time (``time.process_time``) per call: the minimum of ``--runs`` runs of ``--calls`` calls (the
minimum filters out a busy neighbour), both trees interleaved run by run in one process, the garbage
collector on. ``--base DIR`` is another checkout (its ``mockserver`` is imported under its own modules,
swapped in and out of ``sys.modules``); without it, only this tree is timed.

    python bench/pipeline.py --base /tmp/base --runs 15
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SLICES = ("reply", "asgi", "journal", "auth", "headers", "drift", "answer", "log")
HEADERS = [
    (b"host", b"127.0.0.1:8000"), (b"x-api-key", b"bk_test_butter"), (b"x-organization-id", b"org_test")
]  # fmt: skip


class _Null:
    def write(self, data: bytes, /) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _scope(path: str, query: bytes) -> dict[str, Any]:
    """A scope as uvicorn (httptools) builds it for a request from wrk."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 51234),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": list(HEADERS),
    }


def _new(data: bytes) -> bytes:
    return bytes(bytearray(data))


def _fresh(scope: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """``n`` copies of ``scope`` with header and query bytes of their own, as uvicorn makes for each
    request (so no hash is found already computed on them)."""
    return [
        {
            **scope,
            "query_string": _new(scope["query_string"]),
            "headers": [(_new(name), _new(value)) for name, value in scope["headers"]],
        }
        for _ in range(n)
    ]


def _load(tree: Path) -> dict[str, Any]:
    """The modules of ``tree``'s mockserver, imported afresh (any other tree's taken out first)."""
    for name in [name for name in sys.modules if name == "mockserver" or name.startswith("mockserver.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        names = ("mockserver.serving.app", "mockserver.serving.accesslog", "mockserver.engine.pipeline")
        modules: dict[str, Any] = {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(tree))
    modules["sys.modules"] = {
        name: module for name, module in sys.modules.items() if name.split(".")[0] == "mockserver"
    }
    return modules


class Tree:
    """One tree's emulator, ready to time (its modules swapped into ``sys.modules`` while it runs)."""

    def __init__(self, name: str, tree: Path) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()  # one per tree: the request log's flush timer runs on it
        self.modules = _load(tree)
        self.activate()
        serving = self.modules["mockserver.serving.app"]
        accesslog = self.modules["mockserver.serving.accesslog"]
        self.pipeline = self.modules["mockserver.engine.pipeline"]
        self.app = serving.create_app()
        self.logged = accesslog.AccessLog(self.app, "text", _Null())
        self.vendor = self.app.state.emulator.apps["butter"]
        self.clock = accesslog._Clock()
        self.text_line = accesslog.text_line
        doc = _scope("/api/phone-numbers", b"")
        first = self.vendor.reply({**doc, "query_string": b"status=assigned&page_size=20"})
        cursor = __import__("orjson").loads(first.body)["pagination"]["next_cursor"]
        query = f"status=assigned&page_size=20&cursor={cursor}".encode()
        self.requests = {"doc": doc, "page2": _scope("/api/phone-numbers", query)}

    def activate(self) -> None:
        for name in [name for name in sys.modules if name.split(".")[0] == "mockserver"]:
            del sys.modules[name]
        sys.modules.update(self.modules["sys.modules"])

    def timers(self, request: str) -> dict[str, Callable[[int], float]]:
        """Per slice, a function that makes ``n`` calls and returns the CPU seconds they took."""
        vendor, pipeline = self.vendor, self.pipeline
        inner = self.requests[request]
        outer = {**inner, "path": "/butter" + inner["path"], "raw_path": b"/butter" + inner["raw_path"]}
        mounted = {**inner, "root_path": "/butter", "path": outer["path"], "raw_path": outer["raw_path"]}
        logged, clock, text_line = self.logged, self.clock, self.text_line
        path = pipeline.route_path(inner)
        headers = pipeline.request_headers(inner, vendor.read_headers)
        who = vendor.tenancy.authenticator.authenticate(headers)
        endpoint = vendor.endpoints[path]
        journal, vendor_id, secrets = vendor.journal, vendor.spec.id, vendor.secret_headers
        drift_check = _drift_check(vendor)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        def reply(n: int) -> float:
            scopes = _fresh(mounted, n)
            started = time.process_time()
            for scope in scopes:
                vendor.reply(scope)
            return time.process_time() - started

        def asgi(n: int) -> float:
            scopes = _fresh(outer, n)

            async def calls() -> float:
                started = time.process_time()
                for scope in scopes:
                    await logged(scope, receive, send)
                return time.process_time() - started

            return self.loop.run_until_complete(calls())

        def journal_slice(n: int) -> float:
            scopes = _fresh(mounted, n)
            started = time.process_time()
            for scope in scopes:
                journal.record(vendor_id, who.tenant, scope, path=path, status=200, secret_headers=secrets)
            return time.process_time() - started

        def auth(n: int) -> float:
            presented = [{name: value.encode().decode() for name, value in headers.items()} for _ in range(n)]
            started = time.process_time()
            for each in presented:
                vendor.tenancy.authenticator.authenticate(each)
            return time.process_time() - started

        def header_slice(n: int) -> float:
            scopes = _fresh(mounted, n)
            read = _header_reader(vendor, pipeline)
            started = time.process_time()
            for scope in scopes:
                pipeline.route_path(scope)
                read(scope)
            return time.process_time() - started

        def drift(n: int) -> float:
            started = time.process_time()
            for _ in range(n):
                drift_check(headers, path)
            return time.process_time() - started

        def answer(n: int) -> float:
            queries = [_new(inner["query_string"]) for _ in range(n)]
            started = time.process_time()
            for query in queries:
                endpoint.answer(who, query)
            return time.process_time() - started

        def log(n: int) -> float:
            scopes = _fresh(outer, n)
            started = time.process_time()
            for scope in scopes:
                text_line(scope, 200, 0.0004, clock)
            return time.process_time() - started

        return {
            "reply": reply, "asgi": asgi, "journal": journal_slice, "auth": auth, "headers": header_slice,
            "drift": drift, "answer": answer, "log": log,
        }  # fmt: skip


def _reference_timer(app: Any, tree: Tree, request: str) -> Callable[[int], float]:
    inner = tree.requests[request]
    outer = {**inner, "path": "/butter" + inner["path"], "raw_path": b"/butter" + inner["raw_path"]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    def ref(n: int) -> float:
        scopes = _fresh(outer, n)

        async def calls() -> float:
            started = time.process_time()
            for scope in scopes:
                await app(scope, receive, send)
            return time.process_time() - started

        return tree.loop.run_until_complete(calls())

    return ref


def _header_reader(vendor: Any, pipeline: Any) -> Callable[[dict[str, Any]], object]:
    """How this tree's vendor app reads the headers it needs."""
    if hasattr(vendor, "_read_names"):
        return lambda scope: pipeline.named_headers(scope, vendor._read_names)
    return lambda scope: pipeline.request_headers(scope, vendor.read_headers)


def _drift_check(vendor: Any) -> Callable[[dict[str, str], str], object]:
    """The drift check a request pays with no drift on, as this tree's ``_reply`` makes it."""
    preferred_drifts = sys.modules["mockserver.drifts"].preferred_drifts
    if hasattr(vendor.faults, "drifting"):  # this tree's: two attribute reads while no drift is on

        def quiet(headers: dict[str, str], path: str) -> object:
            prefer = headers.get("prefer")
            if vendor.faults.drifting or vendor.standing_drifts or (prefer and "drift" in prefer):
                asked = preferred_drifts(prefer) if prefer and "drift" in prefer else []
                return vendor._early_drifts(path, asked)
            return None

        return quiet

    def check(headers: dict[str, str], path: str) -> object:
        prefer = headers.get("prefer")
        asked = preferred_drifts(prefer) if prefer and "drift" in prefer else []
        return vendor._early_drifts(path, asked)

    return check


def _reference(body: bytes) -> Callable[[dict[str, Any]], Any]:
    """``bench/reference_app.py``'s app, for this body (built here: that module reads its body at import)."""
    from starlette.applications import Starlette  # noqa: PLC0415 - only for the reference
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import Response  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    async def endpoint(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/butter/api/phone-numbers", endpoint)])  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description="CPU per request of the vendor app, in-process")
    parser.add_argument("--base", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--slices", default=",".join(SLICES), help="comma-separated, of " + ", ".join(SLICES))
    arguments = parser.parse_args()
    trees = [Tree("this", ROOT)]
    if arguments.base is not None:
        trees.insert(0, Tree("base", arguments.base.resolve()))
    slices = arguments.slices.split(",")
    best: dict[tuple[str, str, str], float] = {}
    timers = {}
    for tree in trees:
        tree.activate()
        timers[tree.name] = {request: tree.timers(request) for request in tree.requests}
    if "asgi" in slices:
        slices.append("ref")
        for request in ("doc", "page2"):
            answered = trees[-1].vendor.reply({**trees[-1].requests[request], "headers": list(HEADERS)})
            for tree in trees:
                timers[tree.name][request]["ref"] = _reference_timer(_reference(answered.body), tree, request)
    for _ in range(arguments.runs):
        for request in ("doc", "page2"):
            for name in slices:
                for tree in trees:
                    tree.activate()
                    timer = timers[tree.name][request][name]
                    timer(50)  # warm
                    seconds = timer(arguments.calls) / arguments.calls * 1e6
                    key = (tree.name, request, name)
                    best[key] = min(best.get(key, float("inf")), seconds)
    header = f"{'request':8} {'slice':8}" + "".join(f" {tree.name + ' µs':>10}" for tree in trees)
    print(header)
    for request in ("doc", "page2"):
        for name in slices:
            row = "".join(f" {best[(tree.name, request, name)]:10.2f}" for tree in trees)
            print(f"{request:8} {name:8}{row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
