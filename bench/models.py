"""Benchmark models written with qcheck's ModelBuilder (no TensorFlow): realistic int8 graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qcheck.tflite.builder import ModelBuilder


class Graph:
    """A small helper that chains int8 ops with consistent shapes and spec-conformant parameters."""

    def __init__(self, seed: int = 0, weights: str = "random") -> None:
        self.b = ModelBuilder(description="qcheck benchmark model")
        self.rng = np.random.default_rng(seed)
        self.weights = weights  # "random", or "broadcast" for huge models (nothing big in memory)
        self.n = 0
        self.scales: dict[int, float] = {}  # activation tensor -> its scale (bias scale = input x weight)

    def _w(self, shape: tuple[int, ...]) -> np.ndarray:
        if self.weights == "broadcast":  # one random row repeated: a view, written in chunks
            row = self.rng.integers(-127, 128, shape[-1], dtype=np.int8)
            return np.broadcast_to(row, shape)
        return self.rng.integers(-127, 128, shape, dtype=np.int8)

    def act(self, shape: list[int], name: str) -> int:
        scale = float(np.float32(self.rng.uniform(0.01, 0.05)))
        t = self.b.tensor(name, "INT8", shape, scale=scale, zero_point=int(self.rng.integers(-128, 0)))
        self.scales[t] = scale
        return t

    def conv(self, x: int, shape: list[int], out_ch: int, k: int = 3, stride: int = 1, depthwise: bool = False) -> tuple[int, list[int]]:
        self.n += 1
        n, h, w, c = shape
        oh, ow = (h + stride - 1) // stride, (w + stride - 1) // stride
        in_scale = self.scales[x]
        if depthwise:
            wshape, axis, out_ch = (1, k, k, c), 3, c
        else:
            wshape, axis = (out_ch, k, k, c), 0
        ws = self.rng.uniform(0.001, 0.01, out_ch).astype(np.float32)
        wt = self.b.tensor(f"layer{self.n}/weights", "INT8", wshape, data=self._w(wshape), scale=ws, quantized_dimension=axis)
        bias = self.b.tensor(f"layer{self.n}/bias", "INT32", [out_ch], data=self.rng.integers(-1000, 1000, out_ch, dtype=np.int32), scale=ws * in_scale)
        out_shape = [n, oh, ow, out_ch]
        y = self.act(out_shape, f"layer{self.n}/output")
        opts = {"fused_activation_function": "RELU", "stride_w": stride, "stride_h": stride, "padding": 0}
        if depthwise:
            opts["depth_multiplier"] = 1
        self.b.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [x, wt, bias], [y], options=opts, version=3)
        return y, out_shape

    def fc(self, x: int, in_features: int, out_features: int) -> int:
        self.n += 1
        ws = self.rng.uniform(0.001, 0.01, out_features).astype(np.float32)
        wt = self.b.tensor(f"fc{self.n}/weights", "INT8", (out_features, in_features), data=self._w((out_features, in_features)), scale=ws)
        bias = self.b.tensor(f"fc{self.n}/bias", "INT32", [out_features], data=np.zeros(out_features, np.int32), scale=ws * self.scales[x])
        y = self.act([1, out_features], f"fc{self.n}/output")
        self.b.op("FULLY_CONNECTED", [x, wt, bias], [y], options={"fused_activation_function": "NONE"}, version=4)
        return y


def resnet50_like(path: Path) -> None:
    """ResNet-50's conv stack (bottleneck blocks, 3-4-6-3) in int8: ~25 MB of weights."""
    g = Graph(seed=1)
    shape = [1, 224, 224, 3]
    x = g.act(shape, "input")
    first = x
    x, shape = g.conv(x, shape, 64, k=7, stride=2)
    for stage, (blocks, mid, out) in enumerate([(3, 64, 256), (4, 128, 512), (6, 256, 1024), (3, 512, 2048)]):
        for block in range(blocks):
            stride = 2 if block == 0 and stage > 0 else 1
            shortcut, _ = (g.conv(x, shape, out, k=1, stride=stride) if block == 0 else (x, shape))
            y, y_shape = g.conv(x, shape, mid, k=1)
            y, y_shape = g.conv(y, y_shape, mid, k=3, stride=stride)
            y, y_shape = g.conv(y, y_shape, out, k=1)
            z = g.act(y_shape, f"block{stage}_{block}/add")
            g.b.op("ADD", [y, shortcut], [z], options={"fused_activation_function": "RELU"}, version=2)
            x, shape = z, y_shape
    pooled = g.act([1, shape[-1]], "pool")
    axes = g.b.tensor("pool/axes", "INT32", [2], data=np.array([1, 2], np.int32))
    g.b.op("MEAN", [x, axes], [pooled], version=2)
    logits = g.fc(pooled, shape[-1], 1000)
    probs = g.b.tensor("probs", "INT8", [1, 1000], scale=1 / 256, zero_point=-128)
    g.b.op("SOFTMAX", [logits], [probs], options={"beta": 1.0}, version=2)
    g.b.io([first], [probs])
    g.b.save(path)


def deep(path: Path, layers: int) -> None:
    """A chain of 3x3 convolutions: 3 tensors per layer (weights, bias, output)."""
    g = Graph(seed=2)
    shape = [1, 16, 16, 8]
    x = first = g.act(shape, "input")
    for _ in range(layers):
        x, shape = g.conv(x, shape, 8)
    g.b.io([first], [x])
    g.b.save(path)


def dense(path: Path, megabytes: int = 160) -> None:
    """Few tensors, many bytes: fully connected layers of 4096 x 4096 int8 weights stored inline."""
    g = Graph(seed=4)
    width = 4096
    x = first = g.act([1, width], "input")
    for _ in range(max(1, megabytes * (1 << 20) // (width * width))):
        x = g.fc(x, width, width)
    g.b.io([first], [x])
    g.b.save(path)


def huge_external(path: Path, gigabytes: float = 2.1) -> None:
    """Fully connected layers whose weights (over 2 GB in all) live after the FlatBuffer."""
    g = Graph(seed=3, weights="broadcast")
    width = 16384
    layers = max(1, int(gigabytes * (1 << 30) // (width * width)))
    x = first = g.act([1, width], "input")
    for _ in range(layers):
        x = g.fc(x, width, width)
    g.b.io([first], [x])
    g.b.metadata("buffer_location", b"outside flatbuffers")
    g.b.save(path, external=True)
