"""What LiteRT's builtin kernels and TFLite Micro do with each third-party and fixture model, cached by sha256.

Each model is loaded, allocated and invoked once on zero inputs, in a child process with a time
limit (qcheck.runtime). The verdicts are kept in tests/truth/runtime_verdicts.json so that `make
test` does not rerun two interpreters over 480 models; models missing from it are run live. After
upgrading ai-edge-litert or tflite-micro, or adding models: `.venv/bin/python tests/helpers/verdicts.py`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from testpaths import FIXTURES, LOCAL_MODELS, ROOT, SHARED_CORPUS, SHARED_MODELS

from qcheck.runtime import RunResult, run_interpreters

CACHE = ROOT / "tests" / "truth" / "runtime_verdicts.json"
# LiteRT's builtin kernels and TFLite Micro: load, allocate, invoke; XNNPACK: which ops it delegates.
RUNTIMES = ("litert-builtin", "tflm", "xnnpack")
PACKAGES = {"litert-builtin": "ai-edge-litert", "tflm": "tflite-micro", "xnnpack": "ai-edge-litert"}
TIMEOUT = 60.0


class Verdict(NamedTuple):
    """One runtime's answer: status (ok, error, crash, timeout) and the reason it gave."""

    status: str
    reason: str
    delegated: tuple[int, ...] = ()  # xnnpack: the operators of subgraph 0 it took
    partitions: int = 0  # xnnpack: into how many DELEGATE nodes


def all_models() -> list[Path]:
    """Fixtures, the in-repo corpus and (when beside the clone) the whole shared corpus, one per content."""
    seen: dict[str, Path] = {}
    for p in [*sorted(FIXTURES.glob("*.tflite")), *LOCAL_MODELS, *SHARED_MODELS]:
        seen.setdefault(sha256(p), p)
    return list(seen.values())


@cache
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reason(result: RunResult) -> str:
    """What the runtime said: LiteRT's exception and TFLite Micro's native complaints, on one line."""
    if result.status == "ok":
        return ""
    text = " ".join(f"{result.message} {result.stderr}".split())
    return text.replace("TFLM failed to allocate tensors ", "")[:400]


def versions() -> dict[str, str]:
    return {rt: importlib.metadata.version(pkg) for rt, pkg in PACKAGES.items()}


def run(models: Sequence[Path]) -> dict[str, dict[str, Verdict]]:
    """Run every model through both runtimes now: sha256 -> runtime -> verdict."""
    out: dict[str, dict[str, Verdict]] = {sha256(p): {} for p in models}
    for rt in RUNTIMES:
        results = run_interpreters(list(models), TIMEOUT, runtime=rt, memory_limit=4 << 30, invoke=rt != "xnnpack")
        for p, r in zip(models, results, strict=True):
            out[sha256(p)][rt] = Verdict(r.status, reason(r), r.delegated, r.partitions)
    return out


def verdicts(models: Sequence[Path]) -> dict[str, dict[str, Verdict]]:
    """The cached verdicts of `models` (for the installed runtime versions), running the missing ones live."""
    cached = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    table = cached.get("models", {}) if cached.get("versions") == versions() else {}
    known = {sha: {rt: Verdict(v[0], v[1], tuple(v[2]), v[3]) if len(v) > 2 else Verdict(*v) for rt, v in entry["verdicts"].items()}
             for sha, entry in table.items()}
    missing = [p for p in models if sha256(p) not in known]
    if missing:
        known.update(run(missing))
    return {sha256(p): known[sha256(p)] for p in models}


def _shown(path: Path) -> str:
    """A path that means the same on every machine: in the repository, or in the shared corpus."""
    if path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    return "../shared/corpus/" + str(path.relative_to(SHARED_CORPUS)) if path.is_relative_to(SHARED_CORPUS) else path.name


def write_cache(models: Sequence[Path]) -> None:
    table = run(models)
    data = {"versions": versions(), "models": {
        sha256(p): {"path": _shown(p),
                    "verdicts": {rt: list(v) if rt == "xnnpack" else list(v[:2]) for rt, v in table[sha256(p)].items()}} for p in sorted(models, key=sha256)}}
    CACHE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_cache(all_models())
    print(f"wrote {CACHE} ({len(all_models())} models)", file=sys.stderr)
