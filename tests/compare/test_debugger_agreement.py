"""qcheck compare's per-layer error agrees with TensorFlow's QuantizationDebugger (layer-wise NumericVerify mode).

Both measure, per quantized op, dequant(op output) minus the float op run on the quantized model's own
dequantized inputs with the original float weights; per-sample mean squared error averaged over samples.
The debugger's `layer_statistics_dump` names each row by the float model's tensor name; qcheck's layers
are joined to it through the float tensor paired with their quantized output (Comparison.tensors).
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qcheck.compare import Comparison, compare
from qcheck.tflite.reader import load

pytestmark = [pytest.mark.tf, pytest.mark.slow]

REL = 1e-5  # mse and rmse/scale, relative
ABS_RMSE_OVER_SCALE = 1e-4  # ops that pass values through at one scale: both sides measure float noise (~1e-16 mse)
SAME_SCALE_OPS = frozenset({"MAX_POOL_2D", "RESHAPE", "CONCATENATION", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE",
                            "STRIDED_SLICE", "SLICE", "GATHER", "SPLIT", "PAD", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH"})
SHAPE = (16, 16, 3)


@dataclass(frozen=True)
class Agreement:
    rows: dict[str, dict[str, str]] = field(repr=False)  # debugger CSV rows by float tensor name
    comparison: Comparison = field(repr=False)
    first_layers: frozenset[str]  # float names of what the ops reading a model-input QUANTIZE write


def _model() -> Any:
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input(SHAPE, name="img")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    a = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    b = keras.layers.Conv2D(8, 1, name="conv2")(x)
    y = keras.layers.Add(name="add")([a, b])
    y = keras.layers.MaxPooling2D(2, name="pool")(y)
    y = keras.layers.Flatten(name="flat")(y)
    y = keras.layers.Dense(10, name="dense")(y)
    model = keras.Model(inp, keras.layers.Softmax(name="sm")(y))
    rng = np.random.default_rng(7)  # non-zero biases: float bias against dequantized int32 bias shows
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape).astype(np.float32))
    return model


def _first_layers(quant_path: Path) -> frozenset[int]:
    """Output tensors (quantized model) of the ops that read a model input's QUANTIZE output.

    The debugger feeds those float ops the raw float model input, not dequant(QUANTIZE(x)), so its error
    there includes the input's quantization; qcheck charges that to the QUANTIZE op and measures the op
    on what it really received. The two differ by design, so these layers are left out of the comparison.
    """
    sub = load(quant_path).subgraphs[0]
    quantized_inputs = {op.outputs[0] for op in sub.operators if op.opcode == "QUANTIZE" and op.inputs[0] in sub.inputs}
    return frozenset(op.outputs[0] for op in sub.operators if op.opcode != "QUANTIZE" and quantized_inputs & set(op.inputs))


@pytest.fixture(scope="module")
def agreement(tmp_path_factory: pytest.TempPathFactory) -> Agreement:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("debugger")
    model = _model()
    rng = np.random.default_rng(123)
    calibration = [rng.uniform(-1, 1, (1, *SHAPE)).astype(np.float32) for _ in range(8)]
    debug = [rng.uniform(-1, 1, (1, *SHAPE)).astype(np.float32) for _ in range(5)]
    np.save(folder / "samples.npy", np.concatenate(debug))

    def converter(quantize: bool) -> Any:
        # from_keras_model: with Keras 3, from_concrete_functions(..., trackable_obj=model) drops the weights.
        c = tf.lite.TFLiteConverter.from_keras_model(model)
        if quantize:
            c.optimizations = [tf.lite.Optimize.DEFAULT]
            c.representative_dataset = lambda: ([s] for s in calibration)
            c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return c

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # input statistics notice, tf.lite.Interpreter's deprecation, preserve_all_tensors
        (folder / "float.tflite").write_bytes(converter(False).convert())
        (folder / "int8.tflite").write_bytes(converter(True).convert())
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter(True), debug_dataset=lambda: ([s] for s in debug))
        debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    rows = {r["tensor_name"]: r for r in csv.DictReader(io.StringIO(dump.getvalue()))}
    comparison = compare(folder / "float.tflite", folder / "int8.tflite", folder / "samples.npy", jobs=1)
    assert comparison.samples == len(debug)
    names = _float_names(comparison)
    return Agreement(rows, comparison, frozenset(names[t] for t in _first_layers(folder / "int8.tflite")))


def _float_names(c: Comparison) -> dict[int, str]:
    """Quantized tensor -> the float model's name for it (the debugger's tensor_name)."""
    return {t.quant_tensor: t.name for t in c.tensors}


def test_layers_compared_are_the_debuggers(agreement: Agreement) -> None:
    names = _float_names(agreement.comparison)
    ours = {names.get(x.tensor, x.name) for x in agreement.comparison.layers if x.opcode not in ("QUANTIZE", "DEQUANTIZE")}
    theirs = set(agreement.rows)
    first = set(agreement.first_layers)
    assert first and first <= theirs, f"the first-layer exception should name debugger rows: {first}"
    compared = (ours & theirs) - first
    assert len(compared) >= 5
    missing = {n: agreement.rows[n]["op_name"] for n in theirs - first - ours}
    assert not missing, f"layers the debugger measures that qcheck compare does not: {missing}"
    assert compared == theirs - first
    assert not ours - theirs, f"layers qcheck measures that the debugger does not: {ours - theirs}"


def test_layer_errors_agree(agreement: Agreement) -> None:
    names = _float_names(agreement.comparison)
    lines, bad = [], []
    for x in agreement.comparison.layers:
        name = names.get(x.tensor, x.name)
        row = agreement.rows.get(name)
        if row is None:
            continue
        mse, scale = float(row["mean_squared_error"]), float(row["scale"])
        if name in agreement.first_layers:
            lines.append(f"{x.opcode:18s} mse qcheck={x.mse:.9g} debugger={mse:.9g}  (first layer: not compared)")
            continue
        ros = math.sqrt(mse) / scale
        assert x.scale == pytest.approx(scale, rel=1e-6) and x.rmse_over_scale is not None
        if x.opcode in SAME_SCALE_OPS:
            ok = abs(x.rmse_over_scale - ros) <= ABS_RMSE_OVER_SCALE and abs(x.mse - mse) <= (ABS_RMSE_OVER_SCALE * scale) ** 2
            rel = math.nan
        else:
            rel = max(abs(x.mse - mse) / mse, abs(x.rmse_over_scale - ros) / ros)
            ok = rel <= REL
        line = f"{x.opcode:18s} mse qcheck={x.mse:.9g} debugger={mse:.9g}  rmse/scale {x.rmse_over_scale:.7f} {ros:.7f}  rel={rel:.2e}"
        lines.append(line)
        if not ok:
            bad.append(line)
    print("\n".join(lines))
    assert len(lines) - len(agreement.first_layers) >= 5
    assert not bad, "layer errors disagree with QuantizationDebugger:\n" + "\n".join(bad)
