"""Project configuration (found upward, overridden by the command line, strict about names) and baselines."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from core_helpers import run_cli
from testpaths import FIXTURES

from qcheck.tflite.builder import ModelBuilder

BAD = FIXTURES / "builder_quant_defects.tflite"  # QC020-QC025, QC203, QC301, QC303 on named tensors


def report(*args: str, cwd: Path) -> tuple[dict[str, Any], int, str]:
    r = run_cli("verify", *args, "--format", "json", cwd=cwd)
    return (json.loads(r.stdout) if r.stdout else {}), r.returncode, r.stderr


def codes(doc: dict[str, Any]) -> set[str]:
    return {f["code"] for m in doc["models"] for f in m["findings"]}


def project(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / "models" / "deep").mkdir(parents=True, exist_ok=True)
    (tmp_path / "models" / "deep" / "bad.tflite").write_bytes(BAD.read_bytes())
    (tmp_path / name).write_text(text)
    return tmp_path


def test_pyproject_found_upward_and_the_command_line_overrides_it(tmp_path: Path) -> None:
    root = project(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.qcheck]\nignore = ["QC02"]\nfail-on = "info"\n')
    doc, status, _ = report("bad.tflite", cwd=root / "models" / "deep")
    assert not any(c.startswith("QC02") for c in codes(doc)) and "QC203" in codes(doc) and status == 1
    assert doc["settings"]["config"] == str(root / "pyproject.toml") and doc["settings"]["fail_on"] == "info"
    doc, _, _ = report("bad.tflite", "--ignore", "QC2", cwd=root / "models" / "deep")  # the command line wins
    assert "QC203" not in codes(doc) and "QC021" in codes(doc)
    doc, _, _ = report("bad.tflite", "--isolated", cwd=root / "models" / "deep")
    assert "QC021" in codes(doc) and doc["settings"]["config"] is None


def test_qcheck_toml_wins_over_pyproject_in_the_same_folder_and_config_names_a_file(tmp_path: Path) -> None:
    root = project(tmp_path, "pyproject.toml", '[tool.qcheck]\nselect = ["QC02"]\n')
    (root / ".qcheck.toml").write_text('select = ["QC203"]\n')
    doc, _, _ = report("models", cwd=root)
    assert codes(doc) == {"QC203"}
    (root / "other.toml").write_text('select = ["QC024"]\n')
    doc, _, _ = report("models", "--config", "other.toml", cwd=root)
    assert codes(doc) == {"QC024"}


def test_severity_overrides_per_file_ignores_and_name_ignores(tmp_path: Path) -> None:
    root = project(tmp_path, "qcheck.toml", """\
