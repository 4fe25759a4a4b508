"""Reference adapter for the police: registrations per case from a JSON or CSV export.

One record per case: the report count and short descriptions, police action, whether
physical violence and serious intimidation occur, whether the causer has nuisance
antecedents, whether an investigation runs, and the OM consents on file (U §5.3; R
Bijlage A). Before answering, the adapter tells the gateway whether an investigation runs
and registers new OM consents: the gateway decides on delivery whether antecedents may go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from adapters.base import Fact, Flag, PartnerAdapter, end_of_day, join_lines
from adapters.exports import ExportRecord, split_list
from adapters.sdk import ConsentIn, KetenpoortClient
from gateway.core.dutch_date import dutch_today

#: What an OM consent may cover when the export gives no scope (U §5.3: antecedents).
DEFAULT_OM_SCOPE = ("police-nuisance-antecedents",)

#: A short description of one report, as the police share it (U §5.3 "korte omschrijving").
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class OmConsent(BaseModel):
    """The public prosecutor's consent to share, for some categories, until a date."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    scope: list[str] = Field(default_factory=lambda: list(DEFAULT_OM_SCOPE), min_length=1)
    expires_on: date

    def live(self, today: date) -> bool:
        return self.expires_on >= today


class PoliceRecord(ExportRecord):
    report_count: int = Field(ge=0, le=10_000)
    reports: list[Description] = Field(default_factory=list, max_length=100)
    police_action: str | None = Field(default=None, max_length=2000)
    physical_violence: Flag
    serious_intimidation: Flag
    nuisance_antecedents: Flag
    investigation_running: Flag = False
    om_consents: list[OmConsent] = Field(default_factory=list, max_length=20)
    risk_assessment: str | None = Field(default=None, max_length=5000)
    atmosphere_report: str | None = Field(default=None, max_length=20_000)
    administrative_report: str | None = Field(default=None, max_length=20_000)

    @model_validator(mode="after")
    def _descriptions_fit_the_count(self) -> PoliceRecord:
        if len(self.reports) > self.report_count:
            raise ValueError("more report descriptions than reportCount")
        return self

    @classmethod
    def from_csv_row(cls, row: Mapping[str, str]) -> dict[str, Any]:
        """CSV: lists in one cell separated by '|'; one OM consent per row at most."""
        data = super().from_csv_row(row)
        if "reports" in data:
            data["reports"] = split_list(data["reports"])
        scope = data.pop("omConsentScope", None)
        expires = data.pop("omConsentExpiresOn", None)
        if scope is not None or expires is not None:
            consent: dict[str, Any] = {"expiresOn": expires}
            if scope is not None:
                consent["scope"] = split_list(scope)
            data["omConsents"] = [consent]
        return data

    def registrations(self) -> str:
        """U §5.3: nature, volume and finding of the reports, and police action on them."""
        text = f"{self.report_count} report(s)"
        if self.reports:
            text += f": {join_lines(self.reports)}"
        if self.police_action:
            text += f". Police action: {self.police_action.strip()}"
        return text


def _registrations(record: PoliceRecord) -> Fact:
    return record.registrations()


class PoliceAdapter(PartnerAdapter[PoliceRecord]):
    command = "police"
    partner_kind = "police"
    record_model = PoliceRecord
    categories: ClassVar[Mapping[str, Callable[[Any], Fact]]] = {
        # Utrecht, U §5.3
        "police-reports": _registrations,
        "police-physical-violence": lambda r: r.physical_violence,
        "police-serious-intimidation": lambda r: r.serious_intimidation,
        "police-nuisance-antecedents": lambda r: r.nuisance_antecedents,
        "police-risk-assessment": lambda r: r.risk_assessment,
        "police-atmosphere-report": lambda r: r.atmosphere_report,
        # Rijswijk, Bijlage A
        "police-registrations": _registrations,
        "police-administrative-report": lambda r: r.administrative_report,
    }
    # "The police add report registrations" (issue 7); the rest only on request.
    push_categories = frozenset({"police-reports", "police-registrations"})

    async def sync_case(
        self,
        client: KetenpoortClient,
        case_id: str,
        record: PoliceRecord,
        say: Callable[[str], None],
    ) -> None:
        summary = await client.case(case_id)
        if summary.investigation_running != record.investigation_running:
            await client.set_investigation_status(case_id, running=record.investigation_running)
            state = "runs" if record.investigation_running else "does not run"
            say(f"case {record.case_label}: told the gateway an investigation {state}")
        # The export's expiry dates are Dutch dates (end_of_day).
        today = dutch_today()
        on_file = {
            (tuple(sorted(c.scope)), c.expires_at)
            for c in summary.consents
            if c.kind == "om-consent" and c.partner_id == client.partner_id and c.live
        }
        for consent in record.om_consents:
            if not consent.live(today):
                continue
            expires = end_of_day(consent.expires_on)
            if (tuple(sorted(consent.scope)), expires) in on_file:
                continue
            await client.record_consent(
                case_id,
                ConsentIn(kind="om-consent", scope=consent.scope, expires_at=expires),
                idempotency_key=client.idempotency_key_for(
                    "om-consent", case_id, ",".join(sorted(consent.scope)), expires.isoformat()
                ),
            )
            say(
                f"case {record.case_label}: registered an OM consent for "
                f"{', '.join(consent.scope)} until {consent.expires_on.isoformat()}"
            )
