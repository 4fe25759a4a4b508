"""API schemas of the cases domain (camelCase on the wire).

Requests may carry personal data (an address, a BSN, a report text) because intake must
receive it; responses never do: a case summary says how many persons of which role are on
file, not who they are. Decrypted personal data leaves the gateway only through the
exchange path, where the policy decides and the audit log records.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, field_validator

from gateway.core.pagination import PageLinks
from gateway.core.schemas import ApiModel, Reason, check_date
from gateway.policy.covenant import PersonRole as PersonRole

Ownership = Literal["corporation", "private-rental", "owner-occupied"]
# PersonRole (causer, complainant, neighbour) is the covenant model's: a category of a
# covenant file names the roles it concerns (``categories[].concerns``).
Channel = Literal["form", "phone", "email", "letter", "social-media", "in-person", "other"]
Judgement = Literal["resolved", "improved", "unchanged", "worse"]
AftercareDecision = Literal["none", "aftercare-plan"]
ConsentKind = Literal["corporation-permission", "om-consent"]

_POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
#: Ids and names stored in the clear: no control characters (PostgreSQL refuses NUL).
PartnerId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]
RecordId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
District = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


def bsn_is_valid(value: str) -> bool:
    """The "elfproef" of a Dutch citizen service number (BSN)."""
    if not re.fullmatch(r"[0-9]{9}", value):
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(value, weights, strict=True)) % 11 == 0


class AddressIn(ApiModel):
    postcode: str = Field(examples=["3511 AB"], pattern=r"^\s*[1-9][0-9]{3} ?[A-Za-z]{2}\s*$")
    house_number: int = Field(ge=1, le=99999)
    house_number_addition: str | None = Field(default=None, max_length=10)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        if not _POSTCODE.match(value.strip()):
            raise ValueError("a Dutch postcode, e.g. 3511 AB")
        return value.strip()


class DwellingIn(ApiModel):
    address: AddressIn
    ownership: Ownership
    corporation_id: PartnerId | None = Field(
        default=None, description="The owning corporation's partner id (ownership=corporation)."
    )
    district: District = Field(description="The district (wijk).")


class PersonIn(ApiModel):
    role: PersonRole
    bsn: str | None = Field(default=None, description="Citizen service number; sealed.")
    name: str | None = Field(default=None, max_length=200, description="Sealed.")

    @field_validator("bsn")
    @classmethod
    def _bsn(cls, value: str | None) -> str | None:
        if value is not None and not bsn_is_valid(value):
            raise ValueError("not a valid BSN (nine digits passing the elfproef)")
        return value


class ReportIn(ApiModel):
    channel: Channel
    received_at: datetime | None = Field(default=None, description="Default: now.")
    description: str = Field(min_length=1, max_length=5000, description="Sealed.")

    @field_validator("received_at")
    @classmethod
    def _received(cls, value: datetime | None) -> datetime | None:
        return None if value is None else check_date(value)


class IntakeRequest(ApiModel):
    dwelling: DwellingIn
    persons: list[PersonIn] = Field(default_factory=list, max_length=20)
    report: ReportIn


class IntakeResult(ApiModel):
    """The registered report. A report that joined the dossier of a case whose team the
    reporter is not in names no case (``caseId``, ``reference`` and ``state`` are null,
    ``awaitingLead`` is true): the lead decides whether the reporter joins the team (U §6);
    until then the case does not exist for the reporter."""

    case_id: str | None
    reference: str | None
    created: bool = Field(description="False when the report joined an existing dossier.")
    state: str | None
    report_id: str
    awaiting_lead: bool = Field(
        default=False,
        description="True when the report joined a case whose team the reporter is not in.",
    )


class PendingReportOut(ApiModel):
    """A report from a partner outside the case team, awaiting the lead's decision."""

    id: str
    partner_id: str
    channel: str
    registered_at: datetime
    due_on: date = Field(description="The lead decides by the end of this day.")
    overdue: bool


