# Rego tests for the key clauses; `ketenpoort policy test` runs them on every engine
# available (regorus, its RVM, and regopy when installed) against the compiled covenants.
# tests/policy/test_clauses.py generates the exhaustive per-clause tests from the covenants.
#
# Style: each `with` is one line of the form `<statement> with input as <expression>` in a
# `test_... if {` block, with one `data.` rule reference: engines without `with` (rego-cpp,
# the RVM) run the tests staged, and the runner only rewrites that form (see
# gateway/policy/regotest.py); any other `with` fails on those engines.
package ketenpoort.authz_test

import rego.v1

utrecht := {
	"requester": {"partner": "u-centraal", "role": "casemanager", "user": "p"},
	"case": {
		"id": "c1", "covenant": "utrecht-extreme-woonoverlast", "phase": "execution",
		"team": ["u-centraal", "politie-midden-nederland", "mitros"],
		"dwelling": {"ownership": "owner-occupied", "corporation": null},
		"policeInvestigation": true
	},
	"categories": ["police-nuisance-antecedents"],
	"purpose": "case-handling",
	"consents": [],
	"now": 1000
}

om := {"kind": "om-consent", "case": "c1", "partner": "politie-midden-nederland",
	"categories": ["police-nuisance-antecedents"], "grantedAt": 100, "expiresAt": 2000}

permission := {"kind": "corporation-permission", "case": "c1", "partner": "mitros",
	"categories": [], "grantedAt": 100}

corporation_dwelling := {"ownership": "corporation", "corporation": "mitros"}

with_case(changes) := object.union(utrecht, {"case": object.union(utrecht.case, changes)})

# --- U §5.3 antecedents: OM consent while an investigation runs ---------------------------

test_antecedents_withheld_without_om_consent if {
	d1 := data.ketenpoort.authz.decision with input as utrecht
	v := d1.categories["police-nuisance-antecedents"]
	v.outcome == "redact"
	v.reasons == ["om-consent-missing"]
}

test_antecedents_disclosed_with_om_consent if {
	in2 := object.union(utrecht, {"consents": [om]})
	d2 := data.ketenpoort.authz.decision with input as in2
	v := d2.categories["police-nuisance-antecedents"]
	v.outcome == "disclose"
	v.clauses == ["U-5.3-antecedenten"]
	v.answer == "yes-no"
}

test_antecedents_withheld_after_om_consent_expires if {
	in3 := object.union(utrecht, {"consents": [om], "now": 3000})
	d3 := data.ketenpoort.authz.decision with input as in3
	v := d3.categories["police-nuisance-antecedents"]
	v.reasons == ["om-consent-expired"]
}

test_antecedents_disclosed_without_consent_when_no_investigation if {
	in4 := with_case({"policeInvestigation": false})
	d4 := data.ketenpoort.authz.decision with input as in4
	v := d4.categories["police-nuisance-antecedents"]
	v.outcome == "disclose"
}

test_open_ended_om_consent_is_not_accepted if {
	open_ended := object.remove(om, ["expiresAt"])
	in5 := object.union(utrecht, {"consents": [open_ended]})
	d5 := data.ketenpoort.authz.decision with input as in5
	v := d5.categories["police-nuisance-antecedents"]
	v.reasons == ["om-consent-missing"]
}

test_om_consent_for_another_case_does_not_count if {
	other := object.union(om, {"case": "c2"})
	in6 := object.union(utrecht, {"consents": [other]})
	d6 := data.ketenpoort.authz.decision with input as in6
	v := d6.categories["police-nuisance-antecedents"]
	v.reasons == ["om-consent-missing"]
}

# --- need to know, purpose, phase, role ------------------------------------------------------

test_outside_case_team_gets_nothing if {
	request := object.union(with_case({"team": ["mitros"]}), {"categories": ["police-reports", "police-physical-violence"]})
	d := data.ketenpoort.authz.decision with input as request
	d.allow == false
	d.categories["police-reports"].reasons == ["not-in-case-team"]
	d.categories["police-physical-violence"].reasons == ["not-in-case-team"]
}

test_wrong_purpose_denied if {
	request := object.union(utrecht, {"purpose": "eviction-procedure", "categories": ["police-reports"]})
	d7 := data.ketenpoort.authz.decision with input as request
	d7.categories["police-reports"].reasons == ["purpose-not-allowed"]
}

test_wrong_phase_denied if {
	request := object.union(with_case({"phase": "aftercare"}), {"categories": ["police-reports"]})
	d8 := data.ketenpoort.authz.decision with input as request
	d8.categories["police-reports"].reasons == ["phase-not-allowed"]
}

