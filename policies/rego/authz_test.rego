# Hand-written scenario tests; run with `ketenpoort policy test` (data: the compiled covenants).
package ketenpoort.authz_test

import rego.v1

base := {
	"requester": {"partner": "u-centraal", "role": "casemanager", "user": "p"},
	"case": {
		"id": "c1", "covenant": "utrecht-extreme-woonoverlast", "phase": "execution",
		"team": ["u-centraal", "politie-midden-nederland"],
		"dwelling": {"ownership": "owner-occupied", "corporation": null},
		"policeInvestigation": true,
	},
	"categories": ["police-nuisance-antecedents"],
	"purpose": "case-handling",
	"consents": [],
	"now": 1000,
}

om := {"kind": "om-consent", "case": "c1", "partner": "politie-midden-nederland",
	"categories": ["police-nuisance-antecedents"], "grantedAt": 100, "expiresAt": 2000}

test_antecedents_withheld_without_om_consent if {
	d := data.ketenpoort.authz.decision with input as base
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
}

test_antecedents_disclosed_with_om_consent if {
	d := data.ketenpoort.authz.decision with input as object.union(base, {"consents": [om]})
	d.categories["police-nuisance-antecedents"].outcome == "disclose"
}

test_antecedents_withheld_after_om_consent_expires if {
	d := data.ketenpoort.authz.decision with input as object.union(base, {"consents": [om], "now": 3000})
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-expired"]
}

test_outside_case_team_gets_nothing if {
	d := data.ketenpoort.authz.decision with input as object.union(base, {"case": object.union(base.case, {"team": ["mitros"]})})
	d.allow == false
}

test_wrong_purpose_denied if {
	d := data.ketenpoort.authz.decision with input as object.union(base, {"purpose": "eviction-procedure"})
	"purpose-not-allowed" in d.categories["police-nuisance-antecedents"].reasons
}

test_whether_category_is_yes_no if {
	d := data.ketenpoort.authz.decision with input as object.union(base, {"categories": ["police-physical-violence"]})
	d.categories["police-physical-violence"].answer == "yes-no"
}
