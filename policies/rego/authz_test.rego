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

# The request without the case facts named in `keys`. (object.union merges nested objects,
# so it cannot take a key away; and rego-cpp merges them differently: take it out instead.)
without_case_facts(request, keys) := object.union(object.remove(request, ["case"]), {"case": object.remove(request.case, keys)})

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

# A permission without expiresAt is open-ended (the test above); one that has expired no
# longer counts. OPA once redacted the open-ended one (policies/rego/ENGINE-DIFFERENCES.md).
test_corporation_dwelling_after_permission_expired_shares_nothing if {
	expired := object.union(permission, {"expiresAt": 900})
	request := object.union(with_case({"dwelling": corporation_dwelling}), {"categories": ["police-reports"], "consents": [expired]})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_dwelling_with_permission_until_later_shares if {
	later := object.union(permission, {"expiresAt": 1001})
	request := object.union(with_case({"dwelling": corporation_dwelling}), {"categories": ["police-reports"], "consents": [later]})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].outcome == "disclose"
}

# --- the boundaries of a consent's time window (review9b F4) -----------------------------------
# A permission or OM consent counts from its grantedAt up to, not including, its expiresAt
# (`expired`: `now` reaching expiresAt; gateway/cases/service.py `consent_out` alike). The
# one-second-later requests are the positive controls: with `<` for `<=` in `expired`, the
# expiring-now requests disclosed on every engine and no test failed.

corporation_request(consent) := object.union(with_case({"dwelling": corporation_dwelling}), {"categories": ["police-reports"], "consents": [consent]})

om_request(consent) := object.union(utrecht, {"consents": [consent]})

