"""What one audit entry records, and its canonical serialisation.

The fields follow the Dutch "Logboek Dataverwerkingen" standard (trace and span ids from W3C
trace context, activity, status, start and end, the processing activity, the data subject as a
pseudonym) and OPA decision logs (decision id, bundle revision, result). An entry never holds
plaintext personal data: data subjects and users are keyed pseudonyms made by
:class:`audit.keys.Pseudonymiser`, so shredding case data never breaks verification.

An entry names its data subjects either in ``data_subject`` (one person, the original form)
or in ``data_subjects`` (a list: an entry about a case names every person of the case and its
dwelling, one entry per processing rather than one per person, so the log counts processings
and a disclosure is never split over entries). Searches by subject match either.

The leaf hash of an entry is computed over :func:`canonical_json` of its stored form
(:func:`entry_body`), which adds the entry's index, the time it was recorded and a random
salt (:func:`new_salts`).

Why the salt: some readers read an entry with parts hidden (a data owner only its own
categories, a reason that tells whether an investigation runs rewritten; see
:mod:`gateway.audit.readers`), yet may hold its leaf hash (a receipt, or a neighbour's in an
inclusion proof). The hidden parts come from small sets (three reasons, a few categories,
small counts), so without a secret in the hashed bytes such a reader could hash each
candidate and recognise the hidden value. With 16 random bytes in the body the leaf hash
commits to the entry but tells nothing of it to whoever lacks the salt; whoever reads the
entry whole (with its salt) recomputes the leaf as before. Entries written before the salt
have none and keep their leaf hashes (docs/audit.md, "Leaf hashes and hidden fields").
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

#: The version of the stored entry format; part of every leaf. The salt did not change it:
#: it is one more top-level field, and verification hashes the stored bytes as they are.
ENTRY_FORMAT = 1
#: Random bytes per entry in its stored form (hex, the ``salt`` field): 128 bits, so the
#: leaf hash of an entry cannot be confirmed against guesses by whoever lacks them.
SALT_BYTES = 16
#: The top-level field of the stored form that holds the salt.
SALT_FIELD = "salt"

Status = Literal["ok", "error"]
#: The result of the decision or action the entry records.
Outcome = Literal["disclosed", "partially-disclosed", "denied", "recorded", "failed"]

#: Activity names used by the gateway's domains; other names are allowed (kebab-case).
DISCLOSURE = "disclosure"
DENIAL = "denial"
WORKFLOW_TRANSITION = "workflow-transition"
CONSENT_CHANGE = "consent-change"
INVESTIGATION_STATUS = "case-investigation-status"
KEY_ROTATION = "key-rotation"
RETENTION_REDACTION = "retention-redaction"

#: At most this many data subjects per entry (a case has a handful of persons and a dwelling).
MAX_SUBJECTS = 50

#: What the entry's fields may hold, matched whole (``fullmatch``: ``$`` would let a trailing
#: newline through). Public for writers that check a few fields of a validated entry
#: themselves (``gateway.audit.log.EntryCopy``): one definition of each.
SLUG = re.compile(r"[a-z0-9][a-z0-9.\-_:]{0,99}")
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_:§ ]{0,199}")
_HEX = re.compile(r"[0-9a-f]+")
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_CHARS = 200
#: The types an attribute's value may have. A tuple, not ``str | int | bool``: the union is
#: built anew at every call and ``isinstance`` with it took 0.4 us against 0.06 us (the
#: retention sweep checks five attributes of every erased case's entry).
_ATTRIBUTE_TYPES = (str, int, bool)


def is_slug(value: str) -> bool:
    return SLUG.fullmatch(value) is not None


def check_attributes(
    value: dict[str, str | int | bool], *, slug: Callable[[str], bool] = is_slug
) -> None:
    """An entry's attributes: at most :data:`MAX_ATTRIBUTES`, keys slugs (case-insensitive),
    values strings of at most :data:`MAX_ATTRIBUTE_CHARS`, numbers or booleans. ``slug``
    decides a key (a bulk writer passes a cached :func:`is_slug`)."""
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
    for key, item in value.items():
        if not isinstance(item, _ATTRIBUTE_TYPES):
            raise ValueError("attribute values are strings, numbers or booleans")
        if not slug(key.lower()) or (isinstance(item, str) and len(item) > MAX_ATTRIBUTE_CHARS):
            raise ValueError("attribute keys are slugs; values at most 200 characters")


class _Part(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _check_ident(value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise ValueError("must be a short identifier (letters, digits, . - _ :)")
    return value


def _non_zero_hex(value: str | None) -> str | None:
    if value is not None and (not _HEX.fullmatch(value) or not value.strip("0")):
        raise ValueError("must be non-zero lowercase hex")
    return value


class ForeignOperation(_Part):
    """The calling partner's own operation (Logboek Dataverwerkingen ``foreign_operation``):
    its trace and span as its ``traceparent`` header named them, and which partner it is."""

    trace_id: str = Field(min_length=32, max_length=32)
    span_id: str = Field(min_length=16, max_length=16)
    partner_id: str

    _hex = field_validator("trace_id", "span_id")(_non_zero_hex)
    _partner = field_validator("partner_id")(lambda v: _check_ident(v))


class TraceContext(_Part):
    """W3C trace context of the processing: its own trace and span, a parent span within that
    trace, and the caller's operation in its own trace (``foreign_operation``), if any."""

    trace_id: str = Field(min_length=32, max_length=32)
    span_id: str = Field(min_length=16, max_length=16)
    parent_span_id: str | None = Field(default=None, min_length=16, max_length=16)
    foreign_operation: ForeignOperation | None = None

    _hex = field_validator("trace_id", "span_id", "parent_span_id")(_non_zero_hex)

    @classmethod
    def new(cls) -> TraceContext:
        return cls(trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8))

    @classmethod
    def from_traceparent(cls, header: str | None, *, partner_id: str) -> TraceContext:
        """A new trace of the gateway's own, with the caller's ``traceparent``
        (``00-<trace>-<span>-<flags>``) kept as the foreign operation of ``partner_id``.

        Logboek Dataverwerkingen (component Applicatie): every processing starts its own
        trace, and trace context received from another organisation is recorded as
        ``foreign_operation``, not as a parent in our trace. A missing or malformed header
        leaves no foreign operation. The ids are the caller's choice and are kept as long
        as the log: the gateway passes only a header whose ids hold no BSN
        (gateway.core.tracing.partner_traceparent, review10 F3)."""
        own = cls.new()
        if header:
            parts = header.strip().lower().split("-")
            if len(parts) >= 4 and len(parts[0]) == 2 and parts[0] != "ff":
                try:
                    foreign = ForeignOperation(
                        trace_id=parts[1], span_id=parts[2], partner_id=partner_id
                    )
                except ValueError:
                    return own
                return own.model_copy(update={"foreign_operation": foreign})
        return own

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


