# The decision over a compiled covenant (data.ketenpoort.covenants, built from
# policies/<covenant-id>/covenant.yaml by `ketenpoort policy build`). Generic: no covenant-specific
# names appear here; every clause, category, purpose and phase comes from the data.
#
# Input (gateway/policy/schemas.py, PolicyInput): requester {partner, role, user},
# case {id, covenant, phase, team, lead, dwelling {ownership, corporation},
# policeInvestigation (true, false, or null: nobody recorded it), events [{kind, partner}],
# dwellingPollution (true, false, or null: nobody recorded it)},
# categories, purpose, consents [{kind, case, partner, categories, grantedAt, expiresAt}]
# (only each entitled party's latest answer, and only grants), now. Times are Unix seconds;
# a consent whose times (or `now`) are not numbers does not count (see `expired`).
#
# Unknown is not no: every condition holds only on a recorded fact. A missing or null fact
# (ownership, lead, investigation status, an event) fails the condition that reads it.
#
# The gateway evaluates one rule, `decision`, which returns the whole decision document.
#
# Speed: the RVM costs ~0.1-0.3 µs per operation, so the decision does as few as it can.
# The compiler precomputes, per "role|purpose|phase" (`plans`), the dynamic conditions that
# matter to it (`conditions`: case team, relations of the recipient to the case, consents,
# events) and, per category a clause may grant, the category's whole verdict (outcome,
# answer, clause ids, reasons) in every state a request can be in: which of those
# conditions fail (`plan_failing`, computed once per request: the plan's `conditionSet`
# less the ones that hold, joined in name order) and how the category's OM
# consent fails (`om_failures`, unless the police recorded that no investigation runs). A
# category is then a few lookups. A known category no clause grants here is redacted with
# its static reasons alone (role, purpose, phase: compiled into the plan as `unplanned`, or
# without a plan looked up per kind in the category's `staticReasons`): a requester that
# they refuse is told nothing of the case's state (see `unplanned_verdicts`). Nothing
# iterates over clauses or over reason codes.
# What the RVM charges (regorus 0.13, counted in machine instructions under callgrind, a
# figure the machine's load does not move; docs/policy.md): ~1,000 per VM instruction (a
# register move as much as an index), ~4,500 per rule definition evaluated, ~1,400 per call
# of a rule already evaluated, ~7,000 per function call, ~2,500-5,000 per loop iteration,
# ~8,000 per comprehension. So: few rules and definitions, lookups hoisted out of loops,
# builtins (`object.filter`, set `&`) instead of loops, a check written into the definition
# that needs it instead of a rule of its own. A lookup in a partial set evaluates all its
# members.
#
# Portability: the same bundle runs on regorus (interpreter and RVM), rego-cpp (regopy)
# and OPA, and tests/policy fails on any disagreement. The constructs the engines here
# evaluate differently, and the form written instead, are listed in policies/rego/
# ENGINE-DIFFERENCES.md (each pinned by tests/policy/test_engine_differences.py); this file
# avoids every one of them. Where a rule below is written around one, its comment names the
# row as ENGINE-DIFFERENCES.md `<construct>`.
package ketenpoort.authz

import rego.v1

decision := {
	"allow": allow,
	"categories": verdicts,
	"clauses": sort({id | some verdict in planned; some id in verdict.clauses}),
	"errors": request_errors,
	"revision": data.ketenpoort.revision,
}

covenant := data.ketenpoort.covenants[input.case.covenant]

# Reason codes, most fundamental first; a redacted category lists those that apply.
reason_order := [
	"unknown-covenant",
	"unknown-partner",
	"role-not-held-by-partner",
	"unknown-purpose",
	"unknown-phase",
	"unknown-category",
	"role-not-recipient",
	"purpose-not-allowed",
	"phase-not-allowed",
	"not-in-case-team",
	"not-dwelling-landlord",
	"not-case-lead",
	"not-event-recorder",
	"corporation-permission-missing",
	"police-not-in-case-team",
	"dwelling-pollution-not-established",
	"event-not-recorded", # ":<event id>" follows: the event a clause requires
	"investigation-status-unknown",
	"om-consent-missing",
	"om-consent-expired",
]

valid_request if {
	cov := covenant
	cov.partners[input.requester.partner].roles[input.requester.role]
	cov.purposes[input.purpose]
	cov.phases[input.case.phase]
}

# --- what is disclosed ----------------------------------------------------------------------

