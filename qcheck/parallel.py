"""Verify many models in worker processes; the same reports in the same order as a sequential run, as they are done."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence

from qcheck.engine import Settings, verify_file
from qcheck.registry import Registry
from qcheck.reporting import Report

# What forked workers inherit from the parent: the registry (plugins included) and the settings.
_WORKER: tuple[Registry, Settings] | None = None


def _verify_in_worker(path: str) -> Report:
    assert _WORKER is not None
    return verify_file(path, *_WORKER)


def default_jobs() -> int:
    """The CPUs this process may use (respects affinity masks and container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def verify_iter(paths: Sequence[str], registry: Registry, settings: Settings, jobs: int | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[Report]:
    """Reports for `paths`, in order, as they are done; with jobs > 1 and several files, from forked worker processes.

    `progress(n)` is called with the number of models done after each one.
    """
    global _WORKER
    jobs = min(default_jobs() if jobs is None else max(1, jobs), len(paths))
    if jobs > 1:
        import multiprocessing  # only for several files: keeps it off the start-up path
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from _counted((verify_file(p, registry, settings) for p in paths), progress)
        return
    _WORKER = (registry, settings)
    try:
        # fork: workers start in milliseconds with the plugins already loaded (no re-import).
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            chunk = max(1, min(16, len(paths) // (jobs * 8)))
            yield from _counted(pool.imap(_verify_in_worker, paths, chunksize=chunk), progress)
    finally:
        _WORKER = None


def _counted(reports: Iterable[Report], progress: Callable[[int], None] | None) -> Iterator[Report]:
    for done, r in enumerate(reports, 1):
        yield r
        if progress is not None:
            progress(done)
