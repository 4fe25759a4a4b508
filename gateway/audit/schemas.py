"""API schemas of the audit domain (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from audit.entry import Outcome
from gateway.core.schemas import ApiModel, Moment


class CheckpointView(ApiModel):
    """A signed checkpoint: verify ``signature`` (Ed25519, base64) over ``note`` (UTF-8)."""

    tree_size: int
    root_hash: str = Field(description="hex")
    signed_at: datetime
    key_id: str = Field(description="SHA-256 of the raw public key, hex.")
    note: str = Field(description="The signed text: a C2SP tlog-checkpoint.")
    signature: str = Field(description="base64")
    signed_note: str | None = Field(
        default=None,
        description="The C2SP signed note: the checkpoint, a blank line, the log's signature "
        "line and each witness's cosignature line (tlog-cosignature).",
    )
    cosignatures: int = Field(
        default=0,
        description="How many cosignature lines it carries; in a receipt, how many of them "
        "verify with the gateway's configured witness keys.",
    )


class Receipt(ApiModel):
    """Proof of recording handed to the requester: the entry's index and leaf hash, and once
    a checkpoint covers it, the inclusion proof against that signed checkpoint."""

    index: int
    leaf_hash: str = Field(description="hex; SHA-256(0x00 || canonical entry JSON)")
    recorded_at: datetime
    checkpoint: CheckpointView | None = None
    inclusion_proof: list[str] | None = Field(default=None, description="hex, leaf upwards")
    witnessed: bool = Field(
        default=False,
        description="True only when ``checkpoint`` covers the entry and carries valid "
        "cosignatures of at least ``witnessQuorum`` of the gateway's configured witnesses. "
        "False: not yet witnessed (no such checkpoint covers the entry yet, or no witnesses are "
        "configured and the checkpoint is only the gateway's own signature); ask again later.",
    )
    witness_quorum: int = Field(
        default=0, description="The cosignatures a checkpoint needs to count as witnessed."
    )


class ConsistencyProofView(ApiModel):
    first: CheckpointView
    second: CheckpointView
    proof: list[str] = Field(description="hex, RFC 9162 §2.1.4")


class PublicKeyView(ApiModel):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str
    public_key: str = Field(description="raw public key, base64")
    vkey: str | None = Field(
        default=None,
        description="C2SP signed-note verifier key: <origin>+<key id>+base64(0x01 || key).",
    )


class SubjectIdentifier(ApiModel):
    """A data subject's identifier, sent in a POST body only (never in a URL)."""

    identifier_type: str = Field(
        default="bsn",
        pattern=r"^[a-z0-9][a-z0-9.\-_:]{0,49}$",
        description="bsn or address (found through their blind index), or another slug.",
    )
    identifier: str = Field(min_length=1, max_length=200)


#: What a search compares with a stored id (a case, partner, purpose, clause or activity):
#: the ids' own characters, no control character, no space (review8c F1: a plain ``str``
#: took NUL and lone surrogates, which the database driver could not take, a 500).
SearchId = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]


class EntrySearch(ApiModel):
    case_id: SearchId | None = None
    data_subject: SubjectIdentifier | None = None
    partner_id: SearchId | None = Field(default=None, description="Requester or recipient.")
    purpose: SearchId | None = None
    clause_id: SearchId | None = None
    outcome: Outcome | None = None
    refused: bool = Field(
        default=False,
        description="Only entries that withheld at least one category by a decision: whole "
        "and partial refusals (a partial one has outcome partially-disclosed or recorded, so "
        "outcome=denied alone misses it). A category the partner has not answered yet is no "
        "refusal.",
    )
    activity: SearchId | None = None
    started_from: Moment | None = Field(default=None, alias="from")
    started_until: Moment | None = Field(default=None, alias="until")
    after_index: int | None = Field(
        default=None, ge=-1, le=2**62, description="Paging: entries after this index."
    )
    limit: int = Field(default=100, ge=1, le=1000)


class EntryPage(ApiModel):
    entries: list[dict[str, Any]]
    next_after_index: int | None = None


class AccessReportLine(ApiModel):
    index: int
    when: datetime
    activity: str
    outcome: str
    recipient: str | None
    requester: str | None
    categories_disclosed: list[str]
    categories_redacted: list[str]
    purpose: str | None
    clause_ids: list[str]
    covenant_id: str


class AccessReport(ApiModel):
    """GDPR art. 15: every processing about one person, to whom, what, when, why."""

    identifier_type: str
    generated_at: datetime
    covenant_id: str
    partner_id: str | None = Field(
        description="The partner whose accountability the report covers (the officer's own); "
        "null: the whole covenant (its coordinating privacy officer)."
    )
    lines: list[AccessReportLine]


class ProcessingActivityView(ApiModel):
    id: str = Field(
        description="'<covenant>/<clause>/<purpose>': the fragment of the URI in "
        "dpl.core.processing_activity_id of Logboek Dataverwerkingen records."
    )
    purpose: str
    purpose_name: str
    clause_id: str
    source: str
    controller_kind: str = Field(description="The partner kind that discloses.")
    recipient_roles: list[str]
    categories: list[str]
    special_categories: list[str]
    phases: list[str]
    conditions: list[str]


class ProcessingRegister(ApiModel):
    """GDPR art. 30 register of processing activities, generated from the covenant file."""

    covenant_id: str
    covenant_name: str
    source_document: str
    partners: list[dict[str, str]]
    retention: dict[str, Any] | None
    activities: list[ProcessingActivityView]


class PartnerActivity(ApiModel):
    partner_id: str
    period: str
    requests: int
    denials: int
    denial_rate: float
    unusual: bool
    reason: str | None = None


class ActivityReport(ApiModel):
    covenant_id: str
    period: Literal["day", "week", "month"]
    rows: list[PartnerActivity]