# {conditions, categories: category -> state key -> the category's whole verdict} for the
# categories that a clause may grant to this role, purpose and phase (the compiler's `plans`). A "role|purpose|phase"
# key exists only for roles, purposes and phases of the covenant (the covenant checks
# guarantee it), so with the partner holding the role the request is valid.
plan := p if {
	cov := covenant
	cov.partners[input.requester.partner].roles[input.requester.role]
	key := concat("|", [input.requester.role, input.purpose, input.case.phase])
	cov.plans[key] # tested first: ENGINE-DIFFERENCES.md `assignment-from-a-missing-key`
	p := cov.plans[key]
}

# category -> verdict. Without a category outside the plan (the common case) the verdicts
# are `planned` alone; with known ones outside it, `with_unplanned`. `unplanned_verdicts`
# (four definitions) is evaluated only for a request with no plan, an unknown or a repeated
# category.
verdicts := planned if {
	count(planned) == count(input.categories) # a repeated category only takes the else
} else := with_unplanned if {
	count(with_unplanned) == count(input.categories)
} else := object.union(planned, unplanned_verdicts)

# The planned verdicts with those of the other requested categories of the plan's
# `unplanned` (`plan_unplanned`, also the first definition of `unplanned_verdicts`). With
# as many as the request names categories, every one is known and none repeated, so
# `unplanned_verdicts` would give exactly these (its other definitions need no plan, an
# unknown category, or an invalid request): it is not evaluated. The verdicts are built
# here, not compiled whole into `unplanned`: that saved ~9,000 instructions more (~2.6%)
# but grew the data 30% (561 -> 727 kB), which each thread parses and the OPA content check
# reads (docs/performance.md, issue 20's fourth look).
with_unplanned := object.union(planned, plan_unplanned)

# The requested categories of the plan's `unplanned`: redacted with their compiled static
# reasons (empty without a plan).
plan_unplanned := {category: verdict |
	static_reasons := object.filter(plan.unplanned, input.categories)
	some category
	reasons := static_reasons[category]
	verdict := {"outcome": "redact", "answer": "none", "clauses": [], "reasons": reasons}
}

# A category a clause may grant: its verdict in this request's state, compiled.
planned := {category: verdict |
	categories := plan.categories
	failing := plan_failing
	om := om_failures
	some category in input.categories
	categories[category]
	verdict := categories[category][failing][object.get(om, category, "")]
}

# A known category no clause grants here: redacted, with the static reasons (role, purpose,
# phase) alone, in reason order. Never with the case's state: the reasons given to a
# requester do not depend on a fact it may not see, and whether a police investigation runs
# (which the OM consent's reasons tell) is the police's and the case lead's to know (U §5.3;
# gateway/cases/summary_readers.py); a requester the covenant does not name for a category
# learns nothing more of the case from asking for it (review2, finding 1). With a plan the
# static reasons are compiled into it (`unplanned`); without one (a request with a role,
# purpose or phase the covenant's clauses never combine) its static reasons are looked up per
# kind in the category's `staticReasons`.
unplanned_verdicts[category] := verdict if {
	some category
	verdict := plan_unplanned[category]
}

# Without a plan no category is planned: each requested one is looked up here.
unplanned_verdicts[category] := verdict if {
	not plan
	request_valid
	cov := covenant
	some category in input.categories
	cov.staticReasons[category] # tested first: ENGINE-DIFFERENCES.md `assignment-from-a-missing-key`
	why := cov.staticReasons[category]
	reasons := [reason |
		some reason in [
			object.get(why.role, input.requester.role, ""),
			object.get(why.purpose, input.purpose, ""),
			object.get(why.phase, input.case.phase, ""),
		]
		reason != ""
	]
	verdict := {"outcome": "redact", "answer": "none", "clauses": [], "reasons": reasons}
}

# A category the covenant does not know; only looked for when the request names fewer known
# categories than categories (a repeated category passes this test too, and finds none).
unplanned_verdicts[category] := verdict if {
	request_valid
	static_reasons := covenant.staticReasons
	count(object.filter(static_reasons, input.categories)) != count(input.categories)
	some category in input.categories
	not static_reasons[category]
	verdict := {"outcome": "redact", "answer": "none", "clauses": [], "reasons": ["unknown-category"]}
}

# An invalid request has no plan: every requested category is redacted with its error.
unplanned_verdicts[category] := verdict if {
	not request_valid
	some category in input.categories
	verdict := {"outcome": "redact", "answer": "none", "clauses": [], "reasons": request_errors}
}

