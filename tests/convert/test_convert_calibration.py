"""Calibration data: loading .npy/.npz/images/random, validation against the inputs, batching (no TensorFlow)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from qcheck.convert.calibration import RANDOM, CalibrationSource, InputSpec
from qcheck.errors import UsageError

IMG = InputSpec("image", (None, 8, 8, 3), "float32")


def resolve(value: object, *specs: InputSpec, **kw: object):
    return CalibrationSource.parse(value, **kw).resolve(list(specs or [IMG]))  # type: ignore[arg-type]


def test_npy_samples_become_batches_of_one(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).random((5, 8, 8, 3), dtype=np.float32)
    np.save(tmp_path / "c.npy", arr)
    data = resolve(str(tmp_path / "c.npy"))
    assert len(data) == 5
    assert data.batches[2]["image"].shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(data.batches[2]["image"][0], arr[2])
    assert "5 samples" in data.label


def test_samples_bounds_the_count_and_float64_is_cast(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.zeros((50, 8, 8, 3)))
    data = resolve(tmp_path / "c.npy", samples=7)
    assert len(data) == 7
    assert data.batches[0]["image"].dtype == np.float32


def test_npz_arrays_are_matched_by_input_name(tmp_path: Path) -> None:
    a, b = InputSpec("alpha", (None, 4), "float32"), InputSpec("beta", (None, 2), "int32")
    np.savez(tmp_path / "c.npz", beta=np.arange(6, dtype=np.int64).reshape(3, 2), alpha=np.ones((3, 4), np.float32))
    data = resolve(tmp_path / "c.npz", a, b)
    assert [sorted(x) for x in data.batches] == [["alpha", "beta"]] * 3
    assert data.batches[1]["beta"].tolist() == [[2, 3]] and data.batches[1]["beta"].dtype == np.int32
    # Lists follow the input order, whatever the order in the file.
    first = next(iter(data.dataset(keyed=False)()))
    assert [x.shape for x in first] == [(1, 4), (1, 2)]


def test_npz_with_wrong_names_lists_missing_and_unknown(tmp_path: Path) -> None:
    a, b = InputSpec("alpha", (None, 4), "float32"), InputSpec("beta", (None, 2), "float32")
    np.savez(tmp_path / "c.npz", alpha=np.ones((3, 4), np.float32), gamma=np.ones((3, 2), np.float32))
    with pytest.raises(UsageError, match="missing beta; unknown gamma"):
        resolve(tmp_path / "c.npz", a, b)


def test_lone_npz_array_goes_to_a_lone_input_by_position(tmp_path: Path) -> None:
    np.savez(tmp_path / "c.npz", np.ones((2, 8, 8, 3), np.float32))  # stored as arr_0
    assert len(resolve(tmp_path / "c.npz")) == 2


def test_npy_cannot_feed_a_multi_input_model(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.ones((2, 4), np.float32))
    with pytest.raises(UsageError, match="2 inputs"):
        resolve(tmp_path / "c.npy", InputSpec("a", (None, 4), "float32"), InputSpec("b", (None, 4), "float32"))


def test_wrong_shape_is_refused_with_both_shapes(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.ones((20, 16, 16, 3), np.float32))
    with pytest.raises(UsageError, match=r"\(20, 16, 16, 3\).*expected shape \(\?, 8, 8, 3\)"):
        resolve(tmp_path / "c.npy")


def test_missing_sample_axis_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.ones((8, 8, 3), np.float32))
    with pytest.raises(UsageError, match="samples along the first axis"):
        resolve(tmp_path / "c.npy")


def test_integers_for_a_float_input_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.zeros((4, 8, 8, 3), np.uint8))
    with pytest.raises(UsageError, match=r"uint8 but input 'image'.*takes floats"):
        resolve(tmp_path / "c.npy")


def test_floats_for_an_integer_input_and_out_of_range_integers_are_refused() -> None:
    spec = InputSpec("ids", (None, 3), "int8")
    with pytest.raises(UsageError, match="takes integers"):
        resolve(np.zeros((2, 3), np.float32), spec)
    with pytest.raises(UsageError, match="outside int8"):
        resolve(np.full((2, 3), 300, np.int32), spec)


def test_nan_is_refused_naming_the_sample() -> None:
    arr = np.zeros((4, 8, 8, 3), np.float32)
    arr[3, 0, 0, 0] = np.nan
    with pytest.raises(UsageError, match=r"sample 3 .* NaN"):
        resolve(arr)


def test_pickles_are_never_loaded(tmp_path: Path) -> None:
    objs = np.empty(2, dtype=object)
    objs[:] = [{"a": 1}, {"b": 2}]
    np.save(tmp_path / "o.npy", objs, allow_pickle=True)
    np.savez(tmp_path / "o.npz", x=objs)
    for name in ("o.npy", "o.npz"):
        with pytest.raises(UsageError, match="pickle"):
            CalibrationSource.parse(tmp_path / name)
    # A raw pickle renamed .npy is refused as well, and nothing in it runs.
    (tmp_path / "p.npy").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(UsageError, match="pickle"):
        CalibrationSource.parse(tmp_path / "p.npy")


def test_missing_and_unsupported_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        CalibrationSource.parse(tmp_path / "nope.npy")
    (tmp_path / "c.csv").write_text("1,2\n")
    with pytest.raises(UsageError, match=r"not a \.npy or \.npz"):
        CalibrationSource.parse(tmp_path / "c.csv")
    (tmp_path / "t.npy").write_bytes(b"\x93NUMPY")  # truncated header
    with pytest.raises(UsageError, match="cannot read calibration data"):
        CalibrationSource.parse(tmp_path / "t.npy")


def test_fixed_batch_inputs_take_that_many_samples_per_batch() -> None:
    spec = InputSpec("x", (4, 2), "float32")
    data = resolve(np.arange(20, dtype=np.float32).reshape(10, 2), spec)
    assert len(data) == 2 and data.batches[1]["x"][0].tolist() == [8.0, 9.0]
    with pytest.raises(UsageError, match="fewer than the model's batch of 4"):
        resolve(np.zeros((3, 2), np.float32), spec)


def test_random_is_seeded_shaped_and_typed() -> None:
    a = resolve(RANDOM, IMG, InputSpec("ids", (None, 3), "int16"), samples=3)
    b = resolve(RANDOM, IMG, InputSpec("ids", (None, 3), "int16"), samples=3)
    assert len(a) == 3 and a.batches[0]["image"].shape == (1, 8, 8, 3) and a.batches[0]["ids"].dtype == np.int16
    np.testing.assert_array_equal(a.batches[2]["image"], b.batches[2]["image"])
    with pytest.raises(UsageError, match="size is unknown"):
        resolve(RANDOM, InputSpec("x", (None, None, 3), "float32"))


def test_dataset_ticks_progress_once_per_sample() -> None:
    data = resolve(np.zeros((3, 8, 8, 3), np.float32))
    ticks: list[tuple[int, int]] = []
    data.on_sample.append(lambda done, total: ticks.append((done, total)))
    samples = list(data.dataset(keyed=True)())
    assert ticks == [(1, 3), (2, 3), (3, 3)] and list(samples[0]) == ["image"]


def test_bad_options_are_refused() -> None:
    with pytest.raises(UsageError, match="--samples"):
        CalibrationSource.parse(RANDOM, samples=0)
    with pytest.raises(UsageError, match="--preprocess"):
        CalibrationSource.parse(RANDOM, preprocess="magic")
    with pytest.raises(UsageError, match="not int"):
        CalibrationSource.parse(3)


# --- image folders ----------------------------------------------------------------------------


def _images(folder: Path, count: int, size: tuple[int, int] = (20, 12)) -> np.ndarray:
    from PIL import Image

    rng = np.random.default_rng(1)
    pix = rng.integers(0, 256, (count, size[1], size[0], 3), dtype=np.uint8)
    folder.mkdir(exist_ok=True)
    for i in range(count):
        Image.fromarray(pix[i]).save(folder / f"img{i:02d}.png")
    return pix


def test_image_folder_is_decoded_resized_and_scaled(tmp_path: Path) -> None:
    _images(tmp_path / "imgs", 3)
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    unit = resolve(tmp_path / "imgs")
    assert len(unit) == 3 and unit.batches[0]["image"].shape == (1, 8, 8, 3)
    x = unit.batches[0]["image"]
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05
    sym = resolve(tmp_path / "imgs", preprocess="symmetric").batches[0]["image"]
    np.testing.assert_allclose(sym, x * 2 - 1, atol=1e-5)
    caffe = resolve(tmp_path / "imgs", preprocess="caffe").batches[0]["image"]
    raw = resolve(tmp_path / "imgs", preprocess="raw").batches[0]["image"]
    np.testing.assert_allclose(caffe[..., 0], raw[..., 2] - 103.939, atol=1e-3)  # BGR, mean removed


def test_exact_size_images_keep_their_pixels(tmp_path: Path) -> None:
    pix = _images(tmp_path / "imgs", 2, size=(8, 8))
    raw = resolve(tmp_path / "imgs", preprocess="raw")
    np.testing.assert_array_equal(raw.batches[1]["image"][0], pix[1].astype(np.float32))


def test_image_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no images"):
        resolve(tmp_path / "empty")
    _images(tmp_path / "imgs", 1)
    (tmp_path / "imgs" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(UsageError, match=r"cannot decode calibration image .*broken\.jpg"):
        resolve(tmp_path / "imgs")
    with pytest.raises(UsageError, match=r"shaped \(N, height, width, 1 or 3\)"):
        resolve(tmp_path / "imgs", InputSpec("x", (None, 10), "float32"))
