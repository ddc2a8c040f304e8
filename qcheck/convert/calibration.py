"""Calibration data for quantizing strategies: load it, validate it against the model's inputs, feed it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qcheck.convert.choices import DEFAULT_SAMPLES, PREPROCESS, RANDOM
from qcheck.errors import UsageError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)
_CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)

RANDOM_WARNING = (
    "WARNING: calibrating with RANDOM data (uniform in [0, 1)). The quantization ranges will not match real inputs "
    "and the converted model's accuracy will be poor: use it for smoke tests only, and pass real samples with "
    "--calibration FILE.npy|FILE.npz|IMAGE_DIR for a model you will deploy."
)


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One model input as a strategy describes it: `shape` has None for unknown sizes (usually the batch)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str  # numpy dtype name, e.g. "float32"

    def describe(self) -> str:
        dims = ", ".join("N" if d is None else str(d) for d in self.shape)
        return f"input {self.name!r} ({self.dtype}[{dims}])"


def _shape(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


@dataclass(frozen=True)
class CalibrationSource:
    """What the user asked for: arrays (from .npy/.npz or in memory), an image folder, or random data."""

    kind: str  # "arrays", "images" or "random"
    label: str
    arrays: Mapping[str, Any] | None = None  # name -> array; "" when the name is unknown (a .npy)
    folder: Path | None = None
    samples: int = DEFAULT_SAMPLES
    preprocess: str = "unit"
    seed: int = 0

    @classmethod
    def parse(cls, value: object, *, samples: int = DEFAULT_SAMPLES, preprocess: str = "unit") -> CalibrationSource:
        """Accept "random", a .npy/.npz path, an image folder, an array, or a dict of arrays by input name."""
        if samples < 1:
            raise UsageError(f"--samples must be at least 1, got {samples}")
        if preprocess not in PREPROCESS:
            raise UsageError(f"unknown --preprocess {preprocess!r} (choose from: {', '.join(PREPROCESS)})")
        kw: dict[str, Any] = {"samples": samples, "preprocess": preprocess}
        if isinstance(value, np.ndarray):
            return cls("arrays", "an array", arrays={"": value}, **kw)
        if isinstance(value, Mapping):
            return cls("arrays", "arrays", arrays={str(k): np.asarray(v) for k, v in value.items()}, **kw)
        if value == RANDOM:
            return cls("random", "random data", **kw)
        if not isinstance(value, (str, os.PathLike)):
            raise UsageError(f"calibration must be 'random', a path, an array or a dict of arrays, not {type(value).__name__}")
        path = Path(value)
        if path.is_dir():
            return cls("images", f"images in {path}", folder=path, **kw)
        if not path.exists():
            raise UsageError(f"calibration data {path} not found")
        return cls("arrays", str(path), arrays=load_arrays(path), **kw)

    def resolve(self, inputs: Sequence[InputSpec]) -> CalibrationData:
        """Check shapes, dtypes and values against the model's inputs and build the samples (nothing runs yet)."""
        if not inputs:
            raise UsageError("the model has no inputs to calibrate")
        if self.kind == "random":
            data = {s.name: random_samples(s, self.samples, self.seed) for s in inputs}
        elif self.kind == "images":
            data = _images(self.folder or Path("."), inputs, self.samples, self.preprocess)
        else:
            data = match_arrays(self.arrays or {}, inputs)
        return _batch(data, inputs, self.samples, self.label)


@dataclass(frozen=True)
class CalibrationData:
    """Validated samples, batched as the model takes them: `batches[i][input name]`."""

    inputs: tuple[InputSpec, ...]
    batches: tuple[Mapping[str, np.ndarray], ...]
    label: str
    on_sample: list[Callable[[int, int], None]] = field(default_factory=list)  # progress callbacks

    def __len__(self) -> int:
        return len(self.batches)

    def dataset(self, *, keyed: bool) -> Callable[[], Iterator[Any]]:
        """A representative-dataset generator: dicts by input name (`keyed`) or lists in input order."""

        def generate() -> Iterator[Any]:
            total = len(self.batches)
            for i, batch in enumerate(self.batches):
                yield dict(batch) if keyed else [batch[s.name] for s in self.inputs]
                for tick in self.on_sample:
                    tick(i + 1, total)

        return generate


