"""`qcheck diff`: matching by name and by position, every kind of change with its values, exit status by --fail-on-change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from core_helpers import run_cli
from testpaths import CORPUS_MODELS, FIXTURES, SHARED_MODELS

import qcheck
from qcheck.tflite.builder import ModelBuilder


def conv(path: Path, *, scale2: float = 0.02, weight: int = 1, names: bool = True, extra_op: bool = False, out_dtype: str = "INT8") -> None:
    """input -> CONV_2D (per-axis weights, 4 channels) -> [RELU] -> output; the knobs make the 'new' version."""
    b = ModelBuilder()
    n = (lambda s: s) if names else (lambda s: "")
    x = b.tensor(n("input"), "INT8", [1, 4, 4, 3], scale=0.1, zero_point=-1)
    w_data = np.ones((4, 3, 3, 3), np.int8)
    w_data[1, 0, 0, 0] = weight
    w = b.tensor(n("conv/weights"), "INT8", [4, 3, 3, 3], data=w_data, scale=[0.01, 0.01, scale2, 0.01], quantized_dimension=0)
    bias = b.tensor(n("conv/bias"), "INT32", [4], data=np.zeros(4, np.int32), scale=[0.001, 0.001, 0.1 * scale2, 0.001])
    y = b.tensor(n("conv/out"), out_dtype, [1, 4, 4, 4], scale=0.2, zero_point=0)
    b.op("CONV_2D", [x, w, bias], [y], options={"padding": 0, "stride_w": 1, "stride_h": 1}, version=3)
    out = y
    if extra_op:
        out = b.tensor(n("relu/out"), out_dtype, [1, 4, 4, 4], scale=0.2, zero_point=0)
        b.op("RELU", [y], [out])
    b.io([x], [out])
    b.save(path)


def diff(old: Path, new: Path, *args: str) -> tuple[dict[str, Any], int]:
    r = run_cli("diff", str(old), str(new), "--format", "json", *args, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout), r.returncode


def whats(doc: dict[str, Any], category: str) -> list[str]:
    return [c["what"] for c in doc["changes"] if c["category"] == category]


def test_a_model_against_itself_has_no_changes() -> None:
    model = FIXTURES / "tf_int8-only.tflite"
    doc, status = diff(model, model, "--fail-on-change", "scheme,io,ops,quantization,weights,new-errors")
    assert status == 0 and doc["changes"] == [] and doc["matching"]["ops by name"] == 17 and doc["failing"] == []


def test_one_layer_requantized_on_purpose(tmp_path: Path) -> None:
    conv(tmp_path / "old.tflite")
    conv(tmp_path / "new.tflite", scale2=0.03, weight=5)
    doc, status = diff(tmp_path / "old.tflite", tmp_path / "new.tflite", "--fail-on-change", "quantization")
    assert status == 1 and doc["failing"] == ["quantization"]
    quant = whats(doc, "quantization")
    assert quant[0] == "scale[2] 0.02 -> 0.03 (+50.00% relative; 1 of 4 channels)"  # the weights: largest first
    assert "scale[2] 0.002 -> 0.003" in quant[1]  # the bias follows
    assert whats(doc, "weights") == ["1 of 108 values changed (0.9%), max abs difference 4"]
    assert not whats(doc, "ops") and diff(tmp_path / "old.tflite", tmp_path / "new.tflite", "--fail-on-change", "scheme,io,ops")[1] == 0


def test_renamed_tensors_are_matched_by_position_and_ops_and_dtypes_changes_reported(tmp_path: Path) -> None:
    conv(tmp_path / "old.tflite")
    conv(tmp_path / "new.tflite", names=False, extra_op=True, out_dtype="INT16")
    doc, status = diff(tmp_path / "old.tflite", tmp_path / "new.tflite", "--fail-on-change", "ops,dtype")
    assert status == 1 and doc["matching"]["ops by position"] == 1 and doc["matching"]["tensors by position"] == 4
    assert whats(doc, "ops") == ["added"] and [c["where"] for c in doc["changes"] if c["category"] == "ops"] == ["sg0 op 1 RELU"]
    assert "dtype INT8 -> INT16" in whats(doc, "dtype") and "inputs and outputs ['INT8', 'INT8'] -> ['INT8', 'INT16']" in whats(doc, "io")


def test_strategies_of_one_model_differ_in_scheme_io_and_findings() -> None:
    doc, status = diff(FIXTURES / "tf_int8-only.tflite", FIXTURES / "tf_int16x8-only.tflite", "--fail-on-change", "scheme")
    assert status == 1 and whats(doc, "scheme") == ["int8 -> int16x8"]
    assert whats(doc, "io") == ["inputs and outputs ['INT8', 'INT8'] -> ['INT16', 'INT16']"]
    assert any(w.startswith("new QC209 info") for w in whats(doc, "findings"))


PAIRS = [(p.with_name(p.name.replace(suffix, ".tflite")), p) for p in CORPUS_MODELS for suffix in ("_edgetpu.tflite", "_vela.tflite")
         if p.name.endswith(suffix) and p.with_name(p.name.replace(suffix, ".tflite")).exists()]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[p.name for _, p in PAIRS])
def test_a_model_and_its_compiled_build(old: Path, new: Path) -> None:
    """The compiler replaced ops by its custom op: removed ops, the custom op added, and the placement seen through it."""
    target = "edgetpu" if "edgetpu" in new.name else "ethos-u55"
    doc, status = diff(old, new, "--target", target, "--fail-on-change", "ops")
    removed = [c for c in doc["changes"] if c["category"] == "ops" and c["what"] == "removed"]
    added = [c["where"] for c in doc["changes"] if c["category"] == "ops" and c["what"] == "added"]
    compiled = qcheck.load(new)
    codes = compiled.operator_codes
    customs = sum(1 for _, op in compiled.iter_operators() if op.is_custom and codes[op.opcode_index].custom_code in ("edgetpu-custom-op", "ethos-u"))
    assert status == 1 and len(removed) >= 10 and sum("CUSTOM" in a for a in added) >= customs >= 1
    assert doc["matching"]["ops by name"] + doc["matching"]["ops by position"] == sum(len(s.operators) for s in compiled.subgraphs) - len(added)


def test_the_corpus_holds_compiled_pairs() -> None:
    assert any("edgetpu" in n.name for _, n in PAIRS) and (any("_vela" in n.name for _, n in PAIRS) or not SHARED_MODELS)


@pytest.mark.parametrize("args", [("missing.tflite", "missing.tflite"), ("--fail-on-change", "colour")])
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    model = str(FIXTURES / "tf_int8-only.tflite")
    r = run_cli("diff", *(args if args[0].endswith(".tflite") else (model, model, *args)), cwd=tmp_path)
    last = r.stderr.strip().splitlines()[-1]  # (argparse prints the usage above its one-line message)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert last == "qcheck: error: missing.tflite: no such file" if args[0].endswith(".tflite") else "unknown change 'colour'" in last


def test_markdown_and_html_show_old_and_new_side_by_side(tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    conv(tmp_path / "old.tflite")
    conv(tmp_path / "new.tflite", scale2=0.03, extra_op=True)
    md = run_cli("diff", str(tmp_path / "old.tflite"), str(tmp_path / "new.tflite"), "--format", "markdown").stdout
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in md.splitlines() if line.startswith("| quantization")]
    assert ["quantization", "sg0 tensor 1 'conv/weights'", "scale\\[2]", "0.02", "0.03 (+50.00% relative; 1 of 4 channels)"] in cells
    assert "<table>" in MarkdownIt("commonmark").enable("table").render(md)
    page = tmp_path / "d.html"
    assert run_cli("diff", str(tmp_path / "old.tflite"), str(tmp_path / "new.tflite"), "--format", "html", "-o", str(page)).returncode == 0
    text = page.read_text()
    assert "<td class=old>0.02</td><td class=new>0.03 (+50.00% relative; 1 of 4 channels)</td>" in text and "http" not in text
