"""Location helpers shared by the structural rules."""

from __future__ import annotations

from qcheck import Location, Operator, Subgraph, Tensor


def at_tensor(sg: Subgraph, t: Tensor, op: Operator | None = None) -> Location:
    return Location(sg.index, op.index if op else None, op.opcode if op else None, t.index, t.name)


def at_op(sg: Subgraph, op: Operator) -> Location:
    return Location(sg.index, op.index, op.opcode)
