"""The framework's share of a request, in isolation (issue 20, docs/performance.md).

Three probes, CPU µs per request, min / median / max over 7 batches:

* ``read``: the whole app (every middleware, routing, the route and its response) serving the
  mediated read with ``UnitOfWork.run`` stubbed to return a body at once: what the event loop
  spends per read besides the hop and the hot work (docs/performance.md, "The framework in
  isolation");
* ``middleware``: the app's own middlewares (``app.user_middleware``) around a stub endpoint
  that answers 200 with a two-byte JSON body, for the mediated read's path and headers;
* ``routing``: the app router's dispatch of a path up to the matched route's ``handle``
  (stubbed, so no dependency or endpoint runs), for the mediated read and three others.

No database, no server: run it in a worktree to compare two versions of the code one after
the other (``--requests`` per batch, default ``$N`` or 10,000). Writes framework.json to
bench/results (``$KETENPOORT_BENCH_RESULTS``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.routing import APIRoute  # noqa: E402
from goals import host, results_path, spread  # noqa: E402
from starlette.routing import Route  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.auth.deps import UnitOfWork  # noqa: E402
from gateway.config import Settings  # noqa: E402

N = int(os.environ.get("N", "10000"))  # the default of --requests
READ = "/v1/information-requests/0b6c3a0e-1a4f-4f63-9d7e-2a4c1f0e9b11/answers"
PATHS = (READ, "/v1/health/live", "/v1/cases/0b6c3a0e-1a4f-4f63-9d7e-2a4c1f0e9b11", "/zaken")
HEADERS = [
    (b"host", b"testserver"),
    (b"authorization", b"Bearer " + b"x" * 400),
    (b"accept", b"*/*"),
    (b"user-agent", b"bench"),
]


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": HEADERS,
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    pass


async def _stub(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


def _probe(name: str, one: Callable[[], Awaitable[None]], requests: int) -> list[float]:
    async def batch(n: int) -> None:
        for _ in range(n):
            await one()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(batch(500))
    runs = []
    for _ in range(7):
        started = time.process_time()
        loop.run_until_complete(batch(requests))
        runs.append((time.process_time() - started) / requests * 1e6)
    print(
        f"{name}: min {min(runs):.1f} median {statistics.median(runs):.1f} "
        f"max {max(runs):.1f} us/request (CPU)"
    )
    loop.close()
    return runs


async def _answered(self: UnitOfWork, work: Any) -> bytes:
    return b'{"values":[]}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=N, help="requests per batch")
    requests = parser.parse_args().requests
    app = create_app(Settings())
    sent: list[int] = []

    async def record(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    UnitOfWork.run = _answered  # type: ignore[method-assign,assignment]
    probes: dict[str, list[float]] = {}
    probes["read"] = _probe(
        "read", lambda: app({**_scope(READ), "app": app}, _receive, record), requests
    )
    assert set(sent) == {200}, set(sent)
    stack: Any = _stub
    for cls, args, kwargs in reversed(app.user_middleware):
        stack = cls(stack, *args, **kwargs)
    print("middlewares:", ", ".join(m.cls.__name__ for m in app.user_middleware))
    probes["middleware"] = _probe(
        "middleware", lambda: stack(_scope(READ), _receive, _send), requests
    )

    matched: list[str] = []

    async def handle(self: Route, scope: Any, receive: Any, send: Any) -> None:
        matched.append(self.path)

    APIRoute.handle = handle  # type: ignore[method-assign]
    Route.handle = handle  # type: ignore[method-assign]  # a plain route (the read's)
    for path in PATHS:
        probes[f"routing {path}"] = _probe(
            f"routing {path[:48]}",
            lambda path=path: app.router.app({**_scope(path), "app": app}, _receive, _send),
            requests,
        )
        print(f"  -> {matched[-1]}")
    results = {
        "benchmark": "framework",
        "requests_per_batch": requests,
        "cpu_us_per_request": {name: spread(runs, 1) for name, runs in probes.items()},
        "middlewares": [m.cls.__name__ for m in app.user_middleware],
        "host": host(),
    }
    out = results_path("framework.json")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
