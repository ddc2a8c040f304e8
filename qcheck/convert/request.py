"""What a strategy receives and what a conversion gives back: typed values shared by the orchestration and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qcheck.convert.calibration import CalibrationData, CalibrationSource
from qcheck.errors import QcheckError
from qcheck.findings import Severity
from qcheck.reporting import Report


class ConversionError(QcheckError):
    """A strategy could not convert the source (converter error, unsupported layer): exit status 2."""


class Progress(Protocol):
    """Where the orchestration reports what it is doing (the CLI shows it with rich, on stderr)."""

    def phase(self, strategy: str, text: str) -> None: ...

    def calibrated(self, done: int, total: int) -> None: ...


class Silent:
    """Progress that shows nothing (the Python API's default)."""

    def phase(self, strategy: str, text: str) -> None:
        pass

    def calibrated(self, done: int, total: int) -> None:
        pass


@dataclass
class ConvertRequest:
    """What a strategy's `convert(request) -> bytes` (and `inputs(request)`) receives."""

    source: Any  # a path (str or Path) or a framework object, e.g. a Keras model or concrete functions
    workdir: Path  # scratch folder, removed after the run
    calibration: CalibrationData | None = None  # validated samples (strategies that declare `inputs`)
    calibration_source: CalibrationSource | None = None  # the raw request, for strategies without `inputs`
    unsafe: bool = False  # allow loading code embedded in the source (Keras Lambda layers)
    cache: dict[str, Any] = field(default_factory=dict)  # shared by the strategies of one run (the loaded model)
    conversions: int = 1  # how many strategies will convert this source in this run (to plan for reuse)
    notes: list[str] = field(default_factory=list)  # plain-language remarks a strategy adds for the report
    # --keep-float: op types (e.g. "MEAN") and op names (their output tensor's name) to leave in float
    keep_float: tuple[str, ...] = ()


@dataclass
class ConvertResult:
    """One strategy's outcome: the output, how long the converter took, and the verification report."""

    strategy: str
    expect: str
    output: Path | None = None
    baseline: bool = False  # the strategy's output is the unquantized reference (see Strategy.baseline)
    data: bytes | None = None  # kept only when there is no output path (Python API)
    size: int = 0
    seconds: float = 0.0  # time inside the strategy's convert (the converter itself)
    load_seconds: float = 0.0  # loading the source (framework import included), before the first conversion
    overhead: float = 0.0  # qcheck's own time around it: calibration loading, verification, writing
    report: Report | None = None
    notes: tuple[str, ...] = ()
    calibration: str | None = None  # what the strategy calibrated on, e.g. "32 samples from calib.npy"
    error: str | None = None
    log: str = ""  # what the converter printed on stdout/stderr (shown with --debug)
    # `convert --all --data`: output SQNR against the float32 output, top-1 agreement (qcheck.convert.accuracy)
    accuracy: dict[str, object] | None = None

    @property
    def errors(self) -> int:
        return self.report.count(Severity.ERROR) if self.report else 0

    @property
    def verdict(self) -> str:
        """"error" when there is no output; else "fail" when verifying it with --expect (the strategy's promise) gives an ERROR, "ok" when not."""
        if self.error is not None or self.report is None:
            return "error"
        return "fail" if self.errors else "ok"

    @property
    def headline(self) -> str | None:
        """The output's headline fact (with the built-in plugins: its detected quantization scheme)."""
        return self.report.headline if self.report else None
