"""What privacy officers ask of the log: searches, the GDPR art. 15 access report, the art. 30
register of processing activities, denials and unusual volumes, and JSON Lines / CSV exports.

Every query is limited to one covenant (the officer's own) and, unless the officer is the
covenant's coordinating privacy officer (``coordinatingPrivacyOfficer`` in the covenant
file), to the entries its own partner is accountable for: those where the partner asked,
received or had its data disclosed. So a partner's privacy officer cannot learn whether a
person figures in another partner's cases. Data subjects are searched by pseudonym only: the
API pseudonymises the identifier it receives in a POST body.

What each reader finds, and reads of an entry, is :class:`~gateway.audit.readers.LogReader`'s
(the police's investigation entries, the OM refusal reasons, a data owner's view of an entry
as it concerns its own data): every search, export, report and count here reads through one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from audit.entry import DENIAL, DISCLOSURE, Actor, AuditEntry, DataSubject, ProcessingActivity
from audit.ldv import activity_id
from gateway.audit.models import AuditRecord, AuditSubject
from gateway.audit.readers import LogReader, investigation_condition
from gateway.audit.schemas import (
    AccessReport,
    AccessReportLine,
    ActivityReport,
    EntrySearch,
    PartnerActivity,
    ProcessingActivityView,
    ProcessingRegister,
)
from gateway.auth.principal import Principal
from gateway.core.dutch_date import DUTCH_TIME
from gateway.db import utcnow
from gateway.policy.covenant import Covenant

Period = Literal["day", "week", "month"]

#: A period is unusual when it has this many times a partner's median volume (and at least
#: UNUSUAL_MINIMUM requests), or when at least half of at least DENIAL_MINIMUM requests were
#: denied. Simple, explainable thresholds; privacy officers look closer, the report only points.
UNUSUAL_FACTOR = 3.0
UNUSUAL_MINIMUM = 10
DENIAL_MINIMUM = 5
DENIAL_RATE = 0.5

_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")


def subject_condition(pseudonym: str) -> ColumnElement[bool]:
    """Entries naming the subject in ``dataSubject`` or in the ``dataSubjects`` list: both
    are rows of ``audit_entry_subject``, found through its primary key."""
    if not _PSEUDONYM.match(pseudonym):
        raise ValueError("a subject pseudonym is 64 lowercase hex digits")
    return AuditRecord.index.in_(
        select(AuditSubject.index).where(AuditSubject.pseudonym == pseudonym)
    )


def accountable_partner(officer: Principal) -> str | None:
    """The partner whose entries ``officer`` sees: its own, or None (the whole covenant) for
    the covenant's coordinating privacy officer."""
    return None if officer.grant.covenant_wide else officer.partner_id


def finds(session: Session, reader: LogReader, index: int) -> bool:
    """Whether the entry at ``index`` is one ``reader``'s searches find."""
    found = session.execute(
        select(AuditRecord.index).where(AuditRecord.index == index, *reader.conditions())
    ).first()
    return found is not None


def _conditions(
    *, reader: LogReader, search: EntrySearch, subject_pseudonym: str | None
) -> list[ColumnElement[bool]]:
    conditions = reader.conditions()
    if search.case_id is not None:
        conditions.append(AuditRecord.case_id == search.case_id)
    if subject_pseudonym is not None:
        conditions.append(subject_condition(subject_pseudonym))
    if search.partner_id is not None:
        conditions.append(
            or_(
                AuditRecord.requester_partner == search.partner_id,
                AuditRecord.recipient_partner == search.partner_id,
            )
        )
    if search.purpose is not None:
        conditions.append(AuditRecord.purpose == search.purpose)
    # What an entry holds is searched as the reader reads it (readers.py): a data owner's
    # search must not find an entry by a clause, refusal or outcome it does not read.
    if search.clause_id is not None:
        conditions.append(reader.clause_condition(search.clause_id))
    if search.outcome is not None:
        conditions.append(reader.outcome_condition(search.outcome))
    if search.refused:
        conditions.append(reader.refusal_condition())
    if search.activity is not None:
        conditions.append(AuditRecord.activity == search.activity)
    if search.started_from is not None:
        conditions.append(AuditRecord.started_at >= search.started_from)
    if search.started_until is not None:
        conditions.append(AuditRecord.started_at < search.started_until)
    if search.after_index is not None:
        conditions.append(AuditRecord.index > search.after_index)
    return conditions


