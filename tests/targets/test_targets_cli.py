"""--target, --confirm, --verbose and `qcheck targets` from the command line; profile files."""

from __future__ import annotations

import json
from pathlib import Path

from core_helpers import assert_one_line_error, run_cli
from testpaths import FIXTURES

INT8 = str(FIXTURES / "tf_int8-fallback.tflite")  # AVERAGE_POOL_2D and SOFTMAX stay on the CPU with XNNPACK
HYBRID = str(FIXTURES / "tf_dynamic-range.tflite")  # hybrid CONV_2D: TFLite Micro refuses it
PLACEMENTS = {"accelerated", "cpu", "unsupported", "unknown"}


def verify_json(*args: str) -> tuple[int, dict]:
    r = run_cli("verify", *args, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_targets_lists_the_three_runtime_profiles_with_versions() -> None:
    r = run_cli("targets", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = {t["name"]: t for t in json.loads(r.stdout)["targets"]}
    assert {"litert", "xnnpack", "tflm"} <= set(rows)
    assert rows["xnnpack"]["delegate"] and not rows["litert"]["delegate"]
    assert rows["litert"]["runtime"].startswith("ai-edge-litert 2.") and rows["tflm"]["runtime"].startswith("tflite-micro ")
    assert all(t["sources"] and t["summary"] for t in rows.values())
    text = run_cli("targets").stdout
    assert "xnnpack" in text and "xnnpack_delegate.cc" in text


def test_json_places_every_operator_on_every_target() -> None:
    code, data = verify_json(INT8, "--target", "all")
    model = data["models"][0]
    ops = model["stats"]["operators"]
    assert set(model["targets"]) >= {"litert", "xnnpack", "tflm"}
    for name, t in model["targets"].items():
        assert t["verdict"] in ("runs", "runs-partly", "fails"), name
        assert len(t["ops"]) == ops and {o["placement"] for o in t["ops"]} <= PLACEMENTS
        assert [o["operator"] for o in t["ops"]] == list(range(ops))
    x = model["targets"]["xnnpack"]
    assert x["verdict"] == "runs-partly" and x["partitions"] and all(p["ops"] for p in x["partitions"])
    cpu = {o["opcode"] for o in x["ops"] if o["placement"] == "cpu"}
    assert {"AVERAGE_POOL_2D", "SOFTMAX"} <= cpu
    assert all(o["reasons"] and o["reasons"][0]["rule"].startswith("xnnpack:") for o in x["ops"] if o["placement"] == "cpu")
    assert model["targets"]["litert"]["verdict"] == "runs" and model["targets"]["tflm"]["verdict"] == "runs"
    assert any(f["code"] == "QC602" and "AVERAGE_POOL_2D" in f["message"] for f in model["findings"])
    assert code == 0  # QC602 is a warning


def test_target_findings_obey_select_ignore_and_fail_on() -> None:
    assert verify_json(INT8, "--target", "xnnpack", "--fail-on", "warning")[0] == 1
    code, data = verify_json(INT8, "--target", "xnnpack", "--ignore", "QC6", "--fail-on", "warning")
    assert code == 0 and not [f for f in data["models"][0]["findings"] if f["code"].startswith("QC6")]
    assert "targets" in data["models"][0]  # the placement is still reported


def test_a_model_that_fails_on_a_target_is_an_error_naming_the_cause() -> None:
    code, data = verify_json(HYBRID, "--target", "tflm", "--select", "QC6")
    model = data["models"][0]
    assert code == 1 and model["targets"]["tflm"]["verdict"] == "fails"
    [f] = [f for f in model["findings"] if f["code"] == "QC601"]
    assert f["severity"] == "error" and "Hybrid models are not supported on TFLite Micro" in f["message"]
    assert f["location"]["opcode"] == "CONV_2D"
    # without --target nothing of this: the default judgement is LiteRT's and the spec's
    assert "targets" not in verify_json(HYBRID)[1]["models"][0]


def test_console_has_one_summary_line_per_target_and_verbose_lists_every_op() -> None:
    r = run_cli("verify", INT8, "--target", "xnnpack", "--target", "tflm")
    assert "xnnpack: runs-partly: " in r.stdout and "ops delegated in" in r.stdout and "% of MACs" in r.stdout
    assert "      xnnpack:" in r.stdout and "tflm: runs: all 19 ops run" in r.stdout  # the reasons, grouped
    # two targets: a comparison table, one row each
    table = [line.split() for line in r.stdout.splitlines() if line.startswith("    ") and not line.startswith("     ")]
    assert table[0] == ["target", "verdict", "accelerated", "partitions", "transitions", "MACs"]
    assert table[1][:2] == ["xnnpack", "runs-partly"] and table[2][:2] == ["tflm", "runs"]
    verbose = run_cli("verify", INT8, "--target", "xnnpack", "--verbose").stdout
    assert "0:0 QUANTIZE accelerated" in verbose and "0:17 SOFTMAX cpu (xnnpack:" in verbose


def test_confirm_shows_each_runtime_beside_qcheck() -> None:
    r = run_cli("verify", HYBRID, "--target", "litert", "--target", "tflm", "--format", "json", "--confirm", timeout=180)
    targets = json.loads(r.stdout)["models"][0]["targets"]
    assert targets["litert"]["confirmed"]["status"] == "ok" and targets["litert"]["confirmed"]["agrees"] is True
    tflm = targets["tflm"]["confirmed"]
    assert tflm["status"] == "error" and tflm["agrees"] is True and "Hybrid models are not supported" in tflm["message"]
    console = run_cli("verify", HYBRID, "--target", "tflm", "--confirm", timeout=180).stdout
    assert "tflite-micro" in console and ": agrees" in console


def test_bad_target_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args in (["--target", "nosuch"], ["--confirm"], ["--target", str(tmp_path / "missing.toml")]):
        r = run_cli("verify", INT8, *args)
        assert r.returncode == 2, args
        assert_one_line_error(r.stderr)
    listed = run_cli("verify", INT8, "--target", "nosuch").stderr
    assert "choose from: all, " in listed and all(f" {name}," in listed for name in ("litert", "tflm", "xnnpack"))


PROFILE = """
name = "acme-npu"
summary = "ACME NPU: int8 convolutions and adds only"
delegate = true
sources = ["ACME SDK op list"]

[ops.CONV_2D]
types = ["INT8"]
activations = ["NONE", "RELU"]

[ops.DEPTHWISE_CONV_2D]
types = ["INT8"]

[ops.ADD]
"""


def test_a_profile_file_is_a_target(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(PROFILE)
    _, data = verify_json(INT8, "--target", str(path))
    acme = data["models"][0]["targets"]["acme-npu"]
    on = {o["opcode"] for o in acme["ops"] if o["placement"] == "accelerated"}
    assert on == {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD"} and acme["verdict"] == "runs-partly"
    assert all(o["reasons"][0]["rule"] == "acme-npu:op-set" for o in acme["ops"] if o["opcode"] == "SOFTMAX")
    listed = run_cli("targets", "--target", str(path), "--format", "json").stdout
    assert any(t["name"] == "acme-npu" for t in json.loads(listed)["targets"])


def test_a_broken_profile_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    cases = {"bad.toml": "name = ", "nosummary.toml": 'name = "x"\n', "key.toml": 'name = "x"\nsummary = "y"\ncolour = "red"\n',
             "types.toml": 'name = "x"\nsummary = "y"\n[ops.ADD]\ntypes = "INT8"\n'}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        r = run_cli("verify", INT8, "--target", str(tmp_path / name))
        assert r.returncode == 2, name
        assert_one_line_error(r.stderr)
        assert name in r.stderr


def test_target_options_configure_a_profile() -> None:
    _, data = verify_json(str(FIXTURES / "tf_int8-only.tflite"), "--target", "nnapi:level=1.1", "--target", "nnapi")
    targets = data["models"][0]["targets"]
    old, new = targets["nnapi:level=1.1"], targets["nnapi"]
    on = [sum(o["placement"] == "accelerated" for o in t["ops"]) for t in (old, new)]
    assert on[0] < on[1] == len(new["ops"])  # NNAPI 1.1 lacks ops feature level 8 has
    assert any(r["rule"] == "nnapi:feature-level" for o in old["ops"] for r in o["reasons"])
    listed = json.loads(run_cli("targets", "--format", "json").stdout)["targets"]
    assert {t["name"]: t["options"] for t in listed}["nnapi"].startswith("level=")
    for bad in ("nnapi:level=9", "nnapi:level", "gpu:x=1", "nosuch:a=b"):
        r = run_cli("verify", INT8, "--target", bad)
        assert r.returncode == 2, bad
        assert_one_line_error(r.stderr)
