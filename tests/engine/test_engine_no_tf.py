"""TensorFlow (and the LiteRT interpreter) stay out of the verify and inspect paths."""

from __future__ import annotations

import pytest
from core_helpers import ROOT, modules_after

HEAVY = ("tensorflow", "ai_edge_litert", "keras", "tf_keras", "tflite_runtime")
MODEL = str(ROOT / "fixtures" / "models" / "builder_int8_conv_clean.tflite")


def imported_heavy(body: str) -> list[str]:
    return sorted({m.split(".")[0] for m in modules_after(body)} & set(HEAVY))


def test_the_probe_can_see_an_import() -> None:
    # Without this, a broken probe would pass every test below.
    assert imported_heavy("import types\nsys.modules['tensorflow.lite'] = types.ModuleType('tensorflow.lite')") == ["tensorflow"]


def test_python_api_imports_no_tensorflow() -> None:
    body = f"import qcheck\nqcheck.verify({MODEL!r})\nqcheck.load(open({MODEL!r}, 'rb').read())"
    assert imported_heavy(body) == []


@pytest.mark.parametrize("argv", [
    ["verify", MODEL],
    ["verify", MODEL, "--format", "json", "--expect", "int8-only"],
    ["inspect", MODEL],
    ["rules"],
    ["plugins"],
])
def test_cli_imports_no_tensorflow(argv: list[str]) -> None:
    body = f"from qcheck.cli import main\nimport contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n    status = main({argv!r})\nassert status in (0, 1), status"
    assert imported_heavy(body) == []
