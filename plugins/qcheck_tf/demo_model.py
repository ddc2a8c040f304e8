"""The small seeded Keras model that `make demo`, the fixtures and the tests convert (built in code, no download)."""

from __future__ import annotations

from typing import Any

import numpy as np

INPUT_SHAPE = (32, 32, 3)
SEED = 1234


def build_demo_model(seed: int = SEED) -> Any:
    """A 10-class image classifier, ~10k weights, touching the ops whose quantization rules differ.

    Conv/depthwise/dense weights (per-axis), a residual ADD and a CONCATENATION (same-scale
    inputs), pooling, and the fixed-output-scale activations TANH, LOGISTIC and SOFTMAX. The
    32x3x3x16 convolution has over 1024 elements, so dynamic-range quantization has work to do.
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    x = keras.Input(INPUT_SHAPE, name="image")
    y = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    y = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    y = layers.Add()([y, layers.Conv2D(16, 1)(y)])
    y = layers.MaxPooling2D(2)(y)
    y = layers.Conv2D(32, 3, padding="same", activation="relu")(y)
    y = layers.AveragePooling2D(2)(y)
    y = layers.GlobalAveragePooling2D()(y)
    y = layers.Concatenate()([layers.Dense(16, activation="tanh")(y), layers.Dense(16, activation="sigmoid")(y)])
    y = layers.Dense(10)(y)
    return keras.Model(x, layers.Softmax()(y), name="qcheck_demo")


def calibration_samples(count: int = 32, seed: int = SEED) -> np.ndarray:
    """Inputs like the ones the demo model expects: smooth random images in [0, 1]."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((count, 8, 8, INPUT_SHAPE[2]), dtype=np.float32)
    # Upsampled noise looks more like images than white noise does (neighbouring pixels agree).
    return np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2).astype(np.float32)
