"""The published OpenAPI document in the form the NL API Design Rules (Logius) ask for.

FastAPI generates the document from the routes; three things it cannot say by itself are added
here, each a rule of the Logius linter (tools/spectral/, run by tests/standards/):

* ``servers``: the API's base URL carries the major version (``/core/uri-version``), and the
  paths are written relative to it, as OpenAPI resolves them (``/v1`` + ``/cases``).
* ``API-Version`` on every response (``/core/version-header``): the gateway's middleware
  (gateway/core/edge.py) sends it on each one, so the document says so on each one.
* A nullable value with a format (a date, a date-time) is written ``type: [string, "null"]``
  with the format beside it, OAS 3.1's own form, instead of pydantic's ``anyOf`` with null,
  where a reader of the property (the linter, code generators) does not find the format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI

from gateway.core.headers import API_VERSION

VERSION_HEADER = "API-Version"
_VERSION_HEADER_REF = {"$ref": f"#/components/headers/{VERSION_HEADER}"}
_VERSION_HEADER = {
    "description": "The full version of the API that answered (NL API Design Rules).",
    "required": True,
    "schema": {"type": "string", "example": API_VERSION},
}
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
# Keywords that constrain only a string: null satisfies them, so folding ``null`` into ``type``
# beside them accepts exactly what the anyOf accepted.
_STRING_KEYWORDS = frozenset({"type", "format", "pattern", "minLength", "maxLength"})


def install_openapi(app: FastAPI, *, base_path: str, path_order: Sequence[str] = ()) -> None:
    """Serve FastAPI's document for ``app`` in the NL API Design Rules form. ``path_order``
    (full paths) is the order the document lists its paths in, whatever order the app tries
    its routes in; paths not named keep FastAPI's order, after those named."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            place = {path: index for index, path in enumerate(path_order)}
            paths = document.get("paths", {})
            ordered = sorted(paths, key=lambda path: place.get(path, len(place)))
            document = {**document, "paths": {path: paths[path] for path in ordered}}
            app.openapi_schema = conform(document, base_path=base_path)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def conform(document: dict[str, Any], *, base_path: str) -> dict[str, Any]:
    """The document with servers, the version header and nullable formats (see module doc)."""
    document = {**document, "servers": [{"url": base_path, "description": "this gateway"}]}
    document["paths"] = {
        _relative(path, base_path): _with_version_header(item)
        for path, item in document.get("paths", {}).items()
    }
    components = document.setdefault("components", {})
    components.setdefault("headers", {})[VERSION_HEADER] = _VERSION_HEADER
    result: dict[str, Any] = _nullable_formats(document)
    return result


def _relative(path: str, base_path: str) -> str:
    if not path.startswith(base_path + "/"):
        raise ValueError(f"{path} is published but not under the server's base path {base_path}")
    return path[len(base_path) :]


def _with_version_header(path_item: dict[str, Any]) -> dict[str, Any]:
    for method, operation in path_item.items():
        if method not in _HTTP_METHODS:
            continue
        responses = operation.get("responses", {})
        for response in responses.values():
            response.setdefault("headers", {})[VERSION_HEADER] = _VERSION_HEADER_REF
        operation["responses"] = dict(sorted(responses.items()))
    return path_item


def _nullable_formats(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_formats(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_formats(value) for key, value in node.items()}
    branches = node.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        (value,) = [branch for branch in branches if branch != {"type": "null"}]
        if (
            isinstance(value, dict)
            and "format" in value
            and value.get("type") == "string"
            and set(value) <= _STRING_KEYWORDS
        ):
            del node["anyOf"]
            node = {**value, **node, "type": ["string", "null"]}
    return node
