"""API schemas of the retention domain (camelCase on the wire)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from gateway.core.schemas import ApiModel, Reason
from gateway.retention.zgw import Afleidingswijze, Archiefnominatie, Archiefstatus


class LegalHoldOut(ApiModel):
    id: str
    withheld: bool = Field(
        default=False,
        description="The hold's reason, setter and moment are told only to the partner that "
        "set it (U §5.3: a hold by the police says an investigation runs); every other reader "
        "reads only that the case is on hold, with reason, setAt and setBy null.",
    )
    reason: str | None
    set_at: datetime | None
    set_by: str | None
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None


class BrondatumArchiefprocedureOut(ApiModel):
    """ZGW's brondatumArchiefprocedure: how the source date is found (docs/retention.md)."""

    afleidingswijze: Afleidingswijze
    datumkenmerk: str | None = Field(
        description="The case property holding the date (ours: the retention fact's name)."
    )
    einddatum_bekend: bool = Field(description="Whether the source date is known yet.")
    procestermijn: str = Field(description="The period after the source date, ISO 8601 (P1Y).")


class RetentionStateOut(ApiModel):
    case_id: str
    covenant_id: str
    status: Literal["retained", "due", "on-hold", "erased"]
    rule_id: str | None
    source_date: date | None = Field(
        description="The day the term runs from; null while unknown, or not shown to you (a "
        "new report in a case you are not in restarted it, or the resident's move-out decided "
        "it and you are neither the case's lead nor the partner that recorded the move)."
    )
    due_on: date | None = Field(
        description="From this day on the dossier is erased; null while unknown, or not shown "
        "to you when it is the day the resident moved out (see sourceDate)."
    )
    reason: str = Field(description="Why: the rule, the source date and the period.")
    legal_hold: LegalHoldOut | None = None
    erased_at: datetime | None = None
    # The same state in ZGW's archiving terms (VNG Zaken API), next to ours.
    archiefnominatie: Archiefnominatie = Field(
        description="ZGW: 'vernietigen' (destroy on the archiefactiedatum) for covenant data."
    )
    archiefactiedatum: date | None = Field(description="ZGW: the day of destruction (dueOn).")
    archiefstatus: Archiefstatus | None = Field(
        description="ZGW: 'nog_te_archiveren' until erased; ZGW has no value after destruction."
    )
    brondatum_archiefprocedure: BrondatumArchiefprocedureOut | None = Field(
        description="ZGW: how the source date is derived; none before a rule's date is known "
        "or after erasure."
    )


class RecordStateOut(ApiModel):
    kind: str = Field(description="The table the record lives in, e.g. 'case_report'.")
    id: str = Field(description="The record's id (its key columns, ':'-joined if several).")
    status: Literal["retained", "due", "on-hold", "erased"]
    rule_id: str | None
    due_on: date | None
    reason: str
    erased_values: int | None = Field(
        default=None, description="After erasure: values of this record that were erased."
    )


class RecordStatesOut(ApiModel):
    case_id: str
    status: Literal["retained", "due", "on-hold", "erased"]
    records: list[RecordStateOut] = Field(description="At most 1000 records.")
    truncated: bool = False
    withheld: list[str] = Field(
        default_factory=list,
        description="Tables whose records you may not learn of (e.g. 'case_criterion': the "
        "U §2 criteria are the case lead's assessment), named whether the case has any or not.",
    )


class FactIn(ApiModel):
    kind: Literal["resident-moved-out", "recorded-date", "mediation-ended", "case-closed"] = Field(
        description="'case-closed' and 'mediation-ended' are taken only as the case's "
        "workflow recorded them (day and outcome); otherwise 422."
    )
    occurred_on: date
    detail: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{0,59}$",
        description="'solved'/'failed' for mediation-ended; the date's name for recorded-date.",
    )


class LegalHoldIn(ApiModel):
    reason: Reason = Field(
        min_length=3, max_length=500, description="E.g. 'court procedure'; no personal data."
    )


class RuleOut(ApiModel):
    id: str
    description: str
    source: str
    restarted_by: list[str]
    terms: list[str]


class RulesOut(ApiModel):
    covenant_id: str
    revision: str
    rules: list[RuleOut]


class DueItemOut(ApiModel):
    case_id: str
    rule_id: str | None = Field(
        description="The rule; null when it is chosen by sanctions whose landlord's measures "
        "your partner could not be shown (then the case is listed only in a dry run as of "
        "today)."
    )
    due_on: date | None = Field(
        description="The due date; null when it is the day the resident moved out and your "
        "partner is neither the case's lead nor the partner that recorded the move (then the "
        "case is listed only in a dry run as of today), or when the rule is not shown."
    )
    key_scope: str
    values: dict[str, int] = Field(
        description="Rows per table whose values would be erased, for the tables every reader "
        "of the case may learn of (not 'case_criterion' nor 'case_fact': their counts tell the "
        "lead's assessment and that a fact was stored; the records list's rule)."
    )


class DryRunOut(ApiModel):
    as_of: date
    due: int
    on_hold: int
    items: list[DueItemOut] = Field(description="At most 1000; the CLI lists all.")


class SweepRunOut(ApiModel):
    run_id: str
    started_at: datetime
    finished_at: datetime | None
    as_of: date
    status: Literal["running", "finished", "failed", "interrupted"] = Field(
        description="'interrupted': its process died; the next run closed it."
    )
    erased: int = Field(
        description="Cases of your covenant this run erased (counted from the cases), and for "
        "a partner's privacy officer other than the covenant's coordinating one, of those its "
        "partner leads or is in the team of; a run sweeps every covenant, the other's count "
        "is not told."
    )


class SweepRunsOut(ApiModel):
    failing: bool = Field(
        description="The last runs failed in a row (readiness reports retention as failing)."
    )
    failures_in_a_row: int
    runs: list[SweepRunOut] = Field(description="The latest real runs, newest first (20).")
