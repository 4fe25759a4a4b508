"""``GET /v1/meetings`` and ``GET /v1/reports`` a page at a time, as ``GET /v1/cases`` is (NL API
Design Rules, HAL style): the items under ``_embedded``, ``_links.self`` and, while more follow,
``_links.next``. Over a seeded history of a few hundred cases (their reports, two dozen
meetings, some of them today and to come) with ties in the sort key at page edges; the pages
followed to the end equal the whole list computed here (the meetings' order in Python, from
the rows read whole), and a cursor is refused for any other partner, covenant or district."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from gateway.cases.models import (
    CaseFile,
    CaseMeeting,
    CaseReport,
    CaseTeamMember,
    MeetingAction,
    MeetingAgendaItem,
)
from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext
from gateway.core import pagination
from gateway.core.dutch_date import dutch_today
from tests.cases.cursors import signed
from tests.cases.history import History, seed_history

Auth = Callable[..., dict[str, str]]
COVENANT = "rijswijk-woonoverlast"
MAYOR = ("gemeente-rijswijk", "casemanager")
POLICE = ("politie-den-haag", "wijkagent")
UTRECHT_POLICE = ("politie-midden-nederland", "wijkagent")
TIE = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
TIE_DAY = date(2025, 6, 2)
#: Meetings to come on one day, a tie as well (days from today).
COMING_IN = 20


def _today(runtime: CaseRuntime) -> date:
    return runtime.calendar(COVENANT).local_date(datetime.now(UTC))


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
    with context.engine.begin() as connection:
        # Reports registered at one moment and meetings on one day, so that page edges fall
        # inside a tie (the order is then by id).
        tied_cases = seeded.case_ids[100:112]
        connection.execute(
            update(CaseReport).where(CaseReport.case_id.in_(tied_cases)).values(registered_at=TIE)
        )
        meeting_ids = list(
            connection.scalars(
                select(CaseMeeting.id)
                .where(CaseMeeting.covenant_id == COVENANT)
                .order_by(CaseMeeting.id)
                .limit(16)
            )
        )
        connection.execute(
            update(CaseMeeting)
            .where(CaseMeeting.id.in_(meeting_ids[:7]))
            .values(scheduled_on=TIE_DAY)
        )
        # The seeded meetings were all held: two today (the first day of the list's coming
        # part) and seven on one day to come, so that a page edge falls in that tie too.
        today = _today(runtime)
        for ids, day in (
            (meeting_ids[7:9], today),
            (meeting_ids[9:16], today + timedelta(days=COMING_IN)),
        ):
            connection.execute(
                update(CaseMeeting).where(CaseMeeting.id.in_(ids)).values(scheduled_on=day)
            )
        # An agenda on two meetings (the seeded ones have none), to see it on the page.
        connection.execute(
            insert(MeetingAgendaItem),
            [
                {
                    "meeting_id": meeting_id,
                    "case_id": case_id,
                    "position": position,
                    "state_at_agenda": "intake",
                }
                for meeting_id in meeting_ids[:2]
                for position, case_id in enumerate(seeded.case_ids[200:203])
            ],
        )
    return seeded


def _follow(
    client: TestClient, headers: Callable[[], dict[str, str]], href: str, embedded: str
) -> tuple[list[dict[str, Any]], int]:
    seen: list[dict[str, Any]] = []
    pages = 0
    next_href: str | None = href
    while next_href is not None:
        response = client.get(next_href, headers=headers())  # a token is single-use
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["_links"]["self"]["href"] == next_href
        seen += body["_embedded"][embedded]
        next_href = body["_links"].get("next", {}).get("href")
        if next_href is not None:
            assert "cursor=" in next_href
        pages += 1
    return seen, pages


def _cursor(body: dict[str, Any]) -> str:
    return str(body["_links"]["next"]["href"].split("cursor=")[1])


def _tampered(cursor: str) -> str:
    flip = {"a": "b", "b": "a"}
    i = next(n for n in range(len(cursor) // 3, len(cursor)) if cursor[n] in flip)
    return cursor[:i] + flip[cursor[i]] + cursor[i + 1 :]


def _assert_refused(client: TestClient, url: str, headers: dict[str, str], why: str) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == 400, (why, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), why
    assert "_embedded" not in response.json(), why


# -- the partner's own reports ---------------------------------------------------------------


def _reports_oracle(context: GatewayContext, partner: str) -> list[tuple[str, str, str | None]]:
    """The partner's reports in the covenant, newest first, ties by id (highest first): id,
    status and the case id it may see (only as lead or team member)."""
    with context.session_factory() as session:
        rows = session.execute(
            select(CaseReport, CaseFile)
            .join(CaseFile, CaseFile.id == CaseReport.case_id)
            .where(CaseReport.source_partner_id == partner, CaseFile.covenant_id == COVENANT)
            .order_by(CaseReport.registered_at.desc(), CaseReport.id.desc())
        ).all()
        teams = {(m.case_id, m.partner_id) for m in session.scalars(select(CaseTeamMember)).all()}
    out = []
    for report, case in rows:
        in_team = case.lead_partner_id == partner or (case.id, partner) in teams
        if report.lead_decision == "joined":
            status = "joined"
        elif in_team:
            status = "in-team"
        elif report.lead_decision == "declined":
            status = "declined"
        else:
            status = "awaiting-lead"
        out.append((report.id, status, case.id if in_team else None))
    return out


@pytest.mark.parametrize("who", [MAYOR, POLICE], ids=["lead", "other-partner"])
@pytest.mark.parametrize("size", [3, 7])
def test_own_reports_followed_to_the_end_are_every_report_once_newest_first(
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    history: History,
    who: tuple[str, str],
    size: int,
) -> None:
    seen, pages = _follow(client, lambda: auth(*who), f"/v1/reports?limit={size}", "reports")
    whole = _reports_oracle(context, who[0])
    assert len(whole) > size  # more than one page, or the test shows nothing
    if who == POLICE:  # reports on cases it is in the team of, and on cases it is not
        assert {case_id is None for _, _, case_id in whole} == {True, False}
    assert [(r["id"], r["status"], r["caseId"]) for r in seen] == whole
    assert len({r["id"] for r in seen}) == len(seen)
    assert pages == -(-len(whole) // size)


def test_the_reports_tie_falls_on_page_edges(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    whole = [r[0] for r in _reports_oracle(context, MAYOR[0])]
    with context.session_factory() as session:
        tied = set(session.scalars(select(CaseReport.id).where(CaseReport.registered_at == TIE)))
    mine = [r for r in whole if r in tied]
    assert len(mine) >= 6  # crosses at least one edge of a page of 5
    first = whole.index(mine[0])
    assert whole[first : first + len(mine)] == sorted(mine, reverse=True)
    seen, _ = _follow(client, lambda: auth(*MAYOR), "/v1/reports?limit=5", "reports")
    assert [r["id"] for r in seen] == whole


def test_a_reports_cursor_of_another_partner_or_covenant_is_refused(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    cursor = _cursor(client.get("/v1/reports?limit=3", headers=auth(*MAYOR)).json())
    police_cursor = _cursor(client.get("/v1/reports?limit=3", headers=auth(*POLICE)).json())
    cases_cursor = _cursor(client.get("/v1/cases?limit=3", headers=auth(*MAYOR)).json())
    # Positive controls: each partner's own cursor works for that partner.
    assert client.get(f"/v1/reports?cursor={cursor}", headers=auth(*MAYOR)).status_code == 200
    own = client.get(f"/v1/reports?cursor={police_cursor}", headers=auth(*POLICE))
    assert own.status_code == 200
    # A position signed by the gateway for the mayor's own list is read; the same position
    # bound to another covenant is refused.
    key = pagination.moment_key(TIE, "ffffffff")
    forged = signed(context, f"reports|{COVENANT}|{MAYOR[0]}", key)
    assert client.get(f"/v1/reports?cursor={forged}", headers=auth(*MAYOR)).status_code == 200
    elsewhere = signed(context, f"reports|utrecht-extreme-woonoverlast|{MAYOR[0]}", key)
    refused = {
        "of another partner": f"/v1/reports?cursor={police_cursor}",
        "of another covenant": f"/v1/reports?cursor={elsewhere}",
        "of the cases list": f"/v1/reports?cursor={cases_cursor}",
        "changed by hand": f"/v1/reports?cursor={_tampered(cursor)}",
        "cut short": f"/v1/reports?cursor={cursor[:-2]}",
        "not letters a-p": "/v1/reports?cursor=zz",
        "limit 0": "/v1/reports?limit=0",
        "limit 501": "/v1/reports?limit=501",
    }
    for why, url in refused.items():
        _assert_refused(client, url, auth(*MAYOR), why)
    # The mayor's cursor is no cursor of the cases list either.
    _assert_refused(client, f"/v1/cases?cursor={cursor}", auth(*MAYOR), "reports on cases")


def test_own_reports_limit_bounds_and_an_empty_history(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    whole = [r[0] for r in _reports_oracle(context, MAYOR[0])]
    assert len(whole) <= 500
    one = client.get("/v1/reports?limit=1", headers=auth(*MAYOR)).json()
    assert [r["id"] for r in one["_embedded"]["reports"]] == whole[:1]
    all_of_them = client.get("/v1/reports?limit=500", headers=auth(*MAYOR)).json()
    assert [r["id"] for r in all_of_them["_embedded"]["reports"]] == whole
    assert "next" not in all_of_them["_links"]
    default = client.get("/v1/reports", headers=auth(*MAYOR)).json()
    assert len(default["_embedded"]["reports"]) == min(100, len(whole))
    # A partner of a covenant without a history: an empty page and no next.
    empty = client.get("/v1/reports", headers=auth(*UTRECHT_POLICE))
    assert empty.status_code == 200
    assert empty.json() == {
        "_embedded": {"reports": []},
        "_links": {"self": {"href": "/v1/reports"}},
    }


# -- the covenant's meetings -----------------------------------------------------------------


def _meetings_oracle(
    context: GatewayContext,
    district: str | None = None,
    *,
    today: date | None = None,
    reader: str | None = MAYOR[0],
) -> list[tuple[str, list[str], list[str]]]:
    """The covenant's meetings (of ``district``): from ``today`` (the covenant's today) on by
    date, ties by id, then the earlier ones latest first, ties by id downwards, sorted here
    from every meeting read whole; id, agenda, actions, as ``reader`` sees them: the agenda's
    cases it leads or is in the team of, the actions about those, about no case or its own
    (docs/cases.md); with ``reader`` None, all of them."""
    today = today or _today(context.cases)
    with context.session_factory() as session:
        led = select(CaseFile.id).where(CaseFile.lead_partner_id == reader)
        teamed = select(CaseTeamMember.case_id).where(CaseTeamMember.partner_id == reader)
        mine = set(session.scalars(led)) | set(session.scalars(teamed))
        query = select(CaseMeeting.scheduled_on, CaseMeeting.id).where(
            CaseMeeting.covenant_id == COVENANT
        )
        if district is not None:
            query = query.where(CaseMeeting.district == district)
        every = [(day, meeting_id) for day, meeting_id in session.execute(query)]
        coming = sorted(m for m in every if m[0] >= today)
        earlier = sorted((m for m in every if m[0] < today), reverse=True)
        ids = [meeting_id for _, meeting_id in coming + earlier]
        return [
            (
                meeting_id,
                [
                    case_id
                    for case_id in session.scalars(
                        select(MeetingAgendaItem.case_id)
                        .where(MeetingAgendaItem.meeting_id == meeting_id)
                        .order_by(MeetingAgendaItem.position)
                    )
                    if reader is None or case_id in mine
                ],
                [
                    action_id
                    for action_id, case_id in session.execute(
                        select(MeetingAction.id, MeetingAction.case_id)
                        .where(MeetingAction.meeting_id == meeting_id)
                        .order_by(MeetingAction.due_on, MeetingAction.id)
                    )
                    # The reader's own action too only about its cases (review5 F5).
                    if reader is None or case_id is None or case_id in mine
                ],
            )
            for meeting_id in ids
        ]


def _as_oracle(meetings: list[dict[str, Any]]) -> list[tuple[str, list[str], list[str]]]:
    return [
        (m["id"], [a["caseId"] for a in m["agenda"]], [a["id"] for a in m["actions"]])
        for m in meetings
    ]


@pytest.mark.parametrize("who", [MAYOR, POLICE], ids=["organiser", "other-partner"])
@pytest.mark.parametrize("size", [1, 5])
def test_meetings_followed_to_the_end_are_every_meeting_once_coming_ones_first(
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    history: History,
    who: tuple[str, str],
    size: int,
) -> None:
    seen, pages = _follow(client, lambda: auth(*who), f"/v1/meetings?limit={size}", "meetings")
    whole = _meetings_oracle(context, reader=who[0])
    every = _meetings_oracle(context, reader=None)
    assert len(whole) > size
    assert any(agenda for _, agenda, _ in every)  # the agendas are compared, not only empty
    assert any(actions for _, _, actions in whole)
    assert _as_oracle(seen) == whole
    # What the reader is not shown is not counted either (otherCases and otherActions until
    # 6 December 2026: tests/cases/test_meeting_others_not_counted.py), though the seeded
    # history has cases outside either reader's teams on agendas and in actions.
    others = [
        (len(all_cases) - len(cases), len(all_actions) - len(actions))
        for (_, all_cases, all_actions), (_, cases, actions) in zip(every, whole, strict=True)
    ]
    assert sum(cases for cases, _ in others) > 0
    assert sum(actions for _, actions in others) > 0
    assert not any({"otherCases", "otherActions"} & set(m) for m in seen)
    assert pages == -(-len(whole) // size)
    today = _today(context.cases)
    days = [date.fromisoformat(m["scheduledOn"]) for m in seen]
    # The list opens where a case worker needs it: today's meetings, then those to come by
    # date, then the ones held before today, latest first.
    assert days[:2] == [today, today]
    assert days[2:9] == [today + timedelta(days=COMING_IN)] * 7
    assert days[9:] == sorted(days[9:], reverse=True)
    assert all(day < today for day in days[9:])
    coming = [m["id"] for m in seen if m["scheduledOn"] > today.isoformat()]
    assert coming == sorted(coming)  # ties by id, upwards
    tied = [m["id"] for m in seen if m["scheduledOn"] == TIE_DAY.isoformat()]
    assert len(tied) == 7
    assert tied == sorted(tied, reverse=True)  # ties by id, downwards in the earlier part


def test_meetings_of_one_district_page_through_that_district_only(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    seen, pages = _follow(
        client, lambda: auth(*MAYOR), "/v1/meetings?district=wijk-3&limit=2", "meetings"
    )
    whole = _meetings_oracle(context, "wijk-3")
    assert len(whole) > 2
    assert _as_oracle(seen) == whole
    assert {m["district"] for m in seen} == {"wijk-3"}
    assert (
        "district=wijk-3"
        in client.get("/v1/meetings?district=wijk-3&limit=2", headers=auth(*MAYOR)).json()[
            "_links"
        ]["next"]["href"]
    )


def test_a_meetings_cursor_of_another_partner_covenant_or_district_is_refused(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    cursor = _cursor(client.get("/v1/meetings?limit=3", headers=auth(*MAYOR)).json())
    police_cursor = _cursor(client.get("/v1/meetings?limit=3", headers=auth(*POLICE)).json())
    district = _cursor(
        client.get("/v1/meetings?district=wijk-3&limit=1", headers=auth(*MAYOR)).json()
    )
    # Positive controls: each cursor works on the list and for the partner it came from.
    assert client.get(f"/v1/meetings?cursor={cursor}", headers=auth(*MAYOR)).status_code == 200
    own = client.get(f"/v1/meetings?cursor={police_cursor}", headers=auth(*POLICE))
    assert own.status_code == 200
    in_district = client.get(
        f"/v1/meetings?district=wijk-3&cursor={district}", headers=auth(*MAYOR)
    )
    assert in_district.status_code == 200
    own_list = "meetings|" + json.dumps([COVENANT, MAYOR[0], None])
    key = [dutch_today().isoformat(), "past", TIE_DAY.isoformat(), ""]
    forged = signed(context, own_list, key)
    assert client.get(f"/v1/meetings?cursor={forged}", headers=auth(*MAYOR)).status_code == 200
    other_covenant = ["utrecht-extreme-woonoverlast", MAYOR[0], None]
    elsewhere = signed(context, "meetings|" + json.dumps(other_covenant), key)
    no_part = signed(context, own_list, [key[0], "later", *key[2:]])
    no_day = signed(context, own_list, [key[0], "past", "gisteren", ""])
    old_form = signed(context, own_list, key[2:])  # (date, id): before the two parts
    reports_cursor = _cursor(client.get("/v1/reports?limit=3", headers=auth(*MAYOR)).json())
    refused = {
        "of another partner": f"/v1/meetings?cursor={police_cursor}",
        "of another covenant": f"/v1/meetings?cursor={elsewhere}",
        "of one district, on all": f"/v1/meetings?cursor={district}",
        "of all, on one district": f"/v1/meetings?district=wijk-3&cursor={cursor}",
        "of another district": f"/v1/meetings?district=wijk-4&cursor={district}",
        "of the reports list": f"/v1/meetings?cursor={reports_cursor}",
        "changed by hand": f"/v1/meetings?cursor={_tampered(cursor)}",
        "of no part of the list": f"/v1/meetings?cursor={no_part}",
        "with no date": f"/v1/meetings?cursor={no_day}",
        "of the former order": f"/v1/meetings?cursor={old_form}",
        "digits": "/v1/meetings?cursor=0011",
        "limit 0": "/v1/meetings?limit=0",
        "limit 501": "/v1/meetings?limit=501",
    }
    for why, url in refused.items():
        _assert_refused(client, url, auth(*MAYOR), why)


def test_meetings_limit_bounds_and_an_empty_list(
    client: TestClient, auth: Auth, context: GatewayContext, history: History
) -> None:
    whole = [m[0] for m in _meetings_oracle(context)]
    assert 1 < len(whole) <= 500
    everything = client.get("/v1/meetings?limit=500", headers=auth(*MAYOR)).json()
    assert [m["id"] for m in everything["_embedded"]["meetings"]] == whole
    assert "next" not in everything["_links"]
    one = client.get("/v1/meetings?limit=1", headers=auth(*MAYOR)).json()
    assert [m["id"] for m in one["_embedded"]["meetings"]] == whole[:1]
    for url, headers in (
        ("/v1/meetings?district=nergens", auth(*MAYOR)),
        ("/v1/meetings", auth(*UTRECHT_POLICE)),  # a covenant without meetings
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["_embedded"] == {"meetings": []}
        assert body["_links"] == {"self": {"href": url}}


def test_the_lists_need_a_token(client: TestClient, auth: Auth, history: History) -> None:
    for url in ("/v1/meetings", "/v1/reports"):
        assert client.get(url).status_code == 401
        assert client.get(url, headers=auth(*MAYOR)).status_code == 200


def test_the_openapi_document_describes_both_paged_lists(client: TestClient) -> None:
    document = client.get("/v1/openapi.json").json()
    for path, schema_name, embedded in (
        ("/meetings", "MeetingList", "MeetingsEmbedded"),
        ("/reports", "OwnReportList", "OwnReportsEmbedded"),
    ):
        operation = document["paths"][path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert {"limit", "cursor"} <= set(parameters), path
        assert parameters["limit"]["schema"]["maximum"] == 500
        assert parameters["limit"]["schema"]["default"] == 100
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(f"/{schema_name}"), path
        listed = document["components"]["schemas"][schema_name]
        assert set(listed["properties"]) == {"_embedded", "_links"}
        assert embedded in document["components"]["schemas"]


def test_meetings_followed_across_midnight_keep_the_day_the_list_was_opened(
    context: GatewayContext, runtime: CaseRuntime, history: History
) -> None:
    """The cursor carries the day the list opened: pages read on later days still split the
    list there, so every meeting shows once (the coming ones of that day before the rest)."""
    from gateway.auth.principal import Principal, RoleGrant
    from gateway.cases import meetings

    now = datetime.now(UTC)
    principal = Principal(
        partner_id=MAYOR[0],
        partner_kind="municipality",
        covenant_id=COVENANT,
        role=MAYOR[1],
        user=None,
        token_id="test",
        expires_at=now,
        grant=RoleGrant("casework"),
    )
    seen: list[str] = []
    after, day = None, now
    with context.session_factory() as session:
        while True:
            page = meetings.meetings_page(
                session,
                runtime=runtime,
                principal=principal,
                district=None,
                after=after,
                limit=4,
                now=day,
            )
            seen += [m.id for m in page.items]
            if page.next_cursor is None:
                break
            after = meetings.decode_meetings_cursor(
                session, page.next_cursor, principal=principal, district=None
            )
            day = now + timedelta(days=COMING_IN + 1)  # past the tie to come
    whole = _meetings_oracle(context, today=_today(runtime))
    assert seen == [m[0] for m in whole]
    # Control: a list opened on that later day is another order (the tie is then past).
    later = _meetings_oracle(context, today=_today(runtime) + timedelta(days=COMING_IN + 1))
    assert [m[0] for m in later] != seen
