"""Reference adapter for the police: registrations per case from a JSON or CSV export.

One record per case: the report count and short descriptions, police action, whether
physical violence and serious intimidation occur, whether the causer has nuisance
antecedents, whether an investigation runs, and the OM consents on file (U §5.3; R
Bijlage A). Before answering, the adapter tells the gateway whether an investigation runs
(or that the export does not say) and brings the OM consents on file to the export's: the
gateway decides on delivery whether antecedents may go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from adapters.base import (
    Fact,
    Flag,
    PartnerAdapter,
    consent_idempotency_key,
    end_of_day,
    join_lines,
    own_consents,
)
from adapters.exports import ExportRecord, split_list
from adapters.sdk import CaseSummary, Consent, ConsentIn, KetenpoortClient, Unprocessable
from gateway.core.dutch_date import dutch_date, dutch_today

OM_CONSENT = "om-consent"

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
    # None: the export does not say (no key, no column, an empty cell): not "no".
    investigation_running: Flag | None = None
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

    def __init__(self) -> None:
        #: The covenants whose gateway answered ``not-in-covenant`` to the investigation
        #: status or an OM consent: no clause of theirs depends on a police investigation
        #: (Rijswijk). The covenant files change only with a new gateway release, so the
        #: adapter does not ask again while it runs; restart it after such a change.
        self._covenants_without_investigation: set[str] = set()

    async def sync_case(
        self,
        client: KetenpoortClient,
        case_id: str,
        record: PoliceRecord,
        say: Callable[[str], None],
    ) -> None:
        summary = await client.case(case_id)
        if summary.covenant_id in self._covenants_without_investigation:
            return
        if "investigationRunning" in summary.not_in_covenant:
            # The summary says so (notInCovenant): nothing to send, not even once.
            self._without_investigation(summary.covenant_id, say)
            return
        try:
            await _tell_investigation_status(client, case_id, record, summary, say)
            await match_om_consents(
                client,
                case_id,
                record.case_label,
                om_consents_wanted(record),
                summary.consents,
                say,
            )
        except Unprocessable as exc:
            if exc.problem.slug != "not-in-covenant":
                raise
            # A gateway that does not name notInCovenant refuses it instead.
            self._without_investigation(summary.covenant_id, say)

    def _without_investigation(self, covenant_id: str, say: Callable[[str], None]) -> None:
        """The gateway keeps no such fact in this covenant: nothing to tell, the rest of the
        record still counts. Said once, naming the covenant only (no case, no person: the
        line goes to the adapter's log)."""
        self._covenants_without_investigation.add(covenant_id)
        say(
            f"covenant {covenant_id}: no clause depends on a police investigation; "
            "its status and OM consents are not sent for its cases while the adapter runs"
        )

    async def case_left_export(
        self, client: KetenpoortClient, case_id: str, label: str, say: Callable[[str], None]
    ) -> None:
        """The OM consents end: the export no longer carries them. The investigation status
        stays as recorded: without a record the adapter answers every category "not
        available", so no antecedents leave through it, and an export that lost the case
        by mistake does not rewrite what the police said."""
        summary = await client.case(case_id)
        await match_om_consents(client, case_id, label, [], summary.consents, say)


#: An OM consent as the gateway and the export both name it: its scope and its expiry.
ConsentKey = tuple[tuple[str, ...], datetime]


def om_consents_wanted(record: PoliceRecord) -> list[ConsentKey]:
    """The export's OM consents that hold today (a Dutch date), in export order; one per
    scope, the latest expiry (two for the same scope would replace each other by turns)."""
    today = dutch_today()
    latest: dict[tuple[str, ...], date] = {}
    for consent in record.om_consents:
        if not consent.live(today):
            continue
        scope = tuple(sorted(set(consent.scope)))
        if scope not in latest or consent.expires_on > latest[scope]:
            latest[scope] = consent.expires_on
    return [(scope, end_of_day(day)) for scope, day in latest.items()]


def _key(consent: Consent) -> ConsentKey | None:
    if consent.expires_at is None:
        return None
    return tuple(sorted(set(consent.scope))), consent.expires_at


async def match_om_consents(
    client: KetenpoortClient,
    case_id: str,
    label: str,
    wanted: list[ConsentKey],
    consents: list[Consent],
    say: Callable[[str], None],
) -> None:
    """Make the police's live OM consents on the case the export's (U §5.3): withdraw each
    live one the export no longer has (withdrawn by the OM, or its expiry brought forward),
    then register each one the export has and the gateway does not.

    Withdrawals go first: a withdrawal is the OM's "no" for every category of its scope,
    later than any grant before it, so a consent registered before it would end with it.
    A consent this partner withdrew at the gateway is not registered again from the export:
    that "no" wins until the OM consents anew (another expiry), or someone registers it.
    """
    own = own_consents(client, consents, OM_CONSENT)
    stale = [c for c in own if c.live and _key(c) not in wanted]
    for consent in stale:
        await client.withdraw_consent(case_id, consent.id)
        say(f"case {label}: withdrew the OM consent for {_describe(consent)}: not in the export")
    if stale:
        own = own_consents(client, (await client.case(case_id)).consents, OM_CONSENT)
    for scope, expires in wanted:
        same = [c for c in own if _key(c) == (scope, expires)]
        if any(c.live for c in same):
            continue
        if any(c.withdrawn_at is not None for c in same):
            say(
                f"case {label}: the OM consent for {', '.join(scope)} until "
                f"{_dutch_day(expires)} was withdrawn at the gateway; not registered again"
            )
            continue
        await client.record_consent(
            case_id,
            ConsentIn(kind=OM_CONSENT, scope=list(scope), expires_at=expires),
            idempotency_key=consent_idempotency_key(
                client, OM_CONSENT, case_id, ",".join(scope), expires.isoformat(), earlier=same
            ),
        )
        say(
            f"case {label}: registered an OM consent for {', '.join(scope)} "
            f"until {_dutch_day(expires)}"
        )


async def _tell_investigation_status(
    client: KetenpoortClient,
    case_id: str,
    record: PoliceRecord,
    summary: CaseSummary,
    say: Callable[[str], None],
) -> None:
    """The gateway holds what the export says: a record without the status makes it "not
    recorded", which the policy treats as running (U §5.3; DOMAIN.md "unknown is not no"),
    also when an earlier export said no investigation runs."""
    running = record.investigation_running
    if summary.investigation_running != running:
        await client.set_investigation_status(case_id, running=running)
        say(f"case {record.case_label}: told the gateway {_status_words(running)}")


def _status_words(running: bool | None) -> str:
    if running is None:
        return "it is not recorded whether an investigation runs"
    return "an investigation runs" if running else "an investigation does not run"


def _describe(consent: Consent) -> str:
    until = f" until {_dutch_day(consent.expires_at)}" if consent.expires_at else ""
    return ", ".join(consent.scope) + until


def _dutch_day(moment: datetime) -> str:
    return dutch_date(moment).isoformat()
