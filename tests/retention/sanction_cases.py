"""The Rijswijk case the tests of the landlord's sanctions in retention read (review10 F1,
review11 N1): the GGD and the police in its team, moved to integrated-approach, where the
case manager and the wijkagent are shown the landlord's measures (R-A-corporatie-meldingen)
and the GGD is not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    RIJSWIJK_MUNICIPALITY,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)

Auth = Callable[..., dict[str, str]]
RESULT = {"neighboursJudgement": "resolved", "partnersJudgement": "improved", "aftercare": "none"}


def rijswijk_case_with_the_ggd(
    client: TestClient, auth: Auth, *, measure_on: str | None, closed: bool = True
) -> str:
    """The case, with the landlord's last-chance contract on ``measure_on`` (None: no
    measure), closed unless ``closed`` is false."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "ggd-haaglanden", "politie-den-haag")
    )
    rijswijk_to_integrated_approach(client, auth, case_id)
    if measure_on is not None:
        recorded = client.post(
            f"/v1/cases/{case_id}/events",
            json={"event": "last-chance-contract", "occurredOn": measure_on},
            headers=auth(*RIJSWIJK_LANDLORD),
        )
        assert recorded.status_code == 201, recorded.text
    if closed:
        for body in ({"transition": "nuisance-stopped"}, {"transition": "close", "result": RESULT}):
            moved = client.post(
                f"/v1/cases/{case_id}/transitions", json=body, headers=auth(*RIJSWIJK_MUNICIPALITY)
            )
            assert moved.status_code == 200, moved.text
    return case_id


def ask_erased(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    """An information request on the erased case: its 410 ``case-erased`` problem."""
    response = client.post(
        "/v1/information-requests",
        json={
            "caseId": case_id,
            "purpose": "integrated-approach",
            "recipients": [
                {"partnerId": "politie-den-haag", "categories": ["police-registrations"]}
            ],
        },
        headers=auth(*who, user="u-1"),
    )
    assert response.status_code == 410, (who, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/case-erased"), body
    return body
