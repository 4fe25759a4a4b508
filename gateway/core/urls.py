"""No personal identifiers in URLs (NL API Design Rules; issue 14.10).

A URL ends up where request bodies do not: access logs, proxies' logs, browser history,
``Referer`` headers. A BSN-shaped value (nine digits passing the eleven-test, or eight that
pass it with the leading zero a number drops put back, as ``normalise_bsn`` reads them)
anywhere in the path or the query string is refused with 400 problem+json before routing,
and the access log never carries query strings (nor a BSN-shaped path segment) at all.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi import params
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import Scope

from gateway.crypto.blind_index import is_valid_bsn, restore_leading_zero

#: Nine digits, or eight (a BSN below 100000000 written as a number), not part of a longer
#: run of digits (review10: the request id's filter read eight, this one did not).
_BSN_DIGITS = re.compile(r"(?<![0-9])[0-9]{8,9}(?![0-9])")
#: The gateway's own identifiers in URLs, in exactly their shapes: UUIDs (cases, meetings,
#: requests; with or without dashes) and SHA-256 hex digests (audit entries, checkpoints).
#: A random UUID holds a nine-digit run passing the eleven-test about once in 250; that run
#: is part of an identifier, not a BSN. Any other hex run is no identifier of ours.
_IDENTIFIER = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{64}|[0-9a-fA-F]{32})"
    r"(?![0-9A-Za-z])"
)
#: A BSN as people write it: 3-3-3 or 4-2-3 digits with dots, spaces or dashes between
#: (``123.456.782``, ``1234 56 782``), e.g. pasted into a page's search field (a GET form).
_FORMATTED = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{3}([. -])[0-9]{3}\1[0-9]{3}|[0-9]{4}([. -])[0-9]{2}\2[0-9]{3})"
    r"(?![0-9A-Za-z])"
)
_MASK = "*********"


def _bsn_runs(text: str) -> list[re.Match[str]]:
    """The eight- and nine-digit runs of ``text`` outside identifiers, and the BSN-formatted
    groups, that pass the eleven-test; in the order they occur."""
    plain = [
        match
        for match in _BSN_DIGITS.finditer(text)
        if is_valid_bsn(restore_leading_zero(match.group()))
    ]
    if plain:  # only then does it matter where the identifiers are
        identifiers = [match.span() for match in _IDENTIFIER.finditer(text)]
        plain = [
            match
            for match in plain
            if not any(start <= match.start() and match.end() <= end for start, end in identifiers)
        ]
    formatted = [
        match
        for match in _FORMATTED.finditer(text)
        if is_valid_bsn(re.sub(r"[^0-9]", "", match.group()))
    ]
    return sorted(plain + formatted, key=lambda match: match.start())


def carries_bsn(text: str) -> bool:
    return bool(_bsn_runs(text))


class LogPosition:
    """The mark of a route parameter that holds a position in the audit log:
    ``Annotated[int, Path(...) or Query(...), LOG_POSITION]``. Such a count reaches eight
    and nine digits in a log of tens of millions of entries and passes the eleven-test about
    once in eleven, as a BSN's digits do (review11 N2): the receipt's entry index, the tree
    sizes of a consistency proof, the privacy pages' cursors. The URL guard takes exactly
    the parameters so marked out before its check (:class:`LogPositions`, read from the
    app's routes): a new route with a position in its URL marks it, nothing else lists it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "LOG_POSITION"


LOG_POSITION = LogPosition()

#: Only digits (a cursor may be -1) count as a position; anything else is checked.
_LOG_POSITION = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class LogPositions:
    """Where the app's URLs carry a position in the audit log: per route with a marked path
    parameter, its path pattern and the parameter; per path, the marked query parameters."""

    paths: tuple[tuple[re.Pattern[str], str], ...] = ()
    queries: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of_routes(cls, routes: Iterable[BaseRoute]) -> LogPositions:
        """The parameters marked :data:`LOG_POSITION` in the routes' endpoints."""
        paths: list[tuple[re.Pattern[str], str]] = []
        queries: dict[str, frozenset[str]] = {}
        for path, endpoint in _endpoints(routes):
            marked = _marked_parameters(endpoint)
            paths += [(compile_path(path)[0], name) for kind, name in marked if kind == "path"]
            in_query = frozenset(name for kind, name in marked if kind == "query")
            if in_query:
                key = path.rstrip("/")
                queries[key] = queries.get(key, frozenset()) | in_query
        return cls(paths=tuple(paths), queries=queries)

    def without(self, path: str, query: str) -> tuple[str, str]:
        """``path`` and ``query`` with the audit log positions they carry taken out."""
        trimmed = path.rstrip("/") or path
        for pattern, name in self.paths:
            match = pattern.match(trimmed)
            if match is not None and _LOG_POSITION.fullmatch(match.group(name)):
                start, end = match.span(name)
                path = trimmed[:start] + trimmed[end:] + path[len(trimmed) :]
                break
        positions = self.queries.get(trimmed, frozenset())
        if positions and query:
            query = "&".join(
                part
                for part in query.split("&")
                if not (
                    unquote(part.partition("=")[0]) in positions
                    and _LOG_POSITION.fullmatch(unquote(part.partition("=")[2]))
                )
            )
        return path, query


def _endpoints(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Each route's full path and endpoint, through the routers FastAPI includes (whose
    routes it builds only at the first request) and their prefixes."""
    for route in routes:
        included = getattr(route, "include_context", None)
        if included is not None:
            yield from _endpoints(included.included_router.routes, prefix + included.prefix)
        elif isinstance(route, Route):
            yield prefix + route.path, route.endpoint


@functools.cache
def _marked_parameters(endpoint: Callable[..., Any]) -> tuple[tuple[str, str], ...]:
    """``(kind, name)`` of the endpoint's parameters marked :data:`LOG_POSITION`: ``path``
    or ``query``, by the FastAPI parameter beside the mark, and the name the URL uses."""
    found: list[tuple[str, str]] = []
    for name, parameter in inspect.signature(endpoint, eval_str=True).parameters.items():
        metadata = getattr(parameter.annotation, "__metadata__", ())
        if not any(isinstance(item, LogPosition) for item in metadata):
            continue
        where = [item for item in metadata if isinstance(item, params.Path | params.Query)]
        if len(where) != 1:
            raise TypeError(
                f"{endpoint.__qualname__}.{name}: LOG_POSITION marks a Path or Query parameter"
            )
        kind = "path" if isinstance(where[0], params.Path) else "query"
        found.append((kind, where[0].alias or name))
    return tuple(found)


def _url_carries_bsn(path: str, query: str, positions: LogPositions) -> bool:
    path, query = positions.without(path, query)
    if carries_bsn(path):
        return True
    if not query:
        return False
    pairs = parse_qsl(query, keep_blank_values=True)
    return any(carries_bsn(key) or carries_bsn(value) for key, value in pairs) or carries_bsn(
        unquote(query)
    )


def refuse_identifier_in_url(scope: Scope, positions: LogPositions) -> Response | None:
    """The 400 problem for a request whose path or query string carries a BSN, before routing
    (the gateway's one middleware, gateway/core/edge.py, asks); None for any other."""
    query = scope.get("query_string", b"").decode("latin-1")
    if not _url_carries_bsn(scope.get("path", ""), query, positions):
        return None
    from gateway.core.problem import problem_response

    return problem_response(
        400,
        "Bad request",
        "Personal identifiers (a BSN) do not belong in a URL; send them in the "
        "request body (POST), e.g. the access report or a report.",
        problem="identifier-in-url",
    )


def redact_url(full_path: str) -> str:
    """The path without its query string, BSN-shaped runs masked."""
    path, _, query = full_path.partition("?")
    text = unquote(path)
    for match in reversed(_bsn_runs(text)):
        text = text[: match.start()] + _MASK + text[match.end() :]
    return text + ("?[query redacted]" if query else "")


class AccessLogRedaction(logging.Filter):
    """On uvicorn's access logger: its record's third argument is the request's path with
    the query string; the log keeps the path only (query strings may carry anything)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter once on ``uvicorn.access`` (every worker builds the app)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogRedaction) for f in access.filters):
        access.addFilter(AccessLogRedaction())
