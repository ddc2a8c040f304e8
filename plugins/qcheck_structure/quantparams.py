"""Quantization-parameter rules: each tensor's scale/zero point are well formed, whatever the op."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from qcheck import Context, Model, Quantization, Severity, Subgraph, Tensor, Violation, rule
from qcheck.findings import at_tensor
from qcheck.tflite.model import BlockwiseQuantization, MultiAxisQuantization
from qcheck.tflite.schema import QUANTIZATION_DETAILS

# Storage range of each integer dtype that may carry a zero point.
_ZP_RANGE = {
    "INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767), "UINT16": (0, 65535),
    "INT4": (-8, 7), "UINT4": (0, 15), "INT2": (-2, 1), "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
}


# The weighted ops whose TFLite Micro kernels read per-channel quantization of their filter (input 1):
# conv_common.cc, depthwise_conv_common.cc, fully_connected_common.cc check the scale count against
# the quantized dimension. Elsewhere TFLite Micro reads only scale[0] and zero_point[0].
_MICRO_PER_CHANNEL = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


def _micro_effect(sg: Subgraph, t: Tensor, q: Quantization) -> str:
    """What TFLite Micro does with broken per-axis parameters on `t`: refuses them only in a weighted kernel's filter."""
    readers = [sg.operators[i] for i in sg.consumers.get(t.index, ())]
    used = len(q.scale) > 1 and any(len(op.inputs) > 1 and op.inputs[1] == t.index and op.opcode in _MICRO_PER_CHANNEL for op in readers)
    return "rejects" if used else "runs"


def _affine(model: Model) -> list[tuple[Subgraph, Tensor, Quantization]]:
    """Every tensor with affine parameters, computed once per model and shared by the rules."""

    def collect() -> list[tuple[Subgraph, Tensor, Quantization]]:
        out = []
        for sg, t in model.iter_tensors():
            q = t.quantization
            if q is not None and q.details_type == 0 and (len(q.scale) or len(q.zero_point)):
                out.append((sg, t, q))
        return out

    return model.memo("structure.affine", collect)


def _suspects(items: list[tuple[Subgraph, Tensor, Quantization]], values: Callable[[Quantization], np.ndarray],
              bad: Callable[[np.ndarray], np.ndarray]) -> list[int]:
    """Indices into `items` whose values contain a bad entry: one numpy pass over all of them.

    (One check per tensor costs a few numpy calls each, seconds at 50,000 tensors.)
    """
    arrays = [values(q) for _, _, q in items]
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))
    if not lengths.sum():
        return []
    flags = bad(np.concatenate(arrays))
    if not flags.any():
        return []
    owner = np.repeat(np.arange(len(arrays)), lengths)
    return sorted(set(owner[flags].tolist()))


@rule("QC020", "scale-zero-point-length-mismatch")
def scale_zero_point_length_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """A tensor has a different number of scales and zero points.

    ## What it checks
    `len(scale) == len(zero_point)` for every quantized tensor (a missing zero_point counts as 0).

    ## Why it matters
    The interpreter rejects the model: "QuantizationParam has %d zero_point values and %d scale values".

    ## How to fix
    Write one zero point per scale (0 for symmetric quantization).

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc` (ParseQuantization)
    """
    for sg, t, q in _affine(model):
        if len(q.scale) != len(q.zero_point):
            yield Violation(at_tensor(sg, t), f"{len(q.scale)} scale(s) but {len(q.zero_point)} zero point(s)",
                            details={"runtimes": {"litert": "rejects"}})


@rule("QC021", "quantized-dimension-out-of-range")
def quantized_dimension_out_of_range(model: Model, ctx: Context) -> Iterator[Violation]:
    """`quantized_dimension` is not an axis of the tensor.

    ## What it checks
    `0 <= quantized_dimension < rank` for every quantized tensor of rank >= 1, per-tensor ones
    included (the loader checks it for them too).

    ## Why it matters
    The interpreter rejects the model: "quantized_dimension must be in range [0, %d)".

    ## How to fix
    Set the axis the per-channel scales run along (0 for CONV_2D / FULLY_CONNECTED weights,
    3 for DEPTHWISE_CONV_2D), or 0 for per-tensor parameters.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`; iree-org/iree#10292
    """
    for sg, t, q in _affine(model):
        rank = len(t.shape)
        if rank and not 0 <= q.quantized_dimension < rank:
            yield Violation(at_tensor(sg, t), f"quantized_dimension is {q.quantized_dimension}, outside [0, {rank}) for shape {list(t.shape)}",
                            details={"runtimes": {"litert": "rejects", "tflm": _micro_effect(sg, t, q)}})


