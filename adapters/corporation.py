"""Reference adapter for a housing corporation: tenancy facts and permission decisions.

One record per case: since when the household rents the dwelling, the tenancy, the nuisance
reports the corporation received, the measures under tenancy law it took, and its decision
on U Centraal's permission request (U §5.1-5.2: answered within three days).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from adapters.base import Fact, PartnerAdapter, end_of_day, join_lines
from adapters.exports import ExportRecord, split_list
from adapters.sdk import ConsentIn

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CorporationRecord(ExportRecord):
    tenant_since: date | None = None
    tenancy: str | None = Field(default=None, max_length=500, description="Contract, dwelling.")
    nuisance_reports: list[Line] = Field(default_factory=list, max_length=100)
    measures: list[Line] = Field(default_factory=list, max_length=50)
    permission: Literal["granted", "refused"] | None = None
    permission_expires_on: date | None = None

    @model_validator(mode="after")
    def _expiry_needs_a_permission(self) -> CorporationRecord:
        if self.permission_expires_on is not None and self.permission != "granted":
            raise ValueError("permissionExpiresOn is only meaningful with permission=granted")
        return self

    @classmethod
    def from_csv_row(cls, row: Mapping[str, str]) -> dict[str, Any]:
        data = super().from_csv_row(row)
        for key in ("nuisanceReports", "measures"):
            if key in data:
                data[key] = split_list(data[key])
        return data

    def case_information(self) -> str | None:
        parts = []
        if self.tenant_since is not None:
            parts.append(f"Tenant since {self.tenant_since.isoformat()}")
        if self.tenancy:
            parts.append(f"Tenancy: {self.tenancy}")
        if self.nuisance_reports:
            parts.append(
                f"{len(self.nuisance_reports)} nuisance report(s): "
                f"{join_lines(self.nuisance_reports)}"
            )
        if self.measures:
            parts.append(f"Measures: {join_lines(self.measures)}")
        return ". ".join(parts) or None


def _case_information(record: CorporationRecord) -> Fact:
    return record.case_information()


class CorporationAdapter(PartnerAdapter[CorporationRecord]):
    command = "corporation"
    partner_kind = "housing-corporation"
    record_model = CorporationRecord
    categories: ClassVar[Mapping[str, Callable[[Any], Fact]]] = {
        "corporation-case-information": _case_information,  # Utrecht, U §5.1, §6
        "corporation-nuisance-reports": _case_information,  # Rijswijk, Bijlage A
    }
    push_categories = frozenset(categories)

    def permission(self, record: CorporationRecord | None) -> ConsentIn | None:
        if record is None or record.permission is None:
            return None
        expires = (
            end_of_day(record.permission_expires_on)
            if record.permission_expires_on is not None
            else None
        )
        return ConsentIn(
            kind="corporation-permission",
            granted=record.permission == "granted",
            expires_at=expires,
        )
