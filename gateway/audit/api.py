"""The audit API: receipts and proofs for partners, reports for privacy officers.

Privacy officers see their own covenant only. Data-subject identifiers arrive in POST bodies
and are pseudonymised at once; they never appear in a URL, a log line or the database.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from audit import ldv
from gateway.audit import readers, reports
from gateway.audit.checkpoints import checkpoint_view, latest_checkpoint, note_signatures
from gateway.audit.errors import CheckpointNotFound, EntryNotFound
from gateway.audit.models import AuditRecord
from gateway.audit.schemas import (
    AccessReport,
    ActivityReport,
    CheckpointView,
    ConsistencyProofView,
    EntryPage,
    EntrySearch,
    ProcessingRegister,
    PublicKeyView,
    Receipt,
    SubjectIdentifier,
)
from gateway.audit.service import consistency_between, leaf_withheld
from gateway.auth.deps import Context, CurrentPrincipal, DbSession, PrivacyOfficer
from gateway.auth.principal import Principal
from gateway.cases.subjects import subject_roles
from gateway.context import GatewayContext
from gateway.core.errors import NotFound
from gateway.core.json_body import StrictJsonRoute
from gateway.core.schemas import Moment
from gateway.core.urls import LOG_POSITION
from gateway.db import utcnow

# Database integers are 64-bit; larger numbers are bad input, not a server error.
MAX_TREE_SIZE = 2**62
LogIndex = Annotated[
    int, Path(ge=0, le=MAX_TREE_SIZE, description="Log index of the entry."), LOG_POSITION
]

router = APIRouter(prefix="/audit", tags=["audit"], route_class=StrictJsonRoute)


def _reader(context: GatewayContext, officer: Principal) -> readers.LogReader:
    """The officer as the reports scope it (its covenant file names the police)."""
    covenant = context.covenants.get(officer.covenant_id)
    if covenant is None:
        raise NotFound("Your covenant is not loaded in this gateway.")
    return readers.LogReader.officer(covenant, officer)


def _subject_pseudonym(
    context: Context, session: Session, subject: SubjectIdentifier | None
) -> str | None:
    """The pseudonym entries carry for ``subject`` (a BSN or address via its blind index)."""
    if subject is None:
        return None
    return context.audit.data_subject(
        identifier_type=subject.identifier_type,
        identifier=subject.identifier,
        session=session,
    ).pseudonym


@router.get("/receipts/{index}", response_model=Receipt, response_model_by_alias=True)
def get_receipt(
    index: LogIndex, session: DbSession, principal: CurrentPrincipal, context: Context
) -> Receipt:
    """An entry's receipt, with its inclusion proof once a signed checkpoint covers it.

    For the requesting and receiving partner, the partners whose data was disclosed, and the
    privacy officers of the entry's covenant."""
    record = session.get(AuditRecord, index)
    allowed = record is not None and (
        principal.partner_id in (record.requester_partner, record.recipient_partner)
        or f" {principal.partner_id} " in record.data_owners
        # Only the coordinating privacy officer sees every receipt of its covenant that its
        # searches find (not the police's entries about an investigation); another partner's
        # privacy officer sees its own partner's (the lines above).
        or (
            principal.grant.covenant_wide
            and principal.covenant_id == record.covenant_id
            and reports.finds(session, _reader(context, principal), index)
        )
    )
    # The same answer for "absent", "not yours" and an entry from before salts that the
    # partner is no party of (leaf_withheld): indexes reveal nothing.
    if not allowed or leaf_withheld(session, index, principal.partner_id):
        raise EntryNotFound(f"There is no audit entry {index} for your organisation.")
    return context.audit.receipt(session, index)


@router.get("/checkpoints/latest", response_model=CheckpointView, response_model_by_alias=True)
def get_latest_checkpoint(session: DbSession, principal: CurrentPrincipal) -> CheckpointView:
    """The newest signed checkpoint (tree size, root hash, time, Ed25519 signature)."""
    del principal
    row = latest_checkpoint(session)
    if row is None:
        raise CheckpointNotFound("No checkpoint has been signed yet.")
    return checkpoint_view(row, note_signatures(session, row.tree_size))


@router.get("/consistency-proof", response_model=ConsistencyProofView, response_model_by_alias=True)
def get_consistency_proof(
    session: DbSession,
    principal: CurrentPrincipal,
    first: Annotated[
        int,
        Query(ge=1, le=MAX_TREE_SIZE, description="Tree size of the older checkpoint."),
        LOG_POSITION,
    ],
    second: Annotated[
        int,
        Query(ge=1, le=MAX_TREE_SIZE, description="Tree size of the newer checkpoint."),
        LOG_POSITION,
    ],
) -> ConsistencyProofView:
    """Proof that the older checkpoint's log is a prefix of the newer one (RFC 9162)."""
    del principal
    return consistency_between(session, first=first, second=second)