# A request with a plan is valid (see `plan`): valid_request is only evaluated without one.
request_valid := true if {
	plan
} else := true if {
	valid_request
}

default allow := false

# Only a planned category can be disclosed.
allow if {
	some verdict in planned
	verdict.outcome == "disclose"
}

# The request's state for a planned category, the key of its compiled verdict: the dynamic
# conditions of the plan that fail, i.e. do not hold (computed once per request; a condition
# of the plan that no definition of `condition_holds` names fails), then for a category that
# needs OM consent unless no investigation runs, how that consent fails. Sorted before the
# join: ENGINE-DIFFERENCES.md `concat-over-a-set`.
plan_failing := concat(",", sort(object.keys(plan.conditionSet) - condition_holds))

# Categories that need OM consent while an investigation runs, or while nobody recorded
# whether one runs (U §5.3: only the police know; unknown is not no), and lack it: how it
# fails. Only a recorded `false` spares the consent.
om_failures := {} if {
	input.case.policeInvestigation == false
} else := om_consents_missing if {
	count(om_consents) == 0 # no OM consent on record (the common case): none to look at
} else := {category: reason |
	requested := object.filter(covenant.omConsent, input.categories)
	some category
	requested[category]
	not om_consented[category]
	reason := object.get(om_expired_reasons, category, om_missing_reason)
}

# The requested categories that need OM consent, each lacking it.
om_consents_missing := {category: om_missing_reason |
	requested := object.filter(covenant.omConsent, input.categories)
	some category
	requested[category]
}

# --- conditions ---------------------------------------------------------------------------------

# Case events recorded on the case (e.g. the landlord's eviction procedure, U §5.2, §5.3),
# and those the requester's partner recorded. An event counts only while its recorder holds
# the relation the covenant names for it (``recordedBy``, always the dwelling's landlord:
# gateway/policy/covenant.py): one a corporation recorded before the lead found it was not
# the landlord (PUT .../dwelling/landlord) unlocks nothing (review3, finding 3).
recorded_events contains event.kind if {
	some event in input.case.events
	recorded_by_the_landlord(event)
}

recorded_by_requester contains event.kind if {
	some event in input.case.events
	event.partner == input.requester.partner
	recorded_by_the_landlord(event)
}

# As dwelling_landlord: a corporation dwelling, and the event's partner is its corporation.
recorded_by_the_landlord(event) if {
	dwelling := input.case.dwelling
	dwelling.ownership == "corporation"
	event.partner == dwelling.corporation
}

# An OM consent is recorded by the police for this case and must carry an expiry; an
# open-ended consent is not accepted. Its times and `now` are numbers (Unix seconds): one
# that is not is no recorded time, and the consent does not count (see `expired`).
om_consents contains consent if {
	partners := covenant.partners
	is_number(input.now)
	some consent in input.consents
	consent.kind == "om-consent"
	consent.case == input.case.id
	partners[consent.partner].kind == "police"
	is_number(consent.grantedAt)
	is_number(consent.expiresAt)
}

om_consented contains category if {
	some consent in om_consents
	consent.grantedAt <= input.now
	not expired(consent)
	some category in consent.categories
}

om_expired contains category if {
	some consent in om_consents
	expired(consent)
	some category in consent.categories
}

# A consent has expired once `now` reaches its expiresAt (the second it expires no longer
# counts: gateway/cases/service.py `consent_out` uses the same `<=`); one without expiresAt
# has not. Always `not expired(consent)`, never `not consent.expiresAt <= now`: OPA makes
# that body fail when expiresAt is missing, regorus and rego-cpp make it true
# (ENGINE-DIFFERENCES.md `not-over-an-undefined-reference`).
#
# An expiresAt that is present but no number (a string, null) has expired: unknown is not
# no. Tested before any comparison: the engines compare a number with a string or null
# differently (ENGINE-DIFFERENCES.md `comparison-across-types`), so an ISO date never
# expired on regorus and OPA, and a null one never on rego-cpp (review9b F1). The callers
# check grantedAt and `now` the same way.
expired(consent) if not is_number(object.get(consent, "expiresAt", 0))

expired(consent) if consent.expiresAt <= input.now

om_expired_reasons := {category: om_expired_reason | some category in om_expired}

