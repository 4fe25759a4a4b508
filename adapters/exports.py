"""Reading a partner's export (CSV, JSON or JSON Lines) into validated records.

Each record is validated whole before anything of it is used: a bad row is reported with
its file and line and skipped, so nothing half-written ever reaches the gateway. Problems
name the field and what is wrong with it, never the value (it may be personal data).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from gateway.core.json_body import DuplicateKey, refuse_duplicates

R = TypeVar("R", bound="ExportRecord")

#: The largest export read (64 MiB): some thousands of cases with long texts fit; a runaway
#: export is refused whole instead of being read into memory at every change.
MAX_EXPORT_BYTES = 64 * 1024 * 1024

#: Separator of list values inside one CSV cell ("a | b | c").
CSV_LIST_SEPARATOR = "|"


class ExportError(Exception):
    """The export as a whole cannot be read (missing file, unknown format, broken JSON)."""


class ExportRecord(BaseModel):
    """Base of a partner's export record: camelCase keys, unknown keys are an error.

    Every record names the case it belongs to, by the gateway's case reference (what the
    case manager tells the team) or its case id.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    case_reference: str | None = None
    case_id: str | None = None

    def matches(self, *, case_id: str, case_reference: str | None) -> bool:
        if self.case_id is not None and self.case_id == case_id:
            return True
        return self.case_reference is not None and self.case_reference == case_reference

    @property
    def case_label(self) -> str:
        """How progress lines name the case: a reference or id, never a person."""
        return self.case_reference or self.case_id or "?"

    @classmethod
    def from_csv_row(cls, row: Mapping[str, str]) -> dict[str, Any]:
        """Turn one CSV row (all strings) into input for ``model_validate``.

        Empty cells are absent; subclasses split list cells and group columns.
        """
        return {k: v.strip() for k, v in row.items() if k and v is not None and v.strip()}


@dataclass(frozen=True, slots=True)
class ExportProblem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ExportRow(Generic[R]):
    line: int
    record: R


@dataclass(frozen=True, slots=True)
class CaseLookup(Generic[R]):
    """What the export says about one case.

    ``record``: the one record to use, or None. ``settled`` is False when the export names
    the case but none of its records can be used (a refused row names it, two records name
    it, or a record names it and another case): the adapter then changes nothing about the
    case at the gateway (no push, no sync, nothing withdrawn) and answers none of its
    requests until the export changes. ``problems``: why, with file and line.
    """

    record: R | None
    settled: bool = True
    problems: tuple[ExportProblem, ...] = ()


@dataclass
class Export(Generic[R]):
    path: Path
    rows: list[ExportRow[R]] = field(default_factory=list)
    problems: list[ExportProblem] = field(default_factory=list)
    #: (line, caseId, caseReference) of each refused row that names a case.
    refused: list[tuple[int, str | None, str | None]] = field(default_factory=list)

    def records(self) -> list[R]:
        return [row.record for row in self.rows]

    def lookup(self, *, case_id: str, case_reference: str | None) -> CaseLookup[R]:
        """The case's one record, or why there is none to use (review8d F4).

        A record whose caseId and caseReference name different cases is used for neither:
        which of the two it is about is unknowable, and using it for both gave one case
        another's police data. A case named by two records (or by a refused row) gets
        neither: the last one winning silently was a guess.
        """
        problems: list[ExportProblem] = []
        matching = [
            row
            for row in self.rows
            if row.record.case_id == case_id
            or (case_reference is not None and row.record.case_reference == case_reference)
        ]
        for row in matching:
            record = row.record
            if (record.case_id is not None and record.case_id != case_id) or (
                record.case_reference is not None and record.case_reference != case_reference
            ):
                problems.append(
                    ExportProblem(
                        self.path,
                        row.line,
                        "caseId and caseReference name different cases: "
                        "the record is used for neither",
                    )
                )
        refused = [
            line
            for line, refused_id, refused_reference in self.refused
            if refused_id == case_id
            or (case_reference is not None and refused_reference == case_reference)
        ]
        lines = sorted([row.line for row in matching] + refused)
        if len(lines) > 1:
            label = case_reference or case_id
            problems.append(
                ExportProblem(
                    self.path,
                    lines[0],
                    f"case {label} is named by {len(lines)} records (lines "
                    f"{', '.join(map(str, lines))}): none of them is used",
                )
            )
        if problems or refused:
            return CaseLookup(None, settled=False, problems=tuple(problems))
        return CaseLookup(matching[0].record if matching else None)

    def for_case(self, *, case_id: str, case_reference: str | None) -> R | None:
        """The case's record; None when it has none, or none that can be used."""
        return self.lookup(case_id=case_id, case_reference=case_reference).record


