"""The `litert` target: LiteRT's builtin kernels without delegates, as the ai-edge-litert wheel ships them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qcheck.findings import Finding
from qcheck.targets import Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph
from qcheck_targets.common import Decision, custom_name, fatal_by_op, place_all, squeeze_problem, version
from qcheck_targets.litert_ops import BUILTIN_VERSIONS, CUSTOM_OPS


def resolve(model: Model, op: Operator) -> Reason | None:
    """Why LiteRT's builtin resolver has no kernel for `op` (None: it has one)."""
    if op.is_custom:
        name = custom_name(model, op)
        if name in CUSTOM_OPS:
            return None
        if name.startswith("Flex"):
            return Reason("litert:flex-op", f"Select TensorFlow op {name} needs the Flex delegate, which the builtin resolver lacks")
        return Reason("litert:custom-op", f"custom op {name or '(unnamed)'} is not built into LiteRT: it loads only if the "
                                          "application registers it")
    span = BUILTIN_VERSIONS.get(op.opcode)
    if span is None:
        return Reason("litert:no-kernel", f"LiteRT has no builtin kernel for {op.opcode}")
    v = version(model, op)
    if not span[0] <= v <= span[1]:
        return Reason("litert:op-version", f"{op.opcode} version {v}: LiteRT registers versions {span[0]}-{span[1]}")
    return None


# Arithmetic kernels take numeric tensors only: add.cc Eval ("Type STRING is unsupported by op Add", add.cc:439
# in the wheel), and likewise sub.cc, mul.cc and div.cc, whose type switches have no string case.
NUMERIC_ONLY = frozenset({"ADD", "SUB", "MUL", "DIV"})


def kernel(sub: Subgraph, op: Operator) -> Reason | None:
    """A kernel check LiteRT makes at Prepare or Eval that no spec rule covers."""
    if op.opcode == "SQUEEZE":
        problem = squeeze_problem(sub, op)
        return Reason("litert:squeeze", f"{problem} (squeeze.cc Prepare)") if problem else None
    if op.opcode in NUMERIC_ONLY:
        for k, t in enumerate(sub.inputs_of(op)):
            if t is not None and t.dtype == "STRING":
                return Reason("litert:types", f"{op.opcode} input {k} is STRING: LiteRT's kernel has no string case")
    return None


def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
    """Every op on the CPU, or unsupported when no kernel resolves or a finding says its Prepare refuses it."""
    # (xnnpack asks too, for the ops it leaves: one placement per model and set of findings)
    seen: list[tuple[Sequence[Finding], Placed]] = model.memo("qcheck_targets.litert", list)
    for done, placed in seen:
        if done is findings:
            return placed
    fatal, model_wide = fatal_by_op(findings, "litert")
    placed = Placed(place_all(model, decide, fatal, key=_key), tuple(model_wide))
    seen.append((findings, placed))
    return placed


def _key(model: Model, sub: Subgraph, op: Operator) -> int | None:
    # The resolver's answer depends on the operator code alone; the type check reads the operands.
    return None if op.opcode in NUMERIC_ONLY or op.opcode == "SQUEEZE" else op.opcode_index


def decide(model: Model, sub: Subgraph, op: Operator) -> Decision:
    missing = resolve(model, op) or kernel(sub, op)
    return ("unsupported", (missing,)) if missing else ("cpu", ())
