"""How the gateway is served: the uvicorn options ``ketenpoort serve`` and the tests share."""

from __future__ import annotations

from typing import Any

import uvicorn


def uvicorn_options() -> dict[str, Any]:
    """Options every gateway server runs with (``ketenpoort serve``, tests' live servers)."""
    return {"proxy_headers": True}


def server_config(app: Any, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(app, **{**uvicorn_options(), **options})
