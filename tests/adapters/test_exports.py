"""Reading partner exports: every bad row is reported with its line and skipped whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.corporation import CorporationAdapter, CorporationRecord
from adapters.examples import DEFAULT_EXAMPLES, EXAMPLES_DIR, write_example
from adapters.exports import ExportError, read_export
from adapters.municipality import MunicipalityRecord
from adapters.neighbourhood_team import NeighbourhoodTeamAdapter, NeighbourhoodTeamRecord
from adapters.police import PoliceAdapter, PoliceRecord

GOOD = {
    "caseReference": "UTR-2025-AAAAAA",
    "reportCount": 2,
    "reports": ["Geluid 's nachts", "Bedreiging"],
    "physicalViolence": False,
    "seriousIntimidation": True,
    "nuisanceAntecedents": True,
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_json_record_is_reported_with_its_line_and_the_others_are_kept(
    tmp_path: Path,
) -> None:
    bad = {**GOOD, "caseReference": "UTR-2025-BBBBBB", "reportCount": -1}
    text = "[\n" + ",\n".join(json.dumps(r, indent=2) for r in (GOOD, bad, GOOD)) + "\n]\n"
    path = write(tmp_path, "police.json", text)
    export = read_export(path, PoliceRecord)
    lines = text.splitlines()
    assert [row.line for row in export.rows] == [2, 2 + 2 * (len(lines) - 2) // 3]
    [problem] = export.problems
    assert lines[problem.line - 1].strip() == "{"
    assert problem.line == 2 + (len(lines) - 2) // 3
    assert "reportCount" in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}: ")


def test_a_bad_csv_row_is_reported_with_its_file_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "police.csv",
        "caseReference,reportCount,reports,physicalViolence,seriousIntimidation,"
        "nuisanceAntecedents,investigationRunning,omConsentScope,omConsentExpiresOn\n"
        "UTR-1,2,a|b,nee,ja,ja,ja,police-nuisance-antecedents,2099-12-31\n"
        "UTR-2,1,a,misschien,nee,nee,nee,,\n"
        "UTR-3,1,a,nee,nee,nee,nee,,,extra\n"
        "UTR-4,0,,nee,nee,nee,nee,,\n",
    )
    export = read_export(path, PoliceRecord)
    assert [(r.line, r.record.case_reference) for r in export.rows] == [(2, "UTR-1"), (5, "UTR-4")]
    assert [(p.line, p.message) for p in export.problems] == [
        (3, "physicalViolence: Input should be a valid boolean, unable to interpret input"),
        (4, "more cells than header columns"),
    ]
    first = export.rows[0].record
    assert first.reports == ["a", "b"]
    assert first.physical_violence is False
    assert first.investigation_running is True
    assert first.om_consents[0].scope == ["police-nuisance-antecedents"]


def test_a_problem_names_the_field_but_never_echoes_its_value(tmp_path: Path) -> None:
    secret = "Jan Modaal woont op nummer 12"
    record = {**GOOD, "reports": [secret * 20]}
    path = write(tmp_path, "police.jsonl", json.dumps(GOOD) + "\n\n" + json.dumps(record) + "\n")
    export = read_export(path, PoliceRecord)
    [problem] = export.problems
    assert problem.line == 3
    assert "reports.0" in problem.message
    assert "Jan" not in str(problem)


def test_a_record_naming_no_case_is_skipped(tmp_path: Path) -> None:
    record = {k: v for k, v in GOOD.items() if k != "caseReference"}
    path = write(tmp_path, "police.jsonl", json.dumps(record) + "\n")
    export = read_export(path, PoliceRecord)
    assert export.rows == []
    assert export.problems[0].message == "names no case: give caseReference or caseId"


def test_unknown_fields_are_an_error_so_a_typo_never_silently_drops_a_flag(
    tmp_path: Path,
) -> None:
    record = {k: v for k, v in GOOD.items() if k != "physicalViolence"}
    path = write(tmp_path, "p.jsonl", json.dumps({**record, "physicalViolance": True}) + "\n")
    export = read_export(path, PoliceRecord)
    assert export.problems[0].message == (
        "physicalViolence: Field required; physicalViolance: Extra inputs are not permitted"
    )


def test_a_broken_json_line_is_reported_and_the_next_lines_still_read(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jsonl", '{"caseReference": \n' + json.dumps(GOOD) + "\n")
    export = read_export(path, PoliceRecord)
    assert [row.line for row in export.rows] == [2]
    assert export.problems[0].line == 1


def test_a_json_line_naming_a_field_twice_is_reported_and_the_others_are_kept(
    tmp_path: Path,
) -> None:
    """``physicalViolence`` false, then true: which one the partner's system meant is
    unknowable (Python's parser would keep the last), so the record is skipped and reported,
    as the gateway's API refuses such a body. Control: the same record once is read."""
    twice = json.dumps(GOOD)[:-1] + ', "physicalViolence": true}'
    path = write(tmp_path, "p.jsonl", twice + "\n" + json.dumps(GOOD) + "\n")
    export = read_export(path, PoliceRecord)
    assert [row.line for row in export.rows] == [2]
    [problem] = export.problems
    assert problem.line == 1
    assert 'duplicate key "physicalViolence"' in problem.message


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.json", '{"not": "an array"}', "must be an array"),
        (
            "p.json",
            '[{"caseReference": "UTR-2025-AAAAAA"},\n{"reportCount": 1, "reportCount": 2}]',
            'p.json:2: not valid JSON \\(duplicate key "reportCount"',
        ),
        ("p.json", '[{"a": 1},\n{"b": }]', "p.json:2: not valid JSON"),
        ("p.json", "[{}] trailing", "text after the array"),
        ("p.xlsx", "", "unknown export format"),
    ],
)
def test_an_unreadable_export_is_rejected_whole(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(ExportError, match=message):
        read_export(write(tmp_path, name, text), PoliceRecord)


def test_a_missing_export_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such export file"):
        read_export(tmp_path / "missing.json", PoliceRecord)


def test_an_empty_array_is_an_empty_export(tmp_path: Path) -> None:
    export = read_export(write(tmp_path, "p.json", " [ ] \n"), PoliceRecord)
    assert export.rows == []
    assert export.problems == []


def test_more_descriptions_than_reports_is_a_bad_row(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jsonl", json.dumps({**GOOD, "reportCount": 1}) + "\n")
    assert (
        "more report descriptions than reportCount"
        in read_export(path, PoliceRecord).problems[0].message
    )


def test_a_care_worker_for_someone_not_known_is_a_bad_row(tmp_path: Path) -> None:
    path = write(
        tmp_path, "b.jsonl", json.dumps({"caseId": "c1", "known": False, "careWorker": "X"}) + "\n"
    )
    assert (
        "careWorker and actions need known=true"
        in read_export(path, NeighbourhoodTeamRecord).problems[0].message
    )


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("police.json", PoliceRecord),
        ("police.csv", PoliceRecord),
        ("corporation.json", CorporationRecord),
        ("neighbourhood-team.json", NeighbourhoodTeamRecord),
        ("neighbourhood-team.csv", NeighbourhoodTeamRecord),
        ("municipality.json", MunicipalityRecord),
    ],
)
def test_the_shipped_examples_read_without_problems(name: str, model: type) -> None:
    export = read_export(EXAMPLES_DIR / name, model)
    assert export.problems == []
    assert export.rows