class ReporterDecisionIn(ApiModel):
    add_to_team: bool = Field(description="True: the reporter joins the case team.")


class OwnReportOut(ApiModel):
    """A report as its reporter sees it: when and how, and what became of it."""

    id: str
    channel: str
    received_at: datetime
    registered_at: datetime
    status: Literal["in-team", "awaiting-lead", "joined", "declined"]
    case_id: str | None = Field(description="Only while the reporter is in the case team.")
    reference: str | None


class OwnReportsEmbedded(ApiModel):
    reports: list[OwnReportOut]


class OwnReportList(ApiModel):
    """A page of the reports the partner filed, newest first (by registration, ties by id)."""

    embedded: OwnReportsEmbedded = Field(alias="_embedded")
    links: PageLinks = Field(alias="_links")


class OggzCheck(ApiModel):
    target_group: bool
    referred: bool


class MediationScreening(ApiModel):
    crime: bool
    serious_psychosocial: bool
    multi_problem: bool


class CaseResult(ApiModel):
    neighbours_judgement: Judgement
    partners_judgement: Judgement
    aftercare: AftercareDecision


#: R Bijlage C ("Verlenging uit huis zetting ... Houdt de overlast op en zijn er geen ernstige
#: wetsovertredingen? Nee -> Opstarten traject permanente uithuiszetting"), Bijlage D fase 4c,
#: Bijlage E ("Als tijdelijk uithuiszetting niet wordt nageleefd ..."): review8a F8.
PermanentEvictionGround = Literal["previous-steps-failed", "serious-offences"]


class TransitionFacts(ApiModel):
    """Facts a transition may need; the workflow file says which ones it requires."""

    reason: Reason | None = Field(
        default=None, min_length=1, max_length=2000, description="Sealed."
    )
    oggz_check: OggzCheck | None = None
    both_sides_heard: bool | None = None
    mediation_screening: MediationScreening | None = None
    breach_established: bool | None = None
    amount_eur: int | None = Field(default=None, ge=0, le=1_000_000)
    days: int | None = Field(
        default=None,
        ge=0,
        le=366,
        description="Days: of a temporary eviction or its extension (R Bijlage E), or the "
        "resident's term (begunstigingstermijn) a warning or intention gives, at least 1, "
        "before the next rung may follow (R Bijlage C, E).",
    )
    measure: Literal["behavioural-order", "last-chance-contract"] | None = None
    result: CaseResult | None = None
    adult: bool | None = Field(
        default=None,
        description="R Bijlage D fase 4c: the person evicted temporarily is an adult.",
    )
    ground: PermanentEvictionGround | None = Field(
        default=None,
        description="The ground of a permanent eviction (R Bijlage C, D fase 4c, E): "
        "previous-steps-failed (the temporary eviction was extended, or its term ended, and "
        "the nuisance goes on) or serious-offences (serious offences of the law, at once).",
    )


#: The facts a transition keeps (``case_transition.facts``) once its case's dossier is erased
#: (gateway/retention/targets.py ``erasure_keep_keys``): an allow-list, so a fact added to
#: TransitionFacts is dropped at erasure until someone decides it may stay. Kept: how the
#: work went, which the steering figures may count (R §4.3, U §7-8) and which says nothing
#: about the causer's person: both sides heard, the U §7 result, the sanction's instrument,
#: amount and days (as ``enforcement_measure`` keeps them). Dropped: the lead's assessment of
#: the causer (the OGGZ check, U §5.1: public mental health; the mediation screening, R
#: Bijlage D 2a: crime, serious psychosocial or multi-problem), that a breach of the
#: behavioural order was established (the causer's conduct) and that the evictee is an adult
#: (an age). No figure reads any of them (review4 F4).
FACTS_KEPT_AFTER_ERASURE = ("bothSidesHeard", "result", "measure", "amountEur", "days")


