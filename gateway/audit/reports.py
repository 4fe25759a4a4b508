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
    as_stored: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of entries (their stored bodies, as ``reader`` reads them; ``as_stored``:
    as stored, for a caller that shows them through ``reader.shown`` itself) and the index
    to continue after, if any."""
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
    entries = [json.loads(body) for _, body in rows]
    if not as_stored:
        entries = [reader.shown(entry) for entry in entries]
    return entries, (rows[-1][0] if more and rows else None)


def iter_entries(
    session: Session,
    *,
    reader: LogReader,
    search: EntrySearch,
    subject_pseudonym: str | None,
    extra: Sequence[ColumnElement[bool]] = (),
    as_stored: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every matching entry, paged through (for exports; ``as_stored`` as
    :func:`search_entries`)."""
    after = search.after_index
    while True:
        page = search.model_copy(update={"after_index": after, "limit": 1000})
        entries, after = search_entries(
            session,
            reader=reader,
            search=page,
            subject_pseudonym=subject_pseudonym,
            extra=extra,
            as_stored=as_stored,
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

#: A read's entry (gateway/exchange/enforcement.py ``entry_outcome``) that disclosed and
#: refused nothing: answers still awaited, nothing held.
_NOTHING_TO_DISCLOSE = "information-read"

#: The landlord's measure (gateway/cases/events.py ``CASE_EVENT``): its ``event`` attribute
#: names one of the covenant's events, each information of one category.
_CASE_EVENT = "case-event"


@dataclass(frozen=True)
class Concerns:
    """What an entry's parts are about, from the covenant file: whom each category concerns
    (``categories[].concerns``), the categories each clause governs, each case event's
    category (``events[].category``), and the ids an entry may cite as its clause that name
    no category (the covenant's retention rules, which an erasure cites)."""

    categories: Mapping[str, frozenset[str]]
    clauses: Mapping[str, frozenset[str]]
    events: Mapping[str, str]
    no_category: frozenset[str]

    @classmethod
    def of(cls, covenant: Covenant, retention_rule_ids: Collection[str]) -> Concerns:
        return cls(
            categories={c.id: frozenset(c.concerns) for c in covenant.categories},
            clauses={c.id: frozenset(c.categories) for c in covenant.clauses},
            events={e.id: e.category for e in covenant.events},
            no_category=frozenset(retention_rule_ids) - {c.id for c in covenant.clauses},
        )

    def about(self, entry: dict[str, Any], stored: dict[str, Any]) -> frozenset[str] | None:
        """The categories ``entry`` (as read) is about: those it disclosed or refused, those
        its clauses govern, a pushed fact's ``category`` attribute, and a landlord's measure's
        category, read from the ``stored`` entry (a reader's view may leave the measure out,
        LogReader._without_measure). None when that is unknown: a clause id the covenant
        does not know that is no retention rule's (a clause renamed in a later revision still
        names its category to whoever reads the id), or a measure the covenant does not know
        or an entry that names none (review13 F1, F5)."""
        processing = entry.get("processing") or {}
        about = set(entry.get("disclosed") or [])
        about.update(r.get("category") for r in entry.get("redacted") or [])
        for clause in processing.get("clauseIds") or []:
            if clause in self.clauses:
                about.update(self.clauses[clause])
            elif clause not in self.no_category:
                return None
        attribute = (entry.get("attributes") or {}).get("category")
        if isinstance(attribute, str):
            about.add(attribute)
        if stored.get("activity") == _CASE_EVENT:
            event = (stored.get("attributes") or {}).get("event")
            category = self.events.get(event) if isinstance(event, str) else None
            if category is None:
                return None
            about.add(category)
        return frozenset(c for c in about if isinstance(c, str))


def access_report(
    session: Session,
    *,
    reader: LogReader,
    covenant: Covenant,
    subject_pseudonym: str,
    identifier_type: str,
    subject_roles: SubjectRoles,
    retention_rule_ids: Collection[str],
) -> AccessReport:
    """GDPR art. 15: every processing recorded about one person in this covenant that the
    reader's partner is accountable for (the coordinating officer: the whole covenant). The
    caller records that the report was made (:func:`access_report_entry`).

    Never the police's entries about an investigation (:func:`investigation_condition`),
    for no reader, the police's own officer included: the report is made to be handed to the
    person, and telling a person that an investigation runs (or ran) about them is a
    restriction decision a human takes (UAVG art. 41), not the report's. The police's
    officer finds those entries by searching the person (docs/audit.md).

    Of each entry only what concerns the person (review12 F1, review13): an entry about a
    case names every person of the case and its dwelling, but the categories it is about
    are each about some of them (``categories[].concerns`` in the covenant file). A line is
    about the categories it disclosed or refused, those its covenant clauses govern, a
    pushed fact's ``category`` and a landlord's measure's category (:meth:`Concerns.about`);
    it is listed only when one of those concerns one of the subject's roles in the entry's
    case (``subject_roles``), and then keeps the categories and clauses concerning them and,
    for a read, the outcome of what it kept (:func:`_concerning`). A line whose subject is
    unknown (a clause id the covenant does not know that is no ``retention_rule_ids``, a
    measure it does not know) is left out, and so is every line about categories for a
    subject whose role in the case is unknown (erased, not matched, another identifier type;
    AVG art. 15(4): the complainant's report does not tell the causer's police file). A line
    about no category (intake, a transition, a team change, an erasure under a retention
    rule) is listed as it is."""
    stored_entries = list(
        iter_entries(
            session,
            reader=reader,
            search=EntrySearch(),
            subject_pseudonym=subject_pseudonym,
            extra=[~investigation_condition(reader.police)],
            as_stored=True,  # what a line is about is read from the stored entry
        )
    )
    roles = subject_roles({e["caseId"] for e in stored_entries if e.get("caseId")})
    concerns = Concerns.of(covenant, retention_rule_ids)
    lines: list[AccessReportLine] = []
    for stored in stored_entries:
        entry = _concerning(
            reader.shown(stored),
            stored,
            roles.get(stored.get("caseId") or "", frozenset()),
            concerns,
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
    stored: dict[str, Any],
    roles: frozenset[str],
    concerns: Concerns,
) -> dict[str, Any] | None:
    """``entry`` (``stored`` as the reader reads it) as it concerns a subject with ``roles``
    in its case: the categories concerning one of them (a category the covenant does not
    know concerns nobody), of its clauses those governing such a category or naming none (a
    retention rule's), and a read's outcome and activity as the exchange records a read of
    the kept categories alone.

    None: what the entry is about is unknown (:meth:`Concerns.about`), or it is about
    categories none of which concerns the subject (review13 F2: a request that concerned the
    subject is listed even when all that it disclosed or refused was another's), or the
    stored entry was about categories of which the reader reads none."""
    about = concerns.about(entry, stored)
    stored_about = concerns.about(stored, stored)
    if about is None or stored_about is None or (stored_about and not about):
        return None
    mine = {c for c, whom in concerns.categories.items() if whom & roles}
    if about and not about & mine:
        return None
    disclosed = list(entry.get("disclosed") or [])
    redacted = list(entry.get("redacted") or [])
    processing = entry.get("processing") or {}
    kept_clauses = [
        c
        for c in processing.get("clauseIds") or []
        if c in concerns.no_category or concerns.clauses.get(c, frozenset()) & mine
    ]
    kept_disclosed = [c for c in disclosed if c in mine]
    kept_redacted = [r for r in redacted if r.get("category") in mine]
    shown = {**entry, "processing": {**processing, "clauseIds": kept_clauses}}
    if "disclosed" in entry or disclosed:
        shown["disclosed"] = kept_disclosed
    if "redacted" in entry or redacted:
        shown["redacted"] = kept_redacted
    if entry.get("activity") in (DISCLOSURE, DENIAL):
        # As gateway/exchange's entry_outcome: a read that disclosed none of the kept is a
        # denial of them, or, refusing none of them either, a read with nothing to disclose.
        if kept_disclosed:
            shown["activity"] = DISCLOSURE
            shown["outcome"] = "partially-disclosed" if kept_redacted else "disclosed"
        elif kept_redacted:
            shown["activity"], shown["outcome"] = DENIAL, "denied"
        else:
            shown["activity"], shown["outcome"] = _NOTHING_TO_DISCLOSE, "recorded"
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
