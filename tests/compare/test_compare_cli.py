"""`qcheck compare` on the command line: reports, thresholds as exit status, and one line for every bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import rewrite
from core_helpers import run_cli, run_on_terminal

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_json_report_ranks_worst_layers_and_gives_advice(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    r = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"]), "--data", "random", "--samples", "10",
                "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "RANDOM data" in r.stderr and r.stdout == ""
    d = json.loads(out.read_text())
    assert d["samples"] == 10 and d["random_data"] is True and d["exit_status"] == 0
    ranks = d["worst_layers"]
    assert [x["rank"] for x in ranks] == list(range(1, len(ranks) + 1))
    shares = [x["share"] for x in ranks]
    assert shares == sorted(shares, reverse=True) and 0 < sum(x["share"] for x in d["layers"]) <= 1.000001
    assert d["outputs"][0]["top1"] is not None and d["outputs"][0]["sqnr_db"] > 10
    assert d["keep_float"]["qcheck"].startswith("qcheck convert ") and "--keep-float" in d["keep_float"]["qcheck"]
    assert d["settings"]["runner"] == "local" and d["unmatched"] == {"float": [], "quantized": []}


def test_fail_if_and_fail_on_decide_the_exit_status(demo_pairs: dict[str, Path]) -> None:
    args = ("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"]), "--data", str(demo_pairs["data"]), "--samples", "4")
    strict = run_cli(*args, "--fail-if", "output.sqnr < 200", "--fail-if", "layer.share > 0.99")
    assert strict.returncode == 1
    assert "QC703 error --fail-if 'output.sqnr < 200' holds for output 'StatefulPartitionedCall_1:0': sqnr is" in strict.stdout
    assert "layer.share" not in strict.stdout
    assert run_cli(*args, "--fail-if", "output.top1 < 0.5").returncode == 0
    low = run_cli(*args, "--min-output-sqnr", "200", "-q")
    assert low.returncode == 1 and "QC701 error output 'StatefulPartitionedCall_1:0' has an SQNR of" in low.stdout


@pytest.mark.parametrize(("extra", "message"), [
    (["--fail-if", "output.sqnr <"], "expected SCOPE.METRIC OP NUMBER"),
    (["--fail-if", "layer.top1 < 3"], "unknown layer metric 'top1'"),
    (["--max-layer-share", "2"], "--max-layer-share must be in (0, 1]"),
    (["--samples", "0"], "--samples must be at least 1"),
    (["-j", "0"], "-j must be at least 1"),
])
def test_bad_options_exit_2_with_one_line(demo_pairs: dict[str, Path], extra: list[str], message: str) -> None:
    r = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"]), "--data", "random", *extra)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert [line for line in r.stderr.splitlines() if line.startswith("qcheck:")] and r.stdout == ""


def test_bad_inputs_exit_2_with_one_line(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"\x00" * 64)
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 8, 8, 3), np.float32))
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((2, 32, 32, 3), np.nan, np.float32))
    f, q = str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"])
    cases = [
        ((f, str(garbage), "--data", "random"), "garbage.tflite"),
        ((f, q, "--data", str(tmp_path / "missing.npy")), "not found"),
        ((f, q, "--data", str(wrong)), "does not fit"),
        ((f, q, "--data", str(nan)), "NaN"),
        ((f, str(tmp_path / "none.tflite"), "--data", "random"), "none.tflite"),
    ]
    for args, message in cases:
        r = run_cli("compare", *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        lines = [line for line in r.stderr.splitlines() if line.startswith("qcheck:")]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr, (args, r.stderr)


def test_a_model_the_runtime_refuses_is_one_line_not_a_traceback(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    """An op version LiteRT has no kernel for: the worker's interpreter refuses it; the run says so and exits 2."""
    from qcheck.tflite.rewrite import rewrite as rewrite_model

    def bump(model: Any, schema: Any) -> None:
        conv = next(c for c in model.operatorCodes if max(c.builtinCode, c.deprecatedBuiltinCode) == schema.BuiltinOperator.CONV_2D)
        conv.version = 99

    refused = tmp_path / "v99.tflite"
    refused.write_bytes(rewrite_model(demo_pairs["int8-fallback"].read_bytes(), bump))
    r = run_cli("compare", str(demo_pairs["float32"]), str(refused), "--data", "random", "--samples", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = next(line for line in r.stderr.splitlines() if line.startswith("qcheck:"))
    assert "LiteRT could not run the models on samples 0-1" in line


def test_models_that_are_not_versions_of_one_another_are_refused(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    def second_input(sub: object) -> None:
        sub.inputs = [*sub.inputs, sub.inputs[0]]  # type: ignore[attr-defined]

    two = tmp_path / "two-inputs.tflite"
    rewrite(demo_pairs["int8-fallback"], two, second_input)
    r = run_cli("compare", str(demo_pairs["float32"]), str(two), "--data", "random", "--samples", "2")
    assert r.returncode == 2 and "has 1 inputs and the quantized one 2" in r.stderr


def test_html_page_is_self_contained_with_the_sqnr_plot(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "c.html"
    r = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int16x8"]), "--data", str(demo_pairs["data"]),
                "--format", "html", "-o", str(page))
    assert r.returncode == 0, r.stderr
    text = page.read_text()
    assert text.count("<svg") == 1 and "SQNR along the graph" in text and "<path" in text
    assert not [x for x in ('src="http', "src='http", 'href="http', "href='http", "<link", "<script") if x in text]
    assert "Layers ranked by the error each adds by itself" in text


def test_progress_bar_on_a_terminal(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    status, terminal = run_on_terminal("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"]), "--data", "random",
                                       "--samples", "40", "-j", "1", "--format", "json", "-o", str(out))
    assert status == 0 and "comparing" in terminal and "40/40" in terminal
    assert "comparing" not in out.read_text()


def test_swapped_models_are_refused_with_the_reason(demo_pairs: dict[str, Path]) -> None:
    r = run_cli("compare", str(demo_pairs["int8-fallback"]), str(demo_pairs["float32"]), "--data", "random", "--samples", "2")
    assert r.returncode == 2 and "computes in integers" in r.stderr and "give the float model first" in r.stderr


def test_the_configuration_file_applies_to_comparison_findings(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.qcheck.severity]\nQC703 = "warning"\n')
    args = ("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"]), "--data", str(demo_pairs["data"]),
            "--samples", "2", "--fail-if", "output.sqnr < 200", "-q")
    configured = run_cli(*args, cwd=tmp_path)
    assert configured.returncode == 0 and "QC703 warning" in configured.stdout
    assert run_cli(*args, "--isolated", cwd=tmp_path).returncode == 1
    ignored = run_cli(*args, "--isolated", "--ignore", "QC703", cwd=tmp_path)
    assert ignored.returncode == 0 and "QC703" not in ignored.stdout