@dataclass(frozen=True)
class EntryWindow:
    """One page of a newest-first list: the entries, whether there are newer ones (before
    the first) and older ones (after the last), and how many match in all."""

    entries: list[dict[str, Any]]
    newer: bool
    older: bool
    total: int


def entry_window(
    session: Session,
    *,
    reader: LogReader,
    search: EntrySearch,
    extra: Sequence[ColumnElement[bool]] = (),
    older_than: int | None = None,
    newer_than: int | None = None,
) -> EntryWindow:
    """``search.limit`` matching entries, newest first: the newest, those just older than
    index ``older_than`` or those just newer than ``newer_than`` (a cursor both ways, stable
    while entries are appended)."""
    conditions = [
        *_conditions(reader=reader, search=search, subject_pseudonym=None),
        *extra,
    ]
    query = select(AuditRecord.index, AuditRecord.body).where(*conditions)
    if newer_than is not None:
        rows = session.execute(
            query.where(AuditRecord.index > newer_than)
            .order_by(AuditRecord.index)
            .limit(search.limit)
        ).all()[::-1]
    else:
        if older_than is not None:
            query = query.where(AuditRecord.index < older_than)
        rows = session.execute(query.order_by(AuditRecord.index.desc()).limit(search.limit)).all()

    def exists(condition: ColumnElement[bool]) -> bool:
        found = session.execute(
            select(AuditRecord.index).where(*conditions, condition).limit(1)
        ).first()
        return found is not None

    total = int(
        session.execute(
            select(func.count()).select_from(AuditRecord).where(*conditions)
        ).scalar_one()
    )
    return EntryWindow(
        entries=[reader.shown(json.loads(body)) for _, body in rows],
        newer=bool(rows) and exists(AuditRecord.index > rows[0][0]),
        older=bool(rows) and exists(AuditRecord.index < rows[-1][0]),
        total=total,
    )


