"""``GET /v1/cases`` a page at a time (NL API Design Rules, HAL style, as ``GET /v1/deadlines``):
the cases under ``_embedded.cases``, ``_links.self`` and, while more follow, ``_links.next``.
Over a seeded history of a few hundred cases with ties in the sort key at page edges; the
pages followed to the end equal the partner's whole list computed here in plain SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import or_, select, update

from gateway.cases.models import CaseFile, CaseTeamMember
from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext
from tests.cases.cursors import signed
from tests.cases.history import History, seed_history

Auth = Callable[..., dict[str, str]]
COVENANT = "rijswijk-woonoverlast"
MAYOR = ("gemeente-rijswijk", "casemanager")
POLICE = ("politie-den-haag", "wijkagent")
TIE = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def history(context: GatewayContext, runtime: CaseRuntime) -> History:
    seeded = seed_history(
        context.engine,
        runtime.workflow(COVENANT),
        cases=300,
        now=datetime.now(UTC),
        years=2,
        open_share=0.3,
    )
    # Twelve cases opened at the same moment, so that page edges fall inside a tie (the
    # order is then by id) with pages of 5 and 7.
    with context.engine.begin() as connection:
        connection.execute(
            update(CaseFile).where(CaseFile.id.in_(seeded.case_ids[100:112])).values(opened_at=TIE)
        )
        # A membership carries its case's opening moment (migration 0028), which the product
        # never changes: moved here with the case's.
        connection.execute(
            update(CaseTeamMember)
            .where(CaseTeamMember.case_id.in_(seeded.case_ids[100:112]))
            .values(case_opened_at=TIE)
        )
    return seeded


def _oracle(context: GatewayContext, partner: str, *, include_closed: bool) -> list[str]:
    """The partner's cases (lead or team), oldest first, ties by id: the whole list."""
    team = select(CaseTeamMember.case_id).where(CaseTeamMember.partner_id == partner)
    query = select(CaseFile.id).where(
        CaseFile.covenant_id == COVENANT,
        or_(CaseFile.lead_partner_id == partner, CaseFile.id.in_(team)),
    )
    if not include_closed:
        query = query.where(CaseFile.closed_at.is_(None))
    with context.session_factory() as session:
        return list(session.scalars(query.order_by(CaseFile.opened_at, CaseFile.id)))


def _follow(
    client: TestClient, headers: Callable[[], dict[str, str]], href: str
) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    next_href: str | None = href
    while next_href is not None:
        response = client.get(next_href, headers=headers())  # a token is single-use
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["_links"]["self"]["href"] == next_href
        items = body["_embedded"]["cases"]
        seen += [c["id"] for c in items]
        next_href = body["_links"].get("next", {}).get("href")
        if next_href is not None:
            assert "cursor=" in next_href
        pages += 1
    return seen, pages


