"""Attendance, minutes and actions are the meeting's organiser's, not any partner's of the
organiser's kind (review9d F2).

U Centraal "draws the agenda and chairs" (U §5.1); the page names the organiser "Voorzitter
en notulist". A covenant may name two partners of the organiser's kind (the loader accepts
it; a regional covenant with two municipalities), so the test runs on a copy of the covenant
files where Utrecht has a second case-management partner, ``u-centraal-west``. Before the
fix that partner recorded attendance, replaced the (sealed, never shown again) minutes,
marked the meeting held and added actions on U Centraal's meeting, through the API and
through the page's POST, which shares the service.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.config import Settings
from gateway.policy.covenant import default_covenant_dir
from tests.web.conftest import csrf_of, sign_in

Auth = Callable[..., dict[str, str]]

ORGANISER = ("u-centraal", "casemanager")
OTHER = ("u-centraal-west", "casemanager")

SECOND_PARTNER = """  - id: u-centraal-west
    name: U Centraal West
    kind: casemanagement
    roles: [casemanager, privacy-officer, adapter]
"""


def _covenants_with_a_second_organiser_kind_partner(tmp_path: Path) -> Path:
    directory = tmp_path / "covenants"
    shutil.copytree(default_covenant_dir(), directory)
    file = directory / "utrecht-extreme-woonoverlast" / "covenant.yaml"
    text = file.read_text(encoding="utf-8")
    anchor = "partners:\n"
    assert text.count(anchor) == 1, "the Utrecht covenant file changed shape"
    file.write_text(text.replace(anchor, anchor + SECOND_PARTNER, 1), encoding="utf-8")
    return directory


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        demo_mode=True,
        auto_migrate=False,
        covenant_dir=_covenants_with_a_second_organiser_kind_partner(tmp_path),
    )


def _plan(client: TestClient, auth: Auth) -> str:
    planned = client.post(
        "/v1/meetings",
        headers=auth(*ORGANISER, user="cm-1"),
        json={"district": "Noordoost", "scheduledOn": "2026-12-15"},
    )
    assert planned.status_code == 201, planned.text
    assert planned.json()["organiserPartnerId"] == "u-centraal"
    meeting_id: str = planned.json()["id"]
    return meeting_id


def _meeting(client: TestClient, auth: Auth, meeting_id: str) -> dict[str, Any]:
    read = client.get(f"/v1/meetings/{meeting_id}", headers=auth(*ORGANISER, user="cm-1"))
    assert read.status_code == 200, read.text
    body: dict[str, Any] = read.json()
    return body


WRITES: list[tuple[str, dict[str, Any]]] = [
    ("attendance", {"attendance": {"u-centraal": False, "mitros": True}}),
    ("minutes", {"text": "Notulen van West, niet van het overleg"}),
    ("actions", {"ownerPartnerId": "mitros", "description": "x", "dueOn": "2026-12-20"}),
]


def test_a_second_partner_of_the_organisers_kind_writes_nothing_on_the_meeting(
    client: TestClient, auth: Auth
) -> None:
    meeting_id = _plan(client, auth)
    before = _meeting(client, auth, meeting_id)
    for path, body in WRITES:
        refused = client.post(
            f"/v1/meetings/{meeting_id}/{path}", headers=auth(*OTHER, user="w-1"), json=body
        )
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["type"].endswith("not-permitted")
    after = _meeting(client, auth, meeting_id)
    assert after == before
    assert after["attendance"] == {}
    assert after["heldAt"] is None
    assert after["hasMinutes"] is False
    assert after["actions"] == []


def test_positive_control_the_organiser_writes_and_the_other_completes_nothing(
    client: TestClient, auth: Auth
) -> None:
    meeting_id = _plan(client, auth)
    statuses = []
    action_id = None
    for path, body in WRITES:
        written = client.post(
            f"/v1/meetings/{meeting_id}/{path}", headers=auth(*ORGANISER, user="cm-1"), json=body
        )
        statuses.append(written.status_code)
        if path == "actions":
            action_id = written.json()["id"]
    assert statuses == [200, 200, 201]
    after = _meeting(client, auth, meeting_id)
    assert after["attendance"] == {"u-centraal": False, "mitros": True}
    assert after["hasMinutes"] is True
    assert after["heldAt"] is not None
    assert [a["id"] for a in after["actions"]] == [action_id]
    # The sibling write, already checked by partner: completing an action is its owner's
    # (mitros) or the meeting's organiser's, not the other partner's of that kind.
    completion = f"/v1/meetings/{meeting_id}/actions/{action_id}/completion"
    assert client.post(completion, headers=auth(*OTHER, user="w-1")).status_code == 403
    assert client.post(completion, headers=auth(*ORGANISER, user="cm-1")).status_code == 200


def test_the_page_post_of_another_partner_changes_nothing(
    app: FastAPI, client: TestClient, auth: Auth
) -> None:
    meeting_id = _plan(client, auth)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as other:
        sign_in(other, *OTHER)
        page = other.get(f"/overleggen/{meeting_id}")
        assert page.status_code == 200
        assert f"/overleggen/{meeting_id}/notulen" not in page.text  # no form offered
        posted = other.post(
            f"/overleggen/{meeting_id}/notulen",
            data={"csrf_token": csrf_of(page.text), "notulen": "Andere notulen"},
            follow_redirects=False,
        )
        assert posted.status_code == 403
    after = _meeting(client, auth, meeting_id)
    assert after["heldAt"] is None
    assert after["hasMinutes"] is False
    # Positive control: the organiser's own page POST is taken.
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as own:
        sign_in(own, *ORGANISER)
        page = own.get(f"/overleggen/{meeting_id}")
        assert f"/overleggen/{meeting_id}/notulen" in page.text
        posted = own.post(
            f"/overleggen/{meeting_id}/notulen",
            data={"csrf_token": csrf_of(page.text), "notulen": "De notulen"},
            follow_redirects=False,
        )
        assert posted.status_code == 303
        assert posted.headers["location"] == f"/overleggen/{meeting_id}?melding=notulen"
    assert _meeting(client, auth, meeting_id)["hasMinutes"] is True
