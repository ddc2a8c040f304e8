"""What runs in a worker process (local pool or Ray task): the three interpreters over one shard of samples."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qcheck.compare.stats import Sums

# A quantized tensor's parameters: scale, zero point, axis (scale.size > 1: per axis); None: a float tensor.
QParams = tuple[np.ndarray, np.ndarray, int] | None


@dataclass(frozen=True)
class LayerPlan:
    quant_output: int  # tensor in the quantized model
    reference: int  # float tensor holding what the op should have given: in the layer-wise model, or (QUANTIZE) the quantized model
    in_quant_model: bool  # reference read from the quantized model (a QUANTIZE's float input)
    feeds: tuple[tuple[int, int], ...]  # (layer-wise model input tensor, quantized tensor fed to it)
    channels: int  # output channels measured one by one (0: none)


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs, picklable; `key` names it so a worker builds its interpreters once."""

    key: str
    float_model: bytes
    quant_model: bytes
    layerwise_model: bytes | None
    pairs: tuple[tuple[int, int], ...]  # (float tensor, quantized tensor)
    qparams: dict[int, QParams]  # quantized tensor -> how to read it as real numbers
    layers: tuple[LayerPlan, ...]
    probabilities: tuple[int, ...]  # pair indices of probability outputs (KL)
    classifiers: tuple[int, ...]  # pair indices of classifier outputs (top-k)
    quant_inputs: tuple[QParams, ...]  # per quantized-model input: quantize the float sample with these
    timeout: float


def dequantize(a: np.ndarray, qp: QParams) -> np.ndarray:
    """Real values in float64: scale * (q - zero point), per tensor or along the quantized axis."""
    if qp is None:
        return a.astype(np.float64)
    scale, zero, axis = qp
    if scale.size == 1:
        return (a.astype(np.float64) - float(zero[0])) * float(scale[0])
    shape = [1] * a.ndim
    shape[axis] = -1
    return (a.astype(np.float64) - zero.reshape(shape)) * scale.astype(np.float64).reshape(shape)


def quantize(x: np.ndarray, qp: QParams, dtype: np.dtype[Any]) -> np.ndarray:
    """A float sample as a quantized input takes it: round(x / scale) + zero point, clamped.

    As LiteRT's QUANTIZE kernel does it (tflite/kernels/internal/reference/quantize.h, TfLiteRound: std::round)."""
    if qp is None or np.dtype(dtype).kind == "f":
        return x.astype(dtype)
    scale, zero, _ = qp
    info = np.iinfo(dtype)
    v = x.astype(np.float32) / np.float32(scale[0])
    q = np.trunc(v + np.copysign(np.float32(0.5), v)) + zero[0]  # std::round: halves away from zero, not numpy's to even
    return np.clip(q, info.min, info.max).astype(dtype)


_STATE: dict[str, Any] = {}


def _interpreter(content: bytes) -> Any:
    import warnings

    from ai_edge_litert.interpreter import Interpreter

    # The default resolver, as users run the model: its XNNPACK kernels round some int8 results one step
    # away from the builtin ones, and TensorFlow's QuantizationDebugger measures this one too. Intermediate
    # tensors stay readable with experimental_preserve_all_tensors (LiteRT warns that it is for debugging).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return Interpreter(model_content=content, num_threads=1, experimental_preserve_all_tensors=True)


def _reuse_freed_memory() -> None:
    """Keep large freed blocks in the heap instead of returning them to the system (glibc's mallopt).

    Every sample allocates the same few-MB float64 arrays again; glibc serves those from fresh mmap()
    pages by default, and touching new pages cost a quarter of a ResNet50 sample's time (measured:
    1.70 s -> 1.27 s for 4 samples). Peak memory is unchanged: the blocks are reused, not added.
    """
    import ctypes

    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the process's own symbols: glibc's, when it is glibc
    if mallopt is not None:
        mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD


def _interpreters(plan: Plan) -> tuple[Any, Any, Any]:
    if _STATE.get("key") != plan.key:
        if not _STATE:
            _reuse_freed_memory()
        _STATE.clear()
        state: dict[str, Any] = {"shapes": {}, "layerwise_error": "", "l": None}
        state["f"] = _ready(plan.float_model, "float")
        state["q"] = _ready(plan.quant_model, "quantized")
        if plan.layerwise_model:
            try:
                state["l"] = _ready(plan.layerwise_model, "layer-wise")
            except ValueError as e:  # the comparison goes on without the ops' own errors, and says why
                state["layerwise_error"] = str(e)
        _STATE.update(state, key=plan.key)  # the key last: a failed build leaves no half state behind
    return _STATE["f"], _STATE["q"], _STATE["l"]


