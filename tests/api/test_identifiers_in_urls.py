"""Identifiers never travel in a URL (issue 14.10): a BSN-shaped value (nine digits passing
the eleven-test) in any path segment or query parameter is refused with 400 before routing,
and the access log carries neither it nor any query string."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

import pytest
from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.testclient import TestClient

from gateway.core import urls
from gateway.core.urls import AccessLogRedaction, LogPositions

Auth = Callable[..., dict[str, str]]
BSN = "111222333"  # passes the eleven-test; a test identity
NOT_A_BSN = "111222334"  # nine digits failing it


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/cases/{BSN}",
        f"/v1/audit/entries?subject={BSN}",
        f"/v1/retention/sweeps?after=x&{BSN}=1",
        f"/v1/cases/{BSN}/retention",
        f"/zaken/{BSN}",
        f"/v1/cases/abc?q=bsn%3A{BSN}",
    ],
    ids=["path", "query-value", "query-key", "nested-path", "page", "encoded"],
)
def test_a_bsn_in_the_url_is_refused_before_routing(
    client: TestClient, auth: Auth, url: str
) -> None:
    response = client.get(url, headers=auth("u-centraal", "privacy-officer"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/identifier-in-url")
    assert BSN not in response.text


def test_nine_digits_failing_the_eleven_test_are_routed_as_usual(
    client: TestClient, auth: Auth
) -> None:
    response = client.get(f"/v1/cases/{NOT_A_BSN}", headers=auth("u-centraal", "casemanager"))
    assert response.status_code == 404, response.text  # routed: no such case


def test_even_an_unauthenticated_request_with_a_bsn_is_refused_as_such(
    client: TestClient,
) -> None:
    response = client.get(f"/v1/cases/{BSN}")
    assert response.status_code == 400


def test_the_access_log_keeps_neither_query_strings_nor_bsns() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v1/cases/{BSN}/x?name=Jan&postcode=3511AB", "1.1", 400),
        None,
    )
    assert AccessLogRedaction().filter(record)
    line = record.getMessage()
    assert BSN not in line
    assert "Jan" not in line
    assert "3511AB" not in line
    assert "/v1/cases/*********/x?[query redacted]" in line
    plain = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/health/live", "1.1", 200), None,
    )  # fmt: skip
    AccessLogRedaction().filter(plain)
    assert "/v1/health/live HTTP/1.1" in plain.getMessage()


UUID_WITH_A_BSN_RUN = f"0f1e2d3c-4b5a-4968-8776-a{BSN}ab"  # a case id, as a UUID may be


def test_a_uuid_whose_digits_pass_the_eleven_test_is_routed_as_an_identifier(
    client: TestClient, auth: Auth
) -> None:
    """A random UUID holds a nine-digit run passing the eleven-test about once in 250 (CI
    once refused the page of a just-planned meeting for it); it is an identifier, not a BSN.
    The same run on its own, or beside a UUID, is still refused."""
    headers = auth("u-centraal", "casemanager")
    assert client.get(f"/v1/cases/{UUID_WITH_A_BSN_RUN}", headers=headers).status_code == 404
    assert client.get(f"/v1/cases/abc{BSN}", headers=headers).status_code == 400
    # A hex run of another length is no identifier of ours: a BSN at its end still counts.
    assert client.get(f"/v1/cases/{'a' * 31}{BSN}", headers=headers).status_code == 400
    assert client.get(f"/v1/cases/{UUID_WITH_A_BSN_RUN}/{BSN}", headers=headers).status_code == 400
    assert client.get(f"/v1/cases/{UUID_WITH_A_BSN_RUN}-{BSN}", headers=headers).status_code == 400


def test_the_access_log_keeps_a_uuid_and_masks_a_bsn_beside_it() -> None:
    from gateway.core.urls import redact_url

    assert redact_url(f"/zaken/{UUID_WITH_A_BSN_RUN}/{BSN}?q=1") == (
        f"/zaken/{UUID_WITH_A_BSN_RUN}/*********?[query redacted]"
    )


def _refused_as_identifier(client: TestClient, auth: Auth, url: str) -> bool:
    response = client.get(url, headers=auth("u-centraal", "privacy-officer"))
    kind = response.json().get("type", "") if response.status_code >= 400 else ""
    return str(kind).endswith("/identifier-in-url")


@pytest.mark.parametrize(
    "written", ["111.222.333", "111 222 333", "111-222-333", "1112 22 333", "1112.22.333"]
)
def test_a_bsn_written_with_dots_spaces_or_dashes_is_refused_too(
    client: TestClient, auth: Auth, written: str
) -> None:
    """As a person pastes it into a GET search field (the privacy pages' 'Zaaknummer'): the
    form sends it in the query string, where browser history and proxy logs keep it."""
    for query in (quote(written), written.replace(" ", "+")):
        assert _refused_as_identifier(client, auth, f"/v1/audit/entries?q={query}"), query
        assert _refused_as_identifier(client, auth, f"/zaken/{quote(written)}"), query


def test_formatted_digits_glued_to_letters_or_failing_the_eleven_test_are_routed(
    client: TestClient, auth: Auth
) -> None:
    """Positive controls: the same shapes that are no BSN reach the routes."""
    for written in ("111.222.334", "2026-12-03", "111 222 3334", "x111-222-333"):
        assert not _refused_as_identifier(client, auth, f"/v1/cases/{quote(written)}"), written
        assert not _refused_as_identifier(client, auth, f"/v1/audit/entries?q={quote(written)}")


def test_the_access_log_masks_a_formatted_bsn() -> None:
    from gateway.core.urls import redact_url

    assert redact_url("/zaken/111.222.333/x") == "/zaken/*********/x"
    assert redact_url("/zaken/111%20222%20333") == "/zaken/*********"


BSN_WITHOUT_ITS_ZERO = "11122237"  # 011122237 passes the eleven-test: kept as a number
EIGHT_FAILING = "11122238"  # 011122238 fails it


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/cases/{BSN_WITHOUT_ITS_ZERO}",
        f"/v1/audit/entries?subject={BSN_WITHOUT_ITS_ZERO}",
        f"/zaken/x-{BSN_WITHOUT_ITS_ZERO}",
    ],
    ids=["path", "query-value", "page"],
)
def test_a_bsn_written_without_its_leading_zero_is_refused_too(
    client: TestClient, auth: Auth, url: str
) -> None:
    """Eight digits are a BSN below 100000000 as a spreadsheet keeps it, and the gateway
    reads them so everywhere else (``normalise_bsn``, the request id's filter: review10)."""
    assert _refused_as_identifier(client, auth, url), url


def test_eight_digits_that_are_no_bsn_or_part_of_a_longer_run_are_routed(
    client: TestClient, auth: Auth
) -> None:
    """Positive controls: eight digits failing the eleven-test with the zero put back, and
    the same eight digits inside a ten-digit run (a time stamp), reach the routes."""
    for url in (
        f"/v1/cases/{EIGHT_FAILING}",
        f"/v1/audit/entries?q={EIGHT_FAILING}",
        f"/v1/audit/entries?since=17{BSN_WITHOUT_ITS_ZERO}",
    ):
        assert not _refused_as_identifier(client, auth, url), url


def test_the_access_log_masks_a_bsn_without_its_leading_zero() -> None:
    from gateway.core.urls import redact_url

    assert redact_url(f"/zaken/{BSN_WITHOUT_ITS_ZERO}/x") == "/zaken/*********/x"
    assert redact_url(f"/zaken/{EIGHT_FAILING}/x") == f"/zaken/{EIGHT_FAILING}/x"


LOG_POSITION = "10000008"  # an entry index / tree size whose digits pass the eleven-test


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/audit/receipts/{LOG_POSITION}",
        f"/v1/audit/receipts/{BSN}",
        f"/v1/audit/consistency-proof?first=1&second={LOG_POSITION}",
        f"/v1/audit/consistency-proof?first={BSN}&second={BSN}",
        f"/privacy/verstrekkingen?ouder={LOG_POSITION}",
        f"/privacy/weigeringen?nieuwer={BSN}&ouder=-1",
    ],
    ids=["receipt-8", "receipt-9", "proof-8", "proof-9", "page-older", "page-newer"],
)
def test_a_position_in_the_audit_log_is_routed_whatever_its_digits(
    client: TestClient, auth: Auth, url: str
) -> None:
    """A log of tens of millions of entries has indices and tree sizes of eight and nine
    digits, one in eleven passing the eleven-test: a receipt or a proof is never refused for
    them (review11 N2). The route answers for itself (a 404 for an entry not in the log)."""
    assert not _refused_as_identifier(client, auth, url), url


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/audit/receipts/x{BSN}",
        f"/v1/audit/receipts/{BSN}/{BSN}",
        f"/v1/audit/consistency-proof?first=1&second=1&q={BSN}",
        f"/v1/audit/consistency-proof?first=1&second={BSN_WITHOUT_ITS_ZERO}x",
        f"/v1/audit/entries?first={BSN}",
        f"/privacy/verstrekkingen?ouder=1&partner={BSN}",
        f"/v1/cases/{LOG_POSITION}",
    ],
)
def test_a_bsn_beside_or_outside_a_log_position_is_still_refused(
    client: TestClient, auth: Auth, url: str
) -> None:
    """Positive controls: only the log positions themselves, and only as plain numbers, are
    taken out before the check."""
    assert _refused_as_identifier(client, auth, url), url