def test_every_adapter_ships_an_example() -> None:
    assert set(DEFAULT_EXAMPLES) == {"police", "corporation", "neighbourhood-team", "municipality"}
    assert all((EXAMPLES_DIR / name).is_file() for name in DEFAULT_EXAMPLES.values())


def test_an_example_can_be_bound_to_real_case_references(tmp_path: Path) -> None:
    path = write_example("police.json", tmp_path / "police.json", {"UTR-DEMO-1": "UTR-2025-X"})
    export = read_export(path, PoliceRecord)
    assert export.for_case(case_id="?", case_reference="UTR-2025-X") is not None
    assert export.for_case(case_id="?", case_reference="UTR-DEMO-1") is None


def test_a_whether_category_is_answered_yes_or_no_never_with_detail() -> None:
    record = PoliceRecord.model_validate(GOOD)
    answers = PoliceAdapter().answers(
        ["police-reports", "police-reports", "police-serious-intimidation", "police-unknown"],
        {"police-reports": "yes-no", "police-serious-intimidation": "yes-no"},
        record,
    )
    assert [(a.value, a.yes_no, a.not_available) for a in answers] == [
        (None, True, False),
        (None, True, False),
        (None, True, False),
        (None, None, True),
    ]


def test_a_case_missing_from_the_export_is_answered_not_available() -> None:
    answers = NeighbourhoodTeamAdapter().answers(["neighbourhood-team-known"], {}, None)
    assert answers[0].not_available


