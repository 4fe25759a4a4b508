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
# nothing iterates over clauses. Why a category was redacted is only worked out for
# redacted categories: the request's failing facts (role, purpose, phase, failing
# conditions, OM consent state) are listed once, in reason order, and each is looked up in
# the category's compiled `redaction` table (fact -> reason code).
#
# Portability: the same bundle runs on regorus (interpreter and RVM), rego-cpp (regopy)
# and OPA, and tests/policy fails on any disagreement. Constructs that the engines here
# evaluate differently are avoided on purpose:
# - a function argument used inside a comprehension (rego-cpp 1.5 treats it as unbound
#   and iterates over everything): there are no comprehensions inside functions;
# - `else` on functions and `x := a == b` (rego-cpp makes a false comparison undefined);
# - `every` inside a comprehension (regorus and rego-cpp disagree);
# - a comprehension without iteration nested in another comprehension (regorus's RVM turns
#   an empty one into undefined);
# - `x := obj[key]` when the key may be missing: regorus's RVM (0.13) does not fail the
#   body (an unused x: the body succeeds; a used x: the value "<undefined>" flows on, e.g.
#   `{k: x | some k in ["a", "b"]; x := data.t[k]}` with t = {"a": 1} gives b too). Such a
#   lookup is tested on its own first (`obj[key]`), as in `reasons`.
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
	not consent.expiresAt <= now # not expired; no expiresAt: open-ended
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

reasons := object.union(
	{category: ["unknown-category"] |
		some category in redacted
		not covenant.categories[category]
	},
	{category: ordered |
		some category in redacted
		covenant.redaction[category] # tested first: see "Portability" above
		why := covenant.redaction[category]
		ordered := [why[fact] | some fact in facts; why[fact]]
	},
) if valid_request

redacted contains category if {
	some category in input.categories
	not granted[category]
}

# The facts of this request that can make a clause fail, in reason order. The compiled
# `redaction[category]` maps each fact that fails one of the category's clauses to its reason
# code, so explaining a redaction visits neither the clauses nor the reasons that cannot apply.
facts := array.concat(
	[
		concat(":", ["role", input.requester.role]),
		concat(":", ["purpose", input.purpose]),
		concat(":", ["phase", input.case.phase]),
	],
	array.concat(
		[concat(":", ["condition", condition]) | some condition in failing_conditions],
		[concat(":", [om_failure[category], category]) |
			some category in redacted
			om_failure[category]
		],
	),
)

# Sorted as in reason_order (case-team, corporation-permission, police-in-case-team).
failing_conditions := [condition |
	some condition in ["case-team", "corporation-permission", "police-in-case-team"]
	condition_fails[condition]
]

condition_fails contains "case-team" if not case_team

condition_fails contains "corporation-permission" if not corporation_permission

condition_fails contains "police-in-case-team" if not police_in_case_team

om_failure[category] := "om-consent-expired" if {
	some category in redacted
	covenant.omConsent[category]
	not om_consent(category)
	om_expired[category]
}

om_failure[category] := "om-consent-missing" if {
	some category in redacted
	covenant.omConsent[category]
	not om_consent(category)
	not om_expired[category]
}
