"""Who reads the log, and what of an entry each reader reads (:class:`LogReader`).

Every read of the log for a person (the API's search and exports, the access report, the
per-partner activity, the privacy pages, the case page's timeline, the CLI's reports) goes
through one ``LogReader``: the entries it finds (:meth:`LogReader.conditions`) and each entry
as it reads it (:meth:`LogReader.shown`). The stored entries are never changed: they are hash
chained and stay verifiable; an entry shown redacted does not hash to its leaf (the export
for auditors, ``ketenpoort audit export``, is the log as stored).

The rules, each from the covenant file (never a hand-listed partner or category):

- The police's entries about an investigation (the status changed, an OM consent recorded or
  withdrawn) are found only by the officer of the partner that wrote them (review3 finding 1).
- A partner that is only a data owner of an entry (asked, or its data disclosed, but neither
  the entry's requester nor its recipient) reads it as it concerns its own data: the
  categories its partner kind owns, the clauses governing them, itself as data owner, no
  counts of the other partners' items (review4 F1). One entry records a request or a read
  addressed to several partners; the buurtteam asked whether it knows the causer is not
  told that the police were asked for antecedents, nor whether those passed the OM's
  condition (U §5.3 to the case manager only; U §5.6 the buurtteam answers the case manager).
  The searches that select on what an entry holds (a clause, refused, an outcome) select on
  what the reader reads, so a search does not tell what the entry shows hidden.
  An entry that names each category's partner (``ownerCategories``, written since 6
  December 2026) is read by a data owner as what it names for that partner: two partners
  of the same kind own the same categories, and each reads only its own items, not those
  asked of the other. An older entry names none and is read by the partner's kind.
- The landlord's measure in a ``case-event`` entry (``event``, ``occurredOn``) is read only
  by the partners the case summary shows the event to (a role receiving its category, the
  lead when it was recorded; the recorder is a party, review4 F5). Any other reader does not
  find the entry at all (review13 F4): every covenant event is a landlord's measure, so the
  entry's being there tells that one was taken, and its moment the day; the case's
  retention withholds both from such a reader. Read without the measure
  (:meth:`LogReader.shown`) only if it reached a reader by another way than the conditions.
- The retention sweep's ``retention-redaction`` entry of an erased case (its rule, due date
  and, by its moment, the erasure's day) is found only by the officers of the partners it
  names (:func:`erasure_readers`, written since 7 December 2026): those the case's retention
  tells the rule and its dates (gateway/retention/sanctions.py ``officers_told``), or every
  officer where they are withheld from none. An entry written before names none: found by
  the operator alone (unknown is not no; docs/retention.md, residual (c)).
- A refusal's reason that tells how the OM consent fails is read as told only by the
  partners told it (requester, recipient) and the police; any other reader reads
  ``om-consent-condition-not-met`` (review3 finding 1).

The covenant's coordinating privacy officer reads every entry whole but for that reason; the
operator (the export for auditors) reads every entry whole.

An entry shown with anything hidden or rewritten is shown without its ``salt``
(:data:`audit.entry.SALT_FIELD`): the reader may hold the entry's leaf hash (a receipt, a
neighbour in an inclusion proof), and with the salt it could hash each candidate for the
hidden part (three reasons, a few categories) and recognise the stored one. Without it the
leaf hash tells nothing. A data owner that is no party never reads the salt, whether or not
anything of the entry is hidden from it (its presence would tell that nothing is); a reason
rewritten is visible as such (``om-consent-condition-not-met`` is never the policy's own),
so the coordinating officer reads the salt of every entry whose reasons it reads as told.
Readers who read an entry whole with its salt (its parties, the police's officer, the
operator) recompute its leaf hash and check it against their receipt. Entries written before
salts have none: their hidden parts can still be confirmed this way (docs/audit.md).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, false, func, or_, true

from audit.entry import (
    CONSENT_CHANGE,
    DISCLOSURE,
    INVESTIGATION_STATUS,
    RETENTION_REDACTION,
    SALT_FIELD,
    is_slug,
)
from gateway.audit.models import AuditRecord
from gateway.auth.principal import Principal
from gateway.policy.compiler import OM_CONDITION_UNMET, tells_investigation
from gateway.policy.covenant import Covenant, Partner

#: Entries of the exchange (requests, answers, reads): where categories are disclosed or
#: refused. Other activities (a transition, a team change) disclose nothing.
EXCHANGE_ACTIVITIES = ("information-request", "information-answer", "disclosure", "denial")

#: How the canonical JSON of an entry (sorted keys, no spaces) spells a non-empty list of
#: refused categories: each refusal is an object and ``category`` is its first key.
_REFUSED = '%"redacted":[{"category":%'

#: The attributes a data owner that is not a party reads: the request it was asked in. The
#: others count every addressed partner's items (``asked``, ``denied``, ``awaiting-answer``,
#: ``not-available``); an attribute not listed here is not shown (unknown is not no).
OWNER_ATTRIBUTES: Final = frozenset({"request-id"})

#: The landlord's case events (gateway/cases/events.py ``CASE_EVENT``) and the attributes
#: of their entries that tell the measure (which one, and when): read as told only by the
#: readers the case summary shows the event to (:meth:`LogReader._reads_measure`).
CASE_EVENT: Final = "case-event"
MEASURE_ATTRIBUTES: Final = frozenset({"event", "occurredOn"})

#: The attributes of the retention sweep's entry of an erased case (``RETENTION_REDACTION``)
#: that say which officers find it (:func:`erasure_readers`): ``readers`` is
#: ``all`` (the case's retention withholds its rule and dates from no reader) or ``named``,
#: and then each partner whose officer finds it has a ``reader:<partner>`` attribute.
ERASURE_READERS: Final = "readers"
ERASURE_READERS_ALL: Final = "all"
ERASURE_READERS_NAMED: Final = "named"
ERASURE_READER: Final = "reader:"
#: What an officer who does not find such an entry would read in it that the retention views
#: withhold from it: the rule and its due date (the moment, the erasure's day, is the
#: entry's own, so it is not found at all; :meth:`LogReader.shown` strips these should it
#: reach such a reader some other way).
ERASURE_ATTRIBUTES: Final = frozenset({"rule", "due-on"})


def erasure_readers(readers: Collection[str] | None) -> dict[str, str | bool]:
    """The attributes of a ``retention-redaction`` entry that say who finds it: every officer
    (``readers`` None), or the officers of the partners in ``readers`` (none: the operator
    alone). A partner whose id does not make an attribute key (a slug) is left out: its
    officer does not find the entry (fail closed)."""
    if readers is None:
        return {ERASURE_READERS: ERASURE_READERS_ALL}
    named: dict[str, str | bool] = {ERASURE_READERS: ERASURE_READERS_NAMED}
    for partner in sorted(readers):
        if is_slug(ERASURE_READER + partner):
            named[ERASURE_READER + partner] = True
    return named


def partner_condition(partner_id: str) -> ColumnElement[bool]:
    """Entries ``partner_id`` is accountable for: it asked (requester), received (recipient)
    or its data was disclosed (a data owner; stored space-delimited, `` a b ``)."""
    return or_(
        AuditRecord.requester_partner == partner_id,
        AuditRecord.recipient_partner == partner_id,
        AuditRecord.data_owners.contains(f" {partner_id} "),
    )


def party_condition(partner_id: str) -> ColumnElement[bool]:
    """Entries ``partner_id`` asked or received (never NULL, so it can be negated)."""
    return or_(
        func.coalesce(AuditRecord.requester_partner, "") == partner_id,
        func.coalesce(AuditRecord.recipient_partner, "") == partner_id,
    )


#: A legal hold set or lifted (gateway/retention/service.py ``_hold_entry``).
LEGAL_HOLD_ACTIVITIES = ("legal-hold-set", "legal-hold-lifted")


def investigation_condition(police: Collection[str]) -> ColumnElement[bool]:
    """The police's entries about an investigation (U §5.3): the status changed, or a
    consent recorded or withdrawn by the police, who can record only the OM's (so the actor
    alone says "the OM consented": an investigation runs), or a legal hold the police set or
    lifted (their hold keeps a dossier for a criminal procedure: the actor alone says as
    much; the hold's setter is told to its own partner only, review5 F2). The operator's
    lift of a hold (``ketenpoort retention lift-hold``) names the hold's setter as its
    recipient: a lift of the police's hold is theirs too, as its being the only lift entry
    whose setting nobody else found would tell whose hold it was."""
    names = sorted(police)
    by_police = func.coalesce(AuditRecord.requester_partner, "").in_(names)
    for_police = func.coalesce(AuditRecord.recipient_partner, "").in_(names)
    return or_(
        AuditRecord.activity == INVESTIGATION_STATUS,
        and_(AuditRecord.activity == CONSENT_CHANGE, by_police),
        and_(AuditRecord.activity.in_(LEGAL_HOLD_ACTIVITIES), or_(by_police, for_police)),
    )


def refusal_condition() -> ColumnElement[bool]:
    """Exchange entries that refused at least one category (as stored): a category withheld
    by a decision when the request was made, the answer delivered or the answers read (a
    read that disclosed some and refused others among them: "partially disclosed"). Searched
    in the stored body, which verification covers, so the search needs no copied column."""
    return AuditRecord.activity.in_(EXCHANGE_ACTIVITIES) & AuditRecord.body.like(_REFUSED)


#: The top-level field of an entry that names each category's partner
#: (:class:`audit.entry.OwnerCategory`); absent in entries written before it.
OWNER_CATEGORIES: Final = "ownerCategories"


def _names_owners() -> ColumnElement[bool]:
    """Entries that name each category's partner (canonical JSON: the key, quoted, then a
    colon; a string value holding it would be escaped, ``\\"ownerCategories\\":``)."""
    return AuditRecord.body.contains(f'"{OWNER_CATEGORIES}":[', autoescape=True)


def _owner_category(partner_id: str, category: str) -> ColumnElement[bool]:
    """Entries naming ``category`` as concerning ``partner_id`` (canonical JSON of an
    :class:`audit.entry.OwnerCategory`: ``{"category":...,"partnerId":...}``, keys sorted)."""
    spelled = (
        '{"category":'
        + json.dumps(category, ensure_ascii=False)
        + ',"partnerId":'
        + json.dumps(partner_id, ensure_ascii=False)
        + "}"
    )
    return AuditRecord.body.contains(spelled, autoescape=True)


def _refused_category(category: str) -> ColumnElement[bool]:
    """Entries whose ``redacted`` list names ``category`` (canonical JSON: a refusal is
    ``{"category":...,"reason":...}``, keys sorted; no other object of an entry has both)."""
    spelled = '{"category":' + json.dumps(category, ensure_ascii=False) + ',"reason":'
    return AuditRecord.body.contains(spelled, autoescape=True)


def _attribute(key: str, value: str) -> ColumnElement[bool]:
    """Entries whose attributes hold ``key`` with the string ``value`` (canonical JSON:
    ``"key":"value"``; a string holding it would be escaped, ``\\"key\\":``). Only for keys
    no other part of an entry has (``event``, ``phase``, ``lead``: audit.entry)."""
    spelled = json.dumps(key, ensure_ascii=False) + ":" + json.dumps(value, ensure_ascii=False)
    return AuditRecord.body.contains(spelled, autoescape=True)


def _flag(key: str) -> ColumnElement[bool]:
    """Entries whose attributes hold ``key`` with the value ``true`` (canonical JSON:
    ``"key":true``; a string holding it would be escaped)."""
    return AuditRecord.body.contains(json.dumps(key, ensure_ascii=False) + ":true", autoescape=True)


def _measure_condition(pairs: Collection[tuple[str, str]]) -> ColumnElement[bool]:
    """``case-event`` entries recording one of the (event, phase) ``pairs``: the event in
    that phase (:meth:`LogReader._reads_measure` in SQL). No pairs: no entry; an entry without
    a ``phase`` matches none (unknown is not no)."""
    phases: dict[str, set[str]] = {}
    for event, phase in pairs:
        phases.setdefault(event, set()).add(phase)
    return or_(
        false(),
        *(
            and_(
                _attribute("event", event),
                or_(*(_attribute("phase", phase) for phase in sorted(phases[event]))),
            )
            for event in sorted(phases)
        ),
    )


def _measures(
    covenant: Covenant, partner: Partner | None, *, relation: str | None
) -> frozenset[tuple[str, str]]:
    """The (case event, phase) pairs a clause of the event's category names a role of
    ``partner`` in, with ``relation`` (None: none): whose measure its officer reads."""
    if partner is None:
        return frozenset()
    return frozenset(
        (event.id, phase.id)
        for event in covenant.events
        for phase in covenant.phases
        if any(
            r.role in partner.roles and r.relation == relation
            for r in covenant.category_recipients(event.category, phase.id)
        )
    )


@dataclass(frozen=True)
class LogReader:
    """Who reads the log through a report: a privacy officer (or a case page's user) of one
    partner in one covenant, or the operator's own export of the whole log."""

    covenant_id: str
    #: The reader's partner; None only for the operator's export (the log as stored).
    partner_id: str | None
    #: The covenant's coordinating privacy officer: every partner's entries, whole.
    covenant_wide: bool
    #: The covenant's police (the partners of the kinds owning its criminal-law categories,
    #: from the covenant file): they know whether an investigation runs.
    police: frozenset[str]
    #: The categories the reader's partner kind owns (``categories[].owner``) and the
    #: clauses governing them: what an entry shows a reader that is only its data owner.
    own_categories: frozenset[str] = frozenset()
    own_clauses: frozenset[str] = frozenset()
    #: Each of the covenant's clauses and the categories it governs: which clauses of an
    #: entry govern the categories it names for the reader (``ownerCategories``).
    clause_categories: tuple[tuple[str, frozenset[str]], ...] = ()
    #: The (case event, phase) pairs whose measure the reader reads in a ``case-event``
    #: entry it is no party to: a clause of the event's category names a role of its
    #: partner in that phase (``Covenant.category_recipients``, the summary's rule) without
    #: a relation; ``lead_measures`` those it names bound to the case lead.
    measures: frozenset[tuple[str, str]] = frozenset()
    lead_measures: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, covenant: Covenant, partner_id: str, *, covenant_wide: bool) -> LogReader:
        partner = covenant.partner(partner_id)
        owned = frozenset(
            c.id for c in covenant.categories if partner is not None and c.owner == partner.kind
        )
        return cls(
            covenant_id=covenant.id,
            partner_id=partner_id,
            covenant_wide=covenant_wide,
            police=covenant.criminal_data_partners(),
            own_categories=owned,
            own_clauses=frozenset(c.id for c in covenant.clauses if owned & set(c.categories)),
            clause_categories=tuple((c.id, frozenset(c.categories)) for c in covenant.clauses),
            measures=_measures(covenant, partner, relation=None),
            lead_measures=_measures(covenant, partner, relation="case-lead"),
        )

    @classmethod
    def officer(cls, covenant: Covenant, principal: Principal) -> LogReader:
        """``principal`` (of ``covenant``) as the API and the pages scope it."""
        return cls.of(covenant, principal.partner_id, covenant_wide=principal.grant.covenant_wide)

    @classmethod
    def operator(cls, covenant: Covenant) -> LogReader:
        """The operator's export of the covenant's whole log, as stored (it holds the
        database): every entry, every reason."""
        return cls(covenant.id, None, covenant_wide=True, police=covenant.criminal_data_partners())

    @property
    def accountable(self) -> str | None:
        """The partner whose entries this reader sees, None for the whole covenant."""
        return None if self.covenant_wide else self.partner_id

    # --- which entries --------------------------------------------------------------------

    def conditions(self) -> list[ColumnElement[bool]]:
        """The entries this reader finds: its covenant's, those its partner is accountable
        for, of the police's entries about an investigation only its partner's own, and of
        the landlord's ``case-event`` entries only those it is a party to or whose measure it
        reads (:meth:`measure_condition`), and of the retention sweep's entries only those
        naming it (:meth:`erasure_condition`)."""
        found: list[ColumnElement[bool]] = [AuditRecord.covenant_id == self.covenant_id]
        if self.accountable is not None:
            found.append(partner_condition(self.accountable))
        if self.partner_id is not None:
            found.append(
                or_(
                    AuditRecord.activity != CASE_EVENT,
                    party_condition(self.partner_id),
                    self.measure_condition(),
                )
            )
            found.append(or_(AuditRecord.activity != RETENTION_REDACTION, self.erasure_condition()))
            found.append(
                or_(
                    ~investigation_condition(self.police),
                    AuditRecord.requester_partner == self.partner_id,
                    # The operator's lift of the partner's own hold (its recipient).
                    and_(
                        AuditRecord.activity.in_(LEGAL_HOLD_ACTIVITIES),
                        AuditRecord.recipient_partner == self.partner_id,
                    ),
                )
            )
        return found

    def measure_condition(self) -> ColumnElement[bool]:
        """``case-event`` entries whose measure the reader reads (:meth:`_reads_measure`, the
        same rule in SQL so that pages and counts agree with what is shown): the event in a
        phase of :attr:`measures`, or of :attr:`lead_measures` with the entry's ``lead`` its
        partner. An entry whose measure it may not read is not found at all (review13 F4):
        every covenant event is a landlord's measure, so the entry's being there says that
        the landlord took one, and its moment is the measure's day (or the day it was
        recorded), which the case's retention withholds from the same reader
        (gateway/retention/sanctions.py ``sanctions_hidden``)."""
        if self.partner_id is None:
            return true()
        return or_(
            _measure_condition(self.measures),
            and_(
                _attribute("lead", self.partner_id),
                _measure_condition(self.lead_measures),
            ),
        )

    def erasure_condition(self) -> ColumnElement[bool]:
        """``retention-redaction`` entries the reader finds (:func:`erasure_readers`): those
        for every officer, and those naming its partner. The entry tells the case's rule,
        its due date and, by its moment, the day of the erasure; the case's state and its
        410 withhold them from an officer who could not be shown the landlord's measures in
        it (gateway/retention/sanctions.py ``erased_withheld``), so such an officer does not
        find the entry at all: its moment cannot be withheld from a search by time. An entry
        naming no readers (written before they were recorded) is the operator's alone."""
        if self.partner_id is None:
            return true()
        return or_(
            _attribute(ERASURE_READERS, ERASURE_READERS_ALL),
            _flag(ERASURE_READER + self.partner_id),
        )

    def clause_condition(self, clause_id: str) -> ColumnElement[bool]:
        """Entries that read as citing ``clause_id``: a clause not governing the reader's
        own categories only where its partner is a party (as a data owner it does not read
        that clause, so the search must not find the entry by it either)."""
        cited = AuditRecord.clause_ids.contains(f" {clause_id} ")
        if self.accountable is None:
            return cited
        governed = dict(self.clause_categories).get(clause_id, frozenset()) & self.own_categories
        # An entry that names each category's partner: only a category it names for the
        # reader; an older one: any category of the reader's kind.
        as_owner = or_(
            ~_names_owners() if clause_id in self.own_clauses else false(),
            *(_owner_category(self.accountable, c) for c in sorted(governed)),
        )
        return and_(cited, or_(party_condition(self.accountable), as_owner))

    def refusal_condition(self) -> ColumnElement[bool]:
        """Exchange entries that read as refusing a category: as a data owner only, one of
        its own categories must be among the refused."""
        refused = refusal_condition()
        if self.accountable is None:
            return refused
        return and_(refused, or_(party_condition(self.accountable), self._own_refused()))

    def disclosure_or_refusal_condition(self) -> ColumnElement[bool]:
        """Entries that read as disclosing something to a recipient or refusing something."""
        return or_(AuditRecord.activity == DISCLOSURE, self.refusal_condition())

    def outcome_condition(self, outcome: str) -> ColumnElement[bool]:
        """Entries that read with ``outcome``: a read's entry as a data owner reads it is
        ``partially-disclosed`` only if one of its own categories was refused
        (:meth:`shown`)."""
        stored = AuditRecord.outcome == outcome
        if self.accountable is None:
            return stored
        as_owner = and_(AuditRecord.activity == DISCLOSURE, ~party_condition(self.accountable))
        read_as = {
            "disclosed": ~self._own_refused(),
            "partially-disclosed": self._own_refused(),
        }.get(outcome, false())
        return or_(and_(~as_owner, stored), and_(as_owner, read_as))

    def _own_refused(self) -> ColumnElement[bool]:
        """Entries that refused a category the reader reads as its own: one the entry names
        for it (``ownerCategories``), or, in an entry naming no partners, one of its kind's."""
        if self.accountable is None:
            return false()
        return or_(
            false(),
            *(
                and_(
                    _refused_category(c),
                    or_(~_names_owners(), _owner_category(self.accountable, c)),
                )
                for c in sorted(self.own_categories)
            ),
        )

    # --- what of an entry -----------------------------------------------------------------

    def shown(self, entry: dict[str, Any]) -> dict[str, Any]:
        """``entry`` (a stored body) as this reader reads it. A party (requester, recipient)
        reads it whole; a data owner that is no party as it concerns its own data
        (:meth:`_as_data_owner`); and a refusal's reason that tells how the OM consent fails
        reads ``om-consent-condition-not-met`` for every reader not told it but the police
        (the coordinating officer too). Either way without the salt (module docstring)."""
        if self.partner_id is None:
            return entry
        parties = {
            (entry.get(party) or {}).get("partnerId") for party in ("requester", "recipient")
        }
        if self.partner_id in parties:
            return entry
        if entry.get("activity") == CASE_EVENT and not self._reads_measure(entry):
            entry = self._without_measure(entry)
        if entry.get("activity") == RETENTION_REDACTION and not self._reads_erasure(entry):
            entry = self._without_rule(entry)
        if not self.covenant_wide:
            entry = self._as_data_owner(entry)
        return self._om_reasons(entry)

    def _reads_measure(self, entry: dict[str, Any]) -> bool:
        """Whether the reader reads which measure a ``case-event`` entry records, as the case
        summary shows ``events`` (one rule, ``Covenant.category_recipients``; docs/cases.md,
        review4 F5, review9a F2): to the partners a role of which a clause of the event's
        category names in the phase the case was in when it was recorded (``phase``), a
        clause binding it to the lead only where the partner then led the case (``lead``).
        An entry written before the phase was recorded names none, and an unknown phase
        (or lead) grants nothing (unknown is not no); the recorder is the entry's requester
        (a party)."""
        attributes = entry.get("attributes") or {}
        measure = (attributes.get("event"), attributes.get("phase"))
        return measure in self.measures or (
            attributes.get("lead") == self.partner_id and measure in self.lead_measures
        )

    def _reads_erasure(self, entry: dict[str, Any]) -> bool:
        """Whether the reader reads a ``retention-redaction`` entry's rule and due date
        (:meth:`erasure_condition` in Python)."""
        attributes = entry.get("attributes") or {}
        return (
            attributes.get(ERASURE_READERS) == ERASURE_READERS_ALL
            or attributes.get(ERASURE_READER + str(self.partner_id)) is True
        )

    @staticmethod
    def _without_rule(entry: dict[str, Any]) -> dict[str, Any]:
        """A ``retention-redaction`` entry without its rule (the attribute and the clause it
        cites), its due date and its salt; only if it reached a reader some other way than
        the conditions, which leave it out."""
        shown = {key: value for key, value in entry.items() if key != SALT_FIELD}
        shown["attributes"] = {
            k: v for k, v in (entry.get("attributes") or {}).items() if k not in ERASURE_ATTRIBUTES
        }
        if "processing" in entry:
            shown["processing"] = {**(entry["processing"] or {}), "clauseIds": []}
        return shown

    @staticmethod
    def _without_measure(entry: dict[str, Any]) -> dict[str, Any]:
        """A ``case-event`` entry without the measure (and so without its salt: four
        measures are easily hashed against its leaf)."""
        shown = {key: value for key, value in entry.items() if key != SALT_FIELD}
        shown["attributes"] = {
            k: v for k, v in (entry.get("attributes") or {}).items() if k not in MEASURE_ATTRIBUTES
        }
        return shown

    def _as_data_owner(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry as it concerns the reader's own data: its own categories disclosed or
        refused, the clauses governing them, itself as data owner, the request's id but no
        counts (they count the other partners' items too), and a read's outcome from its
        own categories (``partially-disclosed`` only if one of its own was refused)."""
        own, own_clauses = self.own_categories, self.own_clauses
        shown = {key: value for key, value in entry.items() if key != SALT_FIELD}
        if OWNER_CATEGORIES in entry:
            # Written since entries name each category's partner: what was asked of the
            # reader's partner, or disclosed or refused of its items, not of another partner
            # of its kind (each owns the same categories).
            mine = [
                item
                for item in entry[OWNER_CATEGORIES] or []
                if item.get("partnerId") == self.accountable
            ]
            shown[OWNER_CATEGORIES] = mine
            own = frozenset(str(item.get("category")) for item in mine)
            own_clauses = frozenset(
                clause for clause, governed in self.clause_categories if governed & own
            )
        if "processing" in entry:
            processing = entry["processing"] or {}
            shown["processing"] = {
                **processing,
                "clauseIds": [c for c in processing.get("clauseIds") or [] if c in own_clauses],
            }
        if "dataOwners" in entry:
            shown["dataOwners"] = [p for p in entry["dataOwners"] or [] if p == self.accountable]
        if "disclosed" in entry:
            shown["disclosed"] = [c for c in entry["disclosed"] or [] if c in own]
        if "redacted" in entry:
            shown["redacted"] = [r for r in entry["redacted"] or [] if r.get("category") in own]
        if "attributes" in entry:
            shown["attributes"] = {
                k: v for k, v in (entry["attributes"] or {}).items() if k in OWNER_ATTRIBUTES
            }
        if entry.get("activity") == DISCLOSURE:
            shown["outcome"] = "partially-disclosed" if shown.get("redacted") else "disclosed"
        return shown

    def _om_reasons(self, entry: dict[str, Any]) -> dict[str, Any]:
        """``entry`` with each reason that tells how the OM consent fails rewritten, and then
        without its salt; unchanged if there is none (or the reader is the police's)."""
        redacted = entry.get("redacted")
        if (
            not redacted
            or self.partner_id in self.police
            or not any(tells_investigation(str(r["reason"])) for r in redacted)
        ):
            return entry
        shown = {key: value for key, value in entry.items() if key != SALT_FIELD}
        shown["redacted"] = [
            {**r, "reason": OM_CONDITION_UNMET} if tells_investigation(str(r["reason"])) else r
            for r in redacted
        ]
        return shown