@router.get("/public-key", response_model=PublicKeyView, response_model_by_alias=True)
def get_public_key(context: Context) -> PublicKeyView:
    """The checkpoint signing key; compare its key id with the one published out of band."""
    return context.audit.public_key()


@router.post("/entries/search", response_model=EntryPage, response_model_by_alias=True)
def search_entries(
    search: EntrySearch, session: DbSession, context: Context, officer: PrivacyOfficer
) -> EntryPage:
    """Entries of your covenant your partner is accountable for (all of them for the
    coordinating privacy officer) by case, data subject, partner, purpose, clause, period,
    outcome; page on with ``afterIndex``."""
    entries, after = reports.search_entries(
        session,
        reader=_reader(context, officer),
        search=search,
        subject_pseudonym=_subject_pseudonym(context, session, search.data_subject),
    )
    return EntryPage(entries=entries, next_after_index=after)


class _ExportResponse(StreamingResponse):
    media_type = "application/x-ndjson"


@router.post(
    "/entries/export",
    response_class=_ExportResponse,
    responses={
        200: {
            "description": "The matching entries as JSON Lines (default) or CSV, or as "
            "Logboek Dataverwerkingen records (format=ldv, JSON Lines; see docs/audit.md).",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
def export_entries(
    search: EntrySearch,
    session: DbSession,
    context: Context,
    officer: PrivacyOfficer,
    export_format: Annotated[
        Literal["jsonl", "csv", "ldv"],
        Query(alias="format", description="jsonl, csv or ldv (Logboek Dataverwerkingen)"),
    ] = "jsonl",
) -> StreamingResponse:
    """All matching entries as JSON Lines or CSV, or as Logboek Dataverwerkingen records."""
    entries = list(
        reports.iter_entries(
            session,
            reader=_reader(context, officer),
            search=search,
            subject_pseudonym=_subject_pseudonym(context, session, search.data_subject),
        )
    )
    if export_format == "csv":
        return StreamingResponse(
            reports.as_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-entries.csv"'},
        )
    if export_format == "ldv":
        records = ldv.as_records(
            entries, base_url=context.settings.public_url, resource=ldv.gateway_resource()
        )
        return StreamingResponse(
            reports.as_jsonl(records),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="ldv-records.jsonl"'},
        )
    return StreamingResponse(
        reports.as_jsonl(entries),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit-entries.jsonl"'},
    )


@router.post("/access-report", response_model=AccessReport, response_model_by_alias=True)
def create_access_report(
    subject: SubjectIdentifier, session: DbSession, context: Context, officer: PrivacyOfficer
) -> AccessReport:
    """GDPR art. 15: every recorded processing about one person that your partner is
    accountable for (the whole covenant for its coordinating privacy officer). Audited: the
    report itself is an entry (activity ``access-report``), written with it or not at all."""
    started = utcnow()
    log = context.audit
    data_subject = log.data_subject(
        identifier_type=subject.identifier_type, identifier=subject.identifier, session=session
    )
    reader = _reader(context, officer)
    report = reports.access_report(
        session,
        reader=reader,
        covenant=context.covenants[officer.covenant_id],
        subject_pseudonym=data_subject.pseudonym,
        identifier_type=subject.identifier_type,
        subject_roles=subject_roles(session, log, data_subject),
        retention_rule_ids=(
            context.retention.rules.rule_ids(officer.covenant_id)
            if context.retention is not None
            else frozenset()
        ),
    )
    log.append(
        session=session,
        entry=reports.access_report_entry(
            covenant_id=officer.covenant_id,
            officer=log.actor(officer),
            subject=data_subject,
            report=report,
            started_at=started,
            channel="api",
        ),
    )
    return report


@router.get("/processing-register", response_model=ProcessingRegister, response_model_by_alias=True)
def get_processing_register(context: Context, officer: PrivacyOfficer) -> ProcessingRegister:
    """GDPR art. 30: your covenant's processing activities, generated from its file."""
    covenant = context.covenants.get(officer.covenant_id)
    if covenant is None:
        raise NotFound("Your covenant is not loaded in this gateway.")
    return reports.processing_register(covenant)


@router.get("/partner-activity", response_model=ActivityReport, response_model_by_alias=True)
def get_partner_activity(
    session: DbSession,
    context: Context,
    officer: PrivacyOfficer,
    period: Annotated[Literal["day", "week", "month"], Query()] = "week",
    since: Annotated[Moment | None, Query(alias="from")] = None,
    until: Annotated[Moment | None, Query()] = None,
) -> ActivityReport:
    """Requests and denials per partner and period; unusual periods are flagged."""
    return reports.partner_activity(
        session,
        reader=_reader(context, officer),
        period=period,
        since=since,
        until=until,
    )