class TransitionRequest(TransitionFacts):
    transition: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9-]+$")


class CriterionIn(ApiModel):
    criterion: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9-]+$")
    holds: bool
    evidence: str | None = Field(default=None, max_length=2000, description="Sealed.")


class CriteriaRequest(ApiModel):
    """The case lead's assessment of a report: the U §2 criteria and the acute override
    (while the report is being tested), and whether pollution of the dwelling is part of the
    nuisance (U §5.4; any time the case is open)."""

    criteria: list[CriterionIn] = Field(default_factory=list, max_length=20)
    acute_override_reason: Reason | None = Field(
        default=None, min_length=1, max_length=2000, description="U §2 acute override; sealed."
    )
    dwelling_pollution: StrictBool | None = Field(
        default=None,
        description="U §5.4: whether pollution of the dwelling is part of the nuisance (true "
        "or false; absent or null: unchanged). The hygiene advice (U-5.4-volksgezondheid) is "
        "shared only while it is true. Recorded in any open phase; 422 not-in-covenant in a "
        "covenant where no clause depends on it (Rijswijk).",
    )


class TeamMemberIn(ApiModel):
    partner_id: PartnerId
    consulted: bool = Field(
        default=False,
        description="True: the partner is added only to be asked (U §5.6: the neighbourhood "
        "team tells the case manager 'desgevraagd' whether it knows the causer), not as one of "
        "'de andere partijen die bij de casus zijn betrokken' (U §6): it sees the case and "
        "answers what it is asked, but is listed to the lead and to itself only, takes no "
        "workflow step and is no team member for the policy. False (the default): involved, "
        "listed to the whole team; a consulted member added again with false is marked "
        "involved. An involved member cannot be made consulted (422).",
    )


class ConsentIn(ApiModel):
    kind: ConsentKind = Field(
        description="corporation-permission: by the dwelling's corporation (U §5.1); "
        "om-consent: registered by the police, with scope and expiresAt (U §5.3), and only in "
        "a covenant where a clause depends on a police investigation (Utrecht): elsewhere "
        "422 not-in-covenant, as for the investigation status."
    )
    granted: bool = True
    scope: list[Annotated[str, Field(max_length=100, pattern=r"^[a-z0-9-]+$")]] = Field(
        default_factory=list,
        max_length=50,
        description="Data categories covered: required for om-consent; a whole-case kind "
        "(corporation-permission) names none (422 otherwise).",
    )
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _expires(cls, value: datetime | None) -> datetime | None:
        return None if value is None else check_date(value)


class InvestigationStatusIn(ApiModel):
    running: bool | None = Field(
        description="Whether an investigation runs (U §5.3); null: the police do not (or no "
        "longer) record it, which the policy treats as running. Only in a covenant where a "
        "clause depends on it (Utrecht): elsewhere 422 not-in-covenant."
    )


class DwellingLandlord(ApiModel):
    """The dwelling's tenure and landlord, as the lead corrects what the first report said."""

    ownership: Ownership
    corporation_id: PartnerId | None = Field(
        default=None,
        description="The corporation that lets the dwelling (ownership=corporation); null "
        "for a privately rented or owner-occupied dwelling.",
    )


class CaseEventIn(ApiModel):
    """A case event of the covenant (``events`` in its file), e.g. ``eviction-procedure``."""

    event: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9-]+$")
    occurred_on: date | None = Field(
        default=None, description="When it happened (e.g. the procedure was started)."
    )

    @field_validator("occurred_on")
    @classmethod
    def _occurred_on(cls, value: date | None) -> date | None:
        return None if value is None else check_date(value)


class CaseEventOut(ApiModel):
    id: str
    event: str
    partner_id: str = Field(description="The partner that recorded it.")
    occurred_on: date | None
    recorded_at: datetime


