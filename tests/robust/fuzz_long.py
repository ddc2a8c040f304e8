"""A long fuzz session: the CI fuzz tests' generators, for minutes or hours, on every core.

    .venv/bin/python tests/robust/fuzz_long.py --minutes 60 --jobs 2 --out /tmp/qcheck-fuzz

Each worker runs chunks of inputs (structure-aware mutations of the fixtures and the corpus, and
random ModelBuilder models) under the same invariant as the tests, in a capped address space. Every
distinct failure is written to --out as NAME.tflite + NAME.txt (what broke, which mutation); copy
the ones worth keeping to tests/robust/regressions/ with a name that says the bug.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from robust_check import Checker, load_seeds, memory_limit, run_mutations, save_failures
from robust_models import RandomChooser, random_model

CHUNK = 500
_STATE: dict[str, object] = {}


def _chunk(seed: int) -> tuple[int, float, list[tuple[str, str, bytes]]]:
    """One chunk of inputs in a worker: (count, slowest seconds, failures)."""
    if not _STATE:
        seeds = load_seeds()
        _STATE.update(checker=Checker(), small=[s for s in seeds if len(s.data) < 40_000], large=[s for s in seeds if len(s.data) >= 40_000])
    checker: Checker = _STATE["checker"]  # type: ignore[assignment]
    kind = seed % 5
    if kind < 3:
        failures = run_mutations(checker, _STATE["small"], CHUNK, seed)  # type: ignore[arg-type]
    elif kind == 3:
        failures = run_mutations(checker, _STATE["large"], CHUNK // 4, seed)  # type: ignore[arg-type]
    else:
        rnd, failures = random.Random(seed), []
        with memory_limit():
            for _ in range(CHUNK // 2):
                data = random_model(RandomChooser(rnd))
                problem = checker.check(data)
                if problem:
                    failures.append((problem, f"random_model(seed={seed})", data))
    count = CHUNK if kind < 3 else CHUNK // 4 if kind == 3 else CHUNK // 2
    slowest, checker.slowest = checker.slowest, 0.0
    return count, slowest, failures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="stop after this long (default 10)")
    p.add_argument("--count", type=int, default=0, help="or stop after this many inputs (0: no limit)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=int(time.time()), help="first chunk seed (default: the clock)")
    p.add_argument("--out", type=Path, default=Path("/tmp/qcheck-fuzz"), help="where failing inputs are written")
    args = p.parse_args(argv)
    deadline, start = time.monotonic() + 60 * args.minutes, time.monotonic()
    total, slowest, failures = 0, 0.0, []
    next_seed = args.seed
    print(f"fuzzing with {args.jobs} workers from seed {args.seed} for {args.minutes} min", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        running: set[Future[tuple[int, float, list[tuple[str, str, bytes]]]]] = set()
        while True:
            done_enough = time.monotonic() > deadline or (args.count and total >= args.count)
            while not done_enough and len(running) < 2 * args.jobs:
                running.add(pool.submit(_chunk, next_seed))
                next_seed += 1
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                n, slow, bad = f.result()
                total, slowest = total + n, max(slowest, slow)
                failures += bad
            rate = total / (time.monotonic() - start)
            print(f"\r{total} inputs, {rate:.0f}/s, slowest {slowest:.2f} s, {len(failures)} failures", end="", flush=True)
    print()
    if failures:
        for path in save_failures(failures, args.out, f"seed{args.seed}"):
            print(f"  {path}: {path.with_suffix('.txt').read_text().splitlines()[0]}")
    print(f"seeds {args.seed}..{next_seed - 1}: {total} inputs in {time.monotonic() - start:.0f} s, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
