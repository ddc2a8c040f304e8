"""Target verdicts: where each operator runs on a target, the delegate's partitions and the model's verdict."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from qcheck.findings import Finding, Severity

if TYPE_CHECKING:
    from qcheck.registry import Target
    from qcheck.tflite.model import Model, Operator, Subgraph

# accelerated: in a delegate partition; cpu: the runtime's builtin kernel; unsupported: the runtime
# cannot run the op (the model fails); unknown: qcheck cannot tell (a reason says why).
PLACEMENTS = ("accelerated", "cpu", "unsupported", "unknown")
VERDICTS = ("runs", "runs-partly", "fails")
# What a finding's details["runtimes"] may say a runtime does with what it found, e.g. {"litert": "rejects",
# "tflm": "runs"}: refuse or crash on it (fatal: a profile counts the op unsupported), compute a wrong
# result ("wrong"), or run it right ("runs").
FATAL_EFFECTS = frozenset({"rejects", "crashes", "aborts"})


class Reason(NamedTuple):
    """Why an op is placed where it is: a profile's rule id and a message with the actual values."""

    rule: str
    message: str


class OpPlacement(NamedTuple):
    """Where one operator runs on a target."""

    subgraph: int
    operator: int
    opcode: str  # the op's label: builtin name, or CUSTOM(name)
    placement: str  # one of PLACEMENTS
    reasons: tuple[Reason, ...] = ()
    macs: int = 0  # multiply-accumulates of one invocation (0 where not counted)


class Confirmation(NamedTuple):
    """The real runtime's own answer (--confirm), beside qcheck's."""

    runtime: str  # "ai-edge-litert 2.3.0"
    status: str  # qcheck.runtime.RunResult.status: ok, error, crash, timeout, unavailable
    message: str  # the runtime's reason, when it refused
    agrees: bool | None  # None: the runtime could not be asked (not installed)
    disagreements: tuple[str, ...] = ()  # what differs, e.g. "op 7 AVERAGE_POOL_2D: runtime cpu, qcheck accelerated"
    delegated: tuple[int, ...] | None = None  # a delegate's operators of subgraph 0, as the runtime placed them
    partitions: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._asdict().items()}


class Placed(NamedTuple):
    """What a profile's `place` returns: every operator's placement, and problems no single op owns."""

    ops: tuple[OpPlacement, ...]
    problems: tuple[Reason, ...] = ()  # model-wide reasons the runtime refuses the model (the verdict is "fails")


class TargetResult(NamedTuple):
    """One target's answer for one model."""

    target: str
    verdict: str  # one of VERDICTS
    runtime: str  # "ai-edge-litert 2.3.0": the runtime the profile describes
    ops: tuple[OpPlacement, ...]
    partitions: tuple[tuple[int, ...], ...] = ()  # subgraph 0's delegate partitions, as operator indices
    problems: tuple[Reason, ...] = ()  # model-wide reasons the runtime refuses the model
    confirmed: Confirmation | None = None  # --confirm: what the real runtime did
    delegate: bool = False  # the target accelerates ops (its ops are placed accelerated or cpu), not a runtime of its own

    def count(self, placement: str) -> int:
        return sum(1 for op in self.ops if op.placement == placement)

    @property
    def transitions(self) -> int:
        """How often execution in subgraph 0 passes between the accelerator and the CPU (what costs latency)."""
        sides = [op.placement == "accelerated" for op in self.ops if op.subgraph == 0]
        return sum(1 for a, b in itertools.pairwise(sides) if a != b)

    @property
    def mac_share(self) -> float | None:
        """The share of MACs in accelerated ops (None when the model has none counted)."""
        total = sum(op.macs for op in self.ops)
        return sum(op.macs for op in self.ops if op.placement == "accelerated") / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "runtime": self.runtime, "problems": [r._asdict() for r in self.problems],
                "partitions": [{"ops": list(p)} for p in self.partitions], "transitions": self.transitions,
                "ops": [{"subgraph": o.subgraph, "operator": o.operator, "opcode": o.opcode, "placement": o.placement,
                         "reasons": [r._asdict() for r in o.reasons]} for o in self.ops],
                **({"confirmed": self.confirmed.to_json()} if self.confirmed is not None else {})}