def test_a_detail_category_gets_the_registrations_text() -> None:
    record = PoliceRecord.model_validate({**GOOD, "policeAction": "Wijkagent op bezoek"})
    [answer] = PoliceAdapter().answers(["police-reports"], {}, record)
    assert (
        answer.value
        == "2 report(s): Geluid 's nachts; Bedreiging. Police action: Wijkagent op bezoek"
    )


def test_a_corporation_decision_becomes_its_permission() -> None:
    record = CorporationRecord.model_validate(
        {"caseId": "c", "permission": "granted", "permissionExpiresOn": "2099-01-31"}
    )
    consent = CorporationAdapter().permission(record)
    assert consent is not None
    assert (consent.kind, consent.granted) == ("corporation-permission", True)
    assert consent.expires_at is not None
    # Through 31 January in the Netherlands: its last second, 23:59:59 in Amsterdam.
    assert consent.expires_at.isoformat() == "2099-01-31T22:59:59+00:00"
    assert CorporationAdapter().permission(CorporationRecord(case_id="c")) is None


POLICE_CSV_HEADER = (
    "caseReference,reportCount,reports,physicalViolence,seriousIntimidation,"
    "nuisanceAntecedents,investigationRunning,policeAction\n"
)
LINE_ENDS_OF_SPLITLINES = ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]


@pytest.mark.parametrize(
    "separator", LINE_ENDS_OF_SPLITLINES, ids=[f"U+{ord(s):04X}" for s in LINE_ENDS_OF_SPLITLINES]
)
def test_a_line_separator_in_an_unquoted_cell_never_starts_a_record(
    tmp_path: Path, separator: str
) -> None:
    """Review8d F1: one row whose last cell holds a separator and then a whole forged row
    is one record of too many cells (reported), never two records."""
    path = write(
        tmp_path,
        "police.csv",
        POLICE_CSV_HEADER + f"UTR-1,1,a,nee,nee,nee,nee,Gesprek gevoerd{separator}"
        "UTR-2,7,forged,ja,ja,ja,nee,forged\n",
    )
    export = read_export(path, PoliceRecord)
    assert export.rows == []
    assert [(p.line, p.message) for p in export.problems] == [(2, "more cells than header columns")]


@pytest.mark.parametrize(
    "control", ["\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\x00", "\x1b", "\x7f", "\x9b"]
)
@pytest.mark.parametrize("form", ["csv", "jsonl", "json"])
def test_a_field_with_a_control_character_is_refused_and_reported(
    tmp_path: Path, control: str, form: str
) -> None:
    """A control character (other than tab, CR, LF) in any field refuses the record with the
    field and the code point, never the value; the next record is still read."""
    if form == "csv":
        text = POLICE_CSV_HEADER + (
            f"UTR-1,1,a,nee,nee,nee,nee,Gesprek{control}gevoerd\nUTR-2,1,a,nee,nee,nee,nee,\n"
        )
    else:
        bad = {**GOOD, "caseReference": "UTR-1", "policeAction": f"Gesprek{control}gevoerd"}
        records = [bad, {**GOOD, "caseReference": "UTR-2"}]
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        text = "\n".join(lines) + "\n" if form == "jsonl" else "[\n" + ",\n".join(lines) + "\n]\n"
    path = write(tmp_path, f"police.{form}", text)
    export = read_export(path, PoliceRecord)
    assert [row.record.case_reference for row in export.rows] == ["UTR-2"]
    [problem] = export.problems
    assert problem.message == f"policeAction: control character U+{ord(control):04X} is not allowed"
    assert "Gesprek" not in str(problem)


def test_a_nested_field_with_a_control_character_is_named_by_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jsonl", json.dumps({**GOOD, "reports": ["a", "b\x0cc"]}) + "\n")
    [problem] = read_export(path, PoliceRecord).problems
    assert problem.message == "reports.1: control character U+000C is not allowed"


