"""Which of a case summary's sensitive facts a reader sees.

The summary (``GET /v1/cases/{caseId}``, the page ``/zaken/{caseId}``) is read by every
partner in the case's team without a policy decision, so it may only carry what the whole
team may know. Four facts are not of that kind; they are shown to whoever the sources make
them the business of, and withheld (``withheld`` in the summary says which) from the rest:

- **Whether a police investigation runs** about the causer: criminal-law information of the
  police (AVG art. 10). U §5.3 lets the police share it only as a condition on one item, the
  nuisance antecedents ("Indien er een onderzoek loopt kan dit alleen met toestemming van
  het openbaar ministerie"), and only with the case manager. So it is seen by the partner
  that holds the covenant's criminal-law data (the police, who record it) and by the case
  lead, who asks for the antecedents and must know whether an OM consent is needed first:
  only a lead whose role a clause conditioned on it (``om-consent-if-investigation``) names
  as a recipient, the case manager in Utrecht. A covenant without such a clause gives it to
  no lead (in Rijswijk a housing corporation can lead a case about its own tenant; review3,
  finding 2), and the police do not record it there (gateway/cases/changes.py).
  **The OM's consents** go with it: the OM is asked only "indien er een onderzoek loopt",
  so an OM consent on file (its scope and expiry too) says that an investigation runs or
  ran. They are left out of ``consents`` for the others (review2, finding 2).
- **The OGGZ check** (target group, referred): "De casemanager toetst of de overlastgever
  tot de OGGZ-doelgroep behoort en meldt indien nodig de cliënt aan bij Altrecht" (U §5.1):
  public mental health, health data (AVG art. 9); the case lead's own assessment.
- **Whether pollution of the dwelling is part of the nuisance** (``dwellingPollution``, U
  §5.4): the case lead records it, and the hygiene advice of Volksgezondheid (health data)
  depends on it (U-5.4-volksgezondheid); pollution or hoarding tells of the causer's
  condition, so it is the lead's assessment too.
- **Which of the U §2 criteria hold**: criterion 4 is "psychiatrische problematiek,
  verslaving, onaangepast gedrag, criminaliteit"; U Centraal tests the report against them
  (U §5.1 "Toetsing van de aanmelding aan de criteria"), so each criterion is the lead's;
  the others see only how many hold (what the workflow's guard needs, U §2 "tenminste twee").
  The criteria recorded are withheld too, not only their answers: a lead that records just
  the criteria that hold would otherwise tell which they are.
- **The case events** (``events``): the landlord's further measures under tenancy law
  (U §5.2: behavioural order, eviction procedure, last chance, care contract; R Bijlage F),
  which the covenants give as a category to few, and in some phases only: "huurrechtelijke
  maatregelen" to the case manager (U-6-corporatie), "Meldingen en huurrechtelijke
  maatregelen van de corporatie" to the case manager and the wijkagent from the weighing to
  the eviction (R-A-corporatie-meldingen; R §3.4 "Tot de fase van complexe overlast ...
  blijft eenieder dus verantwoordelijk voor zijn eigen dossier"). Each event names its
  category in the covenant file (``events[].category``), and is shown by the rule the policy
  grants that category with (review9a F2): a clause giving the category names the reader's
  role (a back-office system: a role of its partner) with its relation to the case holding,
  AND lists the case's current phase (``Covenant.category_recipients``; a closed case is in
  no clause's phases: "Case closed; no further sharing."). The lead is no reader by leading
  (in Rijswijk the GGD or the fire brigade can lead a case, and R Bijlage A gives them no
  corporation's reports); it reads them as a recipient, like anyone else. The partner that
  recorded an event always reads it (its own record, which its adapter reads so as not to
  record it twice). The purpose and the clause's other conditions (the team, the
  corporation's permission) are not checked: the reader is in the team, and the measure is
  the landlord's own record in the gateway. Review4 F5, review9a F2.
- **The reports awaiting the lead's decision** (``pendingReports``, and the
  ``reporter-decision`` entries in ``deadlines``): which partner outside the team reported
  about the dwelling. A report from the youth-and-family team, the GGD or the Sociaal
  Wijkteam tells that the household is known to social care, which the covenants give to
  the case manager only (U §5.6 "meldt de casemanager ... of een overlastveroorzaker ...
  bij het buurtteam bekend is"; R-A-ggd-acties, R-A-wijkteam-acties to the case lead), and
  whether the reporter becomes involved at all is the lead's decision (U §5.1 "De
  casemanager voert de regie"; U §6). So they are shown to the lead's casework roles (who
  decide) and its back-office system only, as ``GET /v1/deadlines`` and the inbox keep
  them for the lead. Review9a F1.

Who is who comes from the covenant file: the police are the partner kinds that own its
criminal-law categories (``categories[].special: criminal``), the lead is the case's
``case-lead`` relation, the roles that may read the investigation are the recipients of the
clauses the policy compiles with the OM condition, and an ``audit`` role (the privacy
officer, "never receives case data") sees none of them, not even for the lead, the police
or the recorder; it keeps the rest of the summary it audits with (team, consents but the
OM's, history, deadlines but the lead's reporter decisions, ``erased``). A recipient of an
event's category bound to a relation counts where the summary knows the relation (the
lead, the dwelling's landlord); one bound to ``event-recorder`` does not (fail closed; no
clause of an event's category binds one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from gateway.auth.principal import Principal
from gateway.cases.consents import OM_CONSENT, ConsentRecord
from gateway.cases.models import CaseEventRecord, CaseFile
from gateway.cases.runtime import CaseRuntime
from gateway.policy.compiler import OM_CONDITION
from gateway.policy.covenant import Covenant, Recipient, lead_checkable_roles

#: The summary's fields that are withheld from a reader who may not see them (camelCase,
#: as on the wire), in the order ``withheld`` lists them. ``omConsents``: the consents of kind
#: ``om-consent`` in ``consents``, always listed for a reader who does not see them (listed
#: only when one is on file, the name would tell what it withholds).
INVESTIGATION_FIELDS = ("investigationRunning", "omConsents")
ASSESSMENT_FIELDS = ("criteria", "oggzTargetGroup", "oggzReferred", "dwellingPollution")
#: ``events``: listed for a reader that does not see every event of the covenant, whether or
#: not one is on file (the name would otherwise tell that the landlord recorded a measure).
EVENT_FIELDS = ("events",)
#: ``pendingReports``: listed for every reader but the lead's casework and system roles,
#: whether or not a report awaits (the reporter-decision deadlines go with it).
PENDING_FIELDS = ("pendingReports",)

#: The clause condition on the lead's pollution fact (gateway/policy/covenant.py).
POLLUTION_CONDITION = "dwelling-pollution"

Consent = TypeVar("Consent", bound=ConsentRecord)
Event = TypeVar("Event", bound=CaseEventRecord)


@dataclass(frozen=True)
class SummaryReader:
    """What one reader of one case's summary sees of its sensitive facts."""

    #: Whether a police investigation runs (U §5.3).
    investigation: bool
    #: The lead's assessment: each criterion of U §2, the OGGZ check (U §5.1) and whether
    #: pollution of the dwelling is part of the nuisance (U §5.4).
    assessment: bool
    #: The case events (their ids) this reader sees whoever recorded them: in the case's
    #: current phase, by the clauses of their category.
    event_kinds: frozenset[str] = frozenset()
    #: Whether ``event_kinds`` are all the covenant's events.
    every_event: bool = False
    #: Whether the reports awaiting the lead's decision on their reporter are shown (the
    #: lead's casework and system roles).
    pending_reports: bool = False
    #: The reader's partner, which sees the events it recorded itself; None for an audit role.
    recorder: str | None = None

    def consents(self, consents: Sequence[Consent]) -> list[Consent]:
        """The consents this reader is shown: the OM's only with the investigation."""
        return [c for c in consents if self.investigation or c.kind != OM_CONSENT]

    def events(self, events: Sequence[Event]) -> list[Event]:
        """The case events this reader is shown: of its categories, and its partner's own."""
        return [e for e in events if e.kind in self.event_kinds or e.partner_id == self.recorder]

    @property
    def withheld(self) -> list[str]:
        return [
            *([] if self.investigation else INVESTIGATION_FIELDS),
            *([] if self.assessment else ASSESSMENT_FIELDS),
            *([] if self.every_event else EVENT_FIELDS),
            *([] if self.pending_reports else PENDING_FIELDS),
        ]