@rule("QC022", "per-axis-count-mismatch")
def per_axis_count_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """A per-axis tensor's number of scales differs from the size of its quantized dimension.

    ## What it checks
    `len(scale)` is 1 (per-tensor) or `shape[quantized_dimension]` (per-axis).

    ## Why it matters
    The interpreter rejects the model: "num_scales must be 1 for per-layer quantization, or %d
    for per-axis quantization".

    ## How to fix
    Quantize with one scale per output channel along the right axis, or per-tensor.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`; google-ai-edge/litert-torch#336
    """
    for sg, t, q in _affine(model):
        rank = len(t.shape)
        if len(q.scale) > 1 and rank and 0 <= q.quantized_dimension < rank and len(q.scale) != t.shape[q.quantized_dimension]:
            yield Violation(at_tensor(sg, t), f"{len(q.scale)} scales for dimension {q.quantized_dimension} of size {t.shape[q.quantized_dimension]} (shape {list(t.shape)})",
                            details={"runtimes": {"litert": "rejects", "tflm": _micro_effect(sg, t, q)}})


_NOT_NUMERIC = frozenset({"STRING", "BOOL", "RESOURCE", "VARIANT"})


def _all_zero_constant(model: Model, t: Tensor) -> bool:
    values = model.array(t)
    return values is not None and values.size > 0 and not values.any()


@rule("QC023", "invalid-scale")
def invalid_scale(model: Model, ctx: Context) -> Iterator[Violation]:
    """A scale is zero, negative, NaN or infinite.

    ## What it checks
    Every entry of `scale` on every quantized tensor is finite and > 0.

    ## Why it matters
    The loader does not check this. A zero scale divides by zero when a kernel computes its
    requantization multiplier; a negative or NaN scale gives garbage or aborts
    (`QuantizeMultiplier`), often only on some delegates.

    ## How to fix
    Calibrate with data that exercises the tensor (min == max == 0 gives scale 0), or
    re-quantize the weights with a channel that is not all zeros.

    ## References
    - LiteRT `tflite/tools/optimize/quantization_utils.cc`; google-coral/edgetpu#453;
      tensorflow/tflite-micro#3039
    """
    # (Not flagged: a zero scale on a constant whose values are all 0, such as an LSTM's initial
    # state, which dequantizes to 0 at any scale and which LiteRT and TFLite Micro both run; and
    # parameters on STRING, BOOL, RESOURCE or VARIANT tensors, which nothing scales.)
    items = _affine(model)
    for i in _suspects(items, lambda q: q.scale, lambda s: ~(np.isfinite(s) & (s > 0))):
        sg, t, q = items[i]
        bad = ~(np.isfinite(q.scale) & (q.scale > 0))
        if t.dtype in _NOT_NUMERIC or (not (q.scale < 0).any() and np.isfinite(q.scale).all() and _all_zero_constant(model, t)):
            continue  # nothing is ever scaled: no numbers, or a constant of zeros (0 at any scale)
        if bad.any():
            idx = np.flatnonzero(bad)
            yield Violation(at_tensor(sg, t), f"scale[{idx[0]}] is {q.scale[idx[0]].item()!r} ({idx.size} of {q.scale.size} scales are not finite and > 0)",
                            details={"indices": idx[:32].tolist()})


