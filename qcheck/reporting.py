"""Reports (pure data, one per model), the run that holds them, and the one place exit statuses are computed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, overload

from qcheck.findings import Finding, Severity, Suppression
from qcheck.targets import TargetResult

if TYPE_CHECKING:
    from qcheck.rules import Rule

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
    # Findings a baseline or a configured ignore hides: reported as such (SARIF suppressions), never counted.
    suppressed: tuple[tuple[Finding, Suppression], ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def summary(self) -> dict[str, int]:
        return {str(s): self.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}


class BaselineUse(NamedTuple):
    """What a baseline did in a run: the findings it hid, and its entries that no longer occur."""

    path: str
    baselined: int
    fixed: int  # "fixed since the baseline": recorded for a model of this run, not found any more


@dataclass(frozen=True, slots=True)
class Run(Sequence[Report]):
    """Every report of one `qcheck verify`, with what reporters may show about the run itself.

    A sequence of its reports, so that a reporter that only formats findings just iterates it.
    """

    reports: tuple[Report, ...]
    fail_on: Severity = Severity.ERROR
    settings: Mapping[str, object] = field(default_factory=dict)  # the settings in effect, as the JSON report records them
    rules: tuple[Rule, ...] = ()  # every registered rule (SARIF's tool.driver.rules)
    baseline: BaselineUse | None = None
    quiet: bool = False  # --quiet: the summary and errors only

    @overload
    def __getitem__(self, i: int) -> Report: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Report]: ...
    def __getitem__(self, i: int | slice) -> Report | Sequence[Report]:
        return self.reports[i]

    def __len__(self) -> int:
        return len(self.reports)

    def __iter__(self) -> Iterator[Report]:
        return iter(self.reports)

    @property
    def exit_status(self) -> int:
        return exit_status(self.reports, self.fail_on)

    @property
    def totals(self) -> dict[str, int]:
        """Counts over all models: models, unreadable ones, findings per severity, suppressed findings."""
        out = {"models": len(self.reports), "unreadable": sum(1 for r in self.reports if r.error is not None)}
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            out[str(s)] = sum(r.count(s) for r in self.reports)
        out["suppressed"] = sum(len(r.suppressed) for r in self.reports)
        if self.baseline is not None:
            out["baselined"], out["fixed_since_baseline"] = self.baseline.baselined, self.baseline.fixed
        return out


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
