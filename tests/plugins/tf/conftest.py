"""Fixtures of the conversion tests: one demo model per session; nothing imports TensorFlow at collection time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from convert_helpers import Demo, registry_with


@pytest.fixture(scope="session")
def tf_registry() -> Any:
    return registry_with()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The seeded demo model, built once per test session (and worker), saved as .keras."""
    from qcheck_tf.demo_model import build_demo_model, calibration_samples

    from qcheck.convert import captured_output

    folder = tmp_path_factory.mktemp("demo")
    with captured_output():
        model = build_demo_model()
    np.save(folder / "calib.npy", calibration_samples(32))
    model.save(folder / "demo.keras")
    inputs = calibration_samples(12, seed=99)
    return Demo(model, folder / "demo.keras", folder / "calib.npy", inputs, np.asarray(model(inputs)))


@pytest.fixture(scope="session", autouse=True)
def _tensorflow_imported_quietly() -> None:
    """TensorFlow's first import in a process logs on fd 2 (absl, oneDNN): do it here, not inside a test
    that checks qcheck's own stderr, whichever test a worker happens to run first."""
    from qcheck.convert import captured_output

    with captured_output():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
