"""Error paths of the TensorFlow strategies: one clear line and exit 2, no output, no noise (TensorFlow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from convert_helpers import Demo
from testpaths import HELPERS

from qcheck import cli
from qcheck.convert import ConversionError, captured_output, convert

pytestmark = pytest.mark.tf
# `qcheck` as a process, with the tests' registry (stand-ins for --expect names qcheck_spec has not registered yet).
QCHECK = [sys.executable, "-c", ("import sys, convert_helpers as h; from qcheck import cli; "
          "cli.make_registry = lambda **kw: h.registry_with(); sys.exit(cli.main(sys.argv[1:]))")]


@pytest.fixture
def cli_registry(tf_registry: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(cli, "make_registry", lambda **kw: tf_registry)
    return tf_registry


def one_line_error(capfd: Any) -> str:
    err = capfd.readouterr().err
    assert err.startswith("qcheck: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def small_model(*layers: Any, shape: tuple[int, ...] = (8,)) -> Any:
    import keras

    keras.utils.set_random_seed(5)
    x = keras.Input(shape)
    y = keras.layers.Dense(shape[-1])(x)
    for layer in layers:
        y = layer(y)
    return keras.Model(x, y)


def test_real_process_output_is_free_of_converter_noise(demo: Demo, tmp_path: Path) -> None:
    """As users run it: a separate process, real file descriptors, TensorFlow's own logging untouched."""
    out = tmp_path / "f.tflite"
    proc = subprocess.run([*QCHECK, "convert", str(demo.keras_path), "--strategy", "float32", "-o", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=HELPERS, check=False)
    assert proc.returncode == 0, proc.stderr
    for noise in ("Saved artifact", "oneDNN", "absl", "I0000", "W0000", "Endpoint"):
        assert noise not in proc.stdout and noise not in proc.stderr, noise
    assert out.exists() and "float32: " in proc.stdout


def test_wrong_calibration_shape_is_refused_before_calibrating(demo: Demo, tmp_path: Path, cli_registry: Any, capfd: Any) -> None:
    np.save(tmp_path / "wrong.npy", np.zeros((10, 8, 8, 3), np.float32))
    out = tmp_path / "w.tflite"
    assert cli.main(["convert", str(demo.keras_path), "--strategy", "int8-only", "--calibration", str(tmp_path / "wrong.npy"), "-o", str(out)]) == 2
    err = one_line_error(capfd)
    assert "(10, 8, 8, 3)" in err and "(?, 32, 32, 3)" in err and not out.exists()


def test_lambda_layers_need_unsafe(tmp_path: Path, cli_registry: Any, capfd: Any) -> None:
    import keras

    with captured_output():
        small_model(keras.layers.Lambda(lambda t: t * 2.0)).save(tmp_path / "lam.keras")
    out = tmp_path / "lam.tflite"
    assert cli.main(["convert", str(tmp_path / "lam.keras"), "--strategy", "float32", "-o", str(out)]) == 2
    assert "Lambda" in one_line_error(capfd) and not out.exists()
    assert cli.main(["convert", str(tmp_path / "lam.keras"), "--strategy", "float32", "-o", str(out), "--unsafe"]) == 0
    assert out.exists()


def test_unknown_layer_class_is_an_unsupported_layer(tmp_path: Path, cli_registry: Any, capfd: Any) -> None:
    import keras

    # Saved from a module that does not exist where qcheck loads it: Keras cannot rebuild the layer.
    Doubler = type("Doubler", (keras.layers.Layer,), {"call": lambda self, t: t * 2.0, "__module__": "absent_package.layers"})
    with captured_output():
        small_model(Doubler()).save(tmp_path / "custom.keras")
    assert cli.main(["convert", str(tmp_path / "custom.keras"), "--strategy", "float32", "-o", str(tmp_path / "c.tflite")]) == 2
    err = one_line_error(capfd)
    assert "unsupported layer 'Doubler'" in err and not (tmp_path / "c.tflite").exists()


def test_op_without_a_tflite_kernel_is_a_one_line_converter_error(tmp_path: Path, cli_registry: Any, capfd: Any) -> None:
    import keras
    import tensorflow as tf

    class Det(keras.layers.Layer):
        def call(self, t: Any) -> Any:
            return tf.linalg.det(t)

    with captured_output():
        small_model(Det(), shape=(4, 4)).export(str(tmp_path / "det_saved_model"))
    out = tmp_path / "det.tflite"
    assert cli.main(["convert", str(tmp_path / "det_saved_model"), "--strategy", "float32", "-o", str(out)]) == 2
    assert "unsupported operation(s) MatrixDeterminant" in one_line_error(capfd) and not out.exists()


def test_mode_the_converter_cannot_do_is_a_converter_error_with_debug_traceback(tmp_path: Path, tf_registry: Any,
                                                                              cli_registry: Any, capfd: Any) -> None:
    import keras

    model = small_model(keras.layers.Activation("elu"))
    with captured_output():
        model.save(tmp_path / "elu.keras")
    out = tmp_path / "elu.tflite"
    args = ["convert", str(tmp_path / "elu.keras"), "--strategy", "int16x8", "--calibration", "random", "-o", str(out)]
    assert cli.main(args) == 2
    assert "not yet supported for op: 'ELU'" in capfd.readouterr().err and not out.exists()
    assert cli.main(["--debug", *args]) == 2
    assert "Traceback" in capfd.readouterr().err
    # With float fallback the same model converts: ELU stays a float op.
    assert convert(model, "int16x8-fallback", calibration="random", registry=tf_registry, warn=lambda m: None).verdict != "error"


@pytest.mark.parametrize("case", ["not-a-saved-model", "unknown-suffix", "corrupt-keras"])
def test_unreadable_sources_exit_2(tmp_path: Path, cli_registry: Any, capfd: Any, case: str) -> None:
    src = {"not-a-saved-model": tmp_path / "folder", "unknown-suffix": tmp_path / "m.onnx", "corrupt-keras": tmp_path / "m.keras"}[case]
    if case == "not-a-saved-model":
        src.mkdir()
    else:
        src.write_bytes(b"\x00garbage" * 10)
    out = tmp_path / "o.tflite"
    assert cli.main(["convert", str(src), "--strategy", "float32", "-o", str(out)]) == 2
    err = one_line_error(capfd)
    assert {"not-a-saved-model": "not a SavedModel", "unknown-suffix": "expected a SavedModel folder",
            "corrupt-keras": "cannot load"}[case] in err and not out.exists()


def test_python_api_raises_conversion_error_for_keras_objects(tf_registry: Any) -> None:
    import keras

    with pytest.raises(ConversionError, match="ELU"):
        convert(small_model(keras.layers.Activation("elu")), "int16x8-only", calibration="random", registry=tf_registry, warn=lambda m: None)


def test_dynamic_range_that_quantizes_nothing_fails_and_says_why(tmp_path: Path, cli_registry: Any, capfd: Any) -> None:
    """Every weight under the converter's 1024-element threshold: the output is float32, not dynamic-range."""
    with captured_output():
        small_model(shape=(16,)).save(tmp_path / "tiny.keras")  # one 16x16 Dense: 256 weights
    out = tmp_path / "dr.tflite"
    assert cli.main(["convert", str(tmp_path / "tiny.keras"), "--strategy", "dynamic-range", "-o", str(out)]) == 1
    text = capfd.readouterr().out
    assert "No weight was quantized" in text and "fewer than 1024 elements" in text and "largest weight here has 256" in text
    assert "FAIL" in text and "detected scheme float32" in text
