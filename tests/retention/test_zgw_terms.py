"""The retention state in ZGW's archiving terms (VNG Zaken API), next to ours: what an
archivist reading GET /v1/cases/{caseId}/retention sees (docs/retention.md has the mapping)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.retention.conftest import UTRECHT, Seeder

Auth = Callable[..., dict[str, str]]
MUNI = "gemeente-rijswijk"


def state(client: TestClient, auth: Auth, case_id: str, partner: str = MUNI) -> dict:  # type: ignore[type-arg]
    response = client.get(
        f"/v1/cases/{case_id}/retention", headers=auth(partner, "privacy-officer")
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_mediated_case_is_destroyed_a_year_after_the_mediation_date_property(
    client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    body = state(client, auth, case.case_id)
    assert body["dueOn"] == "2025-03-10"
    assert body["archiefnominatie"] == "vernietigen"
    assert body["archiefactiedatum"] == body["dueOn"]
    assert body["archiefstatus"] == "nog_te_archiveren"
    assert body["brondatumArchiefprocedure"] == {
        "afleidingswijze": "eigenschap",
        "datumkenmerk": "mediation-ended",
        "einddatumBekend": True,
        "procestermijn": "P1Y",
    }


def test_the_term_that_decides_names_the_afleidingswijze_of_a_two_term_rule(
    client: TestClient, auth: Auth, seed: Seeder
) -> None:
    """R-3.4-zwaar: moved out (+0 days) or two years after the last sanction, the earliest.
    The sanction is a besluit. (Before a sanction the case falls under another rule.)"""
    closed = ("case-closed", date(2024, 1, 15), None)
    sanctioned = seed(facts=[("sanction-imposed", date(2024, 1, 15), "penalty"), closed])
    assert state(client, auth, sanctioned.case_id)["brondatumArchiefprocedure"] == {
        "afleidingswijze": "ingangsdatum_besluit",
        "datumkenmerk": "last-sanction-imposed",
        "einddatumBekend": True,
        "procestermijn": "P2Y",
    }
    moved = seed(
        facts=[
            ("sanction-imposed", date(2024, 1, 15), "penalty"),
            ("resident-moved-out", date(2024, 6, 1), None),
            closed,
        ]
    )
    body = state(client, auth, moved.case_id)
    assert body["archiefactiedatum"] == "2024-06-01"
    assert body["brondatumArchiefprocedure"]["afleidingswijze"] == "eigenschap"
    assert body["brondatumArchiefprocedure"]["datumkenmerk"] == "resident-moved-out"
    assert body["brondatumArchiefprocedure"]["procestermijn"] == "P0D"


def test_utrecht_case_counts_from_its_closing_afgehandeld_and_an_open_one_from_its_activity(
    client: TestClient, auth: Auth, seed: Seeder
) -> None:
    # Never closed, its only report on 2 January 2024: no case without an end (openCases).
    open_case = seed(covenant_id=UTRECHT)
    body = state(client, auth, open_case.case_id, partner="gemeente-utrecht")
    assert body["ruleId"] == "U-open-zonder-activiteit"
    assert body["brondatumArchiefprocedure"] == {
        "afleidingswijze": "ander_datumkenmerk",
        "datumkenmerk": "last-activity",
        "einddatumBekend": True,
        "procestermijn": "P12M",
    }
    assert body["archiefactiedatum"] == "2025-01-02"
    closed = seed(covenant_id=UTRECHT, facts=[("case-closed", date(2024, 2, 1), None)])
    body = state(client, auth, closed.case_id, partner="gemeente-utrecht")
    assert body["brondatumArchiefprocedure"]["einddatumBekend"] is True
    assert body["brondatumArchiefprocedure"]["procestermijn"] == "P24M"
    assert body["archiefactiedatum"] == "2026-02-01"


def test_an_erased_dossier_has_no_archiefstatus_left(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    assert state(client, auth, case.case_id)["archiefstatus"] == "nog_te_archiveren"
    context.require_retention().sweep(as_of=date(2025, 3, 10))
    body = state(client, auth, case.case_id)
    assert body["status"] == "erased"
    assert body["archiefstatus"] is None
    assert body["archiefnominatie"] == "vernietigen"
    assert body["brondatumArchiefprocedure"] is None
