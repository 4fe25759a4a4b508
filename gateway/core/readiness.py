"""Readiness checks: each domain's ``build`` adds the checks ``/v1/health/ready`` runs."""

from __future__ import annotations

from collections.abc import Callable

#: A readiness check returns None when healthy, else a short reason without personal data.
ReadinessCheck = Callable[[], str | None]

#: The checks by name, in the order the domains were built.
ReadinessChecks = dict[str, ReadinessCheck]
