"""qcheck compare on converter-made pairs: metrics against an independent computation, planted faults ranked first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import STRATEGIES, rewrite

from qcheck.compare import Comparison, compare
from qcheck.registry import make_registry

pytestmark = [pytest.mark.tf, pytest.mark.slow]

# Runs both models in a child process (a model may crash the interpreter) and sums, per requested pair,
# what the metrics need, dequantizing with the interpreter's own quantization parameters, not qcheck's.
_INDEPENDENT = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from ai_edge_litert.interpreter import Interpreter
job = json.load(sys.stdin)
fi = Interpreter(model_path=job["float"], experimental_preserve_all_tensors=True)
qi = Interpreter(model_path=job["quant"], experimental_preserve_all_tensors=True)
fi.allocate_tensors(); qi.allocate_tensors()
qd = {d["index"]: d for d in qi.get_tensor_details()}
sums = {str(k): [0.0] * 6 for k in range(len(job["pairs"]))}
for x in np.load(job["data"]):
    x = x[None]
    fi.set_tensor(fi.get_input_details()[0]["index"], x); fi.invoke()
    d = qi.get_input_details()[0]
    if d["dtype"] != np.float32:
        s, z = d["quantization"]; info = np.iinfo(d["dtype"])
        v = x / np.float32(s)
        x = np.clip(np.trunc(v + np.copysign(np.float32(0.5), v)) + z, info.min, info.max).astype(d["dtype"])  # std::round, as LiteRT
    qi.set_tensor(d["index"], x); qi.invoke()
    for k, (ft, qt) in enumerate(job["pairs"]):
        f = fi.get_tensor(ft).astype(np.float64)
        q = qi.get_tensor(qt).astype(np.float64)
        p = qd[qt]["quantization_parameters"]
        if len(p["scales"]):
            shape = [1] * q.ndim
            if len(p["scales"]) > 1: shape[p["quantized_dimension"]] = -1
            q = (q - np.asarray(p["zero_points"], np.float64).reshape(shape)) * np.asarray(p["scales"], np.float64).reshape(shape)
        e = q - f.reshape(q.shape)
        row = sums[str(k)]
        row[0] += e.size; row[1] += float((e * e).sum()); row[2] += float((f * f).sum()); row[3] += float((q * q).sum())
        row[4] += float((f.ravel() * q.ravel()).sum()); row[5] = max(row[5], float(np.abs(e).max()))
print(json.dumps(sums))
"""


def independent(float_path: Path, quant_path: Path, data: Path, c: Comparison) -> list[list[float]]:
    job = {"float": str(float_path), "quant": str(quant_path), "data": str(data), "pairs": [[t.float_tensor, t.quant_tensor] for t in c.tensors]}
    proc = subprocess.run([sys.executable, "-c", _INDEPENDENT], input=json.dumps(job), capture_output=True, text=True, timeout=300, check=True)
    sums = json.loads(proc.stdout.strip().splitlines()[-1])
    return [sums[str(k)] for k in range(len(c.tensors))]


def _check_against_numpy(float_path: Path, quant_path: Path, data: Path, c: Comparison) -> None:
    for t, (n, sse, f2, q2, fq, worst) in zip(c.tensors, independent(float_path, quant_path, data, c), strict=True):
        assert t.elements == n
        assert t.mse == pytest.approx(sse / n, rel=1e-9, abs=1e-300), t.name
        assert t.max_abs == pytest.approx(worst, rel=1e-12, abs=1e-300), t.name
        if sse:
            assert t.sqnr_db == pytest.approx(10 * np.log10(f2 / sse), rel=1e-9), t.name
        if f2 and q2:
            assert t.cosine == pytest.approx(fq / np.sqrt(f2 * q2), rel=1e-9), t.name


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "float32"])
def test_metrics_match_an_independent_numpy_computation(demo_pairs: dict[str, Path], strategy: str) -> None:
    c = compare(demo_pairs["float32"], demo_pairs[strategy], demo_pairs["data"], jobs=2)
    assert c.samples == 12 and len(c.tensors) >= 15 and c.outputs
    _check_against_numpy(demo_pairs["float32"], demo_pairs[strategy], demo_pairs["data"], c)
    out = c.outputs[0]
    assert out.kl is not None and out.kl >= 0 and out.top1 is not None and 0.9 <= out.top1 <= 1 and out.top5 == 1.0


