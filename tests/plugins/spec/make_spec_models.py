"""Regenerate tests/plugins/spec/models/*.tflite: converter-made models that exercise many op types.

They complement fixtures/models/tf_*.tflite (one small demo model per strategy) with the ops the
spec rules care about: PRELU, TRANSPOSE_CONV, pooling, CONCATENATION, RESIZE_BILINEAR, PAD, TANH,
LOGISTIC, SOFTMAX, LOG_SOFTMAX, HARD_SWISH, float-fallback islands, hybrid LSTM and per-channel
hybrid CONV_2D, 16x8 with int32 biases, and untrained (all-zero, shared) biases.
Needs TensorFlow; run: .venv/bin/python tests/plugins/spec/make_spec_models.py [STEM...]
Weights are seeded; models.json records what each file must be (see test_spec_false_alarms.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "models"


def build(kind: str):  # type: ignore[no-untyped-def]
    import keras
    from keras import layers

    if kind == "rnn":
        x = inp = keras.Input((6, 8), batch_size=1)
        x = layers.LSTM(40, return_sequences=True)(x)  # 40*4 x 8 > 1024 elements: quantized in dynamic range
        return keras.Model(inp, layers.Dense(4)(x))
    if kind == "fallback":  # FLOOR has no integer kernel; HARD_SWISH and LOG_SOFTMAX have no int16 kernel
        import tensorflow as tf

        x = inp = keras.Input((6, 6, 3), batch_size=1)
        x = layers.Conv2D(4, 3, padding="same")(x)
        x = layers.Lambda(lambda v: tf.math.floor(v))(x)
        x = layers.Conv2D(4, 3, padding="same")(x)
        x = layers.Activation("hard_swish")(x)
        x = layers.Lambda(lambda v: tf.nn.log_softmax(v))(x)
        return keras.Model(inp, layers.Dense(5)(layers.Flatten()(x)))
    if kind == "shapes":  # a chain: each same-scale op feeds a 1x1 CONV_2D (a changed scale there is harmless)
        import tensorflow as tf

        steps = [layers.MaxPooling2D(2, padding="same"), layers.AveragePooling2D(2, padding="same"),
                 lambda v: tf.transpose(v, [0, 2, 1, 3]), lambda v: v[:, :, :, :],
                 lambda v: tf.pad(v, [[0, 0], [1, 1], [1, 1], [0, 0]]), lambda v: tf.image.resize(v, (8, 8), method="bilinear"),
                 lambda v: tf.image.resize(v, (8, 8), method="nearest"), lambda v: tf.nn.space_to_depth(v, 2),
                 lambda v: tf.nn.depth_to_space(v, 2), lambda v: tf.tile(v, [1, 1, 1, 1]) + 0.0,
                 lambda v: tf.reduce_max(v, axis=1, keepdims=True), lambda v: tf.maximum(v, 0.25),
                 lambda v: tf.reshape(v, (1, 8, -1))]
        x = inp = keras.Input((8, 8, 4), batch_size=1)
        for step in steps:
            y = step(x) if isinstance(step, layers.Layer) else layers.Lambda(step)(x)
            x = layers.Conv2D(4, 1)(y) if len(y.shape) == 4 else layers.Dense(4)(y)
        return keras.Model(inp, x)
    if kind == "big":  # weights >= 1024 elements, so dynamic range quantizes CONV_2D per channel
        x = inp = keras.Input((8, 8, 16), batch_size=1)
        x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
        x = layers.GlobalAveragePooling2D()(x)
        return keras.Model(inp, layers.Dense(10)(layers.Dense(64, activation="relu")(x)))
    x = inp = keras.Input((8, 8, 3), batch_size=1)
    x = layers.Conv2D(8, 3, padding="same", activation="relu6")(x)
    x = layers.BatchNormalization()(x)
    y = layers.ReLU()(layers.DepthwiseConv2D(3, padding="same")(x))
    z = layers.Conv2D(8, 1)(x)
    x = layers.Multiply()([layers.Add()([y, z]), z])
    x = layers.Concatenate()([layers.MaxPooling2D(2)(x), layers.AveragePooling2D(2)(x)])
    if kind == "vision":  # PRELU: int8 only (the 16x8 converter refuses it without fallback)
        x = layers.PReLU(shared_axes=[1, 2])(x)
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    x = layers.UpSampling2D(interpolation="bilinear")(layers.ZeroPadding2D(1)(x))
    x = layers.Conv2D(4, 3, strides=2)(x)
    x = layers.Concatenate()([layers.Activation("tanh")(x), layers.Activation("sigmoid")(x)])
    x = layers.Dense(8, activation="relu")(layers.Reshape((-1, 8))(x))
    return keras.Model(inp, layers.Softmax()(layers.Dense(10)(layers.Flatten()(x))))


# file stem -> (model kind, conversion mode, --expect name it satisfies, documented spec violations)
MODELS = {
    "vision_int8": ("vision", "int8", "int8", []),
    "vision_int8only": ("vision", "int8only", "int8-only", []),
    "vision_int8only_u8": ("vision", "int8only_u8", "int8-only", []),
    "vision_dynamic": ("vision", "dynamic", "dynamic-range", []),
    "vision_float16": ("vision", "float16", "float16", []),
    "vision_int16x8fb": ("vision", "int16x8fb", "int16x8-fallback", []),
    "vision16_int16x8": ("vision16", "int16x8", "int16x8", []),
    "vision16_int16x8io": ("vision16", "int16x8io", "int16x8-only", []),
    # TF 2.21 writes an INT32 bias for DEPTHWISE_CONV_2D when asked for int32 biases: LiteRT refuses to load it.
    "vision16_int16x8_b32": ("vision16", "int16x8_b32", "int16x8", ["QC206"]),
    "zeros16_int16x8": ("zeros16", "int16x8", "int16x8", []),  # untrained: one zero bias shared (QC209 info)
    "fallback_int8only": ("fallback", "int8only", "int8-fallback", []),  # FLOOR stays float despite int8-only
    "fallback_int16x8fb": ("fallback", "int16x8fb", "int16x8-fallback", []),
    "shapes_int8": ("shapes", "int8", "int8", []),
    "big_dynamic": ("big", "dynamic", "dynamic-range", []),
    "rnn_dynamic": ("rnn", "dynamic", "dynamic-range", []),
}


def convert(model, mode: str, seed: int) -> bytes:  # type: ignore[no-untyped-def]
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [tf.float16]
    if mode.startswith("int"):
        shapes = [tuple(i.shape) for i in model.inputs]
        conv.representative_dataset = lambda: ([rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(16))
    i16 = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
    ops = {"int8only": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8], "int8only_u8": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8],
           "int16x8": [i16], "int16x8io": [i16], "int16x8_b32": [i16], "int16x8fb": [i16, tf.lite.OpsSet.TFLITE_BUILTINS]}
    if mode in ops:
        conv.target_spec.supported_ops = ops[mode]
    io = {"int8only": tf.int8, "int8only_u8": tf.uint8, "int16x8io": tf.int16}.get(mode)
    if io is not None:
        conv.inference_input_type = conv.inference_output_type = io
    if mode == "int16x8_b32":
        conv._experimental_full_integer_quantization_bias_type = tf.int32
    return conv.convert()


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    OUT.mkdir(exist_ok=True)
    manifest = json.loads((OUT / "models.json").read_text()) if (OUT / "models.json").exists() else {}
    only = set(sys.argv[1:])  # regenerate only these stems (default: all)
    for stem, (kind, mode, expect, known) in MODELS.items():
        if only and stem not in only:
            continue
        keras.utils.set_random_seed(0)
        model = build("vision16" if kind == "zeros16" else kind)
        if kind != "zeros16":  # random weights: non-zero biases, so bias scales matter
            rng = np.random.default_rng(1)
            model.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.2 for w in model.get_weights()])
            for layer in model.layers:
                if layer.__class__.__name__ == "BatchNormalization":
                    g, b, mu, var = layer.get_weights()
                    layer.set_weights([g, b, mu, np.abs(var) + 0.5])
        (OUT / f"{stem}.tflite").write_bytes(convert(model, mode, seed=2))
        manifest[f"{stem}.tflite"] = {"expect": expect, "known_errors": known}
        print("wrote", stem, file=sys.stderr)
    (OUT / "models.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