@pytest.mark.parametrize("form", ["csv", "jsonl", "json"])
def test_line_breaks_tabs_and_unicode_separators_inside_a_text_are_kept(
    tmp_path: Path, form: str
) -> None:
    """The positive control: a quoted multi-line CSV cell (CRLF), a tab, and U+2028/U+2029
    inside a text are part of the one record, read whole; so is a JSON string holding
    U+2028 unescaped, which JSON allows (and JSON Lines ends a record at LF only)."""
    action = "Gesprek\r\ngevoerd\tmet\u2028bewoner\u2029en buren"
    if form == "csv":
        text = (
            POLICE_CSV_HEADER
            + f'UTR-1,1,a,nee,nee,nee,nee,"{action}"\r\nUTR-2,0,,nee,nee,nee,,\r\n'
        )
    else:
        records = [
            {**GOOD, "caseReference": "UTR-1", "policeAction": action},
            {**GOOD, "caseReference": "UTR-2"},
        ]
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        text = "\r\n".join(lines) + "\r\n" if form == "jsonl" else "[" + ",".join(lines) + "]"
    path = tmp_path / f"police.{form}"
    path.write_text(text, encoding="utf-8", newline="")
    export = read_export(path, PoliceRecord)
    assert export.problems == []
    assert [(r.record.case_reference, r.record.police_action) for r in export.rows] == [
        ("UTR-1", action),
        ("UTR-2", None),
    ]
    if form == "csv":
        assert [r.line for r in export.rows] == [2, 4]


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (
            "caseReference,reportCount,physicalViolence,seriousIntimidation,"
            "nuisanceAntecedents,physicalViolence",
            "UTR-1,1,ja,nee,nee,nee",
            "police.csv:1: the header names column 'physicalViolence' twice (columns 3 and 6)",
        ),
        (
            "caseReference,reportCount,physicalViolence,seriousIntimidation,"
            "nuisanceAntecedents,caseReference",
            "UTR-1,1,ja,nee,nee,UTR-2",
            "police.csv:1: the header names column 'caseReference' twice (columns 1 and 6)",
        ),
        (
            "caseReference,reportCount,physicalViolence,seriousIntimidation,"
            "nuisanceAntecedents, caseReference ",
            "UTR-1,1,ja,nee,nee,UTR-2",
            "police.csv:1: the header names column 'caseReference' twice (columns 1 and 6)",
        ),
        (
            "caseReference,reportCount,physicalViolence,seriousIntimidation,nuisanceAntecedents,",
            "UTR-1,1,ja,nee,nee,UTR-2",
            "police.csv:1: column 6 of the header has no name",
        ),
    ],
)
def test_a_csv_header_naming_a_column_twice_rejects_the_export_whole(
    tmp_path: Path, header: str, row: str, message: str
) -> None:
    """Review8d F6: the csv module reads the last of two equal columns, so a second
    ``physicalViolence`` turned yes into no and a second ``caseReference`` moved the record
    to another case. As a JSON record with a key twice: refused, which was meant is
    unknowable; here the header is every row's, so the file is refused whole."""
    path = write(tmp_path, "police.csv", f"{header}\n{row}\n")
    with pytest.raises(ExportError) as refused:
        read_export(path, PoliceRecord)
    assert str(refused.value).startswith(f"{tmp_path}/{message}")


def test_a_csv_header_with_distinct_columns_is_read(tmp_path: Path) -> None:
    """The control: the same columns once each (in any order) are read."""
    path = write(
        tmp_path,
        "police.csv",
        "physicalViolence,caseReference,reportCount,seriousIntimidation,nuisanceAntecedents\n"
        "ja,UTR-1,1,nee,nee\n",
    )
    export = read_export(path, PoliceRecord)
    assert export.problems == []
    assert [(r.record.case_reference, r.record.physical_violence) for r in export.rows] == [
        ("UTR-1", True)
    ]


def test_an_export_over_the_size_limit_is_refused_whole(tmp_path: Path) -> None:
    """Review8d S2: refused before it is read into memory; the control: at the limit it is
    read."""
    text = "\n".join(json.dumps({**GOOD, "caseReference": f"UTR-{i}"}) for i in range(3)) + "\n"
    path = write(tmp_path, "p.jsonl", text)
    size = len(text.encode())
    with pytest.raises(ExportError, match=f"larger than {size - 1} bytes, the limit"):
        read_export(path, PoliceRecord, max_bytes=size - 1)
    assert len(read_export(path, PoliceRecord, max_bytes=size).rows) == 3
