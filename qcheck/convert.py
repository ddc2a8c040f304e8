"""`qcheck convert`: run registered strategies, verify each output against its promise, write atomically."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from qcheck.calibration import DEFAULT_SAMPLES, RANDOM_WARNING, CalibrationData, CalibrationSource
from qcheck.engine import Settings, verify_model
from qcheck.errors import ModelError, QcheckError, UsageError
from qcheck.findings import Severity
from qcheck.fsutil import atomic_write
from qcheck.reader import load
from qcheck.registry import Registry, Strategy, make_registry
from qcheck.reporting import Report


class ConversionError(QcheckError):
    """A strategy could not convert the source (converter error, unsupported layer): exit status 2."""


class Progress(Protocol):
    """Where the orchestration reports what it is doing (the CLI shows it with rich, on stderr)."""

    def phase(self, strategy: str, text: str) -> None: ...

    def calibrated(self, done: int, total: int) -> None: ...


class _Silent:
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


@dataclass
class ConvertResult:
    """One strategy's outcome: the output, how long the converter took, and the verification report."""

    strategy: str
    expect: str
    output: Path | None = None
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

    @property
    def errors(self) -> int:
        return self.report.count(Severity.ERROR) if self.report else 0

    @property
    def verdict(self) -> str:
        """"ok" when the output keeps the strategy's promise, "fail" when not, "error" when there is no output."""
        if self.error is not None or self.report is None:
            return "error"
        return "fail" if self.errors else "ok"

    @property
    def scheme(self) -> str | None:
        value = self.report.facts.get("scheme") if self.report else None
        return None if value is None else str(value)


@contextmanager
def captured_output() -> Iterator[IO[bytes]]:
    """Send file descriptors 1 and 2 to a temp file while a framework runs, then restore them.

    Converters print from C++ and from Python ("Saved artifact at ..."), so redirecting
    sys.stdout is not enough: the descriptors themselves are swapped.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    streams = (sys.stdout, sys.stderr)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        # sys.stdout may not be fd 1 (pytest, notebooks): swap the Python streams as well.
        text = open(os.dup(log.fileno()), "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
        sys.stdout = sys.stderr = text
        try:
            yield log
        finally:
            text.flush()
            sys.stdout, sys.stderr = streams
            text.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _read_log(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode("utf-8", "replace")


def one_line(e: BaseException) -> str:
    """The most telling line of a (often multi-line) framework error message."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    pick = next((ln for ln in lines if "error:" in ln.lower()), lines[0] if lines else type(e).__name__)
    pick = pick.split("error:", 1)[-1].strip() if "error:" in pick.lower() and len(pick) > 60 else pick
    return pick if len(pick) <= 300 else pick[:297] + "..."


def _strategies(registry: Registry, names: Sequence[str]) -> list[Strategy]:
    out = []
    for name in names:
        if name not in registry.strategies:
            known = ", ".join(registry.strategies) or "none registered: is TensorFlow's plugin disabled?"
            raise UsageError(f"unknown strategy {name!r} (choose from: {known})")
        s = registry.strategies[name]
        if s.expect not in registry.expectations:
            raise UsageError(f"strategy {name!r} promises --expect {s.expect!r}, which no loaded plugin registers")
        out.append(s)
    return out