test_wrong_role_denied if {
	request := object.union(utrecht, {
		"requester": {"partner": "mitros", "role": "woonconsulent", "user": "p"},
		"categories": ["police-reports"]
	})
	d9 := data.ketenpoort.authz.decision with input as request
	d9.categories["police-reports"].reasons == ["role-not-recipient"]
}

# --- U §5.1 corporation permission --------------------------------------------------------

test_corporation_dwelling_without_permission_shares_nothing if {
	request := object.union(with_case({"dwelling": corporation_dwelling}), {"categories": ["police-reports"]})
	d10 := data.ketenpoort.authz.decision with input as request
	d10.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_dwelling_with_permission_shares if {
	request := object.union(with_case({"dwelling": corporation_dwelling}), {"categories": ["police-reports"], "consents": [permission]})
	d11 := data.ketenpoort.authz.decision with input as request
	d11.categories["police-reports"].outcome == "disclose"
}

# --- yes/no and the sfeerverslag ------------------------------------------------------------

test_whether_category_is_yes_no if {
	request := object.union(utrecht, {"categories": ["police-physical-violence"]})
	d12 := data.ketenpoort.authz.decision with input as request
	d12.categories["police-physical-violence"].answer == "yes-no"
}

test_detail_category_is_detail if {
	request := object.union(utrecht, {"categories": ["police-reports"]})
	d13 := data.ketenpoort.authz.decision with input as request
	d13.categories["police-reports"].answer == "detail"
}

test_sfeerverslag_only_for_eviction_procedure if {
	request := object.union(utrecht, {"categories": ["police-atmosphere-report"]})
	d14 := data.ketenpoort.authz.decision with input as request
	d14.categories["police-atmosphere-report"].reasons == ["purpose-not-allowed"]
	eviction := object.union(request, {"purpose": "eviction-procedure"})
	d15 := data.ketenpoort.authz.decision with input as eviction
	d15.categories["police-atmosphere-report"].outcome == "disclose"
}

test_sfeerverslag_needs_the_police_in_the_case_team if {
	request := object.union(with_case({"team": ["u-centraal"]}), {"categories": ["police-atmosphere-report"], "purpose": "eviction-procedure"})
	d16 := data.ketenpoort.authz.decision with input as request
	d16.categories["police-atmosphere-report"].reasons == ["police-not-in-case-team"]
}

# --- invalid requests -------------------------------------------------------------------------

test_unknown_partner_is_a_request_error if {
	request := object.union(utrecht, {"requester": {"partner": "nobody", "role": "casemanager", "user": "p"}})
	d := data.ketenpoort.authz.decision with input as request
	d.errors == ["unknown-partner"]
	d.categories["police-nuisance-antecedents"].reasons == ["unknown-partner"]
}

test_unknown_category_is_redacted if {
	request := object.union(utrecht, {"categories": ["bogus"]})
	d17 := data.ketenpoort.authz.decision with input as request
	d17.categories["bogus"].reasons == ["unknown-category"]
}

# --- Rijswijk -------------------------------------------------------------------------------

rijswijk := {
	"requester": {"partner": "gemeente-rijswijk", "role": "casemanager", "user": "p"},
	"case": {
		"id": "r1", "covenant": "rijswijk-woonoverlast", "phase": "integrated-approach",
		"team": ["gemeente-rijswijk", "politie-den-haag", "sociaal-wijkteam-rijswijk"],
		"dwelling": {"ownership": "corporation", "corporation": "vidomes"},
		"policeInvestigation": false
	},
	"categories": ["police-registrations", "neighbourhood-team-actions"],
	"purpose": "dossier-building",
	"consents": [],
	"now": 1000
}

test_rijswijk_police_registrations_for_dossier_building if {
	request := rijswijk
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-registrations"].clauses == ["R-A-politie-registraties"]
	d.categories["neighbourhood-team-actions"].reasons == ["purpose-not-allowed"]
	d.clauses == ["R-A-politie-registraties"]
}

test_rijswijk_care_information_goes_to_the_case_lead_only if {
	request := object.union(rijswijk, {
		"requester": {"partner": "rijswijk-wonen", "role": "woonconsulent", "user": "p"},
		"purpose": "integrated-approach",
		"case": object.union(rijswijk.case, {"team": ["rijswijk-wonen", "sociaal-wijkteam-rijswijk"]})
	})
	d18 := data.ketenpoort.authz.decision with input as request
	d18.categories["neighbourhood-team-actions"].reasons == ["role-not-recipient"]
}