def read_export(path: Path, model: type[R], *, max_bytes: int = MAX_EXPORT_BYTES) -> Export[R]:
    """Read and validate every record of ``path``; bad rows become ``problems``.

    An export larger than ``max_bytes`` is refused whole (ExportError), before it is read
    into memory: a runaway export must not take the adapter's host down with it."""
    export: Export[R] = Export(path=path)
    to_input: Callable[[Any], Any]
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise ExportError(f"{path}: unknown export format {suffix!r} (use .csv, .json or .jsonl)")
    text = _open_text(path, max_bytes)
    if suffix == ".csv":
        raw_rows: Iterator[tuple[int, Any]] = _csv_rows(path, text)
        to_input = model.from_csv_row
    elif suffix == ".json":
        raw_rows = _json_array(path, text)
        to_input = _identity
    else:
        raw_rows = _json_lines(path, text, export)
        to_input = _identity
    for line, raw in raw_rows:
        problem = _problem_of(raw, model, to_input)
        if isinstance(problem, str):
            export.problems.append(ExportProblem(path, line, problem))
            if isinstance(raw, dict):
                export.refused.append((line, _named(raw, "caseId"), _named(raw, "caseReference")))
            continue
        export.rows.append(ExportRow(line, problem))
    return export


def _problem_of(raw: Any, model: type[R], to_input: Callable[[Any], Any]) -> R | str:
    """The validated record, or what is wrong with it (never its values)."""
    if not isinstance(raw, dict):
        return "a record must be an object"
    if None in raw:
        # csv.DictReader files cells beyond the header under the key None.
        return "more cells than header columns"
    control = _control_character(raw)
    if control is not None:
        return control
    try:
        record = model.model_validate(to_input(raw))
    except ValidationError as exc:
        return describe_validation_error(exc)
    except ValueError as exc:
        return str(exc)
    if record.case_reference is None and record.case_id is None:
        return "names no case: give caseReference or caseId"
    return record


def _named(raw: dict[Any, Any], key: str) -> str | None:
    """The case a refused row names, if it names one: that case is left as it is."""
    value = raw.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


