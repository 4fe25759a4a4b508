"""Who exchanges at all, and in which direction (issue 14 items 4 and 5).

- U §1: only the signatories exchange case data; Het Vierde Huis and STUW are not among them.
- R Bijlage F: the Sociaal Wijkteam *requests* a care worker's details ("Gegevens van
  hulpverlener opvragen"): it receives them from the care partner, it does not disclose them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
from fastapi.testclient import TestClient

from gateway.auth.dev import dev_key_path
from gateway.auth.keys import key_id, load_private_key
from gateway.auth.tokens import PARTNER_TOKEN_TYPE
from gateway.config import Settings
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase

Auth = Callable[..., dict[str, str]]

RIJSWIJK_LEAD = ("gemeente-rijswijk", "casemanager")
WIJKTEAM = ("sociaal-wijkteam-rijswijk", "buurtteam-medewerker")
GGD = ("ggd-haaglanden", "zorgmedewerker")
GGD_ADAPTER = ("ggd-haaglanden", "adapter")
CARE_WORKER = "care-worker-details"


# --- U §1: signatories only -------------------------------------------------------------


def _token_claiming(settings: Settings, issuer: str, signed_by: str) -> str:
    key = load_private_key(dev_key_path(settings, signed_by))
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + 60,
        "jti": f"jti-{time.monotonic_ns()}",
        "role": "woonbegeleider",
    }
    return jwt.encode(
        claims, key, algorithm="EdDSA", headers={"typ": PARTNER_TOKEN_TYPE, "kid": key_id(key)}
    )


def test_het_vierde_huis_cannot_authenticate_and_lister_can(
    exchange_client: TestClient, settings: Settings, auth: Auth
) -> None:
    refused = exchange_client.get(
        "/v1/me",
        headers={
            "Authorization": f"Bearer {_token_claiming(settings, 'het-vierde-huis', 'lister')}"
        },
    )
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The token's issuer is not a partner of any covenant."
    allowed = exchange_client.get("/v1/me", headers=auth("lister", "woonbegeleider"))
    assert allowed.status_code == 200, allowed.text


def test_the_covenants_partners_are_the_signatories_of_u_1(
    exchange_client: TestClient, auth: Auth
) -> None:
    partners = exchange_client.get("/v1/partners", headers=auth(*CASE_MANAGER)).json()
    names = sorted(p["id"] for p in partners)
    assert names == sorted(
        [
            "u-centraal",
            "mitros",
            "portaal",
            "bo-ex",
            "groenwest",
            "ssh",
            "politie-midden-nederland",
            "gemeente-utrecht",
            "lister",
            "buurtteam-sociaal",
            "buurtteam-jeugd-gezin",
        ]
    )


def _address(case: UtrechtCase, partner: str) -> Any:
    return case.client.post(
        "/v1/information-requests",
        json={
            "caseId": case.case_id,
            "purpose": "case-handling",
            "recipients": [{"partnerId": partner, "categories": ["supported-housing-involvement"]}],
        },
        headers=case.as_(CASE_MANAGER, "cm-1"),
    )


def test_nobody_can_ask_het_vierde_huis_for_case_data_but_lister_can_be_asked(
    utrecht_case: UtrechtCase,
) -> None:
    refused = _address(utrecht_case, "het-vierde-huis")
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == "'het-vierde-huis' is not a partner of this covenant."
    # Lister signed: once the lead has taken it into the team (U §6), it is asked.
    added = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/team",
        json={"partnerId": "lister"},
        headers=utrecht_case.as_(CASE_MANAGER),
    )
    assert added.status_code in (200, 201), added.text
    asked = _address(utrecht_case, "lister")
    assert asked.status_code == 201, asked.text
    assert [i["partnerId"] for i in asked.json()["items"]] == ["lister"]


# --- R Bijlage F: the wijkteam asks ---------------------------------------------------------


def _rijswijk_case(client: TestClient, auth: Auth) -> str:
    report = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "2282 AB", "houseNumber": 9},
                "ownership": "owner-occupied",
                "district": "rijswijk-zuid",
            },
            "persons": [{"role": "causer", "bsn": "111222333"}],
            "report": {"channel": "phone", "description": "Vervuiling en stankoverlast."},
        },
        headers=auth(*RIJSWIJK_LEAD),
    )
    assert report.status_code == 201, report.text
    case_id: str = report.json()["caseId"]
    moved = client.post(
        f"/v1/cases/{case_id}/transitions",
        json={"transition": "classify-complex"},
        headers=auth(*RIJSWIJK_LEAD),
    )
    assert moved.status_code == 200, moved.text
    for partner in ("sociaal-wijkteam-rijswijk", "ggd-haaglanden"):
        added = client.post(
            f"/v1/cases/{case_id}/team", json={"partnerId": partner}, headers=auth(*RIJSWIJK_LEAD)
        )
        assert added.status_code in (200, 201), added.text
    return case_id


def _ask(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    return client.post(
        "/v1/information-requests",
        json={"caseId": case_id, "purpose": "integrated-approach", "categories": [CARE_WORKER]},
        headers=auth(*who, user="w-1"),
    )


def test_wijkteam_requests_the_care_workers_details_from_the_ggd_and_reads_them(
    exchange_client: TestClient, auth: Auth
) -> None:
    case_id = _rijswijk_case(exchange_client, auth)
    asked = _ask(exchange_client, auth, case_id, WIJKTEAM)
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert [(i["partnerId"], i["state"]) for i in body["items"]] == [("ggd-haaglanden", "asked")]
    answered = exchange_client.post(
        f"/v1/information-requests/{body['id']}/answers",
        json={"answers": [{"category": CARE_WORKER, "value": "J. de Vries, GGD"}]},
        headers=auth(*GGD_ADAPTER),
    )
    assert answered.status_code == 200, answered.text
    read = exchange_client.get(
        f"/v1/information-requests/{body['id']}/answers", headers=auth(*WIJKTEAM, user="w-1")
    )
    assert read.status_code == 200, read.text
    (value,) = read.json()["values"]
    assert (value["outcome"], value["value"]) == ("disclosed", "J. de Vries, GGD")
    assert value["clauses"] == ["R-F-wijkteam-hulpverlener"]


def test_the_care_workers_details_go_to_the_wijkteam_only(
    exchange_client: TestClient, auth: Auth
) -> None:
    """The case lead asking the same is denied (role-not-recipient); the wijkteam asking is
    the positive control."""
    case_id = _rijswijk_case(exchange_client, auth)
    denied = _ask(exchange_client, auth, case_id, RIJSWIJK_LEAD)
    assert denied.status_code == 201, denied.text
    (item,) = denied.json()["items"]
    assert (item["state"], item["reasons"]) == ("denied", ["role-not-recipient"])
    assert item["clauses"] == ["R-F-wijkteam-hulpverlener"]
    allowed = _ask(exchange_client, auth, case_id, WIJKTEAM)
    assert [i["state"] for i in allowed.json()["items"]] == ["asked"]


def test_the_wijkteam_is_not_the_source_of_care_worker_details(
    exchange_client: TestClient, auth: Auth
) -> None:
    """Asking the wijkteam for them is a bad request (it does not hold them); asking the GGD
    is not."""
    case_id = _rijswijk_case(exchange_client, auth)

    def address(partner: str) -> Any:
        return exchange_client.post(
            "/v1/information-requests",
            json={
                "caseId": case_id,
                "purpose": "integrated-approach",
                "recipients": [{"partnerId": partner, "categories": [CARE_WORKER]}],
            },
            headers=auth(*WIJKTEAM, user="w-1"),
        )

    wrong = address("sociaal-wijkteam-rijswijk")
    assert wrong.status_code == 422, wrong.text
    assert "does not hold 'care-worker-details'" in wrong.json()["detail"]
    right = address("ggd-haaglanden")
    assert right.status_code == 201, right.text
    pushed = exchange_client.post(
        "/v1/case-facts",
        json={"caseId": case_id, "category": CARE_WORKER, "value": "J. de Vries"},
        headers=auth(*WIJKTEAM),
    )
    assert pushed.status_code == 403, pushed.text
    assert "held by care partners" in pushed.json()["detail"]
    pushed = exchange_client.post(
        "/v1/case-facts",
        json={"caseId": case_id, "category": CARE_WORKER, "value": "J. de Vries"},
        headers=auth(*GGD),
    )
    assert pushed.status_code == 201, pushed.text
