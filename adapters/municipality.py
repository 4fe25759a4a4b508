"""Reference adapter for the municipality: its own facts about a case.

Utrecht (U §5.4): the area managers' safety knowledge and the administrative instruments
used, and Volksgezondheid's advice on a polluted dwelling. Rijswijk (Bijlage A, E): the
case file the municipality keeps and the mayor's measures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from adapters.base import Fact, PartnerAdapter, join_lines
from adapters.exports import ExportRecord, split_list

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class MunicipalityRecord(ExportRecord):
    safety_knowledge: str | None = Field(default=None, min_length=1, max_length=5000)
    administrative_measures: list[Line] = Field(default_factory=list, max_length=50)
    hygiene_advice: str | None = Field(default=None, min_length=1, max_length=5000)
    case_file: str | None = Field(default=None, min_length=1, max_length=20_000)

    @classmethod
    def from_csv_row(cls, row: Mapping[str, str]) -> dict[str, Any]:
        data = super().from_csv_row(row)
        if "administrativeMeasures" in data:
            data["administrativeMeasures"] = split_list(data["administrativeMeasures"])
        return data

    def with_measures(self, text: str | None) -> str | None:
        parts = [text] if text else []
        if self.administrative_measures:
            parts.append(f"Administrative measures: {join_lines(self.administrative_measures)}")
        return ". ".join(parts) or None


class MunicipalityAdapter(PartnerAdapter[MunicipalityRecord]):
    command = "municipality"
    partner_kind = "municipality"
    record_model = MunicipalityRecord
    categories: ClassVar[Mapping[str, Callable[[Any], Fact]]] = {
        "municipality-safety-knowledge": lambda r: r.with_measures(r.safety_knowledge),
        "municipality-hygiene-advice": lambda r: r.hygiene_advice,
        "municipality-case-file": lambda r: r.with_measures(r.case_file),
    }
    push_categories = frozenset({"municipality-safety-knowledge", "municipality-case-file"})
