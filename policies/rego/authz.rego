# The decision over a compiled covenant (data.ketenpoort.covenants, built from
# policies/covenants/*.yaml by `ketenpoort policy build`). Generic: no covenant-specific
# names appear here; every clause, category, purpose and phase comes from the data.
#
# Input (gateway/policy/schemas.py, PolicyInput): requester {partner, role, user},
# case {id, covenant, phase, team, dwelling {ownership, corporation}, policeInvestigation},
# categories, purpose, consents [{kind, case, partner, categories, grantedAt, expiresAt}],
# now. Times are Unix seconds.
#
# The gateway evaluates one rule, `decision`, which returns the whole decision document.
#
# Speed: the compiler indexes the clauses by "role|purpose|phase" and category (`grants`),
# so a decision is one key lookup per requested category plus the dynamic conditions;
# nothing iterates over all clauses. Why a category was redacted is only worked out for
# redacted categories, from that category's own clauses (`clausesByCategory`).
#
# Portability: the same bundle runs on regorus (interpreter and RVM), rego-cpp (regopy)
# and OPA, and tests/policy fails on any disagreement. Constructs that the engines here
# evaluate differently are avoided on purpose:
# - a function argument used inside a comprehension (rego-cpp 1.5 treats it as unbound
#   and iterates over everything): there are no comprehensions inside functions;
# - `else` on functions and `x := a == b` (rego-cpp makes a false comparison undefined);
# - `every` inside a comprehension (regorus and rego-cpp disagree);
# - a comprehension without iteration nested in another comprehension (regorus's RVM turns
#   an empty one into undefined): reasons are collected by partial rules instead.
package ketenpoort.authz

import rego.v1

decision := {
	"allow": allow,
	"categories": object.union(
		{category: verdict |
			some category, ids in granted
			verdict := {"outcome": "disclose", "answer": covenant.answers[category], "clauses": ids, "reasons": []}
		},
		{category: verdict |
			some category in input.categories
			not granted[category]
			verdict := {"outcome": "redact", "answer": "none", "clauses": [], "reasons": reasons[category]}
		},
	),
	"clauses": sort({id | some ids in granted; some id in ids}),
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
	"corporation-permission-missing",
	"police-not-in-case-team",
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

# category -> ids of the clauses that allow it (sorted: the compiler sorts grants by id).
# A "role|purpose|phase" key exists only for roles, purposes and phases of the covenant (the
# covenant checks guarantee it), so with the partner holding the role the request is valid.
granted := {category: ids |
	cov := covenant
	grants := cov.grants[concat("|", [input.requester.role, input.purpose, input.case.phase])]
	cov.partners[input.requester.partner].roles[input.requester.role]
	some category in input.categories
	ids := [grant.id | some grant in grants[category]; not fails(grant.conditions, category)]
	count(ids) > 0
}

default allow := false

allow if count(granted) > 0

# --- conditions ---------------------------------------------------------------------------------

# A clause's conditions fail for this request. Each head first checks whether the clause has
# the condition, so a condition is only evaluated when a clause that may apply needs it.
fails(conditions, _) if {
	conditions["case-team"]
	not case_team
}

fails(conditions, _) if {
	conditions["corporation-permission"]
	not corporation_permission
}

fails(conditions, _) if {
	conditions["police-in-case-team"]
	not police_in_case_team
}

fails(conditions, category) if {
	conditions["om-consent-if-investigation"]
	not om_consent(category)
}

# Need to know: the requesting partner is in the case team.
case_team if input.requester.partner in input.case.team

# U §5.3: with no police investigation running, no OM consent is needed; while one runs,
# the category needs an OM consent that covers it and has not expired.
om_consent(_) if input.case.policeInvestigation == false

om_consent(category) if om_consented[category]

# U §5.1: a corporation dwelling needs the corporation's permission; other dwellings do not.
corporation_permission if input.case.dwelling.ownership != "corporation"

corporation_permission if {
	dwelling := input.case.dwelling
	dwelling.ownership == "corporation"
	corporation := dwelling.corporation
	covenant.partners[corporation].kind == "housing-corporation"
	case_id := input.case.id
	now := input.now
	some consent in input.consents
	consent.partner == corporation
	consent.kind == "corporation-permission"
	consent.case == case_id
	consent.grantedAt <= now
	not expired(consent)
}

# U §5.3 sfeerverslag: the community officer was actively involved in the case.
police_in_case_team if {
	partners := covenant.partners
	some partner in input.case.team
	partners[partner].kind == "police"
}

# An OM consent is recorded by the police for this case and must carry an expiry; an
# open-ended consent is not accepted.
om_consents contains consent if {
	partners := covenant.partners
	some consent in input.consents
	consent.kind == "om-consent"
	consent.case == input.case.id
	partners[consent.partner].kind == "police"
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

expired(consent) if consent.expiresAt <= input.now

# --- why: only evaluated for a redacted category or an invalid request ------------------------

# An else chain, so a decision that discloses something does not evaluate the rest.
request_errors := [] if {
	count(granted) > 0
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

reasons := {category: request_errors | some category in input.categories} if not valid_request

reasons := {category: ordered |
	some category in input.categories
	not granted[category]
	ordered := [reason | some reason in reason_order; [category, reason] in failures]
} if valid_request

# [category, reason] for every way one of the category's clauses fails this request; a
# category with several clauses lists the union.
failures contains [category, "unknown-category"] if {
	some category in input.categories
	not covenant.categories[category]
}

failures contains [category, "role-not-recipient"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	not clause.recipients[input.requester.role]
}

failures contains [category, "purpose-not-allowed"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	not clause.purposes[input.purpose]
}

failures contains [category, "phase-not-allowed"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	not clause.phases[input.case.phase]
}

failures contains [category, "not-in-case-team"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	clause.conditions["case-team"]
	not case_team
}

failures contains [category, "corporation-permission-missing"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	clause.conditions["corporation-permission"]
	not corporation_permission
}

failures contains [category, "police-not-in-case-team"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	clause.conditions["police-in-case-team"]
	not police_in_case_team
}

failures contains [category, "om-consent-missing"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	clause.conditions["om-consent-if-investigation"]
	not om_consent(category)
	not om_expired[category]
}

failures contains [category, "om-consent-expired"] if {
	some category in input.categories
	some clause in covenant.clausesByCategory[category]
	clause.conditions["om-consent-if-investigation"]
	not om_consent(category)
	om_expired[category]
}