test_corporation_permission_expiring_now_no_longer_counts if {
	request := corporation_request(object.union(permission, {"expiresAt": 1000}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_expiring_a_second_later_still_counts if {
	request := corporation_request(object.union(permission, {"expiresAt": 1001}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].outcome == "disclose"
}

test_corporation_permission_granted_a_second_later_does_not_count_yet if {
	request := corporation_request(object.union(permission, {"grantedAt": 1001}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_granted_now_counts if {
	request := corporation_request(object.union(permission, {"grantedAt": 1000}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].outcome == "disclose"
}

test_om_consent_expiring_now_has_expired if {
	request := om_request(object.union(om, {"expiresAt": 1000}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-expired"]
}

test_om_consent_expiring_a_second_later_still_counts if {
	request := om_request(object.union(om, {"expiresAt": 1001}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].outcome == "disclose"
}

test_om_consent_granted_a_second_later_does_not_count_yet if {
	request := om_request(object.union(om, {"grantedAt": 1001}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
}

test_om_consent_granted_now_counts if {
	request := om_request(object.union(om, {"grantedAt": 1000}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].outcome == "disclose"
}

# --- a time that is no number is no time (review9b F1) ----------------------------------------
# The gateway writes Unix seconds (PolicyInput.document()); another producer of input might
# write an ISO date or null. The engines compare those with a number differently (policies/
# rego/ENGINE-DIFFERENCES.md `comparison-across-types`): before the guard, an ISO expiry never
# expired on regorus and OPA, a null one on rego-cpp, and a null grantedAt counted on regorus
# and OPA. Unknown is not no: such a permission or consent does not count, on every engine.
# The positive controls: the permission and the OM consent with numbers (tests above).

test_corporation_permission_with_an_iso_expiry_does_not_count if {
	request := corporation_request(object.union(permission, {"expiresAt": "2099-01-01T00:00:00Z"}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_with_a_null_expiry_does_not_count if {
	request := corporation_request(object.union(permission, {"expiresAt": null}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_with_a_null_grant_does_not_count if {
	request := corporation_request(object.union(permission, {"grantedAt": null}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_with_an_iso_grant_does_not_count if {
	request := corporation_request(object.union(permission, {"grantedAt": "1970-01-01T00:00:00Z"}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_does_not_count_when_now_is_no_number if {
	request := object.union(corporation_request(permission), {"now": "1970-01-01T00:16:40Z"})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_corporation_permission_does_not_count_when_now_is_null if {
	request := object.union(corporation_request(permission), {"now": null})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_om_consent_with_a_null_grant_does_not_count if {
	request := om_request(object.union(om, {"grantedAt": null}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
}

test_om_consent_with_an_iso_grant_does_not_count if {
	request := om_request(object.union(om, {"grantedAt": "1970-01-01T00:00:00Z"}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
}

test_om_consent_with_an_iso_expiry_does_not_count if {
	request := om_request(object.union(om, {"expiresAt": "2099-01-01T00:00:00Z"}))
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
}

test_om_consent_does_not_count_when_now_is_null if {
	request := object.union(om_request(om), {"now": null})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
}

test_om_consent_does_not_count_when_now_is_no_number if {
	request := object.union(om_request(om), {"now": "1970-01-01T00:16:40Z"})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["om-consent-missing"]
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

# --- U §5.3 sfeerverslag: the landlord's eviction procedure, its landlord and the lead --------

# A rented (corporation) dwelling whose landlord recorded that it started an eviction
# procedure; the case manager of U Centraal holds the lead.
sfeer := object.union(utrecht, {
	"case": object.union(utrecht.case, {
		"dwelling": corporation_dwelling, "lead": "u-centraal", "policeInvestigation": false,
		"events": [{"kind": "eviction-procedure", "partner": "mitros"}]
	}),
	"categories": ["police-atmosphere-report"], "purpose": "eviction-procedure", "consents": [permission]
})

sfeer_case(changes) := object.union(sfeer, {"case": object.union(sfeer.case, changes)})

as_partner(request, partner, role) := object.union(request, {"requester": {"partner": partner, "role": role, "user": "p"}})

test_sfeerverslag_to_the_case_lead_once_the_landlord_started_eviction if {
	d := data.ketenpoort.authz.decision with input as sfeer
	d.categories["police-atmosphere-report"].outcome == "disclose"
	d.categories["police-atmosphere-report"].clauses == ["U-5.3-sfeerverslag"]
}

test_sfeerverslag_to_the_dwellings_own_landlord if {
	request := as_partner(sfeer, "mitros", "woonconsulent")
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].outcome == "disclose"
}

test_sfeerverslag_not_to_another_corporation if {
	request := as_partner(sfeer_case({"team": ["u-centraal", "politie-midden-nederland", "mitros", "portaal"]}), "portaal", "woonconsulent")
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].outcome == "redact"
	d.categories["police-atmosphere-report"].reasons == ["not-dwelling-landlord"]
}

test_sfeerverslag_not_to_a_corporation_of_an_owner_occupied_dwelling if {
	owner := sfeer_case({"dwelling": {"ownership": "owner-occupied", "corporation": null}})
	request := as_partner(owner, "mitros", "woonconsulent")
	d := data.ketenpoort.authz.decision with input as request
	# An owner-occupied dwelling has no landlord, so no eviction procedure of its landlord
	# counts either (an event counts while its recorder is the landlord).
	d.categories["police-atmosphere-report"].reasons == ["not-dwelling-landlord"]
}

test_sfeerverslag_withheld_before_the_landlord_started_eviction if {
	request := sfeer_case({"events": []})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].reasons == ["event-not-recorded:eviction-procedure"]
}

test_sfeerverslag_withheld_when_another_measure_is_on_record if {
	request := sfeer_case({"events": [{"kind": "behavioural-order", "partner": "mitros"}]})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].reasons == ["event-not-recorded:eviction-procedure"]
}

test_sfeerverslag_not_to_a_case_manager_without_the_lead if {
	request := sfeer_case({"lead": "mitros"})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].reasons == ["not-case-lead"]
}

test_sfeerverslag_withheld_when_the_lead_is_not_known if {
	request := without_case_facts(sfeer, ["lead"])
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].reasons == ["not-case-lead"]
}

test_sfeerverslag_only_for_eviction_procedure if {
	request := object.union(sfeer, {"purpose": "case-handling"})
	d14 := data.ketenpoort.authz.decision with input as request
	d14.categories["police-atmosphere-report"].reasons == ["purpose-not-allowed"]
}

test_sfeerverslag_needs_the_police_in_the_case_team if {
	request := sfeer_case({"team": ["u-centraal", "mitros"]})
	d16 := data.ketenpoort.authz.decision with input as request
	d16.categories["police-atmosphere-report"].reasons == ["police-not-in-case-team"]
}

# --- U §5.4 hygiene advice: only "als vervuiling van de woning onderdeel is van de overlast" ---

hygiene := object.union(utrecht, {"categories": ["municipality-hygiene-advice"]})

test_hygiene_advice_disclosed_when_the_lead_recorded_pollution if {
	request := object.union(hygiene, {"case": object.union(hygiene.case, {"dwellingPollution": true})})
	d := data.ketenpoort.authz.decision with input as request
	v := d.categories["municipality-hygiene-advice"]
	v.outcome == "disclose"
	v.clauses == ["U-5.4-volksgezondheid"]
}

test_hygiene_advice_withheld_when_the_lead_recorded_no_pollution if {
	request := object.union(hygiene, {"case": object.union(hygiene.case, {"dwellingPollution": false})})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["municipality-hygiene-advice"].reasons == ["dwelling-pollution-not-established"]
}

test_hygiene_advice_withheld_while_nobody_recorded_pollution if {
	d := data.ketenpoort.authz.decision with input as hygiene
	d.categories["municipality-hygiene-advice"].reasons == ["dwelling-pollution-not-established"]
}

# --- unknown is not no ------------------------------------------------------------------------

test_antecedents_withheld_while_nobody_recorded_whether_an_investigation_runs if {
	request := with_case({"policeInvestigation": null})
	d := data.ketenpoort.authz.decision with input as request
	v := d.categories["police-nuisance-antecedents"]
	v.outcome == "redact"
	v.reasons == ["investigation-status-unknown", "om-consent-missing"]
}

test_antecedents_withheld_when_the_investigation_status_is_absent if {
	request := without_case_facts(utrecht, ["policeInvestigation"])
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["investigation-status-unknown", "om-consent-missing"]
}

test_antecedents_disclosed_with_om_consent_while_the_status_is_unknown if {
	request := object.union(with_case({"policeInvestigation": null}), {"consents": [om]})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].outcome == "disclose"
}

test_expired_om_consent_while_the_status_is_unknown if {
	request := object.union(with_case({"policeInvestigation": null}), {"consents": [om], "now": 3000})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["investigation-status-unknown", "om-consent-expired"]
}

test_a_dwelling_of_unknown_ownership_needs_the_corporations_permission if {
	request := object.union(without_case_facts(utrecht, ["dwelling"]), {"categories": ["police-reports"]})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].reasons == ["corporation-permission-missing"]
}

test_an_owner_occupied_dwelling_needs_no_permission if {
	request := object.union(utrecht, {"categories": ["police-reports"]})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-reports"].outcome == "disclose"
}

# --- the reasons tell no fact the requester may not see (review2, finding 1) -----------------
# Whether an investigation runs is the police's and the lead's to know (U §5.3): a woonconsulent,
# whom no clause names for the antecedents, is told that alone in all three states. The lead's
# reasons above (om-consent-missing; investigation-status-unknown first) are the control.

landlord := object.union(utrecht, {"requester": {"partner": "mitros", "role": "woonconsulent", "user": "p"}})

landlord_while(status) := object.union(landlord, {"case": object.union(landlord.case, {"policeInvestigation": status})})

test_a_landlord_refused_the_antecedents_is_not_told_an_investigation_runs if {
	request := landlord_while(true)
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["role-not-recipient"]
}

test_a_landlord_refused_the_antecedents_is_not_told_none_runs if {
	request := landlord_while(false)
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["role-not-recipient"]
}

test_a_landlord_refused_the_antecedents_is_not_told_the_status_is_unrecorded if {
	request := landlord_while(null)
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["role-not-recipient"]
}

test_a_case_manager_outside_the_team_is_told_only_that if {
	request := with_case({"team": ["politie-midden-nederland", "mitros"], "policeInvestigation": null})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-nuisance-antecedents"].reasons == ["not-in-case-team"]
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

# R Bijlage A sfeerrapportage: as in Utrecht, only once the corporation recorded its eviction
# procedure; the mayor's phases 4a-4c alone do not unlock it.
rijswijk_sfeer := object.union(rijswijk, {
	"case": object.union(rijswijk.case, {
		"phase": "behavioural-order", "lead": "gemeente-rijswijk",
		"team": ["gemeente-rijswijk", "politie-den-haag", "vidomes"],
		"events": [{"kind": "eviction-procedure", "partner": "vidomes"}]
	}),
	"categories": ["police-atmosphere-report"], "purpose": "eviction-procedure"
})

test_rijswijk_sfeerrapportage_once_the_corporation_started_eviction if {
	d := data.ketenpoort.authz.decision with input as rijswijk_sfeer
	d.categories["police-atmosphere-report"].clauses == ["R-A-politie-sfeerrapportage"]
}

test_rijswijk_sfeerrapportage_to_the_landlord if {
	request := as_partner(rijswijk_sfeer, "vidomes", "woonconsulent")
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].outcome == "disclose"
}

test_rijswijk_sfeerrapportage_not_in_a_sanction_phase_without_eviction_procedure if {
	request := object.union(rijswijk_sfeer, {"case": object.union(rijswijk_sfeer.case, {"events": []})})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].reasons == ["event-not-recorded:eviction-procedure"]
}

test_rijswijk_sfeerrapportage_not_to_the_other_corporation if {
	team := ["gemeente-rijswijk", "politie-den-haag", "vidomes", "rijswijk-wonen"]
	request := as_partner(object.union(rijswijk_sfeer, {"case": object.union(rijswijk_sfeer.case, {"team": team})}), "rijswijk-wonen", "woonconsulent")
	d := data.ketenpoort.authz.decision with input as request
	d.categories["police-atmosphere-report"].reasons == ["not-dwelling-landlord"]
}

# --- R Bijlage F: the Sociaal Wijkteam asks for a care worker's details (issue 14 item 5) ---

care_worker_request := object.union(rijswijk, {
	"requester": {"partner": "sociaal-wijkteam-rijswijk", "role": "buurtteam-medewerker", "user": "p"},
	"categories": ["care-worker-details"],
	"purpose": "integrated-approach",
	"case": object.union(rijswijk.case, {"team": ["gemeente-rijswijk", "sociaal-wijkteam-rijswijk", "ggd-haaglanden"]})
})

test_wijkteam_receives_the_care_workers_details if {
	d := data.ketenpoort.authz.decision with input as care_worker_request
	d.categories["care-worker-details"].outcome == "disclose"
	d.categories["care-worker-details"].clauses == ["R-F-wijkteam-hulpverlener"]
}

test_ggd_worker_is_no_recipient_of_care_worker_details if {
	request := object.union(care_worker_request, {"requester": {"partner": "ggd-haaglanden", "role": "zorgmedewerker", "user": "p"}})
	d := data.ketenpoort.authz.decision with input as request
	d.categories["care-worker-details"].outcome == "redact"
	d.categories["care-worker-details"].reasons == ["role-not-recipient"]
}

# --- U §1: only signatories exchange (issue 14 item 4) --------------------------------------

test_het_vierde_huis_is_no_partner if {
	request := object.union(utrecht, {"requester": {"partner": "het-vierde-huis", "role": "woonbegeleider", "user": "p"}, "categories": ["police-risk-assessment"], "purpose": "safety"})
	d := data.ketenpoort.authz.decision with input as request
	d.allow == false
	d.errors == ["unknown-partner"]
}

test_lister_support_worker_receives_the_risk_assessment if {
	request := object.union(utrecht, {"requester": {"partner": "lister", "role": "woonbegeleider", "user": "p"}, "categories": ["police-risk-assessment"], "purpose": "safety", "case": object.union(utrecht.case, {"team": ["u-centraal", "politie-midden-nederland", "lister"]})})
	d := data.ketenpoort.authz.decision with input as request
	d.allow == true
	d.categories["police-risk-assessment"].clauses == ["U-5.3-risico"]
}