def search_entries(
    session: Session,
    *,
    reader: LogReader,
    search: EntrySearch,
    subject_pseudonym: str | None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of entries (their stored bodies, as ``reader`` reads them) and the index to
    continue after, if any."""
    conditions = [
        *_conditions(reader=reader, search=search, subject_pseudonym=subject_pseudonym),
        *extra,
    ]
    rows = session.execute(
        select(AuditRecord.index, AuditRecord.body)
        .where(*conditions)
        .order_by(AuditRecord.index)
        .limit(search.limit + 1)
    ).all()
    more = len(rows) > search.limit
    rows = rows[: search.limit]
    entries = [reader.shown(json.loads(body)) for _, body in rows]
    return entries, (rows[-1][0] if more and rows else None)


def iter_entries(
    session: Session,
    *,
    reader: LogReader,
    search: EntrySearch,
    subject_pseudonym: str | None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> Iterator[dict[str, Any]]:
    """Every matching entry, paged through (for exports)."""
    after = search.after_index
    while True:
        page = search.model_copy(update={"after_index": after, "limit": 1000})
        entries, after = search_entries(
            session,
            reader=reader,
            search=page,
            subject_pseudonym=subject_pseudonym,
            extra=extra,
        )
        yield from entries
        if after is None:
            return


CSV_COLUMNS = (
    "index", "recordedAt", "activity", "status", "outcome", "startedAt", "endedAt",
    "covenantId", "clauseIds", "purpose", "caseId", "subjectPseudonym", "identifierType",
    "requesterPartner", "requesterRole", "requesterUser", "recipientPartner", "recipientRole",
    "dataOwners", "disclosed", "redacted", "decisionId", "bundleRevision", "policyEngine",
    "traceId", "spanId", "parentSpanId", "dataSubjects", "ownerCategories",
)  # fmt: skip


def flatten(entry: dict[str, Any]) -> dict[str, Any]:
    """One CSV row per entry; lists joined with ';' (``ownerCategories`` as
    ``category=partner;...``, empty in an entry without the field)."""
    processing = entry.get("processing", {})
    subject = entry.get("dataSubject", {})
    requester = entry.get("requester", {})
    recipient = entry.get("recipient", {})
    decision = entry.get("decision", {})
    trace = entry.get("trace", {})
    return {
        "index": entry.get("index"),
        "recordedAt": entry.get("recordedAt"),
        "activity": entry.get("activity"),
        "status": entry.get("status"),
        "outcome": entry.get("outcome"),
        "startedAt": entry.get("startedAt"),
        "endedAt": entry.get("endedAt"),
        "covenantId": processing.get("covenantId"),
        "clauseIds": ";".join(processing.get("clauseIds", [])),
        "purpose": processing.get("purpose"),
        "caseId": entry.get("caseId"),
        "subjectPseudonym": subject.get("pseudonym"),
        "identifierType": subject.get("identifierType"),
        "requesterPartner": requester.get("partnerId"),
        "requesterRole": requester.get("role"),
        "requesterUser": requester.get("userPseudonym"),
        "recipientPartner": recipient.get("partnerId"),
        "recipientRole": recipient.get("role"),
        "dataOwners": ";".join(entry.get("dataOwners", [])),
        "disclosed": ";".join(entry.get("disclosed", [])),
        "redacted": ";".join(f"{r['category']}:{r['reason']}" for r in entry.get("redacted", [])),
        "decisionId": decision.get("decisionId"),
        "bundleRevision": decision.get("bundleRevision"),
        "policyEngine": decision.get("engine"),
        "traceId": trace.get("traceId"),
        "spanId": trace.get("spanId"),
        "parentSpanId": trace.get("parentSpanId"),
        "dataSubjects": ";".join(
            f"{s['identifierType']}:{s['pseudonym']}" for s in entry.get("dataSubjects", [])
        ),
        # The entry as the reader reads it (LogReader.shown): a data owner's own only.
        "ownerCategories": ";".join(
            f"{o['category']}={o['partnerId']}" for o in entry.get("ownerCategories") or []
        ),
    }


def as_jsonl(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"


#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell as a spreadsheet shows it, never as a formula: text that starts like one gets a
    leading apostrophe (review2 #9: a value a partner chose reached the privacy officer's
    export as ``=HYPERLINK(...)``)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def as_csv(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({column: csv_cell(value) for column, value in flatten(entry).items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


#: What a subject is in each of the given cases (gateway/cases/subjects.py
#: ``subject_roles``): a person's roles (``case_person.role``), or ``dwelling`` for the case's
#: address; a case the subject is none of these in is absent.
SubjectRoles = Callable[[Collection[str]], Mapping[str, frozenset[str]]]


def access_report(
    session: Session,
    *,
    reader: LogReader,
    covenant: Covenant,
    subject_pseudonym: str,
    identifier_type: str,
    subject_roles: SubjectRoles,
) -> AccessReport:
    """GDPR art. 15: every processing recorded about one person in this covenant that the
    reader's partner is accountable for (the coordinating officer: the whole covenant). The
    caller records that the report was made (:func:`access_report_entry`).

    Never the police's entries about an investigation (:func:`investigation_condition`),
    for no reader, the police's own officer included: the report is made to be handed to the
    person, and telling a person that an investigation runs (or ran) about them is a
    restriction decision a human takes (UAVG art. 41), not the report's. The police's
    officer finds those entries by searching the person (docs/audit.md).

    Of each entry only what concerns the person (review12 F1): an entry about a case names
    every person of the case and its dwelling, but the categories it disclosed or refused
    are each about some of them (``categories[].concerns`` in the covenant file). A line
    keeps the categories that concern one of the subject's roles in the entry's case
    (``subject_roles``), the clauses governing such a category, and, for a read, the
    outcome of what it kept (:func:`_concerning`). A line that had categories and keeps none
    is left out, and so is one about categories it does not list (a partner's answer, through
    its clauses; a pushed fact, its ``category`` attribute) none of which concerns the subject
    (AVG art. 15(4): the complainant's report does not tell the causer's police file). A
    subject whose role in the case is unknown (erased, not matched, another identifier type)
    keeps none. A line about no category (intake, a transition, a team change, an erasure
    under a retention rule) is listed as it is."""
    search = EntrySearch()
    entries = list(
        iter_entries(
            session,
            reader=reader,
            search=search,
            subject_pseudonym=subject_pseudonym,
            extra=[~investigation_condition(reader.police)],
        )
    )
    roles = subject_roles({e["caseId"] for e in entries if e.get("caseId")})
    concerns = {c.id: frozenset(c.concerns) for c in covenant.categories}
    clause_categories = {c.id: frozenset(c.categories) for c in covenant.clauses}
    lines: list[AccessReportLine] = []
    for stored in entries:
        entry = _concerning(
            stored,
            roles.get(stored.get("caseId") or "", frozenset()),
            concerns,
            clause_categories,
        )
        if entry is None:
            continue
        lines.append(
            AccessReportLine(
                index=entry["index"],
                when=datetime.fromisoformat(entry["startedAt"].replace("Z", "+00:00")),
                activity=entry["activity"],
                outcome=entry["outcome"],
                recipient=entry.get("recipient", {}).get("partnerId"),
                requester=entry.get("requester", {}).get("partnerId"),
                categories_disclosed=entry.get("disclosed", []),
                categories_redacted=[r["category"] for r in entry.get("redacted", [])],
                purpose=entry["processing"].get("purpose"),
                clause_ids=entry["processing"].get("clauseIds", []),
                covenant_id=entry["processing"]["covenantId"],
            )
        )
    return AccessReport(
        identifier_type=identifier_type,
        generated_at=utcnow(),
        covenant_id=reader.covenant_id,
        partner_id=reader.accountable,
        lines=lines,
    )


def _concerning(
    entry: dict[str, Any],
    roles: frozenset[str],
    concerns: Mapping[str, frozenset[str]],
    clause_categories: Mapping[str, frozenset[str]],
) -> dict[str, Any] | None:
    """``entry`` (as the reader reads it) as it concerns a subject with ``roles`` in its case:
    the categories concerning one of them (a category the covenant does not know concerns
    nobody), of the covenant's clauses those governing such a category (a clause naming only
    removed categories would name them; another id, a retention rule's, names no category
    and stays), and a read's outcome and activity as the exchange records a read of the
    kept categories alone.

    None: the entry had categories and keeps none, or, without categories, was about some
    (its covenant clauses: a partner's answer does not list the facts it stored; or the
    ``category`` attribute of a pushed fact) of which none concerns the subject."""
    mine = {c for c, whom in concerns.items() if whom & roles}
    disclosed = list(entry.get("disclosed") or [])
    redacted = list(entry.get("redacted") or [])
    processing = entry.get("processing") or {}
    clauses = list(processing.get("clauseIds") or [])
    covenant_clauses = [c for c in clauses if c in clause_categories]
    kept_disclosed = [c for c in disclosed if c in mine]
    kept_redacted = [r for r in redacted if r.get("category") in mine]
    kept_clauses = [c for c in clauses if c not in clause_categories or clause_categories[c] & mine]
    if disclosed or redacted:
        if not (kept_disclosed or kept_redacted):
            return None
    else:
        attribute = (entry.get("attributes") or {}).get("category")
        about = {k for c in covenant_clauses for k in clause_categories[c]}
        if isinstance(attribute, str):
            about.add(attribute)
        if about and not about & mine:
            return None
    shown = {**entry, "processing": {**processing, "clauseIds": kept_clauses}}
    if not (disclosed or redacted):
        return shown
    shown["disclosed"], shown["redacted"] = kept_disclosed, kept_redacted
    if entry.get("activity") == DISCLOSURE:
        # As gateway/exchange's entry_outcome: a read that disclosed none of the kept is a
        # denial of them, not a disclosure of something else's.
        shown["activity"], shown["outcome"] = (
            (DISCLOSURE, "partially-disclosed" if kept_redacted else "disclosed")
            if kept_disclosed
            else (DENIAL, "denied")
        )
    return shown


def access_report_entry(
    *,
    covenant_id: str,
    officer: Actor,
    subject: DataSubject,
    report: AccessReport,
    started_at: datetime,
    channel: str,
) -> AuditEntry:
    """The audit entry that an access report was made: by whom, about whom (the subject's
    pseudonym, so the person's own next access report shows it), over which scope, with how
    many lines. Written in the report's transaction: no entry, no report."""
    return AuditEntry(
        activity="access-report",
        outcome="recorded",
        started_at=started_at,
        ended_at=utcnow(),
        processing=ProcessingActivity(covenant_id=covenant_id),
        data_subject=subject,
        requester=officer,
        attributes={
            "scope": report.partner_id or "covenant",
            "lines": len(report.lines),
            "channel": channel,
        },
    )


def processing_register(covenant: Covenant) -> ProcessingRegister:
    """GDPR art. 30: one processing activity per clause and purpose, from the covenant file."""
    special = {c.id: c.special for c in covenant.categories if c.special}
    activities = [
        ProcessingActivityView(
            id=activity_id(covenant.id, clause.id, purpose_id),
            purpose=purpose_id,
            purpose_name=(p.name if (p := covenant.purpose(purpose_id)) else purpose_id),
            clause_id=clause.id,
            source=clause.source,
            controller_kind=clause.provider,
            recipient_roles=clause.recipient_labels,
            categories=list(clause.categories),
            special_categories=sorted(
                {f"{c}:{special[c]}" for c in clause.categories if c in special}
            ),
            phases=list(clause.phases),
            conditions=clause.condition_names,
        )
        for clause in covenant.clauses
        for purpose_id in clause.purposes
    ]
    return ProcessingRegister(
        covenant_id=covenant.id,
        covenant_name=covenant.name,
        source_document=covenant.source.title,
        partners=[{"id": p.id, "name": p.name, "kind": p.kind} for p in covenant.partners],
        retention=covenant.retention,
        activities=activities,
    )


def _bucket(moment: datetime, period: Period) -> str:
    # The covenant's days, weeks and months: a request at 00:30 on 1 January in Amsterdam
    # is January's, though its UTC moment is still in December.
    moment = moment.astimezone(DUTCH_TIME)
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")


def partner_activity(
    session: Session,
    *,
    reader: LogReader,
    period: Period,
    since: datetime | None,
    until: datetime | None,
) -> ActivityReport:
    """Requests and denials per requesting partner and period, with unusual periods flagged:
    counted over the reads ``reader`` finds. A denial is a read that disclosed nothing, so
    it has no data owner: a data owner that is no party counts the reads that disclosed its
    own data and no denial, and no count tells it how another partner's items went."""
    query = select(
        AuditRecord.requester_partner, AuditRecord.started_at, AuditRecord.outcome
    ).where(
        *reader.conditions(),
        AuditRecord.activity.in_(("disclosure", "denial")),
        AuditRecord.requester_partner.is_not(None),
    )
    if since is not None:
        query = query.where(AuditRecord.started_at >= since)
    if until is not None:
        query = query.where(AuditRecord.started_at < until)
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for partner, started_at, outcome in session.execute(query):
        if partner is None:
            continue
        cell = counts[partner][_bucket(started_at, period)]
        cell[0] += 1
        cell[1] += outcome == "denied"
    rows: list[PartnerActivity] = []
    for partner, buckets in sorted(counts.items()):
        median = statistics.median(cell[0] for cell in buckets.values())
        for bucket, (requests, denials) in sorted(buckets.items()):
            rows.append(_activity_row(partner, bucket, requests, denials, median))
    return ActivityReport(covenant_id=reader.covenant_id, period=period, rows=rows)


def _activity_row(
    partner: str, bucket: str, requests: int, denials: int, median: float
) -> PartnerActivity:
    rate = denials / requests if requests else 0.0
    reasons: Sequence[str] = [
        reason
        for reason, applies in (
            (
                f"{requests} requests, over {UNUSUAL_FACTOR:g}x the partner's median {median:g}",
                requests >= UNUSUAL_MINIMUM and requests > UNUSUAL_FACTOR * median,
            ),
            (
                f"{denials} of {requests} requests denied",
                requests >= DENIAL_MINIMUM and rate >= DENIAL_RATE,
            ),
        )
        if applies
    ]
    return PartnerActivity(
        partner_id=partner,
        period=bucket,
        requests=requests,
        denials=denials,
        denial_rate=round(rate, 3),
        unusual=bool(reasons),
        reason="; ".join(reasons) or None,
    )


def as_table_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    """Report rows (model dumps) as CSV with ``columns``; lists joined with ';'."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                column: csv_cell(";".join(map(str, value)) if isinstance(value, list) else value)
                for column, value in ((c, row.get(c)) for c in columns)
            }
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
