"""`make demo`: run qcheck's main job on the embedded default models shipped in fixtures/."""

from __future__ import annotations

import sys
from pathlib import Path

from qcheck.cli import main as cli_main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "models"


def main() -> int:
    models = sorted(str(p) for p in FIXTURES.glob("*.tflite"))
    if not models:
        print(f"qcheck demo: no models in {FIXTURES}", file=sys.stderr)
        return 2
    print(f"qcheck demo: verifying the {len(models)} models shipped in {FIXTURES}\n", flush=True)
    status = cli_main(["verify", *models])
    # Some fixtures are defective on purpose: findings (exit 1) are the expected outcome here.
    return 0 if status in (0, 1) else status


if __name__ == "__main__":
    raise SystemExit(main())
