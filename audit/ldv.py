"""Audit entries as records of the Logius standard "Logboek Dataverwerkingen" (LDV).

The standard (Logius, component Logboek, interface) names the fields of a log record:
``trace_id`` (16 bytes), ``span_id`` (8 bytes), ``parent_span_id`` (within our own trace),
``foreign_operation`` (the calling party's trace id, span id and entity URI), ``status_code``,
``name``, ``start_time``/``end_time`` (milliseconds), ``resource`` and ``attributes`` in the
``dpl.core`` namespace. Component Applicatie adds: a record names 0 or 1 data subjects; when one
processing concerns several, each gets its own action (a new span id) under the processing's
span as ``parent_span_id``; and each record points at its processing activity in the register.

How the gateway's entries map onto that:

* One entry is one action. With several data subjects (an entry about a case names every
  person), the entry's record has no subject and each subject gets a child record whose span id
  is derived from the entry's span and the subject's pseudonym (stable across exports).
* ``dpl.core.processing_activity_id`` is a URI into the art. 30 register the gateway generates
  (``GET /v1/audit/processing-register``): ``#<covenant>/<clause>/<purpose>``, the id of the
  activity the entry was processed under. An entry under several clauses is one action per
  clause (child records, as for subjects); one without a clause points at its covenant's
  register.
* ``dpl.core.data_subject_id`` is the keyed pseudonym the entry already holds, never the
  identifier (the standard recommends pseudonymising it); ``_type`` is its identifier type.
* Users are left out. The standard's makers decided records hold no data about users (MinBZK,
  "Geen gegevens over gebruikers in logregels"): recording who acted is itself a processing of
  that employee's data, and belongs in the organisation's own audit log, related through the
  trace and span ids. Ours is the Merkle log (its entries keep the user's pseudonym).
* ``status_code``: ``STATUS_CODE_ERROR`` for a failed processing (the standard: a server-side
  error), ``STATUS_CODE_OK`` for one that did what was asked, ``STATUS_CODE_UNSET`` for a denial
  (processed without error, as the standard files a client error, but not a success).
* ``foreign_operation``: the partner's trace context as it called us. Entries written before
  the gateway kept it apart stored the partner's span as their parent in the partner's trace;
  those are exported with that span as the foreign operation, since nothing else set a parent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import quote

STATUS_UNSET = "STATUS_CODE_UNSET"
STATUS_OK = "STATUS_CODE_OK"
STATUS_ERROR = "STATUS_CODE_ERROR"

PROCESSING_ACTIVITY_ID = "dpl.core.processing_activity_id"
DATA_SUBJECT_ID = "dpl.core.data_subject_id"
DATA_SUBJECT_ID_TYPE = "dpl.core.data_subject_id_type"

REGISTER_PATH = "/v1/audit/processing-register"


def gateway_resource() -> Resource:
    """This gateway, as the installed package names its version."""
    try:
        version = metadata.version("ketenpoort")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return Resource(name="ketenpoort", version=version)


@dataclass(frozen=True)
class Resource:
    """The application that processed: its name and version (the standard's ``resource``)."""

    name: str
    version: str

    def record(self) -> dict[str, Any]:
        return {
            "attributes": [
                {"key": "service.name", "value": self.name},
                {"key": "service.version", "value": self.version},
            ]
        }


def activity_id(covenant_id: str, clause_id: str, purpose: str | None) -> str:
    """The register's id of the processing activity "clause X of covenant C for purpose Y"."""
    return "/".join((covenant_id, clause_id, *((purpose,) if purpose else ())))


def register_uri(base_url: str, fragment: str) -> str:
    """Where the register describes ``fragment``: an activity id, a covenant id (the whole
    register) or ``<covenant>/partner:<id>`` (a partner in its ``partners`` list)."""
    return f"{base_url.rstrip('/')}{REGISTER_PATH}#{quote(fragment, safe='/:')}"


def partner_uri(base_url: str, covenant_id: str, partner_id: str) -> str:
    return register_uri(base_url, f"{covenant_id}/partner:{partner_id}")


def status_code(entry: dict[str, Any]) -> str:
    if entry.get("status") == "error" or entry.get("outcome") == "failed":
        return STATUS_ERROR
    if entry.get("outcome") == "denied":
        return STATUS_UNSET
    return STATUS_OK


def _milliseconds(stamp: str) -> str:
    """``2026-12-02T10:00:00.123456Z`` -> ``2026-12-02T10:00:00.123Z`` (the standard's ms)."""
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{head}.{(fraction + '000')[:3]}Z"


def _child_span(span_id: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join((span_id, *parts)).encode()).hexdigest()[:16]
    return digest if digest.strip("0") else "0000000000000001"


def _subjects(entry: dict[str, Any]) -> list[dict[str, str]]:
    subjects = list(entry.get("dataSubjects") or [])
    single = entry.get("dataSubject")
    if single and single not in subjects:
        subjects.insert(0, single)
    return subjects


def records(entry: dict[str, Any], *, base_url: str, resource: Resource) -> list[dict[str, Any]]:
    """The LDV records of one stored entry (see the module docstring for the mapping)."""
    trace = entry.get("trace", {})
    processing = entry.get("processing", {})
    covenant = processing.get("covenantId", "")
    purpose = processing.get("purpose")
    activities = [
        register_uri(base_url, activity_id(covenant, clause, purpose))
        for clause in processing.get("clauseIds", [])
    ] or [register_uri(base_url, covenant)]
    subjects: list[dict[str, str] | None] = [*_subjects(entry)]

    base: dict[str, Any] = {
        "trace_id": trace["traceId"],
        "name": entry["activity"],
        "start_time": _milliseconds(entry["startedAt"]),
        "end_time": _milliseconds(entry["endedAt"]),
        "status_code": status_code(entry),
        "resource": resource.record(),
    }
    foreign = trace.get("foreignOperation")
    requester = (entry.get("requester") or {}).get("partnerId")
    if foreign is None and trace.get("parentSpanId") and requester:
        foreign = {"traceId": trace["traceId"], "spanId": trace["parentSpanId"]}
    if foreign is not None:
        base["foreign_operation"] = {
            "trace_id": foreign["traceId"],
            "span_id": foreign["spanId"],
            "entity": partner_uri(base_url, covenant, foreign.get("partnerId") or requester or ""),
        }

    span = trace["spanId"]
    single_action = len(activities) == 1 and len(subjects) <= 1
    top = {**base, "span_id": span, "attributes": [_attr(PROCESSING_ACTIVITY_ID, activities[0])]}
    if single_action:
        top["attributes"] += _subject_attributes(subjects[0] if subjects else None)
        return [top]
    if len(activities) > 1:
        # The processing as a whole falls under the covenant; each clause is its own action.
        top["attributes"] = [_attr(PROCESSING_ACTIVITY_ID, register_uri(base_url, covenant))]
    children = [
        {
            **base,
            "span_id": _child_span(span, activity, subject["pseudonym"] if subject else ""),
            "parent_span_id": span,
            "attributes": [_attr(PROCESSING_ACTIVITY_ID, activity), *_subject_attributes(subject)],
        }
        for activity in activities
        for subject in subjects or [None]
    ]
    return [top, *children]


def _attr(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value}


def _subject_attributes(subject: dict[str, str] | None) -> list[dict[str, str]]:
    if subject is None:
        return []
    return [
        _attr(DATA_SUBJECT_ID, subject["pseudonym"]),
        _attr(DATA_SUBJECT_ID_TYPE, subject["identifierType"]),
    ]


def as_records(
    entries: Iterable[dict[str, Any]], *, base_url: str, resource: Resource
) -> Iterator[dict[str, Any]]:
    for entry in entries:
        yield from records(entry, base_url=base_url, resource=resource)
