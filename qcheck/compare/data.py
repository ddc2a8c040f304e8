"""Comparison samples, read by index when a shard needs them: random, memory-mapped .npy and images stay flat in memory."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qcheck.convert.calibration import (
    InputSpec,
    check_array,
    check_values,
    image_files,
    image_input,
    load_arrays,
    match_arrays,
    read_image,
)
from qcheck.convert.choices import PREPROCESS, RANDOM
from qcheck.errors import UsageError
from qcheck.tflite.model import Subgraph

RANDOM_WARNING = (
    "WARNING: comparing on RANDOM data (uniform over the range the quantized model's input represents, else [0, 1)). "
    "Random inputs exercise values the model never sees in "
    "use, and skip the ones it does: the errors measured say little about real accuracy. Pass real samples with "
    "--data FILE.npy|FILE.npz|IMAGE_DIR."
)

_NUMPY_DTYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "FLOAT64": "float64", "INT8": "int8", "UINT8": "uint8",
                 "INT16": "int16", "INT32": "int32", "INT64": "int64", "BOOL": "bool"}


def input_specs(sub: Subgraph) -> tuple[InputSpec, ...]:
    """The subgraph's inputs as calibration describes them (None where the size is only known at run time)."""
    specs = []
    for i in sub.inputs:
        t = sub.tensors[i]
        sig = t.shape_signature or t.shape
        dtype = _NUMPY_DTYPES.get(t.dtype)
        if dtype is None:
            raise UsageError(f"input {t.name!r} is {t.dtype}: qcheck compare feeds numeric inputs only")
        specs.append(InputSpec(t.name, tuple(None if d < 0 else int(d) for d in sig), dtype))
    return tuple(specs)


@dataclass(frozen=True)
class Samples:
    """`count` samples for `inputs`, each a list of arrays in input order, made or read when asked for."""

    inputs: tuple[InputSpec, ...]
    count: int
    label: str
    kind: str  # "random", "arrays" or "images"
    arrays: Mapping[str, Any] | None = None  # input name -> array of samples (.npy files stay memory-mapped)
    files: tuple[Path, ...] = ()
    preprocess: str = "unit"
    seed: int = 0
    ranges: tuple[tuple[float, float] | None, ...] = ()  # random data: per input, else [0, 1)

    @property
    def random(self) -> bool:
        return self.kind == "random"

    def batch_of(self, spec: InputSpec) -> int:
        return (spec.shape[0] or 1) if spec.shape else 1

    def sample(self, i: int) -> list[np.ndarray]:
        """Sample `i`: one array per input, shaped as the model takes it (a fixed batch is filled from the data)."""
        out = []
        for k, spec in enumerate(self.inputs):
            per = self.batch_of(spec)
            if self.kind == "random":
                rng = np.random.default_rng([self.seed, i, k])  # per sample: any shard can make its own
                shape = (per, *(d or 1 for d in spec.shape[1:])) if spec.shape else ()
                a = _random(rng, shape, spec.dtype)
                span = self.ranges[k] if k < len(self.ranges) else None
                if span is not None and a.dtype.kind == "f":
                    a = (span[0] + (span[1] - span[0]) * a.astype(np.float64)).astype(np.float32)
            elif self.kind == "images":
                a = np.stack([read_image(p, spec, self.preprocess) for p in self.files[i * per : (i + 1) * per]])
            else:
                a = np.asarray((self.arrays or {})[spec.name][i * per : (i + 1) * per])
                check_values(a, spec, f"sample {i} for {spec.describe()} from {self.label}")
            a = a.astype(spec.dtype, copy=False)
            out.append(a if spec.shape else a.reshape(()))
        return out

    def shard(self, lo: int, hi: int) -> list[list[np.ndarray]]:
        return [self.sample(i) for i in range(lo, min(hi, self.count))]


def _random(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    kind = np.dtype(dtype).kind
    if kind == "f":
        return rng.random(shape, dtype=np.float32)
    if kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
    return rng.integers(0, 2, shape).astype(dtype)


def open_samples(value: str | os.PathLike[str], inputs: Sequence[InputSpec], *, samples: int | None = None,
                 preprocess: str = "unit", seed: int = 0, ranges: Sequence[tuple[float, float] | None] = ()) -> Samples:
    """Check `value` ("random", .npy/.npz, image folder) against the float model's inputs; read nothing else yet."""
    if samples is not None and samples < 1:
        raise UsageError(f"--samples must be at least 1, got {samples}")
    if preprocess not in PREPROCESS:
        raise UsageError(f"unknown --preprocess {preprocess!r} (choose from: {', '.join(PREPROCESS)})")
    if not inputs:
        raise UsageError("the float model has no inputs to feed")
    per = max([1, *(s.shape[0] or 1 for s in inputs if s.shape)])
    if value == RANDOM:
        unknown = [s for s in inputs if any(d is None for d in s.shape[1:])]
        if unknown:
            raise UsageError(f"cannot make random data for {unknown[0].describe()}: its size is unknown; pass real samples")
        count = samples or 100
        return Samples(tuple(inputs), count, f"{count} random sample{'s' * (count != 1)}", "random", seed=seed, ranges=tuple(ranges))
    path = Path(value)
    if path.is_dir():
        spec = image_input(inputs)
        files = tuple(image_files(path))
        count = min(samples or len(files), len(files) // per)
        if count == 0:
            raise UsageError(f"{path} has {len(files)} images, fewer than the model's batch of {per}")
        return Samples(tuple(inputs), count, f"{count} image sample{'s' * (count != 1)} from {path}", "images",
                       files=files, preprocess=preprocess, seed=seed)
    if not path.exists():
        raise UsageError(f"comparison data {path} not found")
    arrays = match_arrays(load_arrays(path), inputs, "comparison")
    for spec in inputs:
        check_array(arrays[spec.name], spec, str(path), "comparison")
    sizes = {len(arrays[s.name]) for s in inputs}
    if len(sizes) != 1:
        raise UsageError(f"the arrays of {path} have different sample counts: {sorted(sizes)}")
    available = next(iter(sizes)) // per
    if available == 0:
        raise UsageError(f"{path} has fewer samples than the model's batch of {per}")
    count = min(samples or available, available)
    return Samples(tuple(inputs), count, f"{count} sample{'s' * (count != 1)} from {path}", "arrays", arrays=arrays, seed=seed)
