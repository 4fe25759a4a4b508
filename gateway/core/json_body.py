"""Every JSON request body is parsed refusing duplicate keys (review6a, finding 6).

Python's ``json.loads`` (what FastAPI parses a body with) keeps the last of two equal keys:
``{"ownership": "owner-occupied", "ownership": "corporation"}`` was stored as a
corporation's dwelling, while a WAF or a partner's own log that reads the first key saw an
owner-occupied one. RFC 8259 leaves such an object's meaning to the parser; the gateway
refuses it: a 400 problem+json ``invalid-parameters`` naming the key, nothing stored.

One place: every router of the gateway has :class:`StrictJsonRoute` as its route class
(the web pages' ``PageRoute`` derives from it), whose requests parse their JSON body with
:func:`loads`. The hook (``object_pairs_hook`` on the C parser, a Python call per object)
costs a few µs per body: measured in isolation on the shared 2-core host at a load of 10-13,
+1.8 µs for an answer (4 objects, 1.97 -> 3.74 µs) and +2.8 to +5.2 µs for a report (7
objects); noise of that load is of the same order. The hot read takes no body.

The same parser refuses text no field can hold (review8c F1): a lone surrogate (the escape
``"\\ud800"``, or its raw bytes, which the parser reads "surrogatepass") anywhere in the body,
and NUL in a key. Such a string passed a plain ``str`` field and failed the database driver
(SQLite cannot encode it; PostgreSQL refuses NUL in text) or the error that quoted it: a 500
instead of a 400. NUL in a *value* is left to the fields: every clear-text field has a
pattern without control characters; free text (a description, an answer) is sealed and may
hold it. A 400 ``invalid-parameters`` naming the body, the string not quoted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of a parser that refuses an object with a key twice
    (:class:`DuplicateKey`); the adapters' JSON exports are read with it too."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


def _refuse_unencodable(value: Any) -> None:
    """Raise :class:`NotText` when a string anywhere in ``value`` (a parsed body) holds a lone
    surrogate, or a key holds NUL. An ASCII string (nearly all of them) costs one check."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if "\x00" in key:
                    raise NotText("a key holds NUL (U+0000)")
                _check_text(key)
                if isinstance(inner, (dict, list)):
                    pending.append(inner)
                elif isinstance(inner, str):
                    _check_text(inner)
        elif isinstance(item, list):
            for inner in item:
                if isinstance(inner, (dict, list)):
                    pending.append(inner)
                elif isinstance(inner, str):
                    _check_text(inner)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotText("a string holds a lone surrogate (U+D800..U+DFFF), not text") from None


class NotText(json.JSONDecodeError):
    """A string no field can hold (see the module). A ``JSONDecodeError``, so it is answered
    as a body that is not JSON: a 400 problem+json; the string itself is never quoted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)


class DuplicateKey(json.JSONDecodeError):
    """An object with a key twice. A ``JSONDecodeError``, so FastAPI answers it as it
    answers any body that is not JSON (a request validation error: 400 problem+json)."""

    def __init__(self, key: str) -> None:
        # The key, not the value, and only to the caller that sent it (never logged).
        super().__init__(f"duplicate key {json.dumps(key)}: each key may appear once", "", 0)


def loads(
    body: bytes | str,
    *,
    parse_constant: Callable[[str], Any] | None = None,
    parse_float: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads``, refusing an object with a duplicate key (:class:`DuplicateKey`) and a
    string no field can hold (:class:`NotText`). The bearer token's header and claims are
    parsed with it too (gateway/auth/service.py), with their own constant and float hooks."""
    parsed = json.loads(
        body,
        object_pairs_hook=refuse_duplicates,
        parse_constant=parse_constant,
        parse_float=parse_float,
    )
    _refuse_unencodable(parsed)
    return parsed


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose request body, when JSON, is parsed by :func:`loads`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strict_json_handler(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return strict_json_handler
