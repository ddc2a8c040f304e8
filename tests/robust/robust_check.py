"""The fuzzing invariant: every input gives a Report or one ModelError, quickly, in bounded memory."""

from __future__ import annotations

import contextlib
import io
import os
import random
import resource
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qcheck_report import html_plots
from robust_mutate import Seed, mutate

import qcheck
from qcheck import inspection
from qcheck.engine import CRASH_CODE, Settings, verify_model
from qcheck.modeldiff import model_changes
from qcheck.registry import Registry, make_registry
from qcheck.tflite.reader import load

ROOT = Path(__file__).resolve().parents[2]
SEED_FILES = sorted((ROOT / "fixtures" / "models").glob("*.tflite")) + sorted((ROOT / "tests" / "corpus" / "pypi").glob("*.tflite"))
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
TIME_LIMIT = float(os.environ.get("QCHECK_FUZZ_TIME_LIMIT", "5"))  # seconds per input (small files)
MEMORY_HEADROOM = 1 << 30  # address space a run may add on top of what the process already maps


class Timeout(Exception):
    """An input took longer than TIME_LIMIT."""


def load_seeds(max_bytes: int = 1 << 20) -> list[Seed]:
    return [Seed.of(p.name, p.read_bytes()) for p in SEED_FILES if p.stat().st_size <= max_bytes]


def fuzz_count(default: int) -> int:
    """How many inputs a test generates: QCHECK_FUZZ_SCALE multiplies the CI-sized default."""
    return int(default * float(os.environ.get("QCHECK_FUZZ_SCALE", "1")))


def fuzz_seed(default: int) -> int:
    return int(os.environ.get("QCHECK_FUZZ_SEED", default))


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Timeout in the main thread after `seconds` (no-op off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum: int, frame: object) -> None:
        raise Timeout(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def memory_limit(headroom: int = MEMORY_HEADROOM) -> Iterator[None]:
    """Cap the address space at what is mapped now plus `headroom`: an allocation sized by a
    length field then raises MemoryError instead of exhausting the machine. Restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _mapped_bytes() + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@dataclass
class Checker:
    """Runs qcheck on one input and says what went wrong, if anything (None = invariant holds)."""

    registry: Registry = field(default_factory=lambda: make_registry(external=False))
    settings: Settings = field(default_factory=Settings)
    time_limit: float = TIME_LIMIT
    render_every: int = 8  # rendering (rich) costs more than verifying: exercise it on every 8th report
    checked: int = 0
    reports: int = 0
    errors: int = 0
    slowest: float = 0.0
    previous: qcheck.Model | None = None  # the last model rendered: `qcheck diff` against it

    def check(self, data: bytes) -> str | None:
        self.checked += 1
        start = time.perf_counter()
        try:
            with time_limit(self.time_limit):
                try:
                    model = load(data)
                except qcheck.ModelError as e:
                    self.errors += 1
                    return _bad_message(str(e))
                report = verify_model(model, self.registry, self.settings)
                if self.render_every and self.reports % self.render_every == 0:
                    self._render(model, report)
        except Timeout as e:
            return f"Timeout: {e}"
        except (Exception, SystemExit) as e:  # noqa: BLE001  (the invariant: nothing but a Report or a ModelError)
            return _describe(e)
        finally:
            self.slowest = max(self.slowest, time.perf_counter() - start)
        self.reports += 1
        crashed = [f.message for f in report.findings if f.code == CRASH_CODE]
        return f"{CRASH_CODE}: {crashed[0]}" if crashed else None

    def _render(self, model: qcheck.Model, report: qcheck.Report) -> None:
        """The rest of the pipeline a user sees: the reporters and `inspect` (its console table,
        slow with rich, only now and then on small models)."""
        for reporter in self.registry.reporters.values():
            reporter.render([report], io.StringIO())
        inspection.describe(model, "<fuzz>")
        if (changes := model_changes(model, model)[0]):  # `qcheck diff`: no crash, and a model equals itself
            raise AssertionError(f"diff of a model with itself: {changes[0]}")
        if self.reports % (16 * self.render_every) == 0 and model.subgraphs:  # the HTML report's plots (matplotlib: slow)
            sub = model.subgraphs[0]
            html_plots.activation_scales(model, sub)
            html_plots.weight_scale_spread(model, sub)
            html_plots.weight_histograms(model, sub, range(min(len(sub.tensors), 8)), limit=2)
        if self.previous is not None:  # and against another (mutated) model, both ways
            model_changes(self.previous, model)
            model_changes(model, self.previous)
        self.previous = model
        if self.reports % (8 * self.render_every) == 0 and model.file_size < 64_000:
            inspection.render(model, "<fuzz>", io.StringIO())


def _bad_message(message: str) -> str | None:
    """A ModelError must be one line that says something."""
    if not message.strip() or "\n" in message:
        return f"bad ModelError message: {message!r}"
    return None


def _describe(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(e).__name__} at {where}: {str(e)[:200]}"


def run_mutations(checker: Checker, seeds: list[Seed], count: int, seed: int) -> list[tuple[str, str, bytes]]:
    """`count` mutated inputs from a seeded generator; returns (failure, mutation, bytes) for each failure."""
    rnd = random.Random(seed)
    failures = []
    with memory_limit():
        for _ in range(count):
            what, data = mutate(rnd, rnd.choice(seeds))
            problem = checker.check(data)
            if problem is not None:
                failures.append((problem, what, data))
    return failures


def save_failures(failures: list[tuple[str, str, bytes]], folder: Path, prefix: str = "failure") -> list[Path]:
    """Write each distinct failure's first input (so it can be added to regressions/)."""
    folder.mkdir(parents=True, exist_ok=True)
    out, seen = [], set()
    for problem, what, data in failures:
        key = problem.split(":")[0] + problem.split(" at ")[-1].split(":")[0]
        if key in seen:
            continue
        seen.add(key)
        path = folder / f"{prefix}-{len(out)}.tflite"
        path.write_bytes(data)
        path.with_suffix(".txt").write_text(f"{problem}\n{what}\n")
        out.append(path)
    return out


def summary(failures: list[tuple[str, str, bytes]], limit: int = 8) -> str:
    return "\n".join(f"{problem}  <- {what}" for problem, what, _ in failures[:limit])