def test_resnet_style_metrics_match_numpy_and_every_layer_is_measured(resnet_pair: dict[str, Path]) -> None:
    c = compare(resnet_pair["float32"], resnet_pair["int8-fallback"], resnet_pair["data"], jobs=2)
    _check_against_numpy(resnet_pair["float32"], resnet_pair["int8-fallback"], resnet_pair["data"], c)
    assert not c.unmatched_float and not c.unmatched_quant
    assert sum(x.opcode == "ADD" for x in c.layers) == 3 and sum(x.opcode == "CONV_2D" for x in c.layers) == 8
    assert c.outputs[0].sqnr_db > 15 and c.worst[0].share == max(x.share for x in c.layers)


def test_every_activation_is_matched_and_every_op_measured(demo_pairs: dict[str, Path]) -> None:
    for strategy in ("float16", "int8-fallback", "int8-only-uint8io", "int16x8"):
        c = compare(demo_pairs["float32"], demo_pairs[strategy], demo_pairs["data"], samples=4)
        assert not c.unmatched_float and not c.unmatched_quant, strategy
        assert {x.opcode for x in c.layers} >= {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED", "SOFTMAX"}, strategy
        # Keeping ops in float is advised where it can be done: int8 models (TensorFlow's denylisted_nodes).
        assert bool(c.keep_float) == (strategy in ("int8-fallback", "int8-only-uint8io")), strategy


def _plant_activation_scale(sub: Any) -> int:
    """scale / 8 on the middle single-scale int8 op output (values clip): as ../shared/checks/compare.sh does."""
    from ai_edge_litert import schema_py_generated as schema

    outs = [op.outputs[0] for op in sub.operators if sub.tensors[op.outputs[0]].type == schema.TensorType.INT8
            and sub.tensors[op.outputs[0]].quantization.scale is not None and len(sub.tensors[op.outputs[0]].quantization.scale) == 1]
    t = outs[len(outs) // 2]
    sub.tensors[t].quantization.scale = [float(sub.tensors[t].quantization.scale[0]) / 8]
    return t


def test_a_planted_activation_scale_is_ranked_first(demo_pairs: dict[str, Path], tmp_path: Path, registry: Any) -> None:
    bad = tmp_path / "bad.tflite"
    planted = int(rewrite(demo_pairs["int8-fallback"], bad, _plant_activation_scale))
    good = compare(demo_pairs["float32"], demo_pairs["int8-fallback"], demo_pairs["data"])
    c = compare(demo_pairs["float32"], bad, demo_pairs["data"])
    assert c.worst[0].tensor == planted and c.worst[0].share > 0.5
    assert good.worst[0].tensor != planted or good.worst[0].share < c.worst[0].share
    assert c.keep_float[0].tensor == planted
    from qcheck.compare.thresholds import Thresholds
    from qcheck.engine import compare_report
    from qcheck.tflite.reader import load

    report = compare_report(load(bad), registry, (c, Thresholds()), str(bad))
    qc702 = [f for f in report.findings if f.code == "QC702"]
    assert [f.location.tensor for f in qc702] == [planted]
    assert f"scale {c.worst[0].scale:.6g}" in qc702[0].message
    assert not [f for f in compare_report(load(demo_pairs["int8-fallback"]), registry, (good, Thresholds()), "good").findings
                if f.code in ("QC701", "QC702", "QC704")]


def test_a_planted_weight_scale_is_named_with_its_channel(demo_pairs: dict[str, Path], tmp_path: Path, registry: Any) -> None:
    from ai_edge_litert import schema_py_generated as schema

    def plant(sub: Any) -> int:
        conv = next(op for op in sub.operators if len(op.inputs) > 1 and sub.tensors[op.inputs[1]].quantization is not None
                    and sub.tensors[op.inputs[1]].quantization.scale is not None and len(sub.tensors[op.inputs[1]].quantization.scale) > 4
                    and sub.tensors[op.outputs[0]].type == schema.TensorType.INT8)
        w = sub.tensors[conv.inputs[1]].quantization
        w.scale = [float(s) * (8 if k == 3 else 1) for k, s in enumerate(w.scale)]
        return int(conv.outputs[0])

    bad = tmp_path / "bad-weights.tflite"
    tensor = int(rewrite(demo_pairs["int8-fallback"], bad, plant))
    c = compare(demo_pairs["float32"], bad, demo_pairs["data"])
    layer = next(x for x in c.layers if x.tensor == tensor)
    assert c.worst[0] == layer
    assert layer.channel is not None and layer.channel.channel == 3 and layer.channel.share > 0.9
    from qcheck.compare.thresholds import Thresholds
    from qcheck.engine import compare_report
    from qcheck.tflite.reader import load

    findings = [f for f in compare_report(load(bad), registry, (c, Thresholds()), str(bad)).findings if f.code == "QC704"]
    assert len(findings) == 1 and findings[0].location.tensor == tensor
    assert "channel 3 " in findings[0].message and "8x the median" in findings[0].message


def test_ray_and_any_worker_count_give_the_same_bits(demo_pairs: dict[str, Path]) -> None:
    """Ray tasks over the same shards, merged in the same order: equal to a local run, float for float."""
    args = (demo_pairs["float32"], demo_pairs["int8-fallback"], demo_pairs["data"])
    one, two = compare(*args, jobs=1), compare(*args, jobs=2)
    ray = compare(*args, jobs=2, ray=True)
    for other in (two, ray):
        for field in ("tensors", "layers", "worst", "outputs", "keep_float"):
            assert repr(getattr(one, field)) == repr(getattr(other, field)), field
    assert ray.runner.startswith("ray") and one.runner == "local (-j 1)"


def test_keep_float_keeps_the_suggested_op_in_float_and_recovers_error(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    from qcheck.convert import convert
    from qcheck.tflite.reader import load

    before = compare(demo_pairs["float32"], demo_pairs["int8-fallback"], demo_pairs["data"])
    keep = [x.float_name for x in before.keep_float]
    assert keep
    result = convert(demo_pairs["keras"], "int8-fallback", tmp_path / "kept.tflite", calibration=demo_pairs["calib"], keep_float=keep)
    assert result.verdict == "ok"
    sub = load(tmp_path / "kept.tflite").subgraphs[0]
    kept = [sub.tensors[op.outputs[0]] for op in sub.operators if sub.tensors[op.outputs[0]].name in keep]
    assert kept and all(t.dtype == "FLOAT32" for t in kept)
    after = compare(demo_pairs["float32"], tmp_path / "kept.tflite", demo_pairs["data"])
    introduced = sum(x.introduced for x in after.layers), sum(x.introduced for x in before.layers)
    assert introduced[0] < introduced[1]
    assert after.outputs[0].sqnr_db > before.outputs[0].sqnr_db


def test_convert_all_with_data_adds_accuracy(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    from qcheck.convert import convert_all
    from qcheck.convert.accuracy import measure

    results = convert_all(demo_pairs["keras"], tmp_path / "all", ["float32", "int8-fallback", "float16"], calibration=demo_pairs["calib"])
    measure(results, demo_pairs["data"], samples=6, jobs=1)
    by = {r.strategy: r.accuracy for r in results}
    assert by["float32"] is None
    int8, fp16 = by["int8-fallback"], by["float16"]
    assert int8 is not None and fp16 is not None and int8["samples"] == 6
    assert 20 < int8["output_sqnr_db"] < fp16["output_sqnr_db"]  # type: ignore[operator]
    assert int8["top1_agreement"] == pytest.approx(1.0, abs=0.2)
    import io

    from qcheck.convert.view import render, result_json
    from qcheck.reporting import Run

    registry = make_registry()
    assert result_json(results[1], results, registry)["accuracy"] == int8
    table = io.StringIO()
    render(results, registry, table, table=True, reports=False)
    assert "output SQNR" in table.getvalue() and f"{int8['output_sqnr_db']:.1f} dB" in table.getvalue() and "reference" in table.getvalue()
    page = io.StringIO()
    accuracy = {str(r.output): r.accuracy for r in results if r.accuracy}
    registry.reporters["html"].render(Run(tuple(r.report for r in results if r.report), settings={"accuracy": accuracy}), page)
    assert "Accuracy against the float32 output" in page.getvalue() and f"{int8['output_sqnr_db']:.1f} dB" in page.getvalue()


def test_renamed_tensors_are_matched_by_graph_position(demo_pairs: dict[str, Path], tmp_path: Path, registry: Any) -> None:
    def rename(sub: Any) -> int:
        for k, t in enumerate(sub.tensors):
            t.name = f"renamed/{k}".encode()
        return len(sub.tensors)

    renamed = tmp_path / "renamed.tflite"
    rewrite(demo_pairs["int8-fallback"], renamed, rename)
    named = compare(demo_pairs["float32"], demo_pairs["int8-fallback"], demo_pairs["data"], samples=4)
    c = compare(demo_pairs["float32"], renamed, demo_pairs["data"], samples=4)
    assert {t.matched_by for t in c.tensors} >= {"position"} and "name" not in {t.matched_by for t in c.tensors}
    assert [(x.op, x.opcode) for x in c.layers] == [(x.op, x.opcode) for x in named.layers]
    assert [round(x.sqnr_db, 9) for x in c.layers] == [round(x.sqnr_db, 9) for x in named.layers]
    from qcheck.compare.thresholds import Thresholds
    from qcheck.engine import compare_report
    from qcheck.tflite.reader import load

    assert not c.unmatched_float and not c.unmatched_quant
    codes = [f.code for f in compare_report(load(renamed), registry, (c, Thresholds()), str(renamed)).findings]
    assert "QC705" not in codes


def test_a_dead_dequantize_output_is_left_out_not_a_failure(demo_pairs: dict[str, Path], tmp_path: Path) -> None:
    """A fake-quant graph's QUANTIZE feeding a DEQUANTIZE nothing reads: LiteRT never allocates its output."""
    from ai_edge_litert import schema_py_generated as schema

    def dead_branch(sub: Any) -> int:
        source = next(op.outputs[0] for op in sub.operators if sub.tensors[op.outputs[0]].type == schema.TensorType.INT8)
        t = schema.TensorT()
        t.shape, t.type, t.name, t.buffer = sub.tensors[source].shape, schema.TensorType.FLOAT32, b"dead", 0
        sub.tensors.append(t)
        op = schema.OperatorT()
        op.opcodeIndex = sub.operators[-1].opcodeIndex  # the model's last op is its output DEQUANTIZE
        op.inputs, op.outputs = [source], [len(sub.tensors) - 1]
        sub.operators.insert(len(sub.operators) - 1, op)
        return len(sub.tensors) - 1

    dead = tmp_path / "dead.tflite"
    rewrite(demo_pairs["int8-fallback"], dead, dead_branch)
    c = compare(demo_pairs["float32"], dead, demo_pairs["data"], samples=4)
    assert "dead" not in {t.quant_name for t in c.tensors} and c.outputs and c.layers


def test_a_layerwise_model_that_does_not_run_leaves_the_rest_and_says_why(demo_pairs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from qcheck.compare import plan

    real = plan.layerwise_model
    monkeypatch.setattr(plan, "layerwise_model", lambda data, layers: (b"not a model", real(data, layers)[1]))
    c = compare(demo_pairs["float32"], demo_pairs["int8-fallback"], demo_pairs["data"], samples=4, jobs=2)
    assert c.outputs and c.tensors and {x.opcode for x in c.layers} == {"QUANTIZE"}
    assert any("the layer-wise copy of the float model does not run (the layer-wise model:" in n for n in c.notes)


def test_random_data_spans_the_quantized_inputs_range(demo_pairs: dict[str, Path]) -> None:
    from qcheck.compare.plan import input_ranges
    from qcheck.tflite.reader import load

    q = load(demo_pairs["int8-only"]).subgraphs[0].tensors[load(demo_pairs["int8-only"]).subgraphs[0].inputs[0]].quantization
    assert q is not None
    (lo, hi), = input_ranges(load(demo_pairs["int8-only"]).subgraphs[0])
    assert (lo, hi) == pytest.approx((float(q.scale[0]) * (-128 - int(q.zero_point[0])), float(q.scale[0]) * (127 - int(q.zero_point[0]))))
    assert input_ranges(load(demo_pairs["int8-fallback"]).subgraphs[0])[0] == pytest.approx((lo, hi))  # through its input QUANTIZE
    assert input_ranges(load(demo_pairs["dynamic-range"]).subgraphs[0]) == (None,)
    c = compare(demo_pairs["float32"], demo_pairs["int8-only"], "random", samples=3)
    assert any(f"uniform over [{lo:.4g}, {hi:.4g}]" in n for n in c.notes)