def _refused(role: str, e: BaseException) -> ValueError:
    """An interpreter's refusal on one line, naming which of the three models it was."""
    return ValueError(f"the {role} model: {' '.join(str(e).split())}")


def _ready(content: bytes, role: str) -> Any:
    try:
        it = _interpreter(content)
        it.allocate_tensors()
        return it
    except (ValueError, RuntimeError) as e:
        raise _refused(role, e) from None


def _feed(it: Any, indices: Sequence[int], arrays: Sequence[np.ndarray]) -> None:
    """Set input tensors, resizing (and re-allocating) first when a shape differs from the last one fed."""
    shapes = _STATE["shapes"]
    changed = [(i, a) for i, a in zip(indices, arrays, strict=True) if shapes.get((id(it), i)) != a.shape]
    for i, a in changed:
        it.resize_tensor_input(i, list(a.shape))
        shapes[(id(it), i)] = a.shape
    if changed:
        it.allocate_tensors()
    for i, a in zip(indices, arrays, strict=True):
        it.set_tensor(i, a)


class _RealValues:
    """The quantized model's tensors of one sample as real numbers, each read and dequantized once."""

    def __init__(self, interpreter: Any, plan: Plan) -> None:
        self.interpreter, self.plan = interpreter, plan
        self.cache: dict[int, np.ndarray] = {}

    def __call__(self, t: int) -> np.ndarray:
        if t not in self.cache:
            self.cache[t] = dequantize(self.interpreter.get_tensor(t), self.plan.qparams.get(t))
        return self.cache[t]


def _run(it: Any, role: str, indices: Sequence[int], arrays: Sequence[np.ndarray]) -> None:
    try:
        _feed(it, indices, arrays)
        it.invoke()
    except (ValueError, RuntimeError) as e:
        raise _refused(role, e) from None


def run_shard(plan: Plan, batch: Sequence[Sequence[np.ndarray]]) -> Sums:
    """The sums of one shard, under an alarm: a model that hangs the interpreter kills this worker, not the run."""
    signal.alarm(max(1, int(plan.timeout * max(1, len(batch)) + 0.999)))
    try:
        return _shard(plan, batch)
    finally:
        signal.alarm(0)


def _shard(plan: Plan, batch: Sequence[Sequence[np.ndarray]]) -> Sums:
    fi, qi, li = _interpreters(plan)
    sums = Sums.zeros(len(plan.pairs), len(plan.layers), [layer.channels for layer in plan.layers])
    f_in = [d["index"] for d in fi.get_input_details()]
    q_details = qi.get_input_details()
    sums.layerwise_error = _STATE["layerwise_error"]
    probabilities, classifiers = frozenset(plan.probabilities), frozenset(plan.classifiers)
    fresh = [(t, qt) for layer in plan.layers if not layer.in_quant_model for t, qt in layer.feeds]
    for sample in batch:
        _run(fi, "float", f_in, sample)
        q_arrays = [quantize(x, qp, d["dtype"]) for x, qp, d in zip(sample, plan.quant_inputs, q_details, strict=True)]
        _run(qi, "quantized", [d["index"] for d in q_details], q_arrays)
        quant_real = _RealValues(qi, plan)

        for k, (ft, qt) in enumerate(plan.pairs):
            f, q = fi.get_tensor(ft).astype(np.float64), quant_real(qt)
            if f.shape != q.shape:
                f = f.reshape(q.shape) if f.size == q.size else f
            if f.shape == q.shape:
                sums.add_tensor(k, f, q)
                if k in probabilities:
                    sums.add_probabilities(k, f, q)
                if k in classifiers:
                    sums.add_classes(k, f, q)
        if li is not None:
            try:
                _run(li, "layer-wise", [*f_in, *(t for t, _ in fresh)], [*sample, *(quant_real(qt).astype(np.float32) for _, qt in fresh)])
            except ValueError as e:
                _STATE["l"], _STATE["layerwise_error"] = None, str(e)
                sums.layerwise_error, li = str(e), None
        for k, layer in enumerate(plan.layers):
            if layer.in_quant_model:
                ref = quant_real(layer.reference)
            elif li is not None:
                ref = li.get_tensor(layer.reference).astype(np.float64)
            else:
                continue
            q = quant_real(layer.quant_output)
            if ref.shape == q.shape:
                sums.add_layer(k, ref, q)
        sums.samples += 1
    return sums