def load_arrays(path: Path) -> dict[str, Any]:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        if path.suffix == ".npy":
            # mmap: only the samples used are read, however large the file is.
            return {"": np.load(path, allow_pickle=False, mmap_mode="r")}
    except ValueError as e:
        if "pickle" in str(e):
            raise UsageError(f"{path} holds Python objects (pickle), which qcheck never loads: save plain numeric arrays") from None
        raise UsageError(f"cannot read calibration data {path}: {e}") from None
    except (OSError, EOFError) as e:
        raise UsageError(f"cannot read calibration data {path}: {getattr(e, 'strerror', None) or e}") from None
    raise UsageError(f"calibration data {path} is not a .npy or .npz file, an image folder, or 'random'")


def match_arrays(arrays: Mapping[str, Any], inputs: Sequence[InputSpec], role: str = "calibration") -> dict[str, Any]:
    """Arrays by input name; a lone array goes to a lone input whatever its name."""
    names = [s.name for s in inputs]
    if len(inputs) == 1 and len(arrays) == 1:
        return {names[0]: next(iter(arrays.values()))}
    if "" in arrays:
        raise UsageError(f"the model has {len(inputs)} inputs ({', '.join(names)}): give a .npz with one array per input name")
    missing = [n for n in names if n not in arrays]
    extra = [k for k in arrays if k not in names]
    if missing or extra:
        raise UsageError(
            f"{role} arrays ({', '.join(arrays) or 'none'}) do not match the model's inputs ({', '.join(names)})"
            + (f": missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else "")
        )
    return {n: arrays[n] for n in names}


def check_array(arr: Any, spec: InputSpec, label: str, role: str = "calibration") -> None:
    """Raise a one-line UsageError unless `arr` is N samples of `spec`'s shape in a compatible dtype."""
    arr_shape = tuple(getattr(arr, "shape", ()))
    want = (None, *spec.shape[1:]) if spec.shape else (None,)
    fits = len(arr_shape) == len(want) and all(w is None or a == w for a, w in zip(arr_shape[1:], want[1:], strict=True))
    if not fits:
        raise UsageError(
            f"{role} array {_shape(arr_shape)} from {label} does not fit {spec.describe()}: "
            f"expected shape {_shape(want)}, i.e. samples along the first axis"
        )
    want_kind, got = np.dtype(spec.dtype).kind, np.dtype(arr.dtype)
    if want_kind == "f" and got.kind != "f":
        raise UsageError(
            f"{role} array from {label} is {got.name} but {spec.describe()} takes floats: "
            "convert it to the model's input range first (image folders: see --preprocess)"
        )
    if want_kind in "iub" and got.kind not in "iub":
        raise UsageError(f"{role} array from {label} is {got.name} but {spec.describe()} takes integers")


def _batch(data: Mapping[str, Any], inputs: Sequence[InputSpec], samples: int, label: str) -> CalibrationData:
    for spec in inputs:
        check_array(data[spec.name], spec, label)
    counts = {len(data[s.name]) for s in inputs}
    if len(counts) != 1:
        raise UsageError(f"calibration arrays from {label} have different sample counts: {sorted(counts)}")
    # A fixed batch size (e.g. 1) is fed as is; an unknown one gets batches of 1.
    size = next(iter(counts))
    per = max([1, *(s.shape[0] or 1 for s in inputs if s.shape)])
    count = min(samples, size // per)
    if count == 0:
        raise UsageError(f"calibration data from {label} has {size} samples, fewer than the model's batch of {per}")
    batches = []
    for i in range(count):
        batch = {}
        for s in inputs:
            a = np.asarray(data[s.name][i * per : (i + 1) * per])
            check_values(a, s, f"calibration sample {i} for {s.describe()} from {label}")
            a = a.astype(s.dtype, copy=False)
            batch[s.name] = a if s.shape else a.reshape(())
        batches.append(batch)
    return CalibrationData(tuple(inputs), tuple(batches), f"{count} sample{'s' * (count != 1)} from {label}")


def check_values(a: np.ndarray, spec: InputSpec, where: str) -> None:
    """NaN or infinity in a float sample, values an integer input's type cannot hold: one line naming `where`."""
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise UsageError(f"{where} contains NaN or infinity")
    if a.dtype.kind in "iu" and a.size and np.dtype(spec.dtype).kind in "iu":
        info = np.iinfo(spec.dtype)
        if a.min() < info.min or a.max() > info.max:
            raise UsageError(f"{where} has values outside {spec.dtype}")


def random_samples(spec: InputSpec, samples: int, seed: int) -> np.ndarray:
    if any(d is None for d in spec.shape[1:]):
        raise UsageError(f"cannot make random calibration data for {spec.describe()}: its size is unknown; pass real samples")
    rng = np.random.default_rng(seed)
    shape = (samples * (spec.shape[0] or 1), *(d or 1 for d in spec.shape[1:]))  # every size is known here
    kind = np.dtype(spec.dtype).kind
    if kind == "f":
        return rng.random(shape, dtype=np.float32).astype(spec.dtype)
    if kind in "iu":
        info = np.iinfo(spec.dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True, dtype=spec.dtype)
    raise UsageError(f"cannot make random calibration data for {spec.describe()}")


def _images(folder: Path, inputs: Sequence[InputSpec], samples: int, preprocess: str) -> dict[str, np.ndarray]:
    spec = image_input(inputs)
    files = image_files(folder)[: samples * (spec.shape[0] or 1)]
    return {spec.name: np.stack([read_image(path, spec, preprocess) for path in files])}


def image_input(inputs: Sequence[InputSpec]) -> InputSpec:
    """The one input an image folder can feed, or a UsageError saying why this model has none."""
    if len(inputs) != 1:
        raise UsageError(f"an image folder can calibrate a single-input model only; this one has {len(inputs)} inputs")
    spec = inputs[0]
    if len(spec.shape) != 4 or None in spec.shape[1:] or spec.shape[3] not in (1, 3) or np.dtype(spec.dtype).kind != "f":
        raise UsageError(f"an image folder needs a float input shaped (N, height, width, 1 or 3); the model has {spec.describe()}")
    return spec


def image_files(folder: Path) -> list[Path]:
    """The images of `folder`, sorted by name."""
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    except OSError as e:
        raise UsageError(f"cannot read calibration folder {folder}: {e.strerror or e}") from None
    if not files:
        raise UsageError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in calibration folder {folder}")
    return files


def read_image(path: Path, spec: InputSpec, preprocess: str) -> np.ndarray:
    """One image resized to `spec` (checked by image_input) and preprocessed, as float32 (height, width, channels)."""
    try:
        from PIL import Image
    except ImportError:
        raise UsageError("reading an image folder needs Pillow: pip install 'qcheck[tf]'") from None
    height, width, channels = (int(d or 0) for d in spec.shape[1:])
    try:
        with Image.open(path) as opened:
            im = opened.convert("RGB" if channels == 3 else "L").resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(im, dtype=np.float32).reshape(height, width, channels)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot decode calibration image {path}: {e}") from None
    return preprocess_pixels(pixels, preprocess)


def preprocess_pixels(pixels: np.ndarray, how: str) -> np.ndarray:
    if how == "unit":
        return pixels / 255.0
    if how == "symmetric":
        return pixels / 127.5 - 1.0
    if how == "imagenet" and pixels.shape[-1] == 3:
        return (pixels / 255.0 - _MEAN) / _STD
    if how == "caffe" and pixels.shape[-1] == 3:
        return pixels[..., ::-1] - _CAFFE_BGR_MEAN
    if how in ("imagenet", "caffe"):
        raise UsageError(f"--preprocess {how} needs 3-channel (RGB) input")
    return pixels