class ProcessingActivity(_Part):
    """Why the data was processed: the covenant, the clause(s) that allowed it, the purpose."""

    covenant_id: str
    clause_ids: tuple[str, ...] = ()
    purpose: str | None = None

    _ids = field_validator("covenant_id", "purpose")(lambda v: v if v is None else _check_ident(v))

    @field_validator("clause_ids")
    @classmethod
    def _clauses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_ident(v) for v in value)


class DataSubject(_Part):
    """The person the data is about, as a keyed pseudonym (never the identifier itself).

    For ``bsn`` and ``address`` the pseudonym is derived from the identifier's blind index
    (see :meth:`gateway.audit.service.AuditLog.subject_from_index`), so a domain that only
    stores the blind index can name the subject without decrypting anything.
    """

    pseudonym: str = Field(min_length=64, max_length=64, description="HMAC-SHA256, hex.")
    identifier_type: str = Field(description="e.g. 'bsn', 'address', 'case-person'.")

    @field_validator("pseudonym")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX.fullmatch(value):
            raise ValueError("a pseudonym is lowercase hex")
        return value

    @field_validator("identifier_type")
    @classmethod
    def _type(cls, value: str) -> str:
        if not is_slug(value):
            raise ValueError("identifier type must be a short lowercase slug")
        return value


