"""`make demo` (`python -m qcheck_tf.demo`): build the small Keras model shipped with qcheck, convert it with every strategy, verify each."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from qcheck.convert import captured_output, convert_all
from qcheck.convert.view import RichProgress, render, warn_loudly
from qcheck.errors import QcheckError
from qcheck.registry import make_registry
from qcheck.reporting import conversion_exit_status
from qcheck_tf.demo_model import build_demo_model, calibration_samples


def main() -> int:
    registry = make_registry(external=False)
    # A fixed folder in the working directory, replaced on each run (no litter in /tmp).
    folder = Path("qcheck-demo").resolve()
    marker = folder / ".made-by-qcheck-demo"
    if folder.exists() and not marker.exists():  # never delete a folder the demo did not make
        print(f"qcheck demo: {folder} exists and was not made by the demo; move it away first", file=sys.stderr)
        return 2
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    marker.touch()
    print("qcheck demo: building the seeded demo Keras model (10-class image classifier, 32x32x3 input)", flush=True)
    try:
        with captured_output():  # TensorFlow's import noise stays out of the demo's output
            model = build_demo_model()
    except ImportError:
        print("qcheck demo: TensorFlow is not installed: pip install 'qcheck[tf]' (or run 'make demo')", file=sys.stderr)
        return 2
    samples = calibration_samples(32)
    print(f"qcheck demo: converting it with each of the {len(registry.strategies)} strategies "
          f"({', '.join(registry.strategies)}),\n  calibrating on {len(samples)} seeded samples, "
          f"verifying every output against the scheme its strategy promises; outputs in {folder}\n", flush=True)
    try:
        with RichProgress() as progress:
            results = convert_all(model, folder, calibration=samples, registry=registry, progress=progress, warn=warn_loudly)
    except QcheckError as e:
        print(f"qcheck demo: error: {e}", file=sys.stderr)
        return 2
    render(results, registry, sys.stdout, table=True, reports=True)
    status = conversion_exit_status(r.verdict for r in results)
    verdict = "every strategy kept its promise" if status == 0 else "some strategies did NOT keep their promise (see above)"
    print(f"\nqcheck demo: {verdict}. Try: .venv/bin/qcheck inspect {folder / 'int8-only.tflite'}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