def _check_paths(source: Any, outputs: Sequence[Path], force: bool, new_folder: Path | None) -> None:
    """Everything that can be refused without loading a framework, refused before anything runs."""
    src = Path(source) if isinstance(source, (str, os.PathLike)) else None
    if src is not None:
        if not src.exists():
            raise UsageError(f"source {src} not found")
        if not os.access(src, os.R_OK):
            raise UsageError(f"source {src} is not readable")
    for out in outputs:
        if src is not None and (out.resolve() == src.resolve() or src.resolve() in out.resolve().parents):
            raise UsageError(f"output {out} would overwrite or write inside the source {src}")
        if out.is_dir():
            raise UsageError(f"output {out} is a folder; give a file name ending in .tflite (or use --all -o FOLDER)")
        if out.exists() and not force:
            raise UsageError(f"{out} exists (use --force to replace it)")
        folder = out.parent
        if new_folder is not None and folder == new_folder and not folder.exists():
            folder = folder.parent  # made by the run once every check has passed
        if not folder.is_dir():
            raise UsageError(f"cannot write {out}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(f"cannot write {out}: folder {folder} is not writable")


def run(
    source: Any,
    jobs: Sequence[tuple[str, Path | None]],
    *,
    calibration: object = None,
    samples: int = DEFAULT_SAMPLES,
    preprocess: str = "unit",
    unsafe: bool = False,
    force: bool = False,
    keep_going: bool = False,
    registry: Registry | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    new_folder: Path | None = None,
) -> list[ConvertResult]:
    """Convert `source` with each (strategy name, output path or None) job; see `convert` and `convert_all`.

    Refusals (unknown strategy, bad paths, bad calibration data) raise UsageError before any
    conversion. A failing strategy raises ConversionError, or with `keep_going` becomes a result
    whose `error` is set while the others go on. Nothing is written for a strategy that failed.
    """
    registry = registry or make_registry()
    progress = progress or _Silent()
    strategies = _strategies(registry, [name for name, _ in jobs])
    if not strategies:
        raise UsageError("no strategy to run: no loaded plugin registers one (see 'qcheck plugins')")
    outputs = [out for _, out in jobs if out is not None]
    _check_paths(source, outputs, force, new_folder)
    needing = [s.name for s in strategies if s.needs_calibration]
    if needing and calibration is None:
        raise UsageError(f"strategy {needing[0]} needs calibration data: --calibration FILE.npy|FILE.npz|IMAGE_DIR|random")
    calib = CalibrationSource.parse(calibration, samples=samples, preprocess=preprocess) if needing else None
    if calib is not None and calib.kind == "random":
        (warn or (lambda m: print(m, file=sys.stderr)))(RANDOM_WARNING)
    with tempfile.TemporaryDirectory(prefix="qcheck-convert-") as tmp:
        request = ConvertRequest(source=source, workdir=Path(tmp), calibration_source=calib, unsafe=unsafe, conversions=len(jobs))
        # Describing the inputs loads the source, once, before any conversion: a source that cannot be
        # loaded and calibration data that does not fit are refused before anything is written.
        loader = next((s for s in strategies if s.needs_calibration and s.inputs), None) or next((s for s in strategies if s.inputs), None)
        load_seconds = shared = 0.0
        if loader is not None and loader.inputs is not None:
            describe = loader.inputs
            progress.phase(loader.name, "loading the source")
            started = time.perf_counter()
            specs = _guarded(f"cannot load {source}", lambda: describe(request))
            load_seconds = time.perf_counter() - started
            if calib is not None and loader.needs_calibration:
                progress.phase(loader.name, f"checking calibration data ({calib.label})")
                request.calibration = calib.resolve(specs)
                request.calibration.on_sample.append(progress.calibrated)
                shared = time.perf_counter() - started - load_seconds  # qcheck's own work: charged to the first result
        if new_folder is not None:
            _mkdir(new_folder)
        results = []
        for strategy, (_, out) in zip(strategies, jobs, strict=True):
            results.append(_convert_one(strategy, out, request, registry, progress, force, keep_going))
        results[0].overhead += shared
        results[0].load_seconds = load_seconds
    return results


def _convert_one(
    strategy: Strategy, out: Path | None, request: ConvertRequest, registry: Registry, progress: Progress, force: bool, keep_going: bool
) -> ConvertResult:
    result = ConvertResult(strategy.name, strategy.expect, output=out)
    if strategy.needs_calibration and request.calibration is not None:
        result.calibration = request.calibration.label
    request.notes = []
    progress.phase(strategy.name, "converting")
    start = time.perf_counter()
    try:
        with captured_output() as log:
            try:
                data = strategy.convert(request)
            finally:
                result.log = _read_log(log)
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise ConversionError(f"strategy {strategy.name} returned {type(data).__name__}, not .tflite bytes")
        result.seconds = time.perf_counter() - start
        progress.phase(strategy.name, "verifying")
        try:
            model = load(bytes(data))
        except ModelError as e:
            raise ConversionError(f"strategy {strategy.name} produced an unreadable model: {e}") from e
        path = str(out) if out is not None else f"<{strategy.name}>"
        result.report = verify_model(model, registry, Settings(expect=strategy.expect), path)
        if out is not None:
            atomic_write(out, bytes(data), overwrite=force)
        else:
            result.data = bytes(data)
        result.size = len(data)
    except UsageError:
        raise  # a refusal that concerns every strategy (bad source, unwritable output)
    except Exception as e:
        if not keep_going:
            err = e if isinstance(e, ConversionError) else ConversionError(f"strategy {strategy.name} failed: {one_line(e)}")
            err.log = result.log  # type: ignore[attr-defined]  # shown with --debug
            if err is e:
                raise
            raise err from e
        result.error = str(e) if isinstance(e, ConversionError) else f"strategy {strategy.name} failed: {one_line(e)}"
    result.notes = tuple(request.notes)
    result.overhead = time.perf_counter() - start - result.seconds
    return result


def convert(source: Any, strategy: str, output: str | os.PathLike[str] | None = None, **kw: Any) -> ConvertResult:
    """Convert `source` (a SavedModel folder, .keras/.h5 file, Keras model or concrete functions) with one strategy.

    Keywords: calibration ("random", a .npy/.npz path, an image folder, an array or a dict of
    arrays by input name), samples, preprocess, unsafe, force, registry, progress, warn.
    Returns the result (with `data` when `output` is None); raises UsageError or ConversionError.
    """
    return run(source, [(strategy, None if output is None else Path(output))], **kw)[0]


def convert_all(
    source: Any, folder: str | os.PathLike[str] | None = None, strategies: Sequence[str] | None = None, **kw: Any
) -> list[ConvertResult]:
    """Convert with every registered strategy (or `strategies`) into `folder`/<strategy>.tflite; failures are kept."""
    registry = kw.get("registry") or make_registry()
    kw["registry"] = registry
    names = list(strategies or registry.strategies)
    target = None if folder is None else Path(folder)
    if target is not None and target.exists() and not target.is_dir():
        raise UsageError(f"output {target} exists and is not a folder")
    jobs = [(n, None if target is None else target / f"{n}.tflite") for n in names]
    return run(source, jobs, keep_going=True, new_folder=target, **kw)


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create {folder}: {e.strerror or e}") from None


def _guarded(what: str, fn: Callable[[], Sequence[Any]]) -> Sequence[Any]:
    """Run framework code quietly; its unexpected exceptions become one-line ConversionErrors."""
    try:
        with captured_output():
            return fn()
    except QcheckError:
        raise
    except Exception as e:
        raise ConversionError(f"{what}: {one_line(e)}") from e
