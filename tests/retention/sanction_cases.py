"""The Rijswijk case the tests of the landlord's sanctions in retention read (review10 F1,
review11 N1): the GGD and the police in its team, moved to integrated-approach, where the
case manager and the wijkagent are shown the landlord's measures (R-A-corporatie-meldingen)
and the GGD is not."""

from __future__ import annotations

from collections.abc import Callable

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
