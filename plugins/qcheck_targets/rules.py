"""Target rules (QC6xx): the placements of the targets asked for with --target, as findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from qcheck.findings import MODEL, Location, Severity, Violation
from qcheck.rules import Context, rule
from qcheck.targets import OpPlacement, TargetResult
from qcheck.tflite.model import Model


def _where(op: OpPlacement) -> Location:
    return Location(op.subgraph, op.operator, op.opcode)


def _results(ctx: Context) -> Iterator[TargetResult]:
    yield from (r for r in ctx.targets.values() if isinstance(r, TargetResult))


@rule("QC601", "target-refuses-model", needs_targets=True)
def target_refuses_model(model: Model, ctx: Context) -> Iterator[Violation]:
    """A target asked for with --target cannot run the model: the runtime refuses it or lacks an op.

    ## What it checks
    The verdict of each target profile given with `--target` (`qcheck targets` lists them). One
    finding per target whose verdict is `fails`, at the first operator the runtime cannot run,
    naming that cause and every other one. The causes come from the profile's tables (ops the
    runtime lacks, kernel type checks) and from the spec rules whose findings say that runtime
    refuses or crashes on the model (their `details.runtimes`).

    ## Why it matters
    The runtime refuses the model at load or at its first invocation, or crashes on it. Its own
    messages name one cause at a time (TFLite Micro stops at the first failing node and prints the
    reason on native stderr; LiteRT's resolver names no node), so fixing a model by trial costs one
    deployment per cause. A custom op counts: the stock runtime lacks it unless the application
    registers it.

    ## How to fix
    Replace or remove the ops each reason names, or register the missing kernels in the application.

    ## References
    - LiteRT `tflite/core/kernels/register.cc`, `tflite/core/subgraph.cc`; TFLite Micro
      `python/tflite_micro/python_ops_resolver.cc`, `tensorflow/lite/micro/kernels/*.cc`
    - `qcheck verify --target T --confirm` runs the real runtime beside this verdict
    """
    for result in _results(ctx):
        if result.verdict != "fails":
            continue
        bad = [op for op in result.ops if op.placement == "unsupported"]
        groups: dict[str, list[OpPlacement]] = defaultdict(list)
        for op in bad:
            groups[op.reasons[0].rule if op.reasons else "unsupported"].append(op)
        causes = [f"{r.message} ({r.rule})" for r in result.problems]
        for rule_id, ops in groups.items():
            first = ops[0]
            why = first.reasons[0].message if first.reasons else "unsupported"
            many = f" ({len(ops)} ops: {', '.join(str(op.operator) for op in ops[:8])}{', ...' if len(ops) > 8 else ''})" if len(ops) > 1 else ""
            causes.append(f"op {first.operator} {first.opcode}: {why} [{rule_id}]{many}")
        more = f"; and {len(causes) - 1} more cause(s): " + "; ".join(causes[1:6]) + ("; ..." if len(causes) > 6 else "") if len(causes) > 1 else ""
        where = _where(bad[0]) if bad and not result.problems else MODEL
        yield Violation(where, f"the model fails on {result.target}: {causes[0]}{more}",
                        details={"target": result.target, "operators": [[op.subgraph, op.operator] for op in bad]})


@rule("QC602", "op-falls-back-to-cpu", severity=Severity.WARNING, needs_targets=True)
def op_falls_back_to_cpu(model: Model, ctx: Context) -> Iterator[Violation]:
    """Operators a delegate target leaves to the CPU's builtin kernels, one finding per reason.

    ## What it checks
    For each delegate target given with `--target` (e.g. `xnnpack`), the operators its profile
    places on the CPU, grouped by the first reason (e.g. `xnnpack:int16`, `xnnpack:float-only`,
    `xnnpack:never`), each group with its op count, op types and the first message with the
    actual values.

    ## Why it matters
    The model runs, but these ops are not accelerated: they run at CPU-kernel speed, and each
    boundary between a delegate partition and the CPU costs a copy and a synchronisation. XNNPACK's
    own refusal reasons are compiled out of release builds, so this is the only place they show.

    ## How to fix
    Change the ops or their types as the reason says (e.g. int8 instead of int16 activations for
    XNNPACK, a supported op in place of EXPAND_DIMS), or accept the CPU fallback.

    ## References
    - LiteRT `tflite/delegates/xnnpack/xnnpack_delegate.cc` (VisitNode), `tflite/graph_info.cc`
      (partitioning)
    """
    for result in _results(ctx):
        groups: dict[str, list[OpPlacement]] = defaultdict(list)
        for op in result.ops:
            if op.placement == "cpu" and op.reasons:
                groups[op.reasons[0].rule].append(op)
        for rule_id, ops in groups.items():
            kinds: dict[str, int] = defaultdict(int)
            for op in ops:
                kinds[op.opcode] += 1
            listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
            yield Violation(_where(ops[0]), f"{result.target}: {len(ops)} op(s) on the CPU ({listed}), {rule_id}: {ops[0].reasons[0].message}",
                            details={"target": result.target, "reason": rule_id, "operators": [[op.subgraph, op.operator] for op in ops]})


@rule("QC603", "placement-unknown", severity=Severity.INFO, needs_targets=True)
def placement_unknown(model: Model, ctx: Context) -> Iterator[Violation]:
    """Operators whose placement on a target qcheck cannot tell from the file, with why.

    ## What it checks
    Operators a target profile places as `unknown`: the answer depends on something the file does
    not hold (a shape known only at run time, a build option of the runtime).

    ## Why it matters
    A verdict is only as good as what it rests on: these ops are where it may be wrong.

    ## How to fix
    Nothing to fix in the model; run it on the target (or `qcheck verify --confirm`) to find out.

    ## References
    - The target profile's sources (`qcheck targets`)
    """
    for result in _results(ctx):
        for op in result.ops:
            if op.placement == "unknown":
                why = op.reasons[0].message if op.reasons else "no rule decides it"
                yield Violation(_where(op), f"{result.target}: placement unknown: {why}", details={"target": result.target})