def criminal_data_holders(runtime: CaseRuntime, covenant_id: str) -> frozenset[str]:
    """The partner kinds that own the covenant's criminal-law categories (the police); none
    for a covenant the gateway has not loaded (fail closed)."""
    covenant = runtime.covenants.get(covenant_id)
    if covenant is None:
        return frozenset()
    return covenant.criminal_data_holders()


def investigation_readers(covenant: Covenant | None) -> frozenset[str]:
    """The roles a clause conditioned on the police investigation (``om-consent-if-
    investigation``: the OM's consent while one runs, U §5.3) names as recipients: those that
    ask for what the investigation holds back, so their lead must know whether it runs. A
    recipient bound to a relation counts only when that relation is the lead's own
    (``case-lead``): the summary cannot check another relation here, so it fails closed. None
    for a covenant without such a clause, or one the gateway has not loaded."""
    if covenant is None:
        return frozenset()
    return lead_checkable_roles(c for c in covenant.clauses if OM_CONDITION in c.condition_names)


def _reads(principal: Principal, covenant: Covenant, roles: frozenset[str]) -> bool:
    """The principal's role is one of ``roles``; its partner's back-office system (a
    ``system`` role, which exchanges on the partner's behalf) when one of the partner's is."""
    return not roles.isdisjoint(_reader_roles(principal, covenant))