class Actor(_Part):
    """A partner acting in a role; ``user`` is a keyed pseudonym of the person, if any."""

    partner_id: str
    role: str | None = None
    user_pseudonym: str | None = Field(default=None, min_length=64, max_length=64)

    _ids = field_validator("partner_id", "role")(lambda v: v if v is None else _check_ident(v))


class Redaction(_Part):
    category: str
    reason: str = Field(max_length=500, description="Policy reason code or text; no personal data.")


class OwnerCategory(_Part):
    """One category of an entry as it concerns one partner: asked of that partner (a
    request), or that partner's item disclosed or refused (a read). Two partners of one kind
    own the same categories, so only this tells which of them an item concerns."""

    category: str
    partner_id: str

    _ids = field_validator("category", "partner_id")(lambda v: _check_ident(v))


class DecisionRef(_Part):
    """The policy decision behind the entry (OPA decision log terms)."""

    decision_id: str = Field(max_length=100)
    bundle_revision: str | None = Field(default=None, max_length=200)
    engine: str | None = Field(
        default=None,
        max_length=100,
        description="The policy engine that decided: 'regorus' (embedded in the gateway) or "
        "'opa' (an OPA server, KETENPOORT_OPA_URL). Absent in entries written before it was "
        "recorded.",
    )


class AuditEntry(_Part):
    """One processing, as the caller states it. See the module docstring for the rules."""

    activity: str = Field(description="Activity name, kebab-case, e.g. 'disclosure'.")
    status: Status = "ok"
    outcome: Outcome
    trace: TraceContext = Field(default_factory=TraceContext.new)
    started_at: datetime
    ended_at: datetime
    processing: ProcessingActivity
    case_id: str | None = Field(default=None, description="The gateway's case id (no BSN).")
    data_subject: DataSubject | None = None
    data_subjects: tuple[DataSubject, ...] = Field(
        default=(),
        max_length=MAX_SUBJECTS,
        description=(
            "Every person (and dwelling) the processing concerns, e.g. all persons of a case; "
            "kept sorted and without duplicates so the canonical JSON is deterministic."
        ),
    )
    requester: Actor | None = None
    recipient: Actor | None = None
    data_owners: tuple[str, ...] = Field(
        default=(), description="Partner ids whose data was disclosed (they may fetch receipts)."
    )
    disclosed: tuple[str, ...] = ()
    redacted: tuple[Redaction, ...] = ()
    owner_categories: tuple[OwnerCategory, ...] = Field(
        default=(),
        description=(
            "Which partner each category of an exchange entry concerns (asked of it, or its "
            "item disclosed or refused); sorted, without duplicates. Absent in entries "
            "written before it was recorded (6 December 2026) and in entries without one."
        ),
    )
    decision: DecisionRef | None = None
    attributes: dict[str, str | int | bool] = Field(
        default_factory=dict,
        description="Extra non-personal facts (e.g. transition from/to, key version).",
    )

    @field_validator("activity")
    @classmethod
    def _activity(cls, value: str) -> str:
        if not is_slug(value):
            raise ValueError("activity must be a short lowercase slug")
        return value

    @field_validator("started_at", "ended_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("data_subjects")
    @classmethod
    def _subjects(cls, value: tuple[DataSubject, ...]) -> tuple[DataSubject, ...]:
        unique = {(s.identifier_type, s.pseudonym): s for s in value}
        return tuple(unique[key] for key in sorted(unique))

    @field_validator("owner_categories")
    @classmethod
    def _owner_categories(cls, value: tuple[OwnerCategory, ...]) -> tuple[OwnerCategory, ...]:
        unique = {(o.partner_id, o.category): o for o in value}
        return tuple(unique[key] for key in sorted(unique))

    @field_validator("case_id")
    @classmethod
    def _case(cls, value: str | None) -> str | None:
        return value if value is None else _check_ident(value)

    @field_validator("data_owners", "disclosed")
    @classmethod
    def _idents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_ident(v) for v in value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str | int | bool]) -> dict[str, str | int | bool]:
        check_attributes(value)
        return value


