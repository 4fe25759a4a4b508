"""Audit entries as the pages show them: searched through the audit domain's report
functions, always within the signed-in partner's covenant. Entries hold no personal data
(categories, clause ids, partner ids, pseudonyms), so listing them discloses nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway.core.errors import Unprocessable
from gateway.web import services

if TYPE_CHECKING:
    from gateway.web.pages import PageState


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
    categories_redacted: list[str]
    reasons: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)


def _line(entry: dict[str, Any]) -> LogLine:
    processing = entry.get("processing") or {}
    redacted = entry.get("redacted") or []
    return LogLine(
        index=int(entry["index"]),
        when=datetime.fromisoformat(str(entry["startedAt"]).replace("Z", "+00:00")),
        activity=str(entry.get("activity", "")),
        outcome=str(entry.get("outcome", "")),
        case_id=entry.get("caseId"),
        requester=(entry.get("requester") or {}).get("partnerId"),
        recipient=(entry.get("recipient") or {}).get("partnerId"),
        purpose=processing.get("purpose"),
        clause_ids=list(processing.get("clauseIds") or []),
        categories_disclosed=list(entry.get("disclosed") or []),
        categories_redacted=[str(r.get("category")) for r in redacted],
        reasons=sorted({str(r.get("reason")) for r in redacted if r.get("reason")}),
        attributes=dict(entry.get("attributes") or {}),
    )


def search_log(page: PageState, filters: dict[str, Any]) -> list[LogLine]:
    reports = services.domain_module("audit.reports", "Zoeken in het logboek")
    search = services.function(reports, "search_entries", "Zoeken in het logboek")
    schemas = services.domain_module("audit.schemas", "Zoeken in het logboek")
    try:
        query = schemas.EntrySearch.model_validate(filters)
    except ValidationError:
        raise Unprocessable("Controleer de zoekvelden.") from None
    entries, _ = search(
        page.db,
        covenant_id=page.require_principal().covenant_id,
        partner_id=reports.accountable_partner(page.require_principal()),
        search=query,
        subject_pseudonym=None,
    )
    return [_line(entry) for entry in entries]