class NoticeOut(ApiModel):
    """Something in the case this partner is told of (R §2.3: the corporation took the lead
    back, or recorded a legal measure), until it marks it read."""

    id: str
    subject: str = Field(
        description="What happened: 'transition:<id>' (e.g. transition:hand-over-to-"
        "corporation) or 'event:<id>' (e.g. event:eviction-procedure)."
    )
    from_partner_id: str = Field(description="The partner that did it.")
    created_at: datetime
    read_at: datetime | None


class ConsentOut(ApiModel):
    id: str
    kind: str
    partner_id: str
    granted: bool
    scope: list[str]
    expires_at: datetime | None
    recorded_at: datetime
    withdrawn_at: datetime | None
    live: bool


class CriterionOut(ApiModel):
    criterion: str
    holds: bool
    has_evidence: bool


class MeasureOut(ApiModel):
    instrument: str
    amount_eur: int | None
    days: int | None
    decided_at: datetime
    decided_by_partner_id: str


class HistoryOut(ApiModel):
    transition: str
    from_state: str
    to_state: str
    at: datetime
    actor_partner_id: str
    actor_role: str
    has_reason: bool


class AllowedTransitionOut(ApiModel):
    id: str
    to: str
    description: str


class DeadlineOut(ApiModel):
    kind: Literal["case", "meeting-action", "district-meeting", "retention"]
    deadline: str
    description: str
    source: str
    case_id: str | None
    reference: str | None
    district: str | None
    due_at: datetime = Field(
        description=(
            "The moment the deadline has passed: the start of the day after dueOn (Dutch "
            "time), or for a period in hours the exact moment."
        )
    )
    due_on: date | None = Field(
        description=(
            "The deadline: the last day (Dutch calendar) on which it is met; every page, "
            "command and adapter shows this date. Null for a period in hours (see dueAt)."
        )
    )
    overdue: bool
    responsible_partner_id: str | None


class CaseListItem(ApiModel):
    id: str
    reference: str
    covenant_id: str
    state: str
    district: str
    lead_partner_id: str
    opened_at: datetime
    first_report_at: datetime
    closed_at: datetime | None


class CasesEmbedded(ApiModel):
    cases: list[CaseListItem]


class CaseList(ApiModel):
    """A page of the partner's cases, oldest first (by opening, ties by id)."""

    embedded: CasesEmbedded = Field(alias="_embedded")
    links: PageLinks = Field(alias="_links")


