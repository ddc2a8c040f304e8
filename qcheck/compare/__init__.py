"""Numerical comparison of a float .tflite with a quantized version of it: where accuracy went, layer by layer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qcheck.compare.result import Comparison, TensorMetrics
from qcheck.errors import UsageError
from qcheck.tflite.model import Model
from qcheck.tflite.reader import load

if TYPE_CHECKING:
    from qcheck.compare.data import Samples

__all__ = ["Comparison", "compare"]


def _read(path: str | os.PathLike[str], role: str) -> tuple[Model, bytes]:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the {role} model {path}: {e.strerror or e}") from None
    model = load(path)
    if not model.subgraphs or not model.subgraphs[0].operators:
        raise UsageError(f"the {role} model {path} has no operators to compare")
    return model, data


def compare(float_path: str | os.PathLike[str], quant_path: str | os.PathLike[str], data: str | os.PathLike[str], *,
            samples: int | None = None, jobs: int = 1, ray: bool = False, ray_address: str | None = None,
            preprocess: str = "unit", timeout: float = 60.0, seed: int = 0,
            progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Run both models over the samples in worker processes and measure every matched activation and layer.

    The float model gives the reference; the quantized one is read back to real numbers through its scales.
    A third, layer-wise copy of the float model runs each op on the quantized model's own inputs, which
    tells the error an op adds from the error it inherits (see qcheck.compare.rewire).
    """
    # Here, not at the top: the QC7xx rules import this package, and `qcheck verify` loads them without
    # needing multiprocessing or the calibration loaders.
    from qcheck.compare.data import input_specs, open_samples
    from qcheck.compare.execute import run_local, run_ray
    from qcheck.compare.matching import pair_models
    from qcheck.compare.plan import build_plan, input_ranges
    from qcheck.compare.result import layer_errors, rank, tensor_metrics
    from qcheck.compare.stats import Sums

    fm, fbytes = _read(float_path, "float")
    qm, qbytes = _read(quant_path, "quantized")
    source = open_samples(data, input_specs(fm.subgraphs[0]), samples=samples, preprocess=preprocess, seed=seed,
                          ranges=input_ranges(qm.subgraphs[0]))
    _check_float(fm, float_path)
    matched = pair_models(fm, qm)
    if not matched.pairs:
        raise UsageError(f"no activation of {quant_path} could be matched to one of {float_path}: "
                         "they do not look like two versions of one model")
    plan = build_plan(fm, qm, fbytes, qbytes, matched, timeout)
    zero = Sums.zeros(len(plan.pairs), len(plan.layers), [layer.channels for layer in plan.layers])
    tick = (lambda done: progress(done, source.count)) if progress else None
    if ray:
        sums = run_ray(plan, source, ray_address, jobs, zero, tick)
        runner = f"ray ({ray_address})" if ray_address else f"ray (local, {jobs} CPUs)"
    else:
        sums = run_local(plan, source, jobs, zero, tick)
        runner = f"local (-j {jobs})"
    tensors = tensor_metrics(fm, qm, matched, sums)
    layers = layer_errors(qm, plan, sums, tensors)
    worst, keep = rank(layers)
    by_index = {w.op: w for w in worst}
    fs, qs = fm.subgraphs[0], qm.subgraphs[0]
    return Comparison(
        str(float_path), str(quant_path), source.label, source.random, sums.samples, runner, tensors,
        tuple(by_index[x.op] for x in layers), worst, model_outputs(tensors, fm, qm),
        tuple(fs.tensors[i].name for i in matched.unmatched_float), tuple(qs.tensors[i].name for i in matched.unmatched_quant), keep,
        notes(fm, qm, source, sums.layerwise_error, len(layers), len(matched.pairs) - len(tensors)))


def notes(fm: Model, qm: Model, source: Samples, layerwise_error: str, measured: int, dropped: int) -> tuple[str, ...]:
    """What the numbers do not cover, in plain words."""
    out = []
    if source.random:
        spans = [f"[{lo:.4g}, {hi:.4g}]" for r in source.ranges if r is not None for lo, hi in [r]]
        out.append(f"random inputs, uniform over {', '.join(spans)} (the quantized model's input range)" if spans
                   else "random inputs, uniform over [0, 1)")
    if layerwise_error:
        out.append(f"the ops' own errors are not measured: the layer-wise copy of the float model does not run ({layerwise_error})")
    # DEQUANTIZE adds no error of its own (it is exact): only the others count as unmeasured.
    ops = sum(1 for op in qm.subgraphs[0].operators if op.opcode != "DEQUANTIZE")
    if dropped:
        out.append(f"{dropped} matched activation(s) had different sizes in the two models at run time and were not compared")
    if ops > measured and not layerwise_error:
        out.append(f"{ops - measured} of {ops} ops of the quantized model (DEQUANTIZE aside) have no own-error measurement: "
                   "no float op of the same type reading the same inputs (ops the converter replaced or fused, ops with state)")
    weights = sum(1 for t in fm.subgraphs[0].tensors if fm.is_constant(t) and t.dtype in ("INT8", "UINT8", "INT4"))
    if weights:
        out.append(f"the float model holds {weights} integer weight tensor(s) (dynamic-range or weight-only): errors are "
                   "measured against it, not against the original float weights")
    if len(qm.subgraphs) > 1 or len(fm.subgraphs) > 1:
        out.append("only the main subgraph is measured; ops inside control flow (WHILE, IF bodies) are run but not compared")
    return tuple(out)


def _check_float(fm: Model, path: str | os.PathLike[str]) -> None:
    """The reference must compute in float: a quantized model given first is a swapped command line."""
    sub = fm.subgraphs[0]
    outputs = [sub.tensors[op.outputs[0]] for op in sub.operators if op.outputs and 0 <= op.outputs[0] < len(sub.tensors)]
    quantized = sum(1 for t in outputs if t.dtype in ("INT8", "UINT8", "INT16") and t.quantization is not None and t.quantization.scale.size)
    if outputs and quantized * 2 > len(outputs):
        raise UsageError(f"the float model {path} computes in integers ({quantized} of {len(outputs)} op outputs are quantized): "
                         "give the float model first, then the quantized one")


def model_outputs(tensors: tuple[TensorMetrics, ...], fm: Model, qm: Model) -> tuple[TensorMetrics, ...]:
    """Each float output as the quantized model gives it: its own output if paired, else where it was measured last."""
    q_outputs = set(qm.subgraphs[0].outputs)
    best: dict[int, TensorMetrics] = {}
    for t in tensors:
        if t.float_tensor in fm.subgraphs[0].outputs and (t.float_tensor not in best or t.quant_tensor in q_outputs):
            best[t.float_tensor] = t
    return tuple(best[i] for i in fm.subgraphs[0].outputs if i in best)