def test_metric_chooses_what_is_reported(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    r = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-only"]), "--data", str(demo_pairs["data"]),
                "--metric", "sqnr,top1", "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    output = json.loads(out.read_text())["outputs"][0]
    assert {"sqnr_db", "top1"} <= set(output) and not {"mse", "max_abs", "cosine", "kl", "top5", "mean_error"} & set(output)
    console = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-only"]), "--data", str(demo_pairs["data"]), "--metric", "cosine")
    assert "cosine" in console.stdout and "SQNR" not in console.stdout.split("layers ranked")[0]
    bad = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-only"]), "--data", "random", "--metric", "psnr")
    assert bad.returncode == 2 and "unknown metric 'psnr'" in bad.stderr


def test_an_integer_input_without_a_scale_is_refused(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    def unscaled(sub: object) -> None:
        sub.tensors[sub.inputs[0]].quantization = None  # type: ignore[attr-defined]

    raw = tmp_path / "raw-input.tflite"
    rewrite(demo_pairs["int8-only"], raw, unscaled)
    r = run_cli("compare", str(demo_pairs["float32"]), str(raw), "--data", "random", "--samples", "2")
    assert r.returncode == 2 and "is INT8 without a scale: qcheck cannot tell how the float model's FLOAT32 input" in r.stderr


def test_an_unreachable_ray_address_is_one_line_at_once(demo_pairs: dict[str, Path]) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = run_cli("compare", str(demo_pairs["float32"]), str(demo_pairs["int8-fallback"]), "--data", "random", "--samples", "2",
                    "--ray", f"127.0.0.1:{port}")
    assert r.returncode == 2 and f"cannot reach Ray at 127.0.0.1:{port}" in r.stderr and "Traceback" not in r.stderr
