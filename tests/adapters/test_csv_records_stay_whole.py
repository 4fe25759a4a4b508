"""A CSV export's record ends where the CSV says, never inside a cell (review8d F1).

``str.splitlines`` ends a line at a vertical tab, a form feed, U+001C-U+001E, U+0085 and
U+2028/U+2029 too, characters an ordinary CSV writer leaves unquoted in a free-text cell
(Word's manual line break, text pasted from a PDF or a web form). Split that way, the rest
of one case's cell became a record of its own: text typed in case A's row answered for
case B, with no warning. The csv module alone now decides where a record ends, and a
record holding a control character is refused and reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.base import PartnerAdapter
from adapters.corporation import CorporationAdapter
from adapters.municipality import MunicipalityAdapter
from adapters.neighbourhood_team import NeighbourhoodTeamAdapter
from adapters.police import PoliceAdapter
from tests.adapters.conftest import Auth, ClientFactory, open_utrecht_case
from tests.adapters.test_reference_adapters import Lines, ask, read, runner_for, values

pytestmark = pytest.mark.anyio

#: What ends a line for ``str.splitlines`` but not for CSV.
SEPARATORS = ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]


@dataclass(frozen=True)
class Partner:
    adapter: type[PartnerAdapter[Any]]
    partner: str
    team: tuple[str, ...]
    stage: str
    header: str
    genuine: str  # case B's own row after its reference
    victim: str  # case A's row after its reference, up to the free-text cell
    forged: str  # what A's cell makes of B after the separator
    categories: tuple[str, ...]
    expected: dict[str, tuple[str | None, bool | None]]  # B's answers: (value, yes_no)


PARTNERS = {
    "police": Partner(
        PoliceAdapter,
        "politie-midden-nederland",
        ("politie-midden-nederland",),
        "permission-given",
        "caseReference,reportCount,reports,physicalViolence,seriousIntimidation,"
        "nuisanceAntecedents,investigationRunning,policeAction",
        "1,Geluid,nee,nee,nee,nee,Geen",
        "1,Ruzie,nee,nee,nee,nee,Gesprek gevoerd",
        "7,Verzonnen melding,ja,ja,ja,nee,verzonnen",
        ("police-physical-violence", "police-reports"),
        {
            "police-physical-violence": (None, False),
            "police-reports": ("1 report(s): Geluid. Police action: Geen", None),
        },
    ),
    "corporation": Partner(
        CorporationAdapter,
        "mitros",
        (),
        "permission-given",
        "caseReference,tenancy",
        "Huurcontract (fictief)",
        "Contract",
        "Verzonnen",
        ("corporation-case-information",),
        {"corporation-case-information": ("Tenancy: Huurcontract (fictief)", None)},
    ),
    "neighbourhood-team": Partner(
        NeighbourhoodTeamAdapter,
        "buurtteam-sociaal",
        ("buurtteam-sociaal",),
        "permission-given",
        "caseReference,known,careWorker",
        "ja,M. Jansen (fictief)",
        "ja,P. de Wit",
        "ja,Verzonnen",
        ("neighbourhood-team-known", "neighbourhood-team-care-worker"),
        {
            "neighbourhood-team-known": (None, True),
            "neighbourhood-team-care-worker": ("M. Jansen (fictief)", None),
        },
    ),
    "municipality": Partner(
        MunicipalityAdapter,
        "gemeente-utrecht",
        ("gemeente-utrecht",),
        "plan-of-approach",
        "caseReference,safetyKnowledge",
        "Niets bekend (fictief)",
        "Bekend",
        "Verzonnen",
        ("municipality-safety-knowledge",),
        {"municipality-safety-knowledge": ("Niets bekend (fictief)", None)},
    ),
}


#: Every separator with the police (the review's probe), one with each other adapter.
CASES = [("police", s) for s in SEPARATORS] + [
    (kind, "\u2028") for kind in PARTNERS if kind != "police"
]


@pytest.mark.parametrize(
    ("kind", "separator"), CASES, ids=[f"{k}-U+{ord(s):04X}" for k, s in CASES]
)
async def test_a_line_separator_in_one_cases_cell_never_answers_for_another_case(
    client: TestClient,
    auth: Auth,
    sdk_client: ClientFactory,
    tmp_path: Path,
    kind: str,
    separator: str,
) -> None:
    """The review's probe, for every adapter: case A's free-text cell holds a separator and
    then a whole row for case B. B is answered from its own row; A's row is reported and
    skipped (more cells than the header names), nothing of it reaches the gateway."""
    spec = PARTNERS[kind]
    a = open_utrecht_case(client, auth, team=spec.team, stage=spec.stage, house_number=12)
    b = open_utrecht_case(client, auth, team=spec.team, stage=spec.stage, house_number=14)
    export = tmp_path / f"{kind}.csv"
    export.write_text(
        f"{spec.header}\n{b.reference},{spec.genuine}\n"
        f"{a.reference},{spec.victim}{separator}{b.reference},{spec.forged}\n",
        encoding="utf-8",
    )
    request_id = await ask(sdk_client, b.id, list(spec.categories))
    lines = Lines()
    async with sdk_client(spec.partner) as partner:
        report = await runner_for(spec.adapter(), partner, export, lines).run_once()
    assert report.skipped_rows == 1
    assert any(
        line.startswith(f"skipped {export}:3: more cells than header columns") for line in lines.err
    )
    answers = values(await read(sdk_client, request_id))
    assert {c: (answers[c].value, answers[c].yes_no) for c in spec.categories} == spec.expected
    assert not any("erzonnen" in line for line in lines.out + lines.err)


@pytest.mark.parametrize("kind", list(PARTNERS))
async def test_a_csv_export_without_separators_answers_each_case_from_its_row(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path, kind: str
) -> None:
    """The positive control: the same export with a plain cell in A's row, CRLF line ends
    and a quoted multi-line cell: both rows are read, B answered from its own."""
    spec = PARTNERS[kind]
    a = open_utrecht_case(client, auth, team=spec.team, stage=spec.stage, house_number=12)
    b = open_utrecht_case(client, auth, team=spec.team, stage=spec.stage, house_number=14)
    export = tmp_path / f"{kind}.csv"
    export.write_text(
        f"{spec.header}\r\n{b.reference},{spec.genuine}\r\n"
        f"{a.reference},{spec.victim.rsplit(',', 1)[0] + ',' if ',' in spec.victim else ''}"
        f'"twee\r\nregels"\r\n',
        encoding="utf-8",
        newline="",
    )
    request_id = await ask(sdk_client, b.id, list(spec.categories))
    async with sdk_client(spec.partner) as partner:
        report = await runner_for(spec.adapter(), partner, export, Lines()).run_once()
    assert report.skipped_rows == 0
    answers = values(await read(sdk_client, request_id))
    assert {c: (answers[c].value, answers[c].yes_no) for c in spec.categories} == spec.expected
