"""The TensorFlow side of the qcheck_tf strategies: load the source, describe its inputs, run TFLiteConverter."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qcheck.convert import ConversionError, ConvertRequest, one_line
from qcheck.convert.calibration import InputSpec
from qcheck.errors import UsageError
from qcheck_tf import Mode

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
# The MLIR quantizer leaves smaller weights in float in dynamic-range mode:
# tensorflow/compiler/mlir/lite/quantization/common/quantization_lib/quantization_config.h
# (QuantizationSpecs::minimum_elements_for_weights = 1024).
DYNAMIC_RANGE_MIN_ELEMENTS = 1024
_CACHE_KEY = "qcheck_tf.source"


@dataclass(frozen=True)
class Loaded:
    """A source ready for the converter: a SavedModel folder, or concrete functions."""

    inputs: tuple[InputSpec, ...]
    saved_model: Path | None = None
    functions: tuple[Any, ...] = ()
    keras_model: Any = None

    @property
    def keyed(self) -> bool:
        # Several inputs of a signature (SavedModel, Keras) are fed by name. Otherwise a list: dicts make
        # the calibrator build an extra interpreter just to map the names.
        return len(self.inputs) > 1 and not self.functions


def inputs(request: ConvertRequest) -> list[InputSpec]:
    return list(load(request).inputs)


def load(request: ConvertRequest) -> Loaded:
    """Load the source once per run (the strategies of `convert --all` share it)."""
    if _CACHE_KEY not in request.cache:
        request.cache[_CACHE_KEY] = _load(request.source, request.workdir, request.unsafe, request.conversions)
    loaded: Loaded = request.cache[_CACHE_KEY]
    return loaded


def _load(source: Any, workdir: Path, unsafe: bool, conversions: int) -> Loaded:
    import tensorflow as tf

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            if not any((path / n).is_file() for n in ("saved_model.pb", "saved_model.pbtxt")):
                raise UsageError(f"{path} is a folder but not a SavedModel (it has no saved_model.pb)")
            return Loaded(_signature_inputs(path), saved_model=path)
        if path.suffix.lower() not in KERAS_SUFFIXES:
            raise UsageError(f"cannot convert {path}: expected a SavedModel folder or a .keras / .h5 file")
        return _keras(_load_keras(path, unsafe), workdir, conversions)
    if isinstance(source, (list, tuple)) or hasattr(source, "structured_input_signature"):
        functions = tuple(source) if isinstance(source, (list, tuple)) else (source,)
        if not functions or not all(hasattr(f, "structured_input_signature") for f in functions):
            raise UsageError("expected concrete functions (tf.function(...).get_concrete_function(...))")
        specs = tf.nest.flatten(functions[0].structured_input_signature)
        return Loaded(tuple(_spec(s.name or f"input_{i}", s.shape, s.dtype) for i, s in enumerate(specs)), functions=functions)
    import keras

    if isinstance(source, keras.Model):
        return _keras(source, workdir, conversions)
    raise UsageError(f"cannot convert a {type(source).__name__}: give a SavedModel folder, a .keras/.h5 file, a Keras model or concrete functions")


def _spec(name: str, shape: Any, dtype: Any) -> InputSpec:
    dims = tuple(None if d is None or d < 0 else int(d) for d in (list(shape) if shape is not None else []))
    return InputSpec(name, dims, np.dtype(dtype.as_numpy_dtype if hasattr(dtype, "as_numpy_dtype") else dtype).name)


def _signature_inputs(path: Path, order: list[str] | None = None) -> tuple[InputSpec, ...]:
    """The serving signature's inputs, read from saved_model.pb alone (no graph is restored)."""
    import tensorflow as tf
    from tensorflow.python.saved_model import loader_impl

    try:
        saved = loader_impl.parse_saved_model(str(path))
    except Exception as e:  # noqa: BLE001  (TensorFlow raises many types for a broken SavedModel)
        raise UsageError(f"cannot read SavedModel {path}: {one_line(e)}") from None
    sigs = {k: s for mg in saved.meta_graphs for k, s in mg.signature_def.items()}
    if "serving_default" not in sigs:
        raise UsageError(f"SavedModel {path} has no 'serving_default' signature (it has: {', '.join(sigs) or 'none'})")
    items = sigs["serving_default"].inputs
    names = [n for n in (order or []) if n in items] + sorted(n for n in items if n not in (order or []))
    out = []
    for name in names:
        info = items[name]
        dims = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
        out.append(_spec(name, dims, tf.dtypes.as_dtype(info.dtype)))
    return tuple(out)


def _load_keras(path: Path, unsafe: bool) -> Any:
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=not unsafe)
    except Exception as e:
        text = str(e)
        if "safe_mode" in text or ("Lambda" in text and "unsafe" in text):
            raise UsageError(
                f"{path} contains a Lambda layer with Python code, which Keras' safe mode will not load: "
                "pass --unsafe only if you trust the file (its code will run)"
            ) from None
        unknown = re.search(r"(?:Could not locate class|Unknown layer:?) '?([\w.>]+)'?", text)
        if unknown:
            raise ConversionError(
                f"cannot load {path}: unsupported layer {unknown.group(1)!r}: a custom class Keras cannot import here "
                "(export a SavedModel where its code is importable, and convert that)"
            ) from e
        raise ConversionError(f"cannot load {path} with Keras: {one_line(e)}") from e


