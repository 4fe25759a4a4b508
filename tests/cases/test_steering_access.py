"""review9a F4 (access): the steering report was open to every partner of a covenant. Who
receives the results is the covenant's, declared once in covenant.yaml (``steering.readers``):

- Utrecht, U §8: "De stuurgroep Woonproblematiek bespreekt de resultaten"; its fixed members
  are U Centraal, STUW, Gemeente Utrecht, Buurteamorganisatie Sociaal, Buurteamorganisatie
  Jeugd en Gezin and Het Vierde Huis (STUW and Het Vierde Huis are no partners of the
  gateway). The police, the corporations and Lister get a 403 problem+json.
- Rijswijk, R §4.3: "De resultaten van de evaluatie worden gecommuniceerd naar alle
  ketenpartners": every partner reads it (the control that the rule is the covenant's).

The page equivalent (/privacy/grafieken) is tests/web/test_steering_page_access.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.core.problem import PROBLEM_BASE
from gateway.policy.covenant import load_covenants, parse_covenant
from gateway.policy.errors import CovenantError

Auth = Callable[..., dict[str, str]]
NOT_YOURS = PROBLEM_BASE + "steering-report-not-yours"
COVENANTS = load_covenants()
UTRECHT = COVENANTS["utrecht-extreme-woonoverlast"]
RIJSWIJK = COVENANTS["rijswijk-woonoverlast"]
#: U §8's fixed members that are partners of the gateway.
STEERING_GROUP = {"u-centraal", "gemeente-utrecht", "buurtteam-sociaal", "buurtteam-jeugd-gezin"}


def _every_role(covenant_partners: list[str], covenant: str) -> list[tuple[str, str]]:
    covenant_file = COVENANTS[covenant]
    return [
        (partner.id, role)
        for partner in covenant_file.partners
        if partner.id in covenant_partners
        for role in partner.roles
    ]


def test_the_covenant_files_name_the_readers_the_seeds_name() -> None:
    assert {p.id for p in UTRECHT.steering_readers()} == STEERING_GROUP
    assert UTRECHT.steering is not None
    assert "U §8" in UTRECHT.steering.source
    assert [p.id for p in RIJSWIJK.steering_readers()] == [p.id for p in RIJSWIJK.partners]
    assert RIJSWIJK.steering is not None
    assert "R §4.3" in RIJSWIJK.steering.source


OUTSIDE = sorted({p.id for p in UTRECHT.partners} - STEERING_GROUP)


@pytest.mark.parametrize("who", _every_role(OUTSIDE, "utrecht-extreme-woonoverlast"), ids="|".join)
def test_a_partner_outside_utrechts_steering_group_gets_a_403(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    for query in ("", "?from=2026-01-01&to=2026-01-31", "?from=2026-01-02"):
        response = client.get(f"/v1/steering-report{query}", headers=auth(*who))
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["type"] == NOT_YOURS
        assert "U §8" in body["detail"]
        assert "Gemeente Utrecht" in body["detail"]
        assert "casesClosed" not in body


@pytest.mark.parametrize(
    "who", _every_role(sorted(STEERING_GROUP), "utrecht-extreme-woonoverlast"), ids="|".join
)
def test_control_the_steering_groups_members_read_it(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    response = client.get("/v1/steering-report", headers=auth(*who))
    assert response.status_code == 200, response.text
    assert response.json()["covenantId"] == "utrecht-extreme-woonoverlast"


@pytest.mark.parametrize(
    "who",
    _every_role([p.id for p in RIJSWIJK.partners], "rijswijk-woonoverlast")[::2],
    ids="|".join,
)
def test_every_rijswijk_partner_reads_it(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    response = client.get("/v1/steering-report", headers=auth(*who))
    assert response.status_code == 200, response.text
    assert response.json()["covenantId"] == "rijswijk-woonoverlast"


UTRECHT_FILE = Path(__file__).parents[2] / "policies/utrecht-extreme-woonoverlast/covenant.yaml"
READERS = "  readers: [u-centraal, gemeente-utrecht, buurtteam-sociaal, buurtteam-jeugd-gezin]\n"


def _utrecht_with(readers: str) -> str:
    text = UTRECHT_FILE.read_text(encoding="utf-8")
    assert READERS in text
    return text.replace(READERS, readers)


def test_a_reader_must_be_a_partner_of_the_covenant() -> None:
    """Het Vierde Huis sits in the steering group (U §8) but is no partner here."""
    with pytest.raises(CovenantError, match="unknown partner 'het-vierde-huis'"):
        parse_covenant(_utrecht_with("  readers: [u-centraal, het-vierde-huis]\n"))
    with pytest.raises(CovenantError):
        parse_covenant(_utrecht_with("  readers: everyone\n"))
    control = parse_covenant(_utrecht_with("  readers: [u-centraal]\n"))
    assert control.reads_steering_report("u-centraal")
    assert not control.reads_steering_report("gemeente-utrecht")


def test_a_covenant_that_names_no_readers_gives_the_report_to_nobody() -> None:
    """Unknown is not yes: without a ``steering`` section nobody reads the report."""
    text = UTRECHT_FILE.read_text(encoding="utf-8")
    start = text.index("\nsteering:\n")
    end = text.index("\n\n", start + 1)
    bare = parse_covenant(text[:start] + text[end:])
    assert bare.steering is None
    assert not any(bare.reads_steering_report(p.id) for p in bare.partners)
    assert bare.steering_readers() == []