@cache
def runtime_version(distribution: str) -> str:
    """"ai-edge-litert 2.3.0", or "ai-edge-litert (not installed)": the profile still answers from its tables."""
    if not distribution:
        return ""
    import importlib.metadata  # (only with --target: costs ~25 ms of imports on every start)

    try:
        return f"{distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{distribution} (not installed)"


def judge(target: Target, model: Model, facts: Mapping[str, object], findings: Sequence[Finding] = ()) -> TargetResult:
    """Place every operator with the target's profile, partition the delegated ones and give the verdict."""
    placed = target.place(model, facts, findings)
    ops = placed.ops
    partitions: tuple[tuple[int, ...], ...] = ()
    if target.delegate and model.subgraphs:
        chosen = {op.operator for op in ops if op.subgraph == 0 and op.placement == "accelerated"}
        partitions = partition(model.subgraphs[0], chosen, side_effects(model))
        ops, partitions = keep_partitions(target, ops, partitions)
    if placed.problems or any(op.placement == "unsupported" for op in ops):
        verdict = "fails"
    elif target.delegate and any(op.placement != "accelerated" for op in ops):
        verdict = "runs-partly"
    else:
        verdict = "runs"
    return TargetResult(target.name, verdict, runtime_version(target.runtime), ops, partitions, placed.problems,
                        delegate=target.delegate)


def keep_partitions(target: Target, ops: tuple[OpPlacement, ...],
                    partitions: tuple[tuple[int, ...], ...]) -> tuple[tuple[OpPlacement, ...], tuple[tuple[int, ...], ...]]:
    """The partitions the target's delegate or compiler keeps (`Target.partitioning`); the ops of the others go to the CPU.

    - "all": every partition (LiteRT's XNNPACK delegate; Vela).
    - "largest:N": the N partitions with the most ops (LiteRT `tflite/delegates/utils.cc`
      GraphPartitionHelper::GetFirstNLargestPartitions; the GPU delegate's default is 1, NNAPI's 3).
    - "prefix": one segment, from the first op that can map (input QUANTIZE ops may stay on the
      CPU) up to the next op that cannot; everything after it runs on the CPU even where supported
      (the Edge TPU compiler without `-a`: one TPU subgraph; targets.md §4.3).
    """
    policy = target.partitioning
    if policy == "all" or not partitions:
        return ops, partitions
    if policy.startswith("largest:"):
        n = int(policy.split(":", 1)[1])
        kept = tuple(sorted(sorted(partitions, key=lambda p: (-len(p), p[0]))[:n], key=lambda p: p[0]))
        why = f"its partition of {{size}} op(s) is not among the {n} largest, which is all {target.name} delegates"
    elif policy == "prefix":
        sg0 = [op for op in ops if op.subgraph == 0]
        start = next((op.operator for op in sg0 if op.placement == "accelerated"), len(sg0))
        end = next((op.operator for op in sg0[start:] if op.placement != "accelerated"), None)
        if start == len(sg0):
            kept = ()
        else:
            kept = partitions if end is None and start == 0 else (tuple(range(start, end if end is not None else len(sg0))),)
        why = f"it comes after op {end}, the first op {target.name} cannot map after its segment starts: the graph is cut there"
    else:
        raise ValueError(f"target {target.name!r}: unknown partitioning {policy!r}")
    size = {i: len(p) for p in partitions for i in p}
    on = {i for p in kept for i in p}
    out = tuple(op._replace(placement="cpu", reasons=(Reason(f"{target.name}:partition", why.format(size=size.get(op.operator, 0))),))
                if op.subgraph == 0 and op.placement == "accelerated" and op.operator not in on else op for op in ops)
    return out, kept


