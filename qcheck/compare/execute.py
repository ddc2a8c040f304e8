"""Shards of samples to worker processes (a local pool, or Ray tasks), their sums merged in shard order as they come."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from qcheck.compare.data import Samples
from qcheck.compare.stats import Sums
from qcheck.compare.worker import Plan, run_shard
from qcheck.convert.capture import captured_output, one_line
from qcheck.errors import QcheckError, UsageError

# Samples per task. Fixed, never derived from -j: local runs, any -j and Ray then add the same partial
# sums in the same order, so their results are equal bit for bit. Small, so that the last shards keep
# every worker busy (a task costs about a millisecond; a ResNet50 sample a third of a second).
SHARD = 2


class RuntimeFailure(QcheckError):
    """The interpreter crashed, hung or refused the models in a worker."""


def shards(count: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + SHARD, count)) for lo in range(0, count, SHARD)]


def _merged(results: Iterator[tuple[int, Sums]], total: Sums, progress: Callable[[int], None] | None) -> Sums:
    for done, sums in results:
        total.merge(sums)
        if progress:
            progress(done)
    return total


_PLAN: dict[str, Plan] = {}


def _init_worker(plan: Plan) -> None:
    import os

    # LiteRT's own chatter ("Created TensorFlow Lite XNNPACK delegate") would interleave with the report;
    # a worker's failures reach the parent as exceptions or as its death, not through its stderr.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    _PLAN["plan"] = plan


def _local_shard(batch: list[list[Any]]) -> Sums:
    return run_shard(_PLAN["plan"], batch)


def run_local(plan: Plan, samples: Samples, jobs: int, zero: Sums, progress: Callable[[int], None] | None = None) -> Sums:
    """Shards over `jobs` forked worker processes; at most 2 x jobs shards in flight, merged in order."""

    def results() -> Iterator[tuple[int, Sums]]:
        ctx = multiprocessing.get_context("fork")
        pending: deque[tuple[tuple[int, int], Future[Sums]]] = deque()
        todo = deque(shards(samples.count))
        workers = max(1, min(jobs, len(todo)))  # each worker builds three interpreters: no more than there is work for
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(plan,)) as pool:
            try:
                while todo or pending:
                    while todo and len(pending) < 2 * workers:
                        lo, hi = todo.popleft()
                        pending.append(((lo, hi), pool.submit(_local_shard, samples.shard(lo, hi))))
                    (lo, hi), future = pending.popleft()
                    yield hi, _answer(future.result, lo, hi, plan.timeout)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # a failed run does not wait for the shards queued behind
                raise

    return _merged(results(), zero, progress)


def _answer(get: Callable[[], Sums], lo: int, hi: int, timeout: float) -> Sums:
    """A shard's sums, or one line saying how its worker failed."""
    try:
        return get()
    except BrokenProcessPool:
        # The pool breaks as a whole: the shard awaited first is named, the culprit may be one in flight with it.
        raise RuntimeFailure(f"an interpreter process died while running samples {lo}-{hi - 1} or others in flight with them "
                             f"(a crash, or no answer within {timeout:g} s per sample)") from None
    except (ValueError, RuntimeError) as e:
        raise RuntimeFailure(f"LiteRT could not run the models on samples {lo}-{hi - 1}: {one_line(e)}") from None


def _ray_shard(key: str, plan_ref: list[Any], batch: list[list[Any]]) -> Sums:
    """A Ray task: the plan (hundreds of MB of models) is fetched from the object store only by a worker
    that does not hold it yet; passed as a plain argument, Ray would copy it into every task."""
    plan = _PLAN.get("plan")
    if plan is None or plan.key != key:
        import ray

        plan = _PLAN["plan"] = ray.get(plan_ref[0])
    return run_shard(plan, batch)


def run_ray(plan: Plan, samples: Samples, address: str | None, jobs: int, zero: Sums,
            progress: Callable[[int], None] | None = None) -> Sums:
    """The same shards as Ray tasks (a local instance with `jobs` CPUs, or the cluster at `address`), merged in order."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'qcheck[ray]'") from None
    started = not ray.is_initialized()
    if started and address:
        _reachable(address)
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        try:
            with captured_output():  # Ray's C++ core logs every retry of a failed connection; one line says it below
                ray.init(address=address, **options) if address else ray.init(num_cpus=jobs, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            hint = " (a cluster with token authentication, the default since Ray 2.59, needs its token: RAY_AUTH_TOKEN, see " \
                   "`ray get-auth-token`)" if address else ""
            raise UsageError(f"cannot start or reach Ray{' at ' + address if address else ''}: {e}{hint}") from None
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_shard)
        plan_ref = ray.put(plan)
        width = max(2, 2 * int(ray.cluster_resources().get("CPU", jobs)))

        def results() -> Iterator[tuple[int, Sums]]:
            pending: deque[tuple[tuple[int, int], Any]] = deque()
            todo = deque(shards(samples.count))
            while todo or pending:
                while todo and len(pending) < width:
                    lo, hi = todo.popleft()
                    pending.append(((lo, hi), task.remote(plan.key, [plan_ref], samples.shard(lo, hi))))
                (lo, hi), ref = pending.popleft()
                yield hi, _ray_answer(ray, ref, lo, hi, plan.timeout)

        return _merged(results(), zero, progress)
    finally:
        if started:
            ray.shutdown()


def _reachable(address: str) -> None:
    """A HOST:PORT nothing listens on fails here at once: ray.init would retry for minutes."""
    import socket

    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", "ray://...": Ray resolves those itself
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise UsageError(f"cannot reach Ray at {address}: {e.strerror or e}") from None


def _ray_answer(ray: Any, ref: Any, lo: int, hi: int, timeout: float) -> Sums:
    try:
        result: Sums = ray.get(ref)
        return result
    except ray.exceptions.WorkerCrashedError:
        raise RuntimeFailure(f"a Ray worker died on samples {lo}-{hi - 1} (a crash, or no answer within {timeout:g} s per sample)") from None
    except ray.exceptions.RayTaskError as e:
        cause = e.cause if getattr(e, "cause", None) is not None else e
        if isinstance(cause, ValueError):  # what the worker raises for an interpreter's refusal
            raise RuntimeFailure(f"LiteRT could not run the models on samples {lo}-{hi - 1}: {one_line(cause)}") from None
        raise RuntimeFailure(f"a Ray task failed on samples {lo}-{hi - 1} ({type(cause).__name__}: {one_line(cause)}); "
                             "every Ray node needs qcheck and ai-edge-litert installed") from None
    except ray.exceptions.RayError as e:  # out of memory, a node lost, an object lost: Ray's own failures
        raise RuntimeFailure(f"Ray failed on samples {lo}-{hi - 1}: {type(e).__name__}: {one_line(e)}") from None
