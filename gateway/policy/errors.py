"""Errors of the policy domain: broken covenants, refused bundles, unavailable engines."""

from __future__ import annotations

from pathlib import Path

from gateway.core.errors import GatewayError, ServiceUnavailable, Unprocessable


class CovenantError(Unprocessable):
    """A covenant file that cannot be used; names the file, the line and the problem."""

    problem = "invalid-covenant"
    title = "Invalid covenant"

    def __init__(self, file: Path | str, line: int | None, problem: str) -> None:
        self.file = str(file)
        self.line = line
        self.reason = problem
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {problem}")


class BundleError(GatewayError):
    """A policy bundle that is missing, unsigned, tampered with or does not compile."""

    status = 503
    problem = "policy-bundle-refused"
    title = "Policy bundle refused"


class PolicyUnavailable(ServiceUnavailable):
    """No policy is loaded or the engine cannot answer; every request is denied."""

    problem = "policy-unavailable"
    title = "Policy unavailable"
