"""`qcheck convert`: run registered strategies, verify each output against its promise, write atomically."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qcheck.convert.calibration import DEFAULT_SAMPLES, RANDOM_WARNING, CalibrationSource
from qcheck.convert.capture import captured_output, one_line, read_log
from qcheck.convert.request import ConversionError, ConvertRequest, ConvertResult, Progress, Silent
from qcheck.engine import Settings, verify_model
from qcheck.errors import ModelError, QcheckError, UsageError
from qcheck.fsutil import atomic_write
from qcheck.registry import Registry, Strategy, make_registry
from qcheck.tflite.reader import load


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
    keep_float: Sequence[str] = (),
) -> list[ConvertResult]:
    """Convert `source` with each (strategy name, output path or None) job; see `convert` and `convert_all`.

    Refusals (unknown strategy, bad paths, bad calibration data) raise UsageError before any
    conversion. A failing strategy raises ConversionError, or with `keep_going` becomes a result
    whose `error` is set while the others go on. Nothing is written for a strategy that failed.
    """
    registry = registry or make_registry()
    progress = progress or Silent()
    strategies = _strategies(registry, [name for name, _ in jobs])
    if not strategies:
        raise UsageError("no strategy to run: no loaded plugin registers one (see 'qcheck plugins')")
    if keep_float and (refusing := [s.name for s in strategies if not s.keeps_float]):
        able = ", ".join(s.name for s in registry.strategies.values() if s.keeps_float) or "none"
        raise UsageError(f"--keep-float needs a strategy that can leave ops in float ({able}), not {refusing[0]}")
    outputs = [out for _, out in jobs if out is not None]
    _check_paths(source, outputs, force, new_folder)
    needing = [s.name for s in strategies if s.needs_calibration]
    if needing and calibration is None:
        raise UsageError(f"strategy {needing[0]} needs calibration data: --calibration FILE.npy|FILE.npz|IMAGE_DIR|random")
    calib = CalibrationSource.parse(calibration, samples=samples, preprocess=preprocess) if needing else None
    if calib is not None and calib.kind == "random":
        (warn or (lambda m: print(m, file=sys.stderr)))(RANDOM_WARNING)
    with tempfile.TemporaryDirectory(prefix="qcheck-convert-") as tmp:
        request = ConvertRequest(source=source, workdir=Path(tmp), calibration_source=calib, unsafe=unsafe, conversions=len(jobs),
                                keep_float=tuple(keep_float))
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
    result = ConvertResult(strategy.name, strategy.expect, output=out, baseline=strategy.baseline)
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
                result.log = read_log(log)
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