class CaseSummary(CaseListItem):
    state_entered_at: datetime
    ownership: Ownership | Literal["unknown"] = Field(
        description="The tenure the reports recorded; 'unknown' when none is on record."
    )
    corporation_id: str | None
    case_manager: str | None
    complexity: str | None
    report_count: int
    person_roles: dict[str, int]
    team: list[str] = Field(
        description="The case team as the reader may know it: the lead and the involved "
        "members; a member the lead only consulted (consultedPartners) is listed to the "
        "lead's partner and to itself only (U §5.6, U §6; review9a F3)."
    )
    consulted_partners: list[str] = Field(
        default_factory=list,
        description="The members of team that the lead only consulted (U §5.6 "
        "'desgevraagd'), not yet involved: all of them for the lead's partner, itself for a "
        "consulted member; listed in withheld for every reader but the lead's partner, "
        "whether or not there is one.",
    )
    pending_reports: list[PendingReportOut] = Field(
        default_factory=list,
        description="Reports from partners outside the team awaiting the lead's decision: "
        "for the case lead's casework and system roles only (which partner reported can tell "
        "that the household is known to social care, U §5.6; the lead decides who is "
        "involved, U §5.1), with the reporter-decision entries in deadlines; empty for every "
        "other reader, and then listed in withheld.",
    )
    consents: list[ConsentOut] = Field(
        description="The consents on record. The OM's (kind om-consent) only to whom "
        "investigationRunning is shown: the OM is asked only while an "
        "investigation runs (U §5.3); for every other reader they are left out and omConsents "
        "is listed in withheld."
    )
    criteria: list[CriterionOut] = Field(
        description="The U §2 criteria the lead recorded and whether each holds (criterion 4 "
        "names psychiatry, addiction and crime). The case lead only (U §5.1: U Centraal tests "
        "the report against them); empty for every other reader, and then listed in withheld. "
        "Empty for an erased case: the assessment went with the dossier."
    )
    criteria_holding: int | None = Field(
        description="How many of the U §2 criteria hold (at least two must, or acute "
        "necessity). The case lead gets the count; every other reader at most the minimum "
        "(two): that the case meets the criteria, not whether all of them hold. Null for an "
        "erased case."
    )
    acute_override: bool
    investigation_running: bool | None = Field(
        description="Whether a police investigation runs (U §5.3: antecedents then need the "
        "OM's consent), recorded by the police; null: not recorded yet, treated as running. "
        "Criminal-law information: the police, and the case lead when a clause that depends "
        "on the investigation (om-consent-if-investigation) names the lead's role (Utrecht: "
        "the case manager); null for every other reader (a privacy officer included), and "
        "then listed in withheld. Null for an erased case (cleared with the dossier)."
    )
    events: list[CaseEventOut] = Field(
        description="Case events on record: the landlord's measures (U §5.2, R Bijlage F). "
        "An event is shown where a clause giving its category (events[].category in the "
        "covenant file) names your role, its relation holding, and lists the case's current "
        "phase, as the policy grants the category; the partner that recorded it always reads "
        "it. events is listed in withheld when you would not be shown every event."
    )
    notices: list[NoticeOut] = Field(
        default_factory=list,
        description="What the caller's partner is told of in this case (R §2.3), read or not.",
    )
    oggz_target_group: bool | None = Field(
        description="The case manager's OGGZ check (U §5.1): whether the causer belongs to "
        "the public mental health target group; null: not checked yet. Health data: the case "
        "lead only; null for every other reader, and then listed in withheld."
    )
    oggz_referred: bool | None = Field(
        description="Whether the case manager referred the causer to care (U §5.1, with the "
        "OGGZ check); null: not checked yet. The case lead only, as oggzTargetGroup."
    )
    dwelling_pollution: bool | None = Field(
        default=None,
        description="Whether pollution of the dwelling is part of the nuisance (U §5.4), as "
        "the case lead recorded it (POST .../criteria, dwellingPollution); null: not recorded, "
        "and the hygiene advice (U-5.4-volksgezondheid) is not shared until it is true. The "
        "lead's assessment: the case lead only, as oggzTargetGroup.",
    )
    both_sides_heard: bool
    measures: list[MeasureOut]
    result: CaseResult | None
    history: list[HistoryOut]
    deadlines: list[DeadlineOut]
    allowed_transitions: list[AllowedTransitionOut]
    erased: bool = Field(
        default=False,
        description="Erased under retention (docs/retention.md): its personal data is gone and"
        " every write to it answers 410, so it has no deadlines, pending reports or transitions.",
    )
    withheld: list[str] = Field(
        default_factory=list,
        description="The fields of this summary withheld from you (null or empty above, not "
        "because nothing is recorded): investigationRunning and omConsents (the consents of "
        "kind om-consent, left out of consents) unless your partner is the police or holds the "
        "case's lead in a role a clause depending on the investigation names; criteria, "
        "oggzTargetGroup, oggzReferred and dwellingPollution unless it holds the lead; "
        "events unless the clauses give you every event's category in the case's phase; "
        "pendingReports unless your partner holds the lead (a casework or system role); all "
        "eight for a privacy officer. Empty: you see every field.",
    )
    not_in_covenant: list[str] = Field(
        default_factory=list,
        description="The fields of this summary the case's covenant keeps nothing of, for "
        "every reader (null or empty above because nothing can be recorded, not because it "
        "is not yet): investigationRunning and omConsents in a covenant where no clause "
        "depends on a police investigation (no om-consent-if-investigation: Rijswijk), where "
        "the police cannot record them (422 not-in-covenant). withheld still lists them for "
        "a reader who would not be shown them. Empty: the covenant keeps every field.",
    )


