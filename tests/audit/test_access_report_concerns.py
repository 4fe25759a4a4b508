"""The access report (GDPR art. 15) names a category only to a subject it concerns
(review12 F1).

Every entry about a case names all of the case's persons and its dwelling as data subjects,
but the police's items are the causer's (U §5.3) and the buurtteam's the causer's and/or the
complainant's (U §5.6). Before, the complainant's report (and the dwelling's) listed, line for
line, the causer's: "Geweigerd: Het feit of de veroorzaker bekend staat vanwege
overlastantecedenten". Each category now says whom it concerns (``concerns`` in the covenant
file), and the report keeps of each line what concerns the subject's role in that case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.audit.reports import Concerns, _concerning
from gateway.cli import app
from gateway.config import Settings
from gateway.policy.covenant import load_covenant, parse_covenant
from gateway.policy.errors import CovenantError
from gateway.policy.layout import default_package_dir

from .concerning_case import (
    ADDRESS,
    ANTECEDENTS,
    BUURTTEAM,
    CASE_MANAGER,
    CAUSER,
    COMPLAINANT,
    KNOWN,
    REPORTS,
    api_report,
    concerning_case,
)

Auth = Callable[..., dict[str, str]]
COVENANT = "utrecht-extreme-woonoverlast"


def _categories(report: dict[str, Any]) -> set[str]:
    return {
        category
        for line in report["lines"]
        for category in (*line["categoriesDisclosed"], *line["categoriesRedacted"])
    }


def _clauses(report: dict[str, Any]) -> set[str]:
    return {clause for line in report["lines"] for clause in line["clauseIds"]}


@pytest.mark.parametrize(("identifier", "kind"), [(COMPLAINANT, "bsn"), (ADDRESS, "address")])
def test_the_complainants_and_the_dwellings_report_name_none_of_the_polices_items(
    client: TestClient, auth: Auth, identifier: str, kind: str
) -> None:
    concerning_case(client, auth)
    report = api_report(client, auth, identifier, kind)
    assert _categories(report) == set()
    assert not {c for c in _clauses(report) if c.startswith("U-5.3")}
    assert "antecedent" not in json.dumps(report)
    # Nor that the police answered or the lead read them (the answer names its categories
    # only through its clause).
    assert {line["activity"] for line in report["lines"]} & {
        "information-answer",
        "disclosure",
        "denial",
    } == set()
    # The request also asked the buurtteam whether it knows the causer and/or complainant
    # (U §5.6): the complainant's report lists it by that clause alone (review13 F2), the
    # dwelling's not at all.
    requests = [line for line in report["lines"] if line["activity"] == "information-request"]
    if kind == "bsn":
        [asked] = requests
        assert asked["clauseIds"] == ["U-5.6-bekend-buurtteam"]
        assert asked["categoriesDisclosed"] == asked["categoriesRedacted"] == []
    else:
        assert requests == []
    # Positive control: the case's intake is a processing about them, listed as it is.
    assert "case-intake" in {line["activity"] for line in report["lines"]}


def test_the_causers_report_names_both_police_items_with_their_clauses(
    client: TestClient, auth: Auth
) -> None:
    concerning_case(client, auth)
    report = api_report(client, auth, CAUSER)
    [read] = [line for line in report["lines"] if line["activity"] == "disclosure"]
    assert read["categoriesDisclosed"] == [REPORTS]
    assert read["categoriesRedacted"] == [ANTECEDENTS]
    assert read["outcome"] == "partially-disclosed"
    assert read["clauseIds"] == ["U-5.3-meldingen"]
    [answer] = [line for line in report["lines"] if line["activity"] == "information-answer"]
    assert answer["clauseIds"] == ["U-5.3-meldingen"]
    [asked] = [line for line in report["lines"] if line["activity"] == "information-request"]
    assert asked["categoriesRedacted"] == [ANTECEDENTS]
    assert "case-intake" in {line["activity"] for line in report["lines"]}


def test_the_complainant_reads_the_buurtteams_answer_about_them_and_nothing_of_the_polices(
    client: TestClient, auth: Auth
) -> None:
    """U §5.6: whether the causer and/or complainant is known to the buurtteam concerns the
    complainant too. In one read with the police's items, the complainant's line keeps the
    buurtteam's alone, its clause, and the outcome of that alone."""
    request_id = concerning_case(client, auth).request_id
    answered = client.post(
        f"/v1/information-requests/{request_id}/answers",
        json={"answers": [{"category": KNOWN, "yesNo": True}]},
        headers=auth(BUURTTEAM, "adapter"),
    )
    assert answered.status_code == 200, answered.text
    read = client.get(
        f"/v1/information-requests/{request_id}/answers",
        headers=auth(*CASE_MANAGER, user="cm-1"),
    )
    assert read.status_code == 200, read.text

    complainant = api_report(client, auth, COMPLAINANT)
    [line] = [line for line in complainant["lines"] if line["activity"] == "disclosure"]
    assert line["categoriesDisclosed"] == [KNOWN]
    assert line["categoriesRedacted"] == []
    assert line["outcome"] == "disclosed"
    assert line["clauseIds"] == ["U-5.6-bekend-buurtteam"]
    assert _categories(complainant) == {KNOWN}
    # The dwelling is not known to a buurtteam: the address's report names none of it.
    assert _categories(api_report(client, auth, ADDRESS, "address")) == set()
    # The causer's read names all three.
    causer = api_report(client, auth, CAUSER)
    assert {REPORTS, ANTECEDENTS, KNOWN} <= _categories(causer)


