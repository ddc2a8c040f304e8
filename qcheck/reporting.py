"""Reports (pure data, one per model) and the one place the exit status is computed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from qcheck.findings import Finding, Severity
from qcheck.targets import TargetResult

JSON_SCHEMA_VERSION = 1

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Report:
    """The result of verifying one model; `error` is set instead of findings when it was unreadable."""

    path: str
    findings: tuple[Finding, ...] = ()
    facts: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None
    stats: Mapping[str, int] = field(default_factory=dict)  # tensors, operators, subgraphs, bytes
    highlights: tuple[str, ...] = ()  # the declared facts as short phrases, in registration order
    headline: str | None = None  # the value of the headline fact (see qcheck.registry.Fact)
    targets: Mapping[str, TargetResult] = field(default_factory=dict)  # --target name -> where the model runs

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def summary(self) -> dict[str, int]:
        return {str(s): self.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}


def exit_status(reports: Sequence[Report], fail_on: Severity = Severity.ERROR) -> int:
    """0: nothing at or above `fail_on`; 1: findings; 2: a model could not be read. Worst wins."""
    status = EXIT_OK
    for r in reports:
        if r.error is not None:
            return EXIT_ERROR
        if any(f.severity >= fail_on for f in r.findings):
            status = EXIT_FINDINGS
    return status


def conversion_exit_status(verdicts: Iterable[str]) -> int:
    """For `qcheck convert`: 2 when a strategy gave no output ("error"), 1 when one broke its promise ("fail")."""
    seen = set(verdicts)
    if "error" in seen:
        return EXIT_ERROR
    return EXIT_FINDINGS if "fail" in seen else EXIT_OK