@rule("QC024", "zero-point-out-of-range")
def zero_point_out_of_range(model: Model, ctx: Context) -> Iterator[Violation]:
    """A zero point lies outside the range its tensor's dtype can store.

    ## What it checks
    int8 [-128, 127], uint8 [0, 255], int16 [-32768, 32767], int4 [-8, 7], uint4 [0, 15],
    int2 [-2, 1]; float tensors with quantization parameters are skipped here.

    ## Why it matters
    A zero point that the dtype cannot represent makes `real = scale * (q - zp)` unreachable
    for part of the range; NNAPI and other delegates reject it ("Invalid Zero Point").

    ## How to fix
    Recompute the quantization parameters (the converter clamps zero points to the dtype).

    ## References
    - tensorflow/tensorflow#45847; LiteRT `tflite/tools/optimize/modify_model_interface.cc`
    """
    by_dtype: dict[str, list[tuple[Subgraph, Tensor, Quantization]]] = {}
    for item in _affine(model):
        if item[1].dtype in _ZP_RANGE and len(item[2].zero_point):
            by_dtype.setdefault(item[1].dtype, []).append(item)
    suspects = []
    for dtype, items in by_dtype.items():
        lo, hi = _ZP_RANGE[dtype]
        def outside(z: np.ndarray, lo: int = lo, hi: int = hi) -> np.ndarray:
            return (z < lo) | (z > hi)

        suspects += [items[i] for i in _suspects(items, lambda q: q.zero_point, outside)]
    suspects.sort(key=lambda item: (item[0].index, item[1].index))
    for sg, t, q in suspects:
        lim = _ZP_RANGE[t.dtype]
        bad = (q.zero_point < lim[0]) | (q.zero_point > lim[1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            yield Violation(at_tensor(sg, t), f"{t.dtype} zero point {int(q.zero_point[i])} (index {i}) is outside [{lim[0]}, {lim[1]}]")


@rule("QC025", "invalid-quantization-details")
def invalid_quantization_details(model: Model, ctx: Context) -> Iterator[Violation]:
    """Blockwise or multi-axis quantization details refer to missing tensors or impossible blocks.

    ## What it checks
    For `BlockwiseQuantization` and `MultiAxisQuantization`: the scales tensor index lies in the
    subgraph, the zero-points index is in range or -1, `block_size >= 0` (and > 0 for
    blockwise), and each quantized dimension is an axis of the tensor. The loader validates
    none of this for blockwise quantization.

    ## Why it matters
    Kernels index the scale tensor with these values; a wrong index reads another tensor.

    ## How to fix
    Fix the exporter that wrote the details.

    ## References
    - `schema.fbs` QuantizationDetails; LiteRT `tflite/core/interpreter_builder.cc`
    """
    for sg, t in model.iter_tensors():
        d = t.quantization.details if t.quantization else None
        if not isinstance(d, (BlockwiseQuantization, MultiAxisQuantization)):
            continue
        n, where = len(sg.tensors), at_tensor(sg, t)
        if not 0 <= d.scales < n:
            yield Violation(where, f"scales tensor index {d.scales} is out of range ({n} tensors)")
        if d.zero_points != -1 and not 0 <= d.zero_points < n:
            yield Violation(where, f"zero_points tensor index {d.zero_points} is out of range ({n} tensors)")
        if d.block_size < 0 or (isinstance(d, BlockwiseQuantization) and d.block_size == 0):
            yield Violation(where, f"block_size is {d.block_size}")
        if isinstance(d, MultiAxisQuantization):
            bad = [a for a in d.quantized_dimensions if not 0 <= a < len(t.shape)]
            if not d.quantized_dimensions or bad:
                yield Violation(where, f"quantized_dimensions {list(d.quantized_dimensions)} are not axes of shape {list(t.shape)}")


@rule("QC026", "unknown-quantization-details", severity=Severity.INFO)
def unknown_quantization_details(model: Model, ctx: Context) -> Iterator[Violation]:
    """A tensor's quantization uses a `details` type newer than qcheck's schema, so no rule checks it.

    ## What it checks
    `QuantizationParameters.details_type` values beyond the QuantizationDetails union qcheck
    knows ({known}). Such a tensor's scale and zero point are not what the runtime uses, so every
    quantization rule skips it; this finding says so instead of staying silent.

    ## Why it matters
    qcheck cannot vouch for these tensors; the runtime that reads the file must know the type
    (an older one ignores the details and may use the plain scale and zero point).

    ## How to fix
    Nothing to fix in the model if the deployment runtime supports this quantization; otherwise
    re-export with per-tensor or per-axis quantization.

    ## References
    - LiteRT `tflite/converter/schema/schema.fbs` (union QuantizationDetails)
    """
    for sg, t in model.iter_tensors():
        q = t.quantization
        if q is not None and q.details_type >= len(QUANTIZATION_DETAILS):
            yield Violation(at_tensor(sg, t), f"quantization details type {q.details_type} is newer than qcheck's schema"
                            f" (it knows {', '.join(QUANTIZATION_DETAILS[1:])}): this tensor's quantization is not checked")


unknown_quantization_details.check.__doc__ = (unknown_quantization_details.check.__doc__ or "").replace(
    "{known}", ", ".join(f"{i} {n}" for i, n in enumerate(QUANTIZATION_DETAILS) if i))
