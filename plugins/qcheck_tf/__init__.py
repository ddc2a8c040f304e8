"""Built-in plugin: quantization strategies through the TensorFlow Lite converter (TensorFlow is imported lazily)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from qcheck.registry import Strategy, hookimpl


class Mode(NamedTuple):
    """One post-training mode of tf.lite.TFLiteConverter, as converter settings.

    Sources: https://ai.google.dev/edge/litert/models/post_training_quantization and
    tensorflow/lite/python/lite.py (OpsSet, inference_input_type, target_spec.supported_types).
    """

    optimize: bool = False  # converter.optimizations = [Optimize.DEFAULT]
    calibrate: bool = False  # a representative dataset: full-integer or 16x8 quantization
    ops: tuple[str, ...] = ()  # target_spec.supported_ops (tf.lite.OpsSet names); () = the default
    io: str | None = None  # inference_input_type and inference_output_type; None = float32
    float16: bool = False  # target_spec.supported_types = [tf.float16]
    # --keep-float through QuantizationDebugOptions(denylisted_ops, denylisted_nodes): TensorFlow's selective
    # quantization, for full-integer int8 with float fallback (the debugger quantizes int8 only).
    selective: bool = False


_16X8 = "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"

# name, the --expect scheme the output must satisfy, description, converter settings.
STRATEGIES: tuple[tuple[str, str, str, Mode], ...] = (
    ("float32", "float32", "no quantization: the float model as the converter writes it", Mode()),
    ("float16", "float16", "float16 weights, dequantized to float32 at load time", Mode(optimize=True, float16=True)),
    ("dynamic-range", "dynamic-range", "int8 weights, float activations (weights under 1024 elements stay float)", Mode(optimize=True)),
    ("int8-fallback", "int8-fallback", "full integer int8, float ops where no int8 kernel exists; float I/O",
     Mode(optimize=True, calibrate=True, selective=True)),
    ("int8-only", "int8-only", "integer-only int8, int8 inputs and outputs (fails if an op has no int8 kernel)",
     Mode(optimize=True, calibrate=True, ops=("TFLITE_BUILTINS_INT8",), io="int8")),
    ("int8-only-uint8io", "int8-only", "integer-only int8, uint8 inputs and outputs (legacy uint8 pipelines)",
     Mode(optimize=True, calibrate=True, ops=("TFLITE_BUILTINS_INT8",), io="uint8")),
    ("int16x8", "int16x8", "int16 activations, int8 weights, no float fallback; float I/O",
     Mode(optimize=True, calibrate=True, ops=(_16X8,))),
    ("int16x8-fallback", "int16x8-fallback", "int16 activations, int8 weights, float ops where no 16x8 kernel exists",
     Mode(optimize=True, calibrate=True, ops=(_16X8, "TFLITE_BUILTINS"))),
    ("int16x8-only", "int16x8-only", "int16 activations, int8 weights, int16 inputs and outputs",
     Mode(optimize=True, calibrate=True, ops=(_16X8,), io="int16")),
)


def _converter(mode: Mode) -> Callable[[Any], bytes]:
    def convert(request: Any) -> bytes:
        from qcheck_tf import tfconvert  # TensorFlow loads here, at conversion time only

        return tfconvert.convert(request, mode)

    return convert


def _inputs(request: Any) -> Sequence[Any]:
    from qcheck_tf import tfconvert

    return tfconvert.inputs(request)


@hookimpl
def qcheck_register_strategies(register: Callable[[Strategy], None]) -> None:
    for name, expect, description, mode in STRATEGIES:
        register(Strategy(name, expect, description, _converter(mode), needs_calibration=mode.calibrate, inputs=_inputs,
                          baseline=not mode.optimize, keeps_float=mode.selective))  # float32: the reference the others are compared with