class EntryTemplate:
    """Entries that share most of their fields, validated once: each entry made from the
    template validates only the fields it sets.

    ``EntryTemplate(validated_entry).entry(case_id=..., started_at=..., ...)`` copies the
    template's entry and runs each given value through that field's own validation in the
    model's schema (pydantic's assignment validation: the same types, constraints and
    ``field_validator``s as ``AuditEntry(...)``; nested parts given as model instances are
    taken as they are, as ``AuditEntry(...)`` takes them). So an entry from a template is
    the entry full validation would give (same canonical JSON, same leaf hash), and a bad
    value fails the same way (``ValidationError``), at a fraction of the cost when most
    fields come from the template: a request builds the covenant's, the partner's and the
    decision's parts once and sets the case, the times and the subjects per entry.

    Each entry gets a fresh trace unless ``trace`` is given: two processings never share a
    span. ``attributes`` is copied, never shared with the template.
    """

    __slots__ = ("_base",)

    def __init__(self, base: AuditEntry) -> None:
        if not isinstance(base, AuditEntry):
            raise TypeError("a template is a validated AuditEntry")
        self._base = base

    def entry(self, **fields: Any) -> AuditEntry:
        unknown = fields.keys() - _ENTRY_FIELDS
        if unknown:
            raise TypeError(f"AuditEntry has no field {sorted(unknown)!r}")
        made = self._base.model_copy()
        if "attributes" not in fields:
            # The template's validated value, copied: no entry shares a mutable dict.
            made.__dict__["attributes"] = dict(self._base.attributes)
        if "trace" not in fields:
            fields["trace"] = TraceContext.new()
        assign = AuditEntry.__pydantic_validator__.validate_assignment
        for name, value in fields.items():
            assign(made, name, value)
        return made


_ENTRY_FIELDS = frozenset(AuditEntry.model_fields)


@lru_cache(maxsize=4096)
def format_time(value: datetime) -> str:
    """RFC 3339 UTC with microseconds: one spelling per instant, so hashes are stable.

    Cached: a bulk append (the retention sweep) stamps thousands of entries with the same few
    instants, and ``strftime`` was a seventh of its Python time. Equal instants in different
    zones are equal keys and have the same UTC spelling, so the cache cannot mix them up.
    A single append stamps a new instant each time (a miss): ``isoformat`` spells it in a
    third less time than ``strftime``, the same characters from the year 1000 on
    (tests/audit/test_template.py checks); earlier years keep ``strftime``'s spelling."""
    utc = value.astimezone(UTC)
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def new_salts(count: int) -> list[str]:
    """``count`` fresh salts (:data:`SALT_BYTES` random bytes each, hex) from the operating
    system's CSPRNG, one per entry written; drawn in one call (a bulk append needs many)."""
    width = 2 * SALT_BYTES
    pool = secrets.token_hex(SALT_BYTES * count)
    return [pool[at : at + width] for at in range(0, len(pool), width)]


def entry_body(
    entry: AuditEntry, *, index: int, recorded_at: datetime, salt: str | None
) -> dict[str, Any]:
    """The stored form of an entry: what the leaf hash covers. Every writer gives a fresh
    ``salt`` (:func:`new_salts`, see the module docstring); ``None`` gives the form entries
    had before salts (a test or a tool reproducing an old entry's leaf)."""
    body = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    # An entry without a list of subjects keeps the exact form of entries written before the
    # list existed (format 1), so their leaf hashes and the verification of old logs hold.
    if not body.get("dataSubjects"):
        body.pop("dataSubjects", None)
    # Likewise an entry that names no partner per category (most entries; all before it was
    # recorded): absent, not an empty list.
    if not body.get("ownerCategories"):
        body.pop("ownerCategories", None)
    body["startedAt"] = format_time(entry.started_at)
    body["endedAt"] = format_time(entry.ended_at)
    body["format"] = ENTRY_FORMAT
    body["index"] = index
    body["recordedAt"] = format_time(recorded_at)
    if salt is not None:
        body[SALT_FIELD] = salt
    return body


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes the leaf hash is computed over."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
