"""--confirm: ask each target's real runtime (in a child process) and set its answer beside qcheck's."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from qcheck.registry import Registry
from qcheck.reporting import Report
from qcheck.runtime import RunResult, run_interpreters
from qcheck.targets import Confirmation, TargetResult, runtime_version

TIMEOUT = 60.0


# LiteRT: "Node number 3 (CONV_2D) failed to prepare"; TFLite Micro: "Node CONV_2D (number 3) failed to prepare".
_NODE = re.compile(r"Node number (\d+) \(|Node \S+ \(number (\d+)\)")


def failing_node(message: str) -> int | None:
    """The operator index a runtime names as the first that failed, if it names one."""
    m = _NODE.search(message)
    return int(m.group(1) or m.group(2)) if m else None


def compare(result: TargetResult, run: RunResult, runtime: str, delegate: bool) -> Confirmation:
    """The runtime's answer against qcheck's verdict (and, for a delegate, its placement and partitions)."""
    if run.status == "unavailable":
        return Confirmation(runtime, run.status, run.message, None)
    runs = run.status == "ok"
    problems = []
    if runs != (result.verdict != "fails"):
        problems.append(f"the runtime {'runs' if runs else 'refuses'} the model, qcheck says {result.verdict}")
    delegated = partitions = None
    if runs and delegate:
        delegated, partitions = run.delegated, run.partitions
        real = set(run.delegated)
        for op in result.ops:
            if op.subgraph != 0:
                continue
            mine = op.placement == "accelerated"
            if mine != (op.operator in real):
                problems.append(f"op {op.operator} {op.opcode}: runtime {'accelerated' if op.operator in real else 'cpu'}, qcheck {op.placement}")
        if run.partitions != len(result.partitions):
            problems.append(f"{run.partitions} partition(s), qcheck says {len(result.partitions)}")
    message = "" if runs else " ".join(f"{run.message} {run.stderr}".replace("TFLM failed to allocate tensors", "").split())
    node = failing_node(message)
    if node is not None and result.verdict == "fails":
        unsupported = {op.operator for op in result.ops if op.subgraph == 0 and op.placement == "unsupported"}
        if unsupported and node not in unsupported:
            problems.append(f"the runtime stops at op {node}, which qcheck does not mark unsupported")
    return Confirmation(runtime, run.status, message[:400], not problems, tuple(problems), delegated, partitions)


def confirm(reports: Sequence[Report], registry: Registry) -> list[Report]:
    """The reports with each target result's `confirmed` filled in, one child process per runtime mode."""
    out = list(reports)
    names = {name for r in reports for name in r.targets}
    for name in sorted(names):
        target = registry.targets[name]
        if not target.confirm:
            continue
        todo = [i for i, r in enumerate(out) if name in r.targets]
        runs = run_interpreters([out[i].path for i in todo], TIMEOUT, runtime=target.confirm, memory_limit=4 << 30,
                                invoke=target.confirm != "xnnpack")
        for i, run in zip(todo, runs, strict=True):
            result = out[i].targets[name]
            confirmed = result._replace(confirmed=compare(result, run, runtime_version(target.runtime), target.delegate))
            out[i] = dataclasses.replace(out[i], targets={**out[i].targets, name: confirmed})
    return out