def test_the_cli_gives_the_complainant_the_same_lines_as_the_api(
    client: TestClient, auth: Auth, settings: Settings
) -> None:
    concerning_case(client, auth)
    api = api_report(client, auth, COMPLAINANT)
    result = CliRunner().invoke(
        app,
        ["audit", "access-report", "--covenant", COVENANT, "--data-dir", str(settings.data_dir)],
        input=COMPLAINANT,
        env={"KETENPOORT_DATABASE_URL": settings.resolved_database_url},
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert cli["lines"][: len(api["lines"])] == api["lines"]
    assert _categories(cli) == set()
    assert "antecedent" not in result.stdout
    # Positive control: the causer's, through the CLI, names them.
    causer = CliRunner().invoke(
        app,
        ["audit", "access-report", "--covenant", COVENANT, "--data-dir", str(settings.data_dir)],
        input=CAUSER,
        env={"KETENPOORT_DATABASE_URL": settings.resolved_database_url},
    )
    assert causer.exit_code == 0, causer.output
    assert {REPORTS, ANTECEDENTS} <= _categories(json.loads(causer.stdout))


def _utrecht_text() -> str:
    return (default_package_dir() / COVENANT / "covenant.yaml").read_text(encoding="utf-8")


def test_a_category_without_concerns_does_not_load(tmp_path: Path) -> None:
    text = _utrecht_text()
    assert "    concerns: [causer]\n" in text
    broken = tmp_path / "covenant.yaml"
    broken.write_text(text.replace("    concerns: [causer]\n", "", 1), encoding="utf-8")
    with pytest.raises(CovenantError, match=r"categories\.0\.concerns: Field required"):
        load_covenant(broken)
    # Positive control: the file as packaged loads, every category saying whom it concerns.
    covenant = parse_covenant(text)
    assert all(category.concerns for category in covenant.categories)


@pytest.mark.parametrize(
    ("concerns", "error"),
    [
        ("[]", "at least 1 item"),
        ("[causer, causer]", "names causer more than once"),
        ("[tenant]", "Input should be"),
    ],
)
def test_concerns_names_known_roles_once(concerns: str, error: str) -> None:
    text = _utrecht_text().replace("    concerns: [causer]\n", f"    concerns: {concerns}\n", 1)
    with pytest.raises(CovenantError, match=error):
        parse_covenant(text)


def _line(**fields: Any) -> dict[str, Any]:
    return {
        "activity": "case-fact-recorded",
        "outcome": "recorded",
        "processing": {"covenantId": COVENANT, "clauseIds": []},
        **fields,
    }


def _concerns() -> Concerns:
    return Concerns.of(parse_covenant(_utrecht_text()), ["U-retention-closed"])


def test_a_pushed_fact_is_listed_only_to_whom_its_category_concerns() -> None:
    """A pushed fact's entry lists no categories: its ``category`` attribute says what it is
    about, and a police item's push is the causer's alone."""
    concerns = _concerns()
    pushed = _line(attributes={"category": ANTECEDENTS, "fact-id": "f-1"})
    assert _concerning(pushed, pushed, frozenset({"complainant"}), concerns) is None
    assert _concerning(pushed, pushed, frozenset(), concerns) is None  # unknown role
    assert _concerning(pushed, pushed, frozenset({"causer"}), concerns) == pushed
    # An erasure cites a retention rule, no clause of the covenant: about no category, it is
    # listed as it is to everyone.
    erased = _line(
        activity="retention-redaction",
        processing={"covenantId": COVENANT, "clauseIds": ["U-retention-closed"]},
    )
    assert _concerning(erased, erased, frozenset(), concerns) == erased