class MeetingIn(ApiModel):
    district: District
    scheduled_on: date

    _scheduled = field_validator("scheduled_on")(check_date)


class AttendanceIn(ApiModel):
    attendance: dict[PartnerId, bool] = Field(max_length=100, description="Partner id -> present.")


class MinutesIn(ApiModel):
    text: str = Field(min_length=1, max_length=20000, description="Sealed.")


class ActionIn(ApiModel):
    case_id: RecordId | None = None
    owner_partner_id: PartnerId
    description: str = Field(min_length=1, max_length=2000, description="Sealed.")
    due_on: date

    _due = field_validator("due_on")(check_date)


class AgendaItemOut(ApiModel):
    case_id: str
    reference: str
    state_at_agenda: str


class ActionOut(ApiModel):
    id: str
    case_id: str | None
    owner_partner_id: str
    due_on: date
    done_at: datetime | None
    overdue: bool


class MeetingOut(ApiModel):
    id: str
    covenant_id: str
    district: str
    scheduled_on: date
    organiser_partner_id: str
    held_at: datetime | None
    attendance: dict[str, bool]
    has_minutes: bool
    agenda: list[AgendaItemOut] = Field(
        description="The agenda's cases your partner leads or is in the team of; a case "
        "outside your partner's teams is not named, nor counted (outside its team a case "
        "does not exist; a count of the others, dated to the minute the meeting was planned, "
        "told by its difference from the next meeting's of one case opened or closed)."
    )
    actions: list[ActionOut] = Field(
        description="The actions about the agenda's cases your partner leads or is in the "
        "team of, and those about no case; the others are not shown, nor counted."
    )


class MeetingsEmbedded(ApiModel):
    meetings: list[MeetingOut]


class MeetingList(ApiModel):
    """A page of the covenant's case meetings, by date (ties by id)."""

    embedded: MeetingsEmbedded = Field(alias="_embedded")
    links: PageLinks = Field(alias="_links")


class DeadlinesEmbedded(ApiModel):
    deadlines: list[DeadlineOut]


class DeadlineList(ApiModel):
    """A page of the partner's deadlines, overdue first, then by due moment."""

    embedded: DeadlinesEmbedded = Field(alias="_embedded")
    links: PageLinks = Field(alias="_links")


class ThroughputOut(ApiModel):
    """The period's closed cases; every figure is null when fewer than the minimum group
    size closed (see ``SteeringReport.suppressed_figures``). In a quarter or a year,
    medianDays and maxDays (not perturbed) are null as well when a month of it closed 1 to
    minGroupSize - 1 cases (that month's own report hides them)."""

    closed_cases: int | None
    median_days: float | None
    mean_days: float | None
    max_days: float | None


class LegsOut(ApiModel):
    """U §7: the result on two legs, as counts per judgement; a count under the minimum group
    size is null (suppressed)."""

    neighbours: dict[str, int | None]
    partners: dict[str, int | None]


class EvaluationPeriodOut(ApiModel):
    """An evaluation period the covenant sets (R §4.3: half a year after the start, then
    yearly)."""

    period_from: date
    period_to: date
    cases_closed: int | None
    legs: LegsOut