@pytest.mark.parametrize("who", [MAYOR, POLICE], ids=["lead", "team-member"])
# A page per case (size 1) only over the open cases: over every case it is slow.
@pytest.mark.parametrize(
    ("size", "include_closed"),
    [(1, False), (5, True), (5, False), (7, True), (7, False), (20, True), (20, False)],
)
def test_pages_followed_to_the_end_are_the_whole_list_once(
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    history: History,
    who: tuple[str, str],
    size: int,
    include_closed: bool,
) -> None:
    flag = "true" if include_closed else "false"
    seen, pages = _follow(
        client, lambda: auth(*who), f"/v1/cases?includeClosed={flag}&limit={size}"
    )
    whole = _oracle(context, who[0], include_closed=include_closed)
    assert len(whole) > size  # more than one page, or the test shows nothing
    assert seen == whole
    assert len(seen) == len(set(seen))
    assert pages == -(-len(whole) // size)


def test_the_tie_falls_on_page_edges(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    """The twelve cases opened at one moment are split over pages of 5, in id order."""
    whole = _oracle(context, MAYOR[0], include_closed=True)
    tied = sorted(history.case_ids[100:112])
    mine = [c for c in whole if c in set(tied)]
    assert len(mine) >= 6
    first = whole.index(mine[0])
    assert whole[first : first + len(mine)] == mine  # consecutive, by id
    # Six or more consecutive items cross at least one edge of a page of 5.
    seen, _ = _follow(client, lambda: auth(*MAYOR), "/v1/cases?limit=5")
    assert seen == whole


def test_the_default_page_is_a_hundred_and_the_last_has_no_next(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    first = client.get("/v1/cases", headers=auth(*MAYOR)).json()
    assert len(first["_embedded"]["cases"]) == 100
    assert first["_links"]["self"]["href"] == "/v1/cases"
    assert "next" in first["_links"]
    whole = _oracle(context, MAYOR[0], include_closed=True)
    assert len(whole) <= 500
    last = client.get("/v1/cases?limit=500", headers=auth(*MAYOR)).json()
    assert [c["id"] for c in last["_embedded"]["cases"]] == whole
    assert "next" not in last["_links"]


def _tampered(cursor: str) -> str:
    flip = {"a": "b", "b": "a"}
    i = next(n for n in range(len(cursor) // 3, len(cursor)) if cursor[n] in flip)
    return cursor[:i] + flip[cursor[i]] + cursor[i + 1 :]


def test_a_cursor_the_list_never_gave_is_refused_as_problem_json(
    client: TestClient, auth: Auth, history: History
) -> None:
    first = client.get("/v1/cases?limit=3", headers=auth(*MAYOR)).json()
    href = first["_links"]["next"]["href"]
    cursor = href.split("cursor=")[1]
    # Positive control: the list's own cursor, on the same list and filter.
    assert client.get(f"/v1/cases?limit=3&cursor={cursor}", headers=auth(*MAYOR)).status_code == 200
    deadlines = client.get("/v1/deadlines?limit=3", headers=auth(*MAYOR)).json()
    deadline_cursor = deadlines["_links"]["next"]["href"].split("cursor=")[1]
    police_first = client.get("/v1/cases?limit=3", headers=auth(*POLICE)).json()
    police_cursor = police_first["_links"]["next"]["href"].split("cursor=")[1]
    refused = {
        "changed by hand": f"/v1/cases?cursor={_tampered(cursor)}",
        "cut short": f"/v1/cases?cursor={cursor[:-2]}",
        "of another filter": f"/v1/cases?includeClosed=false&cursor={cursor}",
        "of the deadlines": f"/v1/cases?cursor={deadline_cursor}",
        "of another partner": f"/v1/cases?cursor={police_cursor}",
        "not letters a-p": "/v1/cases?cursor=zz",
        "digits": "/v1/cases?cursor=0011",
        "odd length": "/v1/cases?cursor=abc",
        "limit 0": "/v1/cases?limit=0",
        "limit 501": "/v1/cases?limit=501",
        "limit not a number": "/v1/cases?limit=ten",
    }
    for why, url in refused.items():
        response = client.get(url, headers=auth(*MAYOR))
        assert response.status_code == 400, (why, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), why
    # And the other way round: a cases cursor is no deadlines cursor.
    response = client.get(f"/v1/deadlines?cursor={cursor}", headers=auth(*MAYOR))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    # The police's own cursor works for the police (control of "of another partner").
    own = client.get(f"/v1/cases?limit=3&cursor={police_cursor}", headers=auth(*POLICE))
    assert own.status_code == 200


def test_a_tampered_deadlines_cursor_is_refused(
    client: TestClient, auth: Auth, history: History
) -> None:
    first = client.get("/v1/deadlines?limit=3", headers=auth(*MAYOR)).json()
    cursor = first["_links"]["next"]["href"].split("cursor=")[1]
    own = client.get(f"/v1/deadlines?limit=3&cursor={cursor}", headers=auth(*MAYOR))
    assert own.status_code == 200
    response = client.get(f"/v1/deadlines?cursor={_tampered(cursor)}", headers=auth(*MAYOR))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    # Of another partner: the mayor's deadlines cursor is no cursor of the police's list.
    response = client.get(f"/v1/deadlines?limit=3&cursor={cursor}", headers=auth(*POLICE))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_cursor_signed_for_any_position_still_shows_only_the_callers_own_list(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    """Only the gateway can sign a cursor (review8c F2; tests/cases/test_forged_cursors.py);
    even so, every page is filtered by the caller: a cursor pointing before every case gives
    the police their own first page, nothing else."""
    own = client.get("/v1/cases?limit=500", headers=auth(*POLICE)).json()
    own_ids = [case["id"] for case in own["_embedded"]["cases"]]
    assert own_ids  # the control: the police have cases of their own
    query = f"cases|{COVENANT}|{POLICE[0]}|all"
    forged = signed(context, query, ["1970-01-01T00:00:00+00:00", ""])
    response = client.get(f"/v1/cases?limit=500&cursor={forged}", headers=auth(*POLICE))
    assert response.status_code == 200, response.text
    assert [case["id"] for case in response.json()["_embedded"]["cases"]] == own_ids


def test_the_cases_need_a_token(client: TestClient, auth: Auth, history: History) -> None:
    assert client.get("/v1/cases").status_code == 401
    assert client.get("/v1/cases", headers=auth(*MAYOR)).status_code == 200


def test_the_openapi_document_describes_the_paged_list(client: TestClient) -> None:
    document = client.get("/v1/openapi.json").json()
    operation = document["paths"]["/cases"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"includeClosed", "limit", "cursor"} <= set(parameters)
    assert parameters["limit"]["schema"]["maximum"] == 500
    assert parameters["limit"]["schema"]["default"] == 100
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/CaseList")
    case_list = document["components"]["schemas"]["CaseList"]
    assert set(case_list["properties"]) == {"_embedded", "_links"}
