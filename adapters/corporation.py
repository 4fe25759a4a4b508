"""Reference adapter for a housing corporation: tenancy facts and permission decisions.

One record per case: since when the household rents the dwelling, the tenancy, the nuisance
reports the corporation received, the measures under tenancy law it took, its decision on
U Centraal's permission request (U §5.1-5.2: answered within three days), and the further
measures it started as case events of the covenant (``caseEvents``: U §5.2 gedragsaanwijzing,
ontruimingsprocedure, laatste kans, zorgcontract; R Bijlage F), which the adapter records on
the gateway once each: the sfeerverslag needs the eviction procedure on record (U §5.3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from adapters.base import (
    Fact,
    PartnerAdapter,
    consent_idempotency_key,
    end_of_day,
    join_lines,
    own_consents,
)
from adapters.exports import ExportRecord, split_list
from adapters.sdk import CaseEventIn, Consent, ConsentIn, KetenpoortClient
from gateway.core.dutch_date import dutch_date

CORPORATION_PERMISSION = "corporation-permission"

EventId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$", max_length=60)]


class CaseEventEntry(BaseModel):
    """A further measure the corporation started (a case event of the covenant file)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    event: EventId
    occurred_on: date | None = None


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CorporationRecord(ExportRecord):
    tenant_since: date | None = None
    tenancy: str | None = Field(default=None, max_length=500, description="Contract, dwelling.")
    nuisance_reports: list[Line] = Field(default_factory=list, max_length=100)
    measures: list[Line] = Field(default_factory=list, max_length=50)
    permission: Literal["granted", "refused"] | None = None
    permission_expires_on: date | None = None
    case_events: list[CaseEventEntry] = Field(default_factory=list, max_length=20)

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

    async def sync_case(
        self,
        client: KetenpoortClient,
        case_id: str,
        record: CorporationRecord,
        say: Callable[[str], None],
    ) -> None:
        """Record each further measure of the export the gateway does not have yet (the
        corporation's own records are the source; the gateway keeps every one it was told),
        and end a standing permission the export no longer grants."""
        summary = await client.case(case_id)
        on_file = {
            (e.event, e.occurred_on) for e in summary.events if e.partner_id == client.partner_id
        }
        for entry in record.case_events:
            if (entry.event, entry.occurred_on) in on_file:
                continue
            on = entry.occurred_on.isoformat() if entry.occurred_on else "-"
            await client.record_case_event(
                case_id,
                CaseEventIn(event=entry.event, occurred_on=entry.occurred_on),
                idempotency_key=client.idempotency_key_for("case-event", case_id, entry.event, on),
            )
            on_file.add((entry.event, entry.occurred_on))
            say(f"case {record.case_label}: recorded {entry.event} (since {on})")
        await match_permission(
            client, case_id, record.case_label, self.permission(record), summary.consents, say
        )

    async def case_left_export(
        self, client: KetenpoortClient, case_id: str, label: str, say: Callable[[str], None]
    ) -> None:
        summary = await client.case(case_id)
        await match_permission(client, case_id, label, None, summary.consents, say)

    def permission(self, record: CorporationRecord | None) -> ConsentIn | None:
        if record is None or record.permission is None:
            return None
        expires = (
            end_of_day(record.permission_expires_on)
            if record.permission_expires_on is not None
            else None
        )
        return ConsentIn(
            kind=CORPORATION_PERMISSION,
            granted=record.permission == "granted",
            expires_at=expires,
        )


async def match_permission(
    client: KetenpoortClient,
    case_id: str,
    label: str,
    decision: ConsentIn | None,
    consents: list[Consent],
    say: Callable[[str], None],
) -> None:
    """Bring the export's decision to a standing permission (U §5.1: it gates every
    disclosure of the case): a refusal is recorded, a changed expiry is recorded as a new
    grant (the latest answer counts).

    Only what the export says acts. A record without a decision, or no record, leaves a
    standing permission as it is and says so: the permission is the corporation's own word,
    also given outside the export (by reporting its own dwelling, U §5.2, or by a
    woonconsulent over the API), and silence is not its "no" (docs/adapters.md). A first
    grant, or a grant after a "no", answers the gateway's permission request (the inbox),
    never a sync alone: fail closed.
    """
    own = own_consents(client, consents, CORPORATION_PERMISSION)
    standing = [c for c in own if c.live]
    if not standing:
        return
    if decision is None:
        say(
            f"case {label}: the export gives no permission decision; the permission on "
            "record stands (refuse it in the export to end it)"
        )
        return
    if decision.granted and any(c.expires_at == decision.expires_at for c in standing):
        return
    await client.record_consent(
        case_id,
        decision,
        idempotency_key=consent_idempotency_key(client, "permission", case_id, earlier=own),
    )
    if decision.granted:
        until = dutch_date(decision.expires_at).isoformat() if decision.expires_at else "no end"
        say(f"case {label}: permission granted with another expiry ({until})")
    else:
        say(f"case {label}: permission refused")