class SteeringReport(ApiModel):
    covenant_id: str
    period_from: date
    period_to: date
    as_of: datetime = Field(
        description="The moment the state figures (openCases, openByPhase, openByDistrict, "
        "overdueDeadlines) describe: the end of the period (00:00 of the day after periodTo, "
        "the covenant's time), counting every step taken before it and none after. They "
        "change only when another month has ended, never between two reads in one month."
    )
    generated_at: datetime
    perturbed: bool = Field(
        description="Whether every count in this report is perturbed (the cell-key method, "
        "review14 F1, F2; docs/cases.md 'Differences of windows'): each count, the state "
        "figures included, is the true count plus a small noise that is fixed by the set of "
        "cases it counts (the same cases always give the same figure, so asking again "
        "averages nothing away) and is independent between different sets (so a difference "
        "of two reports is the true difference plus noise). A 0 is exact, a count of 1 or "
        "more is never shown as 0, a shown count of a cell that is suppressed at 1 to "
        "minGroupSize - 1 (everything but openCases and overdueDeadlines) is at least "
        "minGroupSize + noiseBound (7), and breakdowns need not add up to their totals. "
        "True for "
        "every partner; false only in the operator's CLI."
    )
    noise_bound: int = Field(
        description="No count is further than this from the true count (2; 0 when not "
        "perturbed). closedWithinTarget is at most casesClosed and shareClosedWithinTarget "
        "is their quotient; meanDays carries noise of its own, up to the median duration "
        "divided by the closed cases, before it is rounded to whole weeks."
    )
    cases_opened: int | None = Field(
        description="Cases opened in the period; null when 1 to minGroupSize - 1."
    )
    cases_closed: int | None = Field(
        description="Cases closed in the period; null when 1 to minGroupSize - 1, and the "
        "throughput and within-target figures with it."
    )
    open_cases: int = Field(
        description="Cases open at asOf: opened before it, not closed and not erased under "
        "retention before it (a case erased since counts as it stood then)."
    )
    throughput: ThroughputOut
    target_months: int
    closed_within_target: int | None = Field(
        description="Null when the period's closed cases, or those within or beyond the "
        "target, number 1 to minGroupSize - 1."
    )
    share_closed_within_target: float | None
    open_by_phase: dict[str, int] = Field(
        description="The cases open at asOf by the phase they were in then."
    )
    open_by_district: dict[str, int] = Field(description="The cases open at asOf by district.")
    opened_by_district: dict[str, int]
    overdue_deadlines: int = Field(
        description="Deadlines of the cases open at asOf that had fallen due before it and "
        "were not met then."
    )
    transitions: dict[str, int]
    min_group_size: int = Field(
        description="Counts per district, phase, step (transition) or judgement under this "
        "size are left out (null), with the smallest others until what is left out adds up "
        "to at least this size."
    )
    suppressed_districts: int = Field(
        description="Districts left out of the district counts because they were too small."
    )
    suppressed_phases: int = Field(
        description="Phases left out of openByPhase because they were too small "
        "(openCases stays the total).",
    )
    suppressed_transitions: int = Field(
        description="Steps left out of transitions because they were too small."
    )
    suppressed_figures: list[str] = Field(
        description="The period's figures left out (null) because fewer than minGroupSize "
        "cases stand behind them, by their names in this response (casesOpened, "
        "casesClosed, closedWithinTarget, shareClosedWithinTarget, throughput.*). "
        "openCases and overdueDeadlines are the covenant's totals at asOf and stay.",
    )
    legs: LegsOut = Field(
        description="U §7: the judgements of the period's closed cases; a count is null when "
        "1 to minGroupSize - 1, and the smallest others with it until what is left out, "
        "the cases closed without a judgement included, is at least minGroupSize."
    )
    evaluation_periods: list[EvaluationPeriodOut] = Field(
        description="The covenant's own evaluation periods (covenant.yaml "
        "steering.evaluationPeriods; Rijswijk R §4.3: half a year from 'from', then a year "
        "each), empty for a covenant that sets none (Utrecht). Their casesClosed are a "
        "breakdown of casesClosed (suppressed with the smallest others as a whole); a "
        "leg's judgements per period are shown only when every period's every judgement "
        "count, and its cases without one, is 0 or at least minGroupSize, else all null."
    )