def test_the_exempt_positions_are_the_routes_marked_ones() -> None:
    """One source of truth: the guard reads the positions from the routes' ``LOG_POSITION``
    marks (a route added with a marked parameter is exempt, nothing else lists it), through
    FastAPI's included routers and their prefixes; an unmarked integer is checked."""
    outer = APIRouter()
    inner = APIRouter()

    @inner.get("/entries/{index}")
    def entry(index: Annotated[int, Path(), urls.LOG_POSITION]) -> None: ...

    @inner.get("/pages")
    def pages(
        before: Annotated[int | None, Query(alias="voor"), urls.LOG_POSITION] = None,
        size: Annotated[int | None, Query()] = None,
    ) -> None: ...

    outer.include_router(inner, prefix="/log")
    app = FastAPI()
    app.include_router(outer, prefix="/v9")
    positions = LogPositions.of_routes(app.router.routes)
    assert positions.without(f"/v9/log/entries/{BSN}", "") == ("/v9/log/entries/", "")
    assert positions.without(f"/v9/log/entries/{BSN}/", "") == ("/v9/log/entries//", "")
    assert positions.without(f"/v9/log/entries/x{BSN}", "")[0].endswith(BSN)
    assert positions.without("/v9/log/pages", f"voor={BSN}&size={BSN}") == (
        "/v9/log/pages",
        f"size={BSN}",
    )
    assert positions.without("/v9/log/pages", f"before={BSN}")[1] == f"before={BSN}"
    assert LogPositions.of_routes(FastAPI().router.routes).without(
        f"/v9/log/entries/{BSN}", ""
    ) == (
        f"/v9/log/entries/{BSN}",
        "",
    )