def describe_validation_error(exc: ValidationError) -> str:
    """Which fields are wrong and why; never the offending values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


#: Characters no field of an export may hold: the C0 and C1 controls and DEL, except tab,
#: line feed and carriage return (a multi-line text). A vertical tab, form feed or U+0085
#: ends a line for some readers and not for others, and a NUL or an escape sequence has no
#: place in a fact a case manager reads.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def _control_character(raw: Any, where: str = "") -> str | None:
    """The first field of ``raw`` holding a control character, as a problem (the field and
    the character's code point, never the value), or None."""
    if isinstance(raw, str):
        for char in raw:
            if char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
                return f"{where or 'record'}: control character U+{ord(char):04X} is not allowed"
        return None
    items: Iterable[tuple[str, Any]]
    if isinstance(raw, dict):
        for key in raw:
            if isinstance(key, str) and _control_character(key) is not None:
                return f"{where or 'record'}: a field name holds a control character"
        items = ((str(k), v) for k, v in raw.items())
    elif isinstance(raw, list):
        items = ((str(i), v) for i, v in enumerate(raw))
    else:
        return None
    for key, value in items:
        found = _control_character(value, f"{where}.{key}" if where else key)
        if found is not None:
            return found
    return None


def split_list(cell: str | None) -> list[str]:
    if cell is None or not cell.strip():
        return []
    return [part.strip() for part in cell.split(CSV_LIST_SEPARATOR) if part.strip()]


def _identity(value: Any) -> Any:
    return value


def _open_text(path: Path, max_bytes: int) -> str:
    """The export's text exactly as written: no newline translation, so that only the
    format's own parser decides where a record ends (``newline=''``, as the csv module's
    documentation asks). At most ``max_bytes`` are read."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise ExportError(f"{path}: no such export file") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot read the export ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise ExportError(
            f"{path}: the export is larger than {max_bytes} bytes, the limit "
            "(--max-export-mb): refused whole"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV export, parsed by the csv module alone.

    Only CR and LF end a line (``newline=''``): ``str.splitlines`` would also end one at a
    vertical tab, a form feed, U+001C-U+001E, U+0085 or U+2028/U+2029, characters an
    ordinary CSV writer leaves unquoted in a free-text cell, and the rest of the cell would
    be read as another record (review8d F1: text typed in one case's cell answered for
    another case).
    """
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise ExportError(f"{path}:{reader.line_num}: broken CSV ({exc})") from None
    if header is not None:
        _check_header(path, list(header))
    start = 2  # line 1 is the header
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ExportError(f"{path}:{reader.line_num}: broken CSV ({exc})") from None
        yield start, row
        start = reader.line_num + 1


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse the whole export when its header names a column twice (also when the two
    differ only in surrounding spaces) or leaves one unnamed: the csv module would read the
    LAST of two cells, so a repeated ``caseReference`` moved a record to another case
    (review8d F6), and which of the two the partner's system meant is unknowable, as for a
    key twice in a JSON record. An unnamed column's cells would be dropped unseen."""
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        key = name.strip()
        if not key:
            raise ExportError(f"{path}:1: column {column} of the header has no name")
        if key in seen:
            raise ExportError(
                f"{path}:1: the header names column {key!r} twice (columns {seen[key]} and "
                f"{column}): which of the two cells is meant is unknowable"
            )
        seen[key] = column


def _json_lines(path: Path, text: str, export: Export[Any]) -> Iterator[tuple[int, Any]]:
    # JSON Lines ends a record at LF only (a CR before it is whitespace): a JSON string may
    # hold U+2028 or U+0085 unescaped, which ``str.splitlines`` would cut the record at.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line, object_pairs_hook=refuse_duplicates)
        except json.JSONDecodeError as exc:
            export.problems.append(ExportProblem(path, number, f"not valid JSON ({exc.msg})"))


def _json_array(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """The elements of a top-level JSON array, each with the line it starts on.

    A file that is not a well-formed array is rejected whole: where one element ends and
    the next begins is then unknowable, so no element of it can be trusted.
    """
    # A record with a key twice is refused as Ketenpoort's own API refuses one: which of
    # the two the partner's system meant is unknowable.
    decoder = json.JSONDecoder(object_pairs_hook=refuse_duplicates)

    # Lines are counted on from the last element, never from the start: linear, not
    # quadratic, in the size of the export.
    counted = [0, 1]  # [index, line at index]

    def line_of(index: int) -> int:
        if index < counted[0]:
            return text.count("\n", 0, index) + 1
        counted[1] += text.count("\n", counted[0], index)
        counted[0] = index
        return counted[1]

    def skip_space(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    position = skip_space(0)
    if position >= len(text) or text[position] != "[":
        raise ExportError(f"{path}:{line_of(position)}: a JSON export must be an array of records")
    elements: list[tuple[int, Any]] = []
    position = skip_space(position + 1)
    if position < len(text) and text[position] == "]":
        return iter(elements)
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except DuplicateKey as exc:
            raise ExportError(f"{path}:{line_of(position)}: not valid JSON ({exc.msg})") from None
        except json.JSONDecodeError as exc:
            raise ExportError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        elements.append((line_of(position), value))
        position = skip_space(end)
        if position < len(text) and text[position] == ",":
            position = skip_space(position + 1)
            continue
        if position < len(text) and text[position] == "]":
            break
        raise ExportError(f"{path}:{line_of(position)}: expected ',' or ']' in the array")
    if skip_space(position + 1) != len(text):
        raise ExportError(f"{path}:{line_of(position)}: text after the array")
    return iter(elements)
