"""Every built-in strategy on a real Keras model: outputs match Keras within the scheme's tolerance (TensorFlow)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from convert_helpers import Demo, Run, registry_with, run_tflite

from qcheck import cli, hookimpl, load
from qcheck.convert import ConvertRequest, ConvertResult, convert, convert_all
from qcheck.registry import Strategy

pytestmark = pytest.mark.tf

# Largest |tflite - keras| on softmax outputs. Measured on this model: float16 2e-5, dynamic range
# 5e-5, int8 2.2e-3 (about half an output step of 1/256), 16x8 2e-4 (int8 weights dominate).
TOLERANCE = {"float32": 1e-5, "float16": 2e-4, "dynamic-range": 5e-4, "int8": 8e-3, "int16x8": 1e-3}
# (tolerance key, the input and output dtypes the strategy promises)
PROMISES = {
    "float32": ("float32", "float32"),
    "float16": ("float16", "float32"),
    "dynamic-range": ("dynamic-range", "float32"),
    "int8-fallback": ("int8", "float32"),
    "int8-only": ("int8", "int8"),
    "int8-only-uint8io": ("int8", "uint8"),
    "int16x8": ("int16x8", "float32"),
    "int16x8-fallback": ("int16x8", "float32"),
    "int16x8-only": ("int16x8", "int16"),
}


@pytest.fixture(scope="module")
def converted(demo: Demo, tf_registry: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ConvertResult, Run]]:
    """The .keras file through every built-in strategy (one conversion each), then one LiteRT run of all."""
    folder = tmp_path_factory.mktemp("all")
    results = convert_all(demo.keras_path, folder / "out", calibration=demo.calibration, registry=tf_registry)
    runs = run_tflite([r.output for r in results if r.output], {"image": demo.inputs}, folder)
    return {r.strategy: (r, run) for r, run in zip(results, runs, strict=True)}


def test_every_built_in_strategy_is_covered(converted: dict[str, Any], tf_registry: Any) -> None:
    built_in = {n for n in tf_registry.strategies if tf_registry.owner[f"strategy:{n}"] == "qcheck_tf"}
    assert built_in == set(PROMISES) == set(converted)


@pytest.mark.parametrize("strategy", sorted(PROMISES))
def test_strategy_output_matches_keras(converted: dict[str, tuple[ConvertResult, Run]], demo: Demo, strategy: str) -> None:
    result, run = converted[strategy]
    scheme, io = PROMISES[strategy]
    assert result.verdict == "ok", result.report
    assert run.input_dtype == run.output_dtype == io
    error = float(np.abs(run.outputs - demo.expected).max())
    assert error <= TOLERANCE[scheme], f"{strategy}: max |tflite - keras| = {error:.2e} > {TOLERANCE[scheme]:.0e}"
    assert np.isfinite(run.outputs).all()


def test_sizes_shrink_with_quantization(converted: dict[str, tuple[ConvertResult, Run]]) -> None:
    size = {name: r.size for name, (r, _) in converted.items()}
    assert size["float16"] < 0.7 * size["float32"] and size["int8-only"] < 0.6 * size["float32"]


def _per_tensor_model(request: ConvertRequest) -> bytes:
    """A third party's strategy: int8 with per-tensor weights (older DSPs), written against the public API only."""
    import keras
    import tensorflow as tf

    folder = request.workdir / "acme_saved_model"
    keras.models.load_model(request.source, compile=False).export(str(folder), verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = request.calibration.dataset(keyed=False) if request.calibration else None
    converter._experimental_disable_per_channel = True
    return bytes(converter.convert())


class AcmeTF:
    @hookimpl
    def qcheck_register_strategies(self, register: Any) -> None:
        from qcheck_tf.tfconvert import inputs

        register(Strategy("acme-per-tensor", "int8-fallback", "int8, one scale per weight tensor", _per_tensor_model,
                          needs_calibration=True, inputs=inputs))


def test_third_party_tf_strategy_runs_end_to_end(demo: Demo, tf_registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "make_registry", lambda **kw: registry_with(AcmeTF()))
    out = tmp_path / "acme.tflite"
    args = ["convert", str(demo.keras_path), "--strategy", "acme-per-tensor", "--calibration", str(demo.calibration), "-o", str(out)]
    assert cli.main(args) == 0
    model = load(out)
    conv_weights = [t for _, t in model.iter_tensors() if t.dtype == "INT8" and len(t.shape) == 4 and model.is_constant(t)]
    assert conv_weights and all(t.quantization is not None and t.quantization.scale.size == 1 for t in conv_weights)
    (run,) = run_tflite([out], {"image": demo.inputs}, tmp_path)
    assert np.abs(run.outputs - demo.expected).max() <= TOLERANCE["int8"] * 2  # per-tensor is coarser


def _concrete(model: Any) -> Any:
    import tensorflow as tf

    return tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec((1, 32, 32, 3), tf.float32))


@pytest.mark.parametrize(("strategy", "scheme"), [("float32", "float32"), ("int8-only", "int8")])
def test_concrete_functions_keep_their_weights(demo: Demo, tf_registry: Any, tmp_path: Path, strategy: str, scheme: str) -> None:
    """The Keras 3 trap: from_concrete_functions([fn], trackable_obj=keras_model) drops the weights (NaN outputs)."""
    out = tmp_path / f"{strategy}.tflite"
    result = convert(_concrete(demo.model), strategy, out, calibration=np.load(demo.calibration), registry=tf_registry)
    assert result.verdict == "ok"
    (run,) = run_tflite([out], {"x": demo.inputs}, tmp_path)
    assert np.isfinite(run.outputs).all()
    assert np.abs(run.outputs - demo.expected).max() <= TOLERANCE[scheme]