def side_effects(model: Model) -> frozenset[int]:
    """Operators of subgraph 0 that LiteRT treats as having side effects: they keep their order across partitions.

    LiteRT `tflite/core/subgraph.cc` OpMightHaveSideEffect: an op reading or writing a RESOURCE
    tensor, or a control-flow op (IF, WHILE, CALL_ONCE) whose subgraphs may have side effects.
    """
    resources = [{t.index for t in sub.tensors if t.dtype == "RESOURCE"} for sub in model.subgraphs]

    def touches(i: int, op: Operator) -> bool:
        return not resources[i].isdisjoint(op.inputs) or not resources[i].isdisjoint(op.outputs)

    def subgraph_effects(i: int) -> bool:
        return 0 <= i < len(model.subgraphs) and bool(resources[i]) and any(touches(i, op) for op in model.subgraphs[i].operators)

    control = ("IF", "WHILE", "CALL_ONCE")
    if not any(resources) or not any(op.opcode in control or touches(0, op) for op in model.subgraphs[0].operators):
        return frozenset()
    out = set()
    for op in model.subgraphs[0].operators:
        if touches(0, op):
            out.add(op.index)
        elif op.opcode in control:
            branches = [v for k, v in op.options.items() if k.endswith("subgraph_index") and isinstance(v, int)]
            if any(subgraph_effects(b) for b in branches):
                out.add(op.index)
    return frozenset(out)


def partition(sub: Subgraph, chosen: set[int], effects: frozenset[int] = frozenset()) -> tuple[tuple[int, ...], ...]:
    """The delegate partitions LiteRT makes of `chosen` operators: its greedy epoch walk, rewritten.

    LiteRT `tflite/graph_info.cc` PartitionGraphIntoIndependentNodeSubsetsImpl (greedy, with a
    control edge between consecutive side-effect ops): each epoch takes every op of the epoch's kind
    (delegated or not) whose inputs are ready, again and again until none is left; the kind is that
    of the first ready op in execution order. The partitions are the delegated epochs. Here the
    sweeps are a ready set, so the walk costs O(ops log ops) however the kinds alternate.
    """
    ops = sub.operators
    if not chosen:
        return ()
    producers = sub.producers
    if len(chosen) == len(ops) and all(producers.get(t, -1) < op.index for op in ops for t in op.inputs):
        # One kind, in execution order: the first epoch takes every op (each is ready when its turn comes).
        return (tuple(range(len(ops))),)
    pending = [0] * len(ops)
    for op in ops:
        pending[op.index] = sum(1 for t in set(op.inputs) if t in sub.producers)
    order = sorted(effects)
    after = dict(itertools.pairwise(order))  # side-effect op -> the next one, which waits for it
    for later in after.values():
        pending[later] += 1
    ready = [op.index for op in ops if pending[op.index] == 0]
    heapq.heapify(ready)
    parts: list[tuple[int, ...]] = []
    while ready:
        kind = ready[0] in chosen  # the first ready op in execution order sets the epoch's kind
        waiting, members = [], []
        while ready:
            i = heapq.heappop(ready)
            if (i in chosen) != kind:
                waiting.append(i)
                continue
            members.append(i)
            freed = [c for t in set(ops[i].outputs) if t >= 0 for c in set(sub.consumers.get(t, ()))]
            if i in after:
                freed.append(after[i])
            for c in freed:
                pending[c] -= 1
                if pending[c] == 0:
                    heapq.heappush(ready, c)
        for i in waiting:
            heapq.heappush(ready, i)
        if kind:
            parts.append(tuple(sorted(members)))
    return tuple(parts)


def judge_for_targets(findings: list[Finding], judges: Mapping[str, str]) -> list[Finding]:
    """Findings that say what runtimes do, re-judged for the targets asked for (`judges`: target -> runtime key).

    A finding that names the effect on every target's runtime: ERROR when one of them refuses or
    crashes on it; one step milder when none is affected (a spec matter: ERROR becomes WARNING, a
    risk becomes INFO), with the targets named in the message. Otherwise it keeps its severity.
    """
    out = []
    for f in findings:
        said = f.details.get("runtimes") if isinstance(f.details, Mapping) else None
        if not isinstance(said, Mapping) or not judges:
            out.append(f)
            continue
        effects = {t: said.get(key) for t, key in judges.items()}
        if any(e is None for e in effects.values()):
            out.append(f)
            continue
        fatal = [t for t, e in effects.items() if e in FATAL_EFFECTS]
        if fatal and f.severity < Severity.ERROR:
            out.append(f._replace(severity=Severity.ERROR, message=f"{f.message} [{', '.join(f'{t}: {effects[t]}' for t in fatal)}]"))
        elif all(e == "runs" for e in effects.values()) and f.severity > Severity.INFO:
            milder = Severity(f.severity - 1)
            out.append(f._replace(severity=milder, message=f"{f.message} [no effect on {', '.join(effects)}: runs]"))
        else:
            out.append(f)
    return out
