"""Reports (pure data, one per model), the run that holds them, and the one place exit statuses are computed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, TextIO, overload

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
    subgraph_names: tuple[str, ...] = ()  # as the file names them ("" when unnamed)

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


class Tally:
    """Counts over a run's reports, kept as they arrive: what totals and the exit status need, flat in memory."""

    def __init__(self) -> None:
        self.models = self.unreadable = self.suppressed = 0
        self.by_severity = dict.fromkeys(Severity, 0)

    @classmethod
    def of(cls, reports: Iterable[Report]) -> Tally:
        tally = cls()
        for r in reports:
            tally.add(r)
        return tally

    def add(self, r: Report) -> None:
        self.models += 1
        self.unreadable += r.error is not None
        self.suppressed += len(r.suppressed)
        for f in r.findings:
            self.by_severity[f.severity] += 1

    def exit_status(self, fail_on: Severity = Severity.ERROR) -> int:
        """0: nothing at or above `fail_on`; 1: findings; 2: a model could not be read. Worst wins."""
        if self.unreadable:
            return EXIT_ERROR
        return EXIT_FINDINGS if any(n for s, n in self.by_severity.items() if s >= fail_on) else EXIT_OK


@dataclass(frozen=True, slots=True)
class Run(Sequence[Report]):
    """Every report of one `qcheck verify`, with what reporters may show about the run itself.

    A sequence of its reports, so that a reporter that only formats findings just iterates it. When the
    reports were streamed to the reporter one by one (ReportStream), `reports` is empty and `tally` counts them.
    """

    reports: tuple[Report, ...] = ()
    fail_on: Severity = Severity.ERROR
    settings: Mapping[str, object] = field(default_factory=dict)  # the settings in effect, as the JSON report records them
    rules: tuple[Rule, ...] = ()  # every registered rule (SARIF's tool.driver.rules)
    baseline: BaselineUse | None = None
    quiet: bool = False  # --quiet: the summary and errors only
    verbose: bool = False  # -v: every operator's placement
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        if self.reports and not self.tally.models:
            object.__setattr__(self, "tally", Tally.of(self.reports))

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
        return self.tally.exit_status(self.fail_on)

    @property
    def totals(self) -> dict[str, int]:
        """Counts over all models: models, unreadable ones, findings per severity, suppressed findings."""
        t = self.tally
        out = {"models": t.models, "unreadable": t.unreadable, **{str(s): t.by_severity[s] for s in sorted(Severity, reverse=True)},
               "suppressed": t.suppressed}
        if self.baseline is not None:
            out["baselined"], out["fixed_since_baseline"] = self.baseline.baselined, self.baseline.fixed
        return out


def as_run(reports: Sequence[Report]) -> Run:
    return reports if isinstance(reports, Run) else Run(tuple(reports))


class ReportStream(Protocol):
    """A reporter that writes each report as it arrives (Reporter.stream): a zoo's report in flat memory."""

    def add(self, report: Report) -> None: ...

    def close(self, run: Run) -> None:
        """The end of the report; `run` has the totals, the exit status and the baseline's use."""


def render_all(stream: Callable[[Run, TextIO], ReportStream]) -> Callable[[Sequence[Report], TextIO], None]:
    """A reporter's `render` made of its `stream`: every report added, then closed."""
    def render(reports: Sequence[Report], out: TextIO) -> None:
        run = as_run(reports)
        writer = stream(run, out)
        for r in run:
            writer.add(r)
        writer.close(run)

    return render


def conversion_exit_status(verdicts: Iterable[str]) -> int:
    """For `qcheck convert`: 2 when a strategy gave no output ("error"), 1 when one broke its promise ("fail")."""
    seen = set(verdicts)
    if "error" in seen:
        return EXIT_ERROR
    return EXIT_FINDINGS if "fail" in seen else EXIT_OK
