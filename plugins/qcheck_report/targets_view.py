"""Target results as console lines: one summary per target, the ops that do not map grouped by reason."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence

from qcheck.targets import OpPlacement, TargetResult


def _kinds(ops: list[OpPlacement], limit: int = 6) -> str:
    counts = Counter(op.opcode for op in ops).most_common()
    text = ", ".join(f"{n} {k}" for k, n in counts[:limit])
    return text + (f", {sum(n for _, n in counts[limit:])} more" if len(counts) > limit else "")


def summary(result: TargetResult) -> str:
    """One line: the verdict, and for a delegate the share of ops and MACs it takes, in how many partitions."""
    total = len(result.ops)
    head = f"{result.target}: {result.verdict}"
    bad = [op for op in result.ops if op.placement == "unsupported"]
    if result.delegate:
        on = result.count("accelerated")
        share = result.mac_share
        macs = f", {share:.0%} of MACs" if share is not None else ""
        cpu = [op for op in result.ops if op.placement == "cpu"]
        tail = f"; {len(cpu)} on CPU: {_kinds(cpu)}" if cpu else ""
        moves = f", {result.transitions} CPU transition(s)" if result.transitions else ""
        line = f"{head}: {on}/{total} ops delegated in {len(result.partitions)} partition(s){moves}{macs}{tail}"
    elif bad or result.problems:
        line = f"{head}: {len(bad)} of {total} ops cannot run" + (f": {_kinds(bad)}" if bad else "")
    else:
        line = f"{head}: all {total} ops run on {result.runtime or 'its kernels'}"
    unknown = result.count("unknown")
    return line + (f"; {unknown} unknown" if unknown else "")


def comparison(results: Sequence[TargetResult]) -> list[str]:
    """Several targets side by side: what each accelerates, in how many partitions, with how many CPU transitions."""
    rows = [("target", "verdict", "accelerated", "partitions", "transitions", "MACs")]
    for r in results:
        delegate = r.delegate
        share = r.mac_share
        rows.append((r.target, r.verdict, f"{r.count('accelerated')}/{len(r.ops)}" if delegate else "-",
                     str(len(r.partitions)) if delegate else "-", str(r.transitions) if delegate else "-",
                     f"{share:.0%}" if delegate and share is not None else "-"))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def grouped(result: TargetResult) -> Iterator[str]:
    """The ops that are not accelerated (or cannot run), grouped by their first reason; model-wide problems first."""
    for reason in result.problems:
        yield f"{reason.rule}: {reason.message}"
    groups: dict[str, list[OpPlacement]] = defaultdict(list)
    for op in result.ops:
        if op.reasons and op.placement != "accelerated":
            groups[op.reasons[0].rule].append(op)
    for rule, ops in groups.items():
        where = ", ".join(f"{op.operator}" if op.subgraph == 0 else f"{op.subgraph}:{op.operator}" for op in ops[:12])
        more = ", ..." if len(ops) > 12 else ""
        yield f"{rule} ({len(ops)} op(s): {_kinds(ops, 4)}; ops {where}{more}): {ops[0].reasons[0].message}"


def every_op(result: TargetResult) -> Iterator[str]:
    for op in result.ops:
        why = "; ".join(f"{r.rule}: {r.message}" for r in op.reasons)
        yield f"{op.subgraph}:{op.operator} {op.opcode} {op.placement}" + (f" ({why})" if why else "")


def confirmation(result: TargetResult) -> Iterator[str]:
    c = result.confirmed
    if c is None:
        return
    if c.agrees is None:
        yield f"not confirmed: {c.runtime or 'the runtime'} is not installed ({c.message})"
        return
    said = "runs it" if c.status == "ok" else f"{c.status}: {c.message}" if c.message else c.status
    if c.partitions is not None:
        said += f", {len(c.delegated or ())} ops delegated in {c.partitions} partition(s)"
    yield f"{c.runtime} {said}: {'agrees' if c.agrees else 'DISAGREES'}"
    for d in c.disagreements[:10]:
        yield f"  {d}"