def _reader_roles(principal: Principal, covenant: Covenant) -> frozenset[str]:
    """The roles a clause must name for ``principal`` to read: its own; for a back-office
    system (a ``system`` role) its partner's."""
    if not principal.grant.system:
        return frozenset({principal.role})
    partner = covenant.partner(principal.partner_id)
    return frozenset(partner.roles) if partner is not None else frozenset()


def _related(recipient: Recipient, partner_id: str, *, lead: str, landlord: str | None) -> bool:
    """Whether ``partner_id`` has the recipient's relation to the case, as authz.rego decides
    ``case-lead`` and ``dwelling-landlord``; ``event-recorder`` (and any relation this does
    not know, or a landlord not known) is not held: fail closed."""
    if recipient.relation is None:
        return True
    if recipient.relation == "case-lead":
        return partner_id == lead
    if recipient.relation == "dwelling-landlord":
        return landlord is not None and partner_id == landlord
    return False


def _event_kinds(
    covenant: Covenant | None,
    principal: Principal,
    *,
    phase: str,
    lead: str,
    landlord: str | None,
    roles: frozenset[str] | None = None,
) -> frozenset[str]:
    """The case events ``principal`` sees whoever recorded them: those of a category a clause
    gives its role in ``phase``, its relation holding (``Covenant.category_recipients``, the
    policy's rule; review9a F2); none in a covenant the gateway has not loaded. ``roles``:
    the roles to read as (None: the principal's, ``_reader_roles``)."""
    if covenant is None:
        return frozenset()
    roles = _reader_roles(principal, covenant) if roles is None else roles
    return frozenset(
        event.id
        for event in covenant.events
        if any(
            recipient.role in roles
            and _related(recipient, principal.partner_id, lead=lead, landlord=landlord)
            for recipient in covenant.category_recipients(event.category, phase)
        )
    )


def covenant_reads_investigation(runtime: CaseRuntime, covenant_id: str) -> bool:
    """Whether any clause of the covenant depends on a police investigation running."""
    return bool(investigation_readers(runtime.covenants.get(covenant_id)))


def covenant_reads_pollution(runtime: CaseRuntime, covenant_id: str) -> bool:
    """Whether any clause of the covenant depends on pollution of the dwelling (U §5.4)."""
    covenant = runtime.covenants.get(covenant_id)
    return covenant is not None and any(
        POLLUTION_CONDITION in c.condition_names for c in covenant.clauses
    )


def _lead_reads_investigation(covenant: Covenant | None, principal: Principal) -> bool:
    """The lead's role is one the investigation is for (its back-office system's when one of
    the partner's roles is)."""
    if covenant is None:
        return False
    return _reads(principal, covenant, investigation_readers(covenant))


def summary_reader(
    runtime: CaseRuntime, case: CaseFile, principal: Principal, *, landlord: str | None = None
) -> SummaryReader:
    """What ``principal`` (already allowed to see ``case``) sees of its sensitive facts: the
    partner's casework and system roles (its people and its back-office system) alike, an
    audit role nothing. ``landlord``: the dwelling's landlord (a corporation), when the
    caller knows it; unknown, a clause binding a recipient to it grants nothing here."""
    if principal.grant.audits:
        return SummaryReader(investigation=False, assessment=False)
    covenant = runtime.covenants.get(case.covenant_id)
    lead = principal.partner_id == case.lead_partner_id
    police = principal.partner_kind in criminal_data_holders(runtime, case.covenant_id)
    asks = lead and _lead_reads_investigation(covenant, principal)
    kinds = _event_kinds(
        covenant, principal, phase=case.state, lead=case.lead_partner_id, landlord=landlord
    )
    return SummaryReader(
        investigation=police or asks,
        assessment=lead,
        event_kinds=kinds,
        every_event=covenant is not None and kinds == {e.id for e in covenant.events},
        pending_reports=lead and (principal.grant.casework or principal.grant.system),
        recorder=principal.partner_id,
    )


def events_shown_in(
    covenant: Covenant | None,
    principal: Principal,
    *,
    phase: str,
    lead: str,
    landlord: str | None,
) -> frozenset[str]:
    """The case events the summary shows ``principal`` whoever recorded them while a case of
    ``covenant`` led by ``lead`` is in ``phase``: the summary's own rule for another phase
    than the current one (the retention state asks whether a reader was ever shown a
    measure; gateway/retention/sanctions.py). An audit role (the privacy officer), which
    reads no summary, as its partner's roles: what its partner was shown, as the audit log
    tells its officer the measure (gateway/audit/readers.py ``LogReader._reads_measure``;
    review10 F1).
    ``covenant`` None (not loaded): nothing is shown."""
    partner = covenant.partner(principal.partner_id) if covenant is not None else None
    return _event_kinds(
        covenant,
        principal,
        phase=phase,
        lead=lead,
        landlord=landlord,
        roles=(frozenset(partner.roles) if partner else frozenset())
        if principal.grant.audits
        else None,
    )
