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