ignore-tensors = ["uint8_*"]
ignore-operators = ["FULLY_CONN*"]
[severity]
QC021 = "warning"
"per-axis-activation" = "info"
[per-file-ignores]
"models/deep/*.tflite" = ["QC022"]
""")
    doc, _, _ = report("models", cwd=root)
    model = doc["models"][0]
    shown = {f["code"]: f for f in model["findings"]}
    hidden = {f["code"]: f["suppression"] for f in model["suppressed"]}
    assert shown["QC021"]["severity"] == "warning" and shown["QC301"]["severity"] == "info"
    assert hidden["QC022"]["source"] == "per-file-ignores" and hidden["QC024"]["source"] == "ignore-tensors"
    assert hidden["QC203"]["source"] == "ignore-operators"  # (at op 0 FULLY_CONNECTED)
    assert doc["totals"]["suppressed"] == len(model["suppressed"]) and not set(hidden) & set(shown)


@pytest.mark.parametrize(("text", "named", "line"), [
    ('select = ["QC2"]\nignroe = ["QC5"]\n', "ignroe", 2),
    ('\nselect = ["QC2", "QC999"]\n', "QC999", 2),
    ('[severity]\nQC203 = "fatal"\n', "fatal", 2),
    ('targets = ["xnnpack", "npu-9000"]\n', "npu-9000", 1),
    ('expect = "int7"\n', "int7", 1),
    ('jobs = "many"\n', "jobs", 1),
    ('[per-file-ignores]\n"a/*" = ["no-such-rule"]\n', "no-such-rule", 2),
    ('select = [\n', "TOML", 1),
])
def test_unknown_names_in_the_file_exit_2_naming_file_line_and_name(tmp_path: Path, text: str, named: str, line: int) -> None:
    root = project(tmp_path, "qcheck.toml", text)
    r = run_cli("verify", "models", cwd=root)
    err = r.stderr.strip()
    assert r.returncode == 2 and len(err.splitlines()) == 1 and named in err, err
    assert f"qcheck.toml:{line}" in err or named == "TOML", err


def test_qcheck_config_shows_each_value_and_its_source(tmp_path: Path) -> None:
    root = project(tmp_path, "pyproject.toml", '[tool.qcheck]\nignore = ["QC5"]\n\nfail-on = "warning"\n')
    out = run_cli("config", "--expect", "int8-only", cwd=root / "models").stdout
    assert f"configuration file: {root / 'pyproject.toml'}" in out
    assert 'ignore           = ["QC5"]    # ' + f"{root / 'pyproject.toml'}:2" in out
    assert f'fail-on          = "warning"    # {root / "pyproject.toml"}:4' in out
    assert 'expect           = "int8-only"    # command line' in out and "jobs             = (unset)    # default" in out


def chain(path: Path, *, padding: int, fixed: bool = False) -> None:
    """A model with a per-axis activation (QC301) and an off-range uint8 zero point (QC024) on named tensors;
    `padding` unused tensors first shift every index, as a re-conversion does; `fixed` repairs QC024."""
    b = ModelBuilder()
    for i in range(padding):
        b.tensor(f"unused_{i}", "INT8", [1], scale=0.5)
    x = b.tensor("input", "INT8", [2, 4], scale=[0.1, 0.2], zero_point=[0, 0], quantized_dimension=0)
    w = b.tensor("weights", "INT8", [3, 4], data=np.ones((3, 4), np.int8), scale=0.02)
    y = b.tensor("fc_out", "INT8", [2, 3], scale=0.1)
    u = b.tensor("output", "UINT8", [2, 3], scale=0.1, zero_point=128 if fixed else 300)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], version=4)
    b.op("QUANTIZE", [y], [u])
    b.io([x], [u])
    b.save(path)


def test_baseline_hides_todays_findings_survives_reconversion_and_counts_the_fixed(tmp_path: Path) -> None:
    model, base = tmp_path / "m.tflite", tmp_path / "ci" / "qcheck-baseline.json"
    base.parent.mkdir()
    chain(model, padding=0)
    before, status, _ = report(str(model), "--isolated", cwd=tmp_path)
    assert status == 1 and {"QC301", "QC024"} <= codes(before)
    assert run_cli("verify", str(model), "--write-baseline", str(base), "--isolated", cwd=tmp_path).returncode == 1
    recorded = json.loads(base.read_text())
    assert recorded["qcheck_baseline"] == 1 and list(recorded["models"]) == ["../m.tflite"]
    assert base.read_text() == json.dumps(recorded, indent=2) + "\n" and list(recorded["models"]["../m.tflite"]) == sorted(recorded["models"]["../m.tflite"])
    chain(model, padding=3)  # re-converted: every tensor index moved
    after, status, _ = report(str(model), "--baseline", str(base), "--isolated", cwd=tmp_path)
    assert status == 0 and codes(after) == set() and after["totals"]["baselined"] == sum(before["totals"][s] for s in ("error", "warning", "info"))
    chain(model, padding=3, fixed=True)  # QC024 fixed, and a new finding would still show
    fixed, _, _ = report(str(model), "--baseline", str(base), "--isolated", cwd=tmp_path)
    assert fixed["baseline"]["fixed"] >= 1 and fixed["totals"]["fixed_since_baseline"] == fixed["baseline"]["fixed"]
    assert "QC024" not in {f["code"] for m in fixed["models"] for f in m.get("suppressed", [])}
    (tmp_path / "pyproject.toml").write_text('[tool.qcheck]\nbaseline = "ci/qcheck-baseline.json"\n')  # the config key, relative to the file
    chain(model, padding=0)
    keyed, status, _ = report("m.tflite", cwd=tmp_path)
    assert status == 0 and keyed["totals"]["baselined"] == after["totals"]["baselined"]


def test_a_broken_baseline_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"something": "else"}')
    r = run_cli("verify", str(BAD), "--baseline", str(tmp_path / "b.json"), "--isolated")
    assert r.returncode == 2 and r.stdout == "" and "not a qcheck baseline" in r.stderr and len(r.stderr.splitlines()) == 1


def test_write_baseline_says_what_it_recorded(tmp_path: Path) -> None:
    r = run_cli("verify", str(BAD), str(FIXTURES / "tf_int8-only.tflite"), "--write-baseline", str(tmp_path / "b.json"), "--isolated", "-q")
    recorded = json.loads((tmp_path / "b.json").read_text())["models"]
    n = sum(map(len, recorded.values()))
    assert n >= 9 and f"qcheck: recorded {n} finding(s) of 2 model(s) in the baseline {tmp_path / 'b.json'}" in r.stderr


def test_format_targets_expect_and_jobs_come_from_the_file(tmp_path: Path) -> None:
    root = project(tmp_path, ".qcheck.toml", 'format = "github"\ntargets = ["tflm"]\nexpect = "int8-only"\njobs = 1\nfail-on = "info"\n')
    r = run_cli("verify", "models", cwd=root)
    assert r.returncode == 1 and r.stdout.startswith("::error file=models/deep/bad.tflite")
    assert "title=QC601 target-refuses-model" in r.stdout  # the tflm target ran
    doc, _, _ = report("models", cwd=root)  # --format on the command line wins
    assert doc["settings"]["targets"] == ["tflm"] and doc["settings"]["expect"] == "int8-only" and "tflm" in doc["models"][0]["targets"]


def test_rule_docs_url_must_be_a_url_template(tmp_path: Path) -> None:
    root = project(tmp_path, "qcheck.toml", 'rule-docs-url = "docs/rules.md"\n')
    r = run_cli("verify", "models", cwd=root)
    assert r.returncode == 2 and "qcheck.toml:1" in r.stderr and "{code}" in r.stderr


@pytest.mark.parametrize("text", ['[tool]\nqcheck = 3\n', 'tool = "x"\n[project]\nname = "m"\n', "\x00\xff"])
def test_odd_pyproject_files_never_crash(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_bytes(text.encode("latin-1"))
    r = run_cli("verify", str(BAD), "--config", str(tmp_path / "pyproject.toml"))
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert r.returncode == 1 or len(r.stderr.strip().splitlines()) == 1


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def test_any_toml_configuration_is_loaded_or_refused_in_one_line(tmp_path: Path) -> None:
    """Random keys and values (known keys among them): a Config or a UsageError naming the file, nothing else."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from qcheck import config
    from qcheck.cli.configure import _checker
    from qcheck.engine import default_registry
    from qcheck.errors import UsageError
    from qcheck.targetfile import is_profile_path

    check = _checker(default_registry(), is_profile_path)
    scalars = st.one_of(st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=True), st.text(max_size=12),
                        st.sampled_from(["QC2", "QC203", "error", "warning", "xnnpack", "int8-only", "json", "https://x/{code}", "*.tflite"]))
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                          max_leaves=6)
    keys = st.sampled_from([*config.KEYS, "ignroe", "x"])

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(keys, values, max_size=4))
    def one(data: dict[str, object]) -> None:
        path = tmp_path / "qcheck.toml"
        path.write_text("".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in data.items()))
        try:
            config.load(path, check)
        except UsageError as e:
            assert str(e).startswith(str(path)) and "\n" not in str(e)

    one()


def test_codes_in_the_file_in_any_case(tmp_path: Path) -> None:
    root = project(tmp_path, "qcheck.toml", 'select = ["qc02", "qc203"]\n[severity]\nqc021 = "info"\n')
    doc, _, err = report("models", cwd=root)
    shown = {f["code"]: f["severity"] for m in doc["models"] for f in m["findings"]}
    assert set(shown) <= {"QC020", "QC021", "QC022", "QC023", "QC024", "QC025", "QC203"} and "QC203" in shown and shown["QC021"] == "info", err
