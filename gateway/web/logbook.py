"""Audit entries as the pages show them: searched through the audit domain's report
functions, always within the signed-in partner's covenant. Entries hold no personal data
(categories, clause ids, partner ids, pseudonyms), so listing them discloses nothing; the
case is shown by its number (``UTR-2026-…``), which is no personal data either."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway.audit import reports as audit_reports
from gateway.audit.readers import LogReader
from gateway.audit.schemas import EntrySearch
from gateway.cases import references
from gateway.core.errors import NotFound, Unprocessable

if TYPE_CHECKING:
    from gateway.web.pages import PageState

#: Reasons an entry written before issue 23 listed among its refusals although no decision
#: withheld anything: the partner had not answered yet, or holds nothing. The log is
#: append-only, so such entries stay; the pages do not present these as refusals.
NOT_REFUSALS = frozenset({"not-answered-yet", "not-available-at-partner"})

#: Lines per page of the disclosures and refusals lists.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Refusal:
    category: str
    reason: str


@dataclass(frozen=True)
class LogLine:
    """One audit entry as the privacy pages show it (no personal data is in an entry)."""

    index: int
    when: datetime
    activity: str
    outcome: str
    case_id: str | None
    requester: str | None
    recipient: str | None
    purpose: str | None
    clause_ids: list[str]
    categories_disclosed: list[str]
    refusals: list[Refusal]
    attributes: dict[str, Any] = field(default_factory=dict)
    #: The case number, when the case is known in this covenant.
    reference: str | None = None

    @property
    def categories_redacted(self) -> list[str]:
        return [r.category for r in self.refusals]

    @property
    def reasons(self) -> list[str]:
        return sorted({r.reason for r in self.refusals})

    @property
    def awaiting(self) -> int:
        return int(self.attributes.get("awaiting-answer") or 0)

    @property
    def shown_outcome(self) -> str:
        """What happened, as a page says it (an id of :data:`texts.OUTCOMES`): computed from
        what was disclosed and refused, so an old entry that called a wait a denial reads
        right too."""
        if self.activity not in ("disclosure", "denial", "information-read") and (
            not self.refusals
        ):
            return self.outcome
        if self.categories_disclosed:
            return "partially-disclosed" if self.refusals else "disclosed"
        if self.refusals:
            # Some of it was asked, stored or still awaits an answer: refused in part. A
            # request or answer that refused something is "recorded" when the rest went on
            # (the access report's lines carry no attributes, only the outcome).
            partial = self.outcome == "recorded" or any(
                self.attributes.get(key)
                for key in ("asked", "stored", "awaiting-answer", "not-available")
            )
            return "partially-refused" if partial else "denied"
        return "nothing-disclosed"


def _line(entry: dict[str, Any], references: dict[str, str]) -> LogLine:
    processing = entry.get("processing") or {}
    refusals = [
        Refusal(category=str(r.get("category")), reason=str(r.get("reason") or ""))
        for r in entry.get("redacted") or []
        if r.get("reason") not in NOT_REFUSALS
    ]
    case_id = entry.get("caseId")
    return LogLine(
        index=int(entry["index"]),
        when=datetime.fromisoformat(str(entry["startedAt"]).replace("Z", "+00:00")),
        activity=str(entry.get("activity", "")),
        outcome=str(entry.get("outcome", "")),
        case_id=case_id,
        requester=(entry.get("requester") or {}).get("partnerId"),
        recipient=(entry.get("recipient") or {}).get("partnerId"),
        purpose=processing.get("purpose"),
        clause_ids=list(processing.get("clauseIds") or []),
        categories_disclosed=list(entry.get("disclosed") or []),
        refusals=refusals,
        attributes=dict(entry.get("attributes") or {}),
        reference=references.get(case_id) if case_id else None,
    )


def _numbers(page: PageState, entries: list[dict[str, Any]]) -> dict[str, str]:
    """The numbers of the entries' cases the officer's partner may see (review3 finding 5:
    its own entry about a report that joined another team's case names that case's id)."""
    ids = {str(e["caseId"]) for e in entries if e.get("caseId")}
    if not ids:
        return {}
    principal = page.require_principal()
    return references.case_numbers(
        page.db,
        covenant_id=principal.covenant_id,
        partner_id=audit_reports.accountable_partner(principal),
        case_ids=ids,
    )


def _query(filters: dict[str, Any]) -> EntrySearch:
    try:
        return EntrySearch.model_validate(filters)
    except ValidationError:
        raise Unprocessable("Controleer de zoekvelden.") from None


def log_reader(page: PageState) -> LogReader:
    """The signed-in user as the audit reports scope it (the API's scope, the same rules)."""
    principal = page.require_principal()
    covenant = page.context.covenants.get(principal.covenant_id)
    if covenant is None:
        raise NotFound("Uw convenant is niet geladen in deze gateway.")
    return LogReader.officer(covenant, principal)


def search_log(page: PageState, filters: dict[str, Any]) -> list[LogLine]:
    """Matching entries, oldest first (a case's timeline)."""
    entries, _ = audit_reports.search_entries(
        page.db,
        reader=log_reader(page),
        search=_query(filters),
        subject_pseudonym=None,
    )
    numbers = _numbers(page, entries)
    return [_line(entry, numbers) for entry in entries]


@dataclass(frozen=True)
class LogPage:
    """One page of a newest-first list, with the cursors to the pages around it."""

    lines: list[LogLine]
    total: int
    newer_than: int | None
    older_than: int | None


def log_page(
    page: PageState,
    filters: dict[str, Any],
    *,
    refusals_only: bool,
    older_than: int | None,
    newer_than: int | None,
) -> LogPage:
    """A page of the entries that disclosed or refused something (``refusals_only``: that
    refused a category), newest first; never transitions, team changes and the like."""
    reader = log_reader(page)
    condition = (
        reader.refusal_condition() if refusals_only else reader.disclosure_or_refusal_condition()
    )
    window = audit_reports.entry_window(
        page.db,
        reader=reader,
        search=_query({**filters, "limit": PAGE_SIZE}),
        extra=[condition],
        older_than=older_than,
        newer_than=newer_than,
    )
    numbers = _numbers(page, window.entries)
    lines = [_line(entry, numbers) for entry in window.entries]
    if refusals_only:
        lines = [line for line in lines if line.refusals]
    indexes = [int(e["index"]) for e in window.entries]
    return LogPage(
        lines=lines,
        total=window.total,
        newer_than=indexes[0] if window.newer else None,
        older_than=indexes[-1] if window.older else None,
    )


def access_report_lines(report: Any) -> list[LogLine]:
    """The access report's lines (GDPR art. 15) in the pages' shape: every processing of
    the person, whatever its activity; the report names refused categories, not reasons."""
    return [
        LogLine(
            index=line.index,
            when=line.when,
            activity=line.activity,
            outcome=line.outcome,
            case_id=None,
            requester=line.requester,
            recipient=line.recipient,
            purpose=line.purpose,
            clause_ids=list(line.clause_ids),
            categories_disclosed=list(line.categories_disclosed),
            refusals=[Refusal(category=c, reason="") for c in line.categories_redacted],
        )
        for line in report.lines
    ]