# How a category's OM consent fails: expired (a consent for it has expired) or missing, each
# preceded by investigation-status-unknown while nobody recorded whether an investigation runs.
om_expired_reason := "om-consent-expired" if {
	input.case.policeInvestigation == true
} else := "investigation-status-unknown,om-consent-expired"

om_missing_reason := "om-consent-missing" if {
	input.case.policeInvestigation == true
} else := "investigation-status-unknown,om-consent-missing"

# --- request errors ----------------------------------------------------------------------

# An else chain, so a request with a plan (hence valid) does not evaluate the rest.
request_errors := [] if {
	plan
} else := [] if {
	valid_request
} else := [first] if {
	first := [error | some error in reason_order; request_failures[error]][0]
}

request_failures contains "unknown-covenant" if not covenant

request_failures contains "unknown-partner" if not covenant.partners[input.requester.partner]

request_failures contains "role-not-held-by-partner" if {
	not covenant.partners[input.requester.partner].roles[input.requester.role]
}

request_failures contains "unknown-purpose" if not covenant.purposes[input.purpose]

request_failures contains "unknown-phase" if not covenant.phases[input.case.phase]

# The dynamic conditions that hold, each only on a recorded fact: a missing fact leaves its
# definition's body undefined, and the condition is not in the set, so it fails (see
# `plan_failing`). Relations of the requester to the case (a recipient bound to one) are
# conditions too (DESIGN.md "Conditions and recipients"). Each check is written into the
# definition that names it, positively, with no `not`: a rule of its own, negated in a set
# of failing conditions, cost a rule evaluation more per condition (issue 20), and written
# inline as `not <expression>` OPA's evaluator disclosed with the case team missing
# (ENGINE-DIFFERENCES.md `not-over-an-undefined-reference`; tests/policy/
# test_missing_facts.py takes every fact away in turn on regorus and OPA).
# Two definitions of one name hold if either holds (OR): a second definition of a name
# that has one LOOSENS that condition (in the set of failing conditions before, it
# tightened it). Only `corporation-permission` has two, on purpose: its two ways to hold.
# authz_test.rego pairs each condition's denial with its allowed control; making any one
# condition always hold fails it (checked for six of them, 7 December 2026).

# Need to know: the requesting partner is in the case team.
condition_holds contains "case-team" if input.requester.partner in input.case.team

# U §5.1: a corporation dwelling needs the corporation's permission; other dwellings do not.
# Named positively: a dwelling whose ownership is not recorded needs the permission too.
condition_holds contains "corporation-permission" if {
	dwelling := input.case.dwelling
	dwelling.ownership == "corporation"
	corporation := dwelling.corporation
	covenant.corporations[corporation]
	case_id := input.case.id
	now := input.now
	is_number(now)
	some consent in input.consents
	consent.partner == corporation
	consent.kind == "corporation-permission"
	consent.case == case_id
	is_number(consent.grantedAt) # see `expired`: a time that is no number is no time
	consent.grantedAt <= now
	not expired(consent) # a permission without expiresAt is open-ended
}

condition_holds contains "corporation-permission" if {
	input.case.dwelling.ownership in {"private-rental", "owner-occupied"}
}

# U §5.3 sfeerverslag: the community officer was actively involved in the case (a police
# partner is in the team).
condition_holds contains "police-in-case-team" if {
	police := covenant.police
	some partner in input.case.team
	police[partner]
}

# U §5.4: Volksgezondheid supports the case manager "als vervuiling van de woning onderdeel
# is van de overlast". Only a recorded `true` holds: `false`, null or a missing field fails.
condition_holds contains "dwelling-pollution" if input.case.dwellingPollution == true

# The dwelling's landlord: the corporation that owns it (U §5.3 "de verhuurder"); an
# owner-occupied or privately rented dwelling has no landlord among the partners.
condition_holds contains "relation:dwelling-landlord" if {
	input.case.dwelling.ownership == "corporation"
	input.case.dwelling.corporation == input.requester.partner
}

# The partner holding the case's lead (regie: U §5.1; R §2.3).
condition_holds contains "relation:case-lead" if input.case.lead == input.requester.partner

# `event in recorded_events`, not `recorded_events[event]`: rego-cpp (regopy 1.5.2) crashes
# the process on that lookup here (a segmentation fault; ENGINE-DIFFERENCES.md, below the
# table).
condition_holds contains condition if {
	some condition
	event := covenant.eventConditions[condition]
	event in recorded_events
}

condition_holds contains condition if {
	some condition
	event := covenant.recorderConditions[condition]
	event in recorded_by_requester
}
