"""Reference adapter for a neighbourhood team: known or not, and the care worker's name.

U §5.6: on request, the team says whether the causer or complainant is known to it and,
if so, names the involved care worker. Rijswijk (Bijlage A) adds the team's actions within
the household.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, model_validator

from adapters.base import Fact, Flag, PartnerAdapter, join_lines
from adapters.exports import ExportRecord, split_list

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class NeighbourhoodTeamRecord(ExportRecord):
    known: Flag
    care_worker: str | None = Field(default=None, min_length=1, max_length=200)
    actions: list[Line] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _care_worker_only_when_known(self) -> NeighbourhoodTeamRecord:
        if not self.known and (self.care_worker or self.actions):
            raise ValueError("careWorker and actions need known=true")
        return self

    @classmethod
    def from_csv_row(cls, row: Mapping[str, str]) -> dict[str, Any]:
        data = super().from_csv_row(row)
        if "actions" in data:
            data["actions"] = split_list(data["actions"])
        return data


class NeighbourhoodTeamAdapter(PartnerAdapter[NeighbourhoodTeamRecord]):
    command = "neighbourhood-team"
    partner_kind = "neighbourhood-team"
    record_model = NeighbourhoodTeamRecord
    categories: ClassVar[Mapping[str, Callable[[Any], Fact]]] = {
        "neighbourhood-team-known": lambda r: r.known,
        "neighbourhood-team-care-worker": lambda r: r.care_worker if r.known else None,
        "neighbourhood-team-actions": lambda r: join_lines(r.actions) or None,
    }
    # Issue 7: "a neighbourhood team says whether the person is known and names the care
    # worker" on its own initiative.
    push_categories = frozenset({"neighbourhood-team-known", "neighbourhood-team-care-worker"})
