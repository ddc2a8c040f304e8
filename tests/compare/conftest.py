"""Fixtures of the comparison tests: the demo model converted once per session (TensorFlow), and planting helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

STRATEGIES = ("float32", "float16", "dynamic-range", "int8-fallback", "int8-only", "int8-only-uint8io", "int16x8", "int16x8-fallback",
              "int16x8-only")


@pytest.fixture(scope="session")
def demo_pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seeded demo model through the strategies above (plus 'data': 12 held-out samples as a .npy)."""
    from qcheck_tf.demo_model import build_demo_model, calibration_samples

    from qcheck.convert import captured_output, convert_all

    folder = tmp_path_factory.mktemp("compare-demo")
    with captured_output():
        model = build_demo_model()
    np.save(folder / "calib.npy", calibration_samples(32))
    np.save(folder / "data.npy", calibration_samples(12, seed=99))
    model.save(folder / "demo.keras")
    results = convert_all(folder / "demo.keras", folder / "out", STRATEGIES, calibration=folder / "calib.npy")
    out = {r.strategy: r.output for r in results if r.output is not None}
    assert set(out) == set(STRATEGIES), [(r.strategy, r.error) for r in results]
    return {**out, "data": folder / "data.npy", "keras": folder / "demo.keras", "calib": folder / "calib.npy"}  # type: ignore[dict-item]


@pytest.fixture(scope="session")
def resnet_pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small ResNet-style network (stem, three residual blocks with batch norm, one strided with a 1x1
    projection, global pooling, classifier) as float32 and int8-fallback, with 8 held-out samples."""
    import keras
    from keras import layers

    from qcheck.convert import captured_output, convert_all

    def block(x, filters: int, stride: int):  # type: ignore[no-untyped-def]
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
        if stride != 1 or x.shape[-1] != filters:
            x = layers.BatchNormalization()(layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x))
        return layers.ReLU()(layers.Add()([x, y]))

    folder = tmp_path_factory.mktemp("compare-resnet")
    with captured_output():
        keras.utils.set_random_seed(7)
        x = keras.Input((32, 32, 3), name="image")
        y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(16, 3, padding="same", use_bias=False)(x)))
        y = block(block(block(y, 16, 1), 32, 2), 32, 1)
        y = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(y))
        keras.Model(x, y, name="resnet_style").save(folder / "resnet.keras")
    rng = np.random.default_rng(3)
    np.save(folder / "calib.npy", rng.random((16, 32, 32, 3), dtype=np.float32))
    np.save(folder / "data.npy", rng.random((8, 32, 32, 3), dtype=np.float32))
    results = convert_all(folder / "resnet.keras", folder / "out", ["float32", "int8-fallback"], calibration=folder / "calib.npy")
    out = {r.strategy: r.output for r in results if r.output is not None}
    assert set(out) == {"float32", "int8-fallback"}, [(r.strategy, r.error) for r in results]
    return {**out, "data": folder / "data.npy"}  # type: ignore[dict-item]


def rewrite(src: Path, dst: Path, edit) -> str:  # type: ignore[no-untyped-def]
    """Copy a model with `edit(subgraph 0)` applied (qcheck.tflite.rewrite); returns what edit returns, as text."""
    from qcheck.tflite.rewrite import rewrite as rewrite_model

    result: list[object] = []
    dst.write_bytes(rewrite_model(src.read_bytes(), lambda model, schema: result.append(edit(model.subgraphs[0]))))
    return str(result[0])
