# The decision over a compiled covenant (data.ketenpoort.covenants, built from
# policies/covenants/*.yaml by `ketenpoort policy build`). Generic: no covenant-specific
# names appear here; every clause, category, purpose and phase comes from the data.
#
# Input (gateway/policy/schemas.py, PolicyInput): requester {partner, role, user},
# case {id, covenant, phase, team, dwelling {ownership, corporation}, policeInvestigation},
# categories, purpose, consents [{kind, case, partner, categories, grantedAt, expiresAt}],
# now. Times are Unix seconds.
#
# Performance note: a reference like data.a[input.x].b[input.y] is slow in the embedded
# engine; every rule binds the covenant once to a local and indexes that.
package ketenpoort.authz

import rego.v1

covenant := cov if {
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
}

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
	"corporation-permission-missing",
	"police-not-in-case-team",
	"om-consent-missing",
	"om-consent-expired",
]

# --- conditions, evaluated once per decision ----------------------------------------------

# Need to know: the requesting partner is in the case team.
met contains "case-team" if input.requester.partner in input.case.team

# U §5.1: a corporation dwelling needs the corporation's permission; other dwellings do not.
met contains "corporation-permission" if input.case.dwelling.ownership in {"private-rental", "owner-occupied"}

met contains "corporation-permission" if {
	input.case.dwelling.ownership == "corporation"
	corporation := input.case.dwelling.corporation
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
	cov.partners[corporation].kind == "housing-corporation"
	some consent in input.consents
	consent.kind == "corporation-permission"
	consent.case == input.case.id
	consent.partner == corporation
	consent_active(consent)
}

# U §5.3 sfeerverslag: the community officer was actively involved in the case.
met contains "police-in-case-team" if {
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
	partners := cov.partners
	some partner in input.case.team
	partners[partner].kind == "police"
}

# U §5.3: with no police investigation running, no OM consent is needed.
met contains concat(":", ["om-consent", category]) if {
	input.case.policeInvestigation == false
	some category in input.categories
}

# While an investigation runs: an OM consent recorded by the police for this case that
# covers the category and has not expired. An open-ended consent is not accepted.
met contains concat(":", ["om-consent", category]) if {
	some consent in om_consents
	consent.grantedAt <= input.now
	input.now < consent.expiresAt
	some category in consent.categories
}

om_consents contains consent if {
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
	partners := cov.partners
	some consent in input.consents
	consent.kind == "om-consent"
	consent.case == input.case.id
	partners[consent.partner].kind == "police"
	consent.expiresAt
}

consent_active(consent) if {
	consent.grantedAt <= input.now
	not consent.expiresAt
}

consent_active(consent) if {
	consent.grantedAt <= input.now
	input.now < consent.expiresAt
}

# --- the decision -------------------------------------------------------------------------

valid_request if {
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
	cov.partners[input.requester.partner].roles[input.requester.role]
	cov.purposes[input.purpose]
	cov.phases[input.case.phase]
}

# The compiler indexes the clauses by "role|purpose|phase" and category (the static part),
# with their conditions; only the dynamic conditions are checked here.
grants := found if {
	valid_request
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
	found := cov.grants[concat("|", [input.requester.role, input.purpose, input.case.phase])]
} else := {}

categories[category] := result if {
	some category in input.categories
	satisfied := met
	covenants := data.ketenpoort.covenants
	answers := covenants[input.case.covenant].answers
	ids := [grant.id |
		some grant in grants[category]
		every condition in grant.conditions {
			condition in satisfied
		}
	]
	result := category_result(category, ids, answers)
}

category_result(category, ids, answers) := {
	"outcome": "disclose",
	"answer": answers[category],
	"clauses": sort(ids),
	"reasons": [],
} if {
	count(ids) > 0
} else := {
	"outcome": "redact",
	"answer": "none",
	"clauses": [],
	"reasons": redact_reasons(category),
}

default allow := false

allow if {
	some result in categories
	result.outcome == "disclose"
}

clause_ids contains id if {
	some result in categories
	some id in result.clauses
}

decision := {
	"allow": allow,
	"categories": categories,
	"clauses": sort(clause_ids),
	"errors": request_errors,
	"revision": data.ketenpoort.revision,
}

# --- why: only evaluated for a redacted category or an invalid request ----------------------

request_errors := [] if valid_request

else := ["unknown-covenant"] if not covenant

else := ["unknown-partner"] if not covenant.partners[input.requester.partner]

else := ["role-not-held-by-partner"] if not covenant.partners[input.requester.partner].roles[input.requester.role]

else := ["unknown-purpose"] if not covenant.purposes[input.purpose]

else := ["unknown-phase"]

# Separate heads, not an else chain: rego-cpp loses the argument binding in else branches.
redact_reasons(category) := request_errors if count(request_errors) > 0

redact_reasons(category) := ["unknown-category"] if {
	count(request_errors) == 0
	not covenant.categories[category]
}

redact_reasons(category) := clause_reasons(category) if {
	count(request_errors) == 0
	covenant.categories[category]
}

clause_reasons(category) := reasons if {
	covenants := data.ketenpoort.covenants
	cov := covenants[input.case.covenant]
	failed := {reason |
		some id in cov.clausesByCategory[category]
		some reason in clause_failures(cov.clauses[id], category)
	}
	reasons := [reason | some reason in reason_order; reason in failed]
}

# Every way a clause can fail for this request. Written as one object of checks rather
# than function heads with constant arguments, which engines disagree on.
clause_failures(clause, category) := {reason |
	checks := failure_checks(clause, category)
	checks[reason] == true
}

failure_checks(clause, category) := {
		"role-not-recipient": object.get(clause.recipients, input.requester.role, false) == false,
		"purpose-not-allowed": object.get(clause.purposes, input.purpose, false) == false,
		"phase-not-allowed": object.get(clause.phases, input.case.phase, false) == false,
		"not-in-case-team": unmet(clause, "case-team"),
		"corporation-permission-missing": unmet(clause, "corporation-permission"),
		"police-not-in-case-team": unmet(clause, "police-in-case-team"),
		"om-consent-missing": om_unmet(clause, category, false),
		"om-consent-expired": om_unmet(clause, category, true),
}

unmet(clause, condition) := true if {
	clause.conditions[condition]
	not condition in met
} else := false

om_unmet(clause, category, expired) := true if {
	clause.conditions["om-consent-if-investigation"]
	not concat(":", ["om-consent", category]) in met
	om_consent_expired_flag(category) == expired
} else := false

om_consent_expired_flag(category) := true if om_consent_expired(category) else := false

om_consent_expired(category) if {
	some consent in om_consents
	category in consent.categories
	consent.expiresAt <= input.now
}