def test_keras_model_object_and_image_folder(demo: Demo, tf_registry: Any, tmp_path: Path) -> None:
    from PIL import Image

    pixels = (demo.inputs * 255).round().astype(np.uint8)
    (tmp_path / "imgs").mkdir()
    for i, p in enumerate(pixels):
        Image.fromarray(p).save(tmp_path / "imgs" / f"{i:02d}.png")
    out = tmp_path / "img.tflite"
    result = convert(demo.model, "int8-only", out, calibration=tmp_path / "imgs", preprocess="unit", registry=tf_registry)
    assert result.verdict == "ok" and result.calibration == f"12 samples from images in {tmp_path / 'imgs'}"
    (run,) = run_tflite([out], {"image": pixels.astype(np.float32) / 255}, tmp_path)
    assert np.abs(run.outputs - demo.expected).max() <= TOLERANCE["int8"]


@pytest.fixture(scope="module")
def two_inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    import keras

    from qcheck.convert import captured_output

    keras.utils.set_random_seed(3)
    a, b = keras.Input((8,), name="alpha"), keras.Input((4,), name="beta")
    y = keras.layers.Dense(6)(keras.layers.Concatenate()([keras.layers.Dense(8, activation="relu")(a), b]))
    model = keras.Model([a, b], y)
    folder = tmp_path_factory.mktemp("two") / "saved_model"
    with captured_output():
        model.export(str(folder))
    yield folder, model


def test_saved_model_with_named_inputs_and_npz(two_inputs: tuple[Path, Any], tf_registry: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder, model = two_inputs
    rng = np.random.default_rng(0)
    feeds = {"beta": rng.random((16, 4), dtype=np.float32), "alpha": rng.random((16, 8), dtype=np.float32)}
    np.savez(tmp_path / "calib.npz", **feeds)  # type: ignore[arg-type]
    monkeypatch.setattr(cli, "make_registry", lambda **kw: tf_registry)
    out = tmp_path / "two.tflite"
    assert cli.main(["convert", str(folder), "--strategy", "int8-fallback", "--calibration", str(tmp_path / "calib.npz"), "-o", str(out)]) == 0
    (run,) = run_tflite([out], feeds, tmp_path)
    expected = np.asarray(model([feeds["alpha"], feeds["beta"]]))
    assert np.abs(run.outputs - expected).max() <= 0.05 * np.abs(expected).max()


def test_two_input_keras_model_converted_once_and_several_times(two_inputs: tuple[Path, Any], tf_registry: Any, tmp_path: Path) -> None:
    _, model = two_inputs
    rng = np.random.default_rng(1)
    feeds = {"alpha": rng.random((16, 8), dtype=np.float32), "beta": rng.random((16, 4), dtype=np.float32)}
    assert convert(model, "int8-fallback", tmp_path / "one.tflite", calibration=feeds, registry=tf_registry).verdict == "ok"
    results = convert_all(model, tmp_path / "all", ["float32", "int8-fallback"], calibration=feeds, registry=tf_registry)
    assert [r.verdict for r in results] == ["ok", "ok"]
    paths = [tmp_path / "one.tflite", tmp_path / "all" / "float32.tflite", tmp_path / "all" / "int8-fallback.tflite"]
    one, f32, int8 = run_tflite(paths, feeds, tmp_path)
    expected = np.asarray(model([feeds["alpha"], feeds["beta"]]))
    np.testing.assert_allclose(f32.outputs, expected, atol=1e-5)
    for run in (one, int8):
        assert np.abs(run.outputs - expected).max() <= 0.05 * np.abs(expected).max()


def test_h5_source(demo: Demo, tf_registry: Any, tmp_path: Path) -> None:
    from qcheck.convert import captured_output

    with captured_output():
        demo.model.save(tmp_path / "demo.h5")
    out = tmp_path / "h5.tflite"
    assert convert(tmp_path / "demo.h5", "float32", out, registry=tf_registry).verdict == "ok"
    (run,) = run_tflite([out], {"image": demo.inputs}, tmp_path)
    assert np.abs(run.outputs - demo.expected).max() <= TOLERANCE["float32"]


@pytest.mark.parametrize("several", [False, True], ids=["from_keras_model", "one-export-for-several"])
def test_batchnorm_and_dropout_convert_in_inference_mode(tf_registry: Any, tmp_path: Path, several: bool) -> None:
    """An export traced with training=True would use batch statistics and drop units: outputs would differ."""
    import keras

    keras.utils.set_random_seed(7)
    x = keras.Input((6, 6, 4), name="x")
    bn = keras.layers.BatchNormalization()
    y = keras.layers.Dropout(0.5)(bn(keras.layers.Conv2D(8, 3)(x)))
    model = keras.Model(x, keras.layers.Flatten()(y))
    rng = np.random.default_rng(7)
    gamma, beta, mean = (rng.normal(size=8).astype(np.float32) for _ in range(3))
    bn.set_weights([gamma, beta, mean, rng.uniform(0.5, 2.0, 8).astype(np.float32)])
    inputs = rng.random((4, 6, 6, 4), dtype=np.float32)
    if several:
        results = convert_all(model, tmp_path / "all", ["float32", "float16"], registry=tf_registry)
        out = tmp_path / "all" / "float32.tflite"
        assert [r.verdict for r in results] == ["ok", "ok"]
    else:
        out = tmp_path / "bn.tflite"
        assert convert(model, "float32", out, registry=tf_registry).verdict == "ok"
    (run,) = run_tflite([out], {"x": inputs}, tmp_path)
    np.testing.assert_allclose(run.outputs, np.asarray(model(inputs, training=False)), atol=1e-4)