def _keras(model: Any, workdir: Path, conversions: int) -> Loaded:
    """A Keras 3 model: TFLiteConverter.from_keras_model for one conversion, one SavedModel export for several.

    from_keras_model exports the model to a SavedModel on every convert() (measured on ResNet50:
    faster than exporting it ourselves for one conversion, slower than one export for nine).
    Never from_concrete_functions([fn], trackable_obj=model): with Keras 3 that silently drops
    the weights (NaN outputs; READ_VARIABLE failures in int8 calibration).
    """
    inputs = getattr(model, "inputs", None) or []
    if conversions == 1 and inputs:
        return Loaded(tuple(_spec(t.name, t.shape, t.dtype) for t in inputs), keras_model=model)
    import functools

    import keras
    import tensorflow as tf

    target = workdir / f"saved_model_{len(list(workdir.glob('saved_model_*')))}"
    try:
        if inputs:
            # As from_keras_model does it: an inference-mode (training=False) endpoint over the inputs.
            archive = keras.export.ExportArchive()
            archive.track(model)
            specs = [tf.TensorSpec(t.shape, dtype=t.dtype, name=t.name) for t in inputs]
            archive.add_endpoint("serve", functools.partial(model.__call__, training=False), specs if len(specs) == 1 else [specs])
            archive.write_out(str(target), verbose=False)
        else:  # a subclassed model: Keras derives the signature from its first call
            model.export(str(target), format="tf_saved_model", verbose=False)
    except Exception as e:
        raise ConversionError(f"cannot export the Keras model for conversion: {one_line(e)}") from e
    return Loaded(_signature_inputs(target, [t.name for t in inputs]), saved_model=target)


def configure(converter: Any, mode: Mode) -> None:
    """Apply a mode's settings to a tf.lite.TFLiteConverter (all but the representative dataset)."""
    import tensorflow as tf

    if mode.optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode.ops:
        converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, o) for o in mode.ops]
    if mode.float16:
        converter.target_spec.supported_types = [tf.float16]
    if mode.io is not None:
        converter.inference_input_type = converter.inference_output_type = getattr(tf, mode.io)


def convert(request: ConvertRequest, mode: Mode) -> bytes:
    import tensorflow as tf

    loaded = load(request)
    if loaded.keras_model is not None:
        converter = tf.lite.TFLiteConverter.from_keras_model(loaded.keras_model)
    elif loaded.saved_model is not None:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(loaded.saved_model))
    else:
        # A tf.Module that holds the functions' variables: the trackable object the converter
        # needs, without the Keras 3 model that would make it drop them.
        holder = tf.Module()
        holder.weights_ = [v for f in loaded.functions for v in f.variables]
        converter = tf.lite.TFLiteConverter.from_concrete_functions(list(loaded.functions), holder)
    configure(converter, mode)
    if mode.calibrate:
        if request.calibration is None:
            raise UsageError("this strategy needs calibration data (--calibration)")
        converter.representative_dataset = request.calibration.dataset(keyed=loaded.keyed)
    try:
        data = selective(converter, request, loaded.keyed) if request.keep_float else bytes(converter.convert())
    except Exception as e:
        raise ConversionError(f"the TFLite converter failed: {converter_message(e)}") from e
    if mode.optimize and not mode.calibrate and not mode.float16:
        explain_dynamic_range(data, request.notes)
    return data


def selective(converter: Any, request: ConvertRequest, keyed: bool) -> bytes:
    """Quantize all but the ops named in request.keep_float: op types (all capitals, e.g. MEAN) and op names.

    TensorFlow's own route, QuantizationDebugger(...).get_nondebug_quantized_model() with
    QuantizationDebugOptions(denylisted_ops, denylisted_nodes) (tensorflow/lite/tools/optimize/debugging/
    python/debugger.py); an op's name is the name of its output tensor, as `qcheck compare` reports it.
    """
    import tensorflow as tf

    if request.calibration is None:
        raise UsageError("--keep-float needs calibration data (--calibration)")
    types = [k for k in request.keep_float if k.isupper() and "/" not in k and ":" not in k]
    names = [k for k in request.keep_float if k not in types]
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=types or None, denylisted_nodes=names or None)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=request.calibration.dataset(keyed=keyed), debug_options=options)
    return bytes(debugger.get_nondebug_quantized_model())


def converter_message(e: BaseException) -> str:
    """The converter's point in one line: its errors are MLIR dumps with the cause buried inside."""
    text = str(e)
    select = re.search(r"TF Select ops: (.+)", text)
    if select:
        return (f"unsupported operation(s) {select.group(1).strip()}: no TFLite builtin kernel "
                "(they would need TF Select / Flex ops, which these strategies do not enable)")
    for line in text.splitlines():
        if "error:" in line:
            msg = line.split("error:", 1)[1].strip()
            if msg.startswith("loc("):
                msg = msg.rsplit("): ", 1)[-1]  # drop the MLIR source location
            if msg and not msg.startswith("failed while converting"):
                return msg if len(msg) <= 300 else msg[:297] + "..."
    return one_line(e)


def explain_dynamic_range(data: bytes, notes: list[str]) -> None:
    """Say plainly when dynamic-range quantization quantized nothing, and why."""
    from qcheck.tflite.reader import load as read

    model = read(data)
    tensors = [t for _, t in model.iter_tensors() if model.is_constant(t)]
    if any(t.dtype == "INT8" for t in tensors):
        return
    largest = max((t.num_elements for t in tensors if t.dtype == "FLOAT32" and len(t.shape) >= 2), default=0)
    if largest < DYNAMIC_RANGE_MIN_ELEMENTS:
        notes.append(
            f"No weight was quantized: the TFLite converter's dynamic-range mode leaves weight tensors with fewer than "
            f"{DYNAMIC_RANGE_MIN_ELEMENTS} elements in float32, and the largest weight here has {largest}, "
            "so the output is a plain float32 model. Use float16 or a full-integer strategy for a model this small."
        )
    else:
        notes.append("No weight was quantized: the converter kept every weight in float32.")
