"""A cursor the gateway did not sign is a 400, and so is one whose key holds a lone surrogate
or NUL (review8c F2).

The cursor's check was an unkeyed SHA-256, so anyone could build one that passed; with
``"x\\ud800"`` or ``"x\\u0000y"`` as the id of its sort key it reached the database: a 500
on ``/v1/cases``, ``/v1/reports`` and ``/v1/meetings`` (SQLite cannot encode a surrogate,
PostgreSQL refuses NUL). Now the check is an HMAC under a key derived from the blind-index
key, and the key's strings must be printable text. For every paged list (and the two pages
that take a cursor): the old unkeyed form, of a real position and with hostile ids, is a
400 (a 404 page); a hostile key signed with the gateway's own key is a 400 too; the control:
the cursors the lists give out page on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext
from tests.cases.cursors import signed, unkeyed
from tests.cases.history import History, seed_history
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
COVENANT = "rijswijk-woonoverlast"
MAYOR = ("gemeente-rijswijk", "casemanager")
_TO_HEX = str.maketrans("abcdefghijklmnop", "0123456789abcdef")
MAC_BYTES = 12

LISTS = {
    "/v1/cases": f"cases|{COVENANT}|{MAYOR[0]}|all",
    "/v1/reports": f"reports|{COVENANT}|{MAYOR[0]}",
    "/v1/meetings": "meetings|" + json.dumps([COVENANT, MAYOR[0], None]),
    "/v1/deadlines": f"deadlines|{COVENANT}|{MAYOR[0]}",
}
HOSTILE = {"lone surrogate": "x\ud800", "NUL": "x\x00y", "control": "x\x1fy"}


@pytest.fixture
def history(context: GatewayContext, runtime: CaseRuntime) -> History:
    return seed_history(
        context.engine,
        runtime.workflow(COVENANT),
        cases=40,
        now=datetime.now(UTC),
        years=1,
        open_share=0.5,
    )


def _next(body: dict[str, Any]) -> str:
    return str(body["_links"]["next"]["href"].split("cursor=")[1])


def _key(cursor: str) -> list[str]:
    data = bytes.fromhex(cursor.translate(_TO_HEX))
    return list(json.loads(data[:-MAC_BYTES].decode()))


def _refused(response: Any, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", what
    assert "cursor" in response.json()["detail"], what


def _variants(key: list[str]) -> Iterator[tuple[str, list[str]]]:
    for label, hostile in HOSTILE.items():
        yield f"{label} as the id", [*key[:-1], hostile]
        yield f"{label} as the first string", [hostile, *key[1:]]


@pytest.mark.parametrize("path", sorted(LISTS))
def test_a_cursor_the_gateway_did_not_sign_is_refused_and_its_own_page_on(
    client: TestClient, auth: Auth, context: GatewayContext, history: History, path: str
) -> None:
    query = LISTS[path]
    first = client.get(f"{path}?limit=2", headers=auth(*MAYOR))
    assert first.status_code == 200, first.text
    cursor = _next(first.json())
    # Control: the list's own cursors page on, twice.
    second = client.get(f"{path}?limit=2&cursor={cursor}", headers=auth(*MAYOR))
    assert second.status_code == 200, second.text
    third = client.get(f"{path}?limit=2&cursor={_next(second.json())}", headers=auth(*MAYOR))
    assert third.status_code == 200, third.text
    key = _key(cursor)
    # Control: the gateway's own signature over the same position is the list's cursor.
    assert signed(context, query, key) == cursor

    forged = {"the old unkeyed form of a real position": unkeyed(query, key)}
    forged |= {f"unkeyed, {label}": unkeyed(query, variant) for label, variant in _variants(key)}
    # Signed with the gateway's key (what no client can do): the strings are checked too.
    forged |= {
        f"signed, {label}": signed(context, query, variant) for label, variant in _variants(key)
    }
    for what, value in forged.items():
        _refused(client.get(f"{path}?limit=2&cursor={value}", headers=auth(*MAYOR)), what)


def test_the_pages_cursors_refuse_a_forged_one_as_a_missing_page(
    app: FastAPI, client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    """``/zaken?na=`` and ``/overleggen?na=`` take the API's cursors (the same lists): a forged
    one is the Dutch 404 page, as any cursor the list did not give out."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as browser:
        sign_in(browser, *MAYOR)
        for path, api in (("/zaken", "/v1/deadlines"), ("/overleggen", "/v1/meetings")):
            query = LISTS[api]
            own = _next(client.get(f"{api}?limit=2", headers=auth(*MAYOR)).json())
            # Control: the list's own cursor is a page.
            shown = browser.get(f"{path}?na={own}")
            assert shown.status_code == 200, (path, shown.text)
            key = _key(own)
            for label, variant in _variants(key):
                for made in (unkeyed(query, variant), signed(context, query, variant)):
                    answer = browser.get(f"{path}?na={made}")
                    assert answer.status_code == 404, (path, label, answer.status_code)
                    assert answer.headers["content-type"].startswith("text/html")
            assert browser.get(f"{path}?na={unkeyed(query, key)}").status_code == 404
