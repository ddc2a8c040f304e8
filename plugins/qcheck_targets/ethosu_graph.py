"""What the Ethos-U profiles read across the graph: the ops Vela drops, weight sums, and each op's decision key."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from qcheck.tflite.model import Model, Tensor
from qcheck_targets import ethosu_ops as E
from qcheck_targets.common import QuantRange, op_keys, quant_ranges


def dead_ops(model: Model) -> list[set[int]]:
    """Per subgraph, the ops Vela's graph optimiser drops: nothing live reads their outputs (ethosu_ops.SIDE_EFFECTS).

    An integer RESHAPE (for the NPU) does not read its shape input; a float one, left to the CPU, does (RUN: the
    SHAPE -> STRIDED_SLICE -> PACK chains feeding float RESHAPEs in 5 float corpus models stay in the `_vela.tflite`).
    """
    def compute() -> list[set[int]]:
        out = []
        for sub in model.subgraphs:
            live, dead = set(sub.outputs), set()
            for op in reversed(sub.operators):
                if op.outputs and op.opcode not in E.SIDE_EFFECTS and not op.is_custom and live.isdisjoint(op.outputs):
                    dead.add(op.index)
                else:
                    data = sub.tensor(op.inputs[0]) if op.inputs else None
                    npu_reshape = op.opcode == "RESHAPE" and not (data is not None and data.dtype in ("FLOAT32", "FLOAT16"))
                    live.update(op.inputs[:1] if npu_reshape else op.inputs)
            out.append(dead)
        return out

    return model.memo("qcheck_targets.ethosu.dead", compute)


def weight_sum(model: Model, code: str, w: Tensor, limit: int) -> int:
    """The largest absolute weight sum (less the zero point) of one output channel; 0 when none can reach `limit`."""
    a, q = model.array(w), w.quantization
    per = (w.shape[-1] if code == "DEPTHWISE_CONV_2D" else w.shape[0]) if w.shape else 0
    if a is None or per <= 0 or a.size % per or 255 * (a.size // per) < limit:
        return 0
    zps = q.zero_point if q is not None and len(q.zero_point) in (1, per) else np.zeros(1, np.int64)
    sums: dict[tuple[object, ...], int] = model.memo("qcheck_targets.ethosu.weight_sums", dict)
    key = (code, w.buffer, w.shape, zps.tobytes())  # (the same for every core)
    if key not in sums:
        m = a.reshape(-1, per).T if code == "DEPTHWISE_CONV_2D" else a.reshape(per, -1)
        sums[key] = int(np.abs(m.astype(np.int64) - zps.astype(np.int64).reshape(-1, 1)).sum(axis=1).max())
    return sums[key]


def op_keys_ethosu(model: Model) -> list[list[Hashable]]:
    """Per op: op_keys, and what the checks read beyond it: zero-point and scale predicates, a few ops' scale values,
    a weight sum over the smallest limit, and the data of int64 biases and scatter indices (once per model: the
    same for the three cores). Layers that differ only in their weights share a decision."""
    def compute() -> list[list[Hashable]]:
        out: list[list[Hashable]] = []
        for sub, ranges, keys, dead in zip(model.subgraphs, quant_ranges(model), op_keys(model), dead_ops(model), strict=True):
            operands = [_operand(r) for r in ranges]
            row: list[Hashable] = []
            for op, key in zip(sub.operators, keys, strict=True):
                code = op.opcode
                extra: list[object] = [op.index in dead]
                matching, roles = code in E.MATCHING_QUANT, E.ROLES.get(code, "") if code in E.WEIGHTED else ""
                for i in (*op.inputs, *op.outputs):
                    if 0 <= i < len(operands) and (o := operands[i]) is not None:
                        extra += (o[0], o[1] if matching else o[2])
                for j, i in enumerate(op.inputs):
                    t = sub.tensor(i)
                    if t is None or t.buffer <= 0:
                        continue
                    if roles[j:j + 1] == "W" and (total := weight_sum(model, code, t, _LEAST_LIMIT)) > _LEAST_LIMIT:
                        extra.append(total)  # (in the message)
                    elif code == "SCATTER_ND" or (roles and t.dtype == "INT64"):
                        extra.append(t.buffer)  # (scatter indices, an int64 bias: their values decide)
                row.append((key, tuple(extra)))
            out.append(row)
        return out

    return model.memo("qcheck_targets.ethosu.keys", compute)


_LEAST_LIMIT = min(*E.U55_WEIGHT_SUM, *E.U85_WEIGHT_SUM)


def _operand(r: QuantRange | None) -> tuple[tuple[bool, ...], float, bool] | None:
    """Of one tensor: its zero-point predicates, first scale, and whether a scale reaches E.MAX_SCALE."""
    if r is None:
        return None
    first, top, _, lo, hi = r
    return (lo == hi == 0, lo < 0, -128 <= lo and hi <= 127, 0 <= lo and hi <= 255, lo == hi and lo in (0, 32768)), first, top >= E.MAX_SCALE
