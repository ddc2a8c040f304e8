"""The informational commands (rules, rule, plugins, inspect, --version), colour, and entry-point plugins."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from core_helpers import ROOT, cli_models, run_cli

import qcheck
from qcheck.registry import make_registry

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return cli_models(tmp_path_factory.mktemp("cli"))


def test_rules_rule_and_plugins() -> None:
    r = run_cli("rules")
    assert r.returncode == 0
    codes = re.findall(r"^([A-Z]{1,4}[0-9]{3})\s", r.stdout, re.MULTILINE)
    assert {"QC001", "QC010", "QC025"} <= set(codes)
    data = json.loads(run_cli("rules", "--format", "json").stdout)
    assert {d["code"] for d in data} == set(codes)
    assert all(d["plugin"] and d["summary"] for d in data)
    doc = run_cli("rule", "QC023")
    assert doc.returncode == 0
    for heading in ("# QC023 invalid-scale", "## What it checks", "## Why it matters", "## How to fix", "## References"):
        assert heading in doc.stdout
    assert run_cli("rule", "invalid-scale").stdout == doc.stdout  # by name too
    crash = run_cli("rule", "QC900")
    assert crash.returncode == 0 and crash.stdout.startswith("# QC900 rule-crashed\n") and "--ignore QC900" in crash.stdout
    unknown = run_cli("rule", "QC999")
    assert unknown.returncode == 2 and "unknown rule 'QC999'" in unknown.stderr
    plugins = run_cli("plugins")
    assert plugins.returncode == 0
    structure = sum(1 for key, owner in make_registry(external=False).owner.items() if owner == "qcheck_structure" and key.startswith("rule:"))
    assert structure >= 16 and re.search(rf"^qcheck_structure\s+\[built-in\]\s+{structure} rules$", plugins.stdout, re.MULTILINE)
    reporters = sum(1 for key, owner in make_registry(external=False).owner.items() if owner == "qcheck_report" and key.startswith("reporter:"))
    assert reporters >= 9 and re.search(rf"^qcheck_report\s+\[built-in\]\s+{reporters} reporters$", plugins.stdout, re.MULTILINE)


def test_disable_plugin(models: dict[str, Path]) -> None:
    r = run_cli("--disable-plugin", "qcheck_structure", "plugins")
    assert "qcheck_structure  (blocked)" in r.stdout
    rules = run_cli("--disable-plugin", "qcheck_structure", "rules").stdout
    assert "QC001" not in rules
    # With the structural plugin gone, its selector matches nothing: a usage error, not silence.
    assert run_cli("--disable-plugin", "qcheck_structure", "verify", str(models["bad"]), "--select", "QC0").returncode == 2


def test_version() -> None:
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"qcheck {qcheck.__version__}"


def test_inspect_console_shortens_long_lists(models: dict[str, Path]) -> None:
    short = run_cli("inspect", str(models["wide"]))
    assert short.returncode == 0 and short.stderr == ""
    assert "[0.001, 0.002, … 0.064] (64)" in short.stdout
    assert "FULLY_CONNECTED" in short.stdout and "ops: FULLY_CONNECTED×1" in short.stdout  # noqa: RUF001
    full = run_cli("inspect", "--all", str(models["wide"]))
    values = set(re.findall(r"\b0\.0\d+\b", full.stdout))
    assert {f"{i / 1000:.4g}" for i in range(1, 65)} <= values
    assert "… 0.064] (64)" not in full.stdout


def test_inspect_names_custom_ops() -> None:
    path = str(ROOT / "fixtures" / "models" / "builder_schema_features.tflite")
    console = run_cli("inspect", path).stdout
    assert "ops: FULLY_CONNECTED×1, GELU×1, CUSTOM(AcmeClamp)×1" in console  # noqa: RUF001
    assert "min runtime: 2.17.0" in console and "PTQ_FULL_INTEGER" in console
    ops = json.loads(run_cli("inspect", path, "--format", "json").stdout)["subgraphs"][0]["operators"]
    assert [(o["opcode"], o["custom_code"]) for o in ops] == [("FULLY_CONNECTED", None), ("GELU", None), ("CUSTOM", "AcmeClamp")]
    assert ops[0]["inputs"] == [0, 1, -1]


def test_inspect_json(models: dict[str, Path]) -> None:
    r = run_cli("inspect", str(models["wide"]), "--format", "json")
    data = json.loads(r.stdout)
    assert data["summary"]["tensors"] == 5 and data["summary"]["op_histogram"] == {"FULLY_CONNECTED": 1}
    assert data["summary"]["dtype_histogram"] == {"INT8": 4, "INT32": 1}
    wide = data["subgraphs"][0]["tensors"][4]
    assert wide["name"] == "wide" and wide["shape"] == [64, 2] and wide["constant"] is True
    assert len(wide["quantization"]["scale"]) == 64  # JSON keeps every value
    assert data["subgraphs"][0]["tensors"][3]["producer"] == 0
    op = data["subgraphs"][0]["operators"][0]
    assert (op["opcode"], op["version"], op["inputs"], op["outputs"]) == ("FULLY_CONNECTED", 4, [0, 1, 2], [3])


@pytest.mark.parametrize("env", [{"TERM": "xterm-256color"}, {"NO_COLOR": "1"}])
def test_plain_text_when_not_a_tty(models: dict[str, Path], env: dict[str, str]) -> None:
    for args in (["verify", str(models["bad"])], ["inspect", str(models["wide"])], ["rule", "QC001"]):
        r = run_cli(*args, env=env)
        assert not ANSI.search(r.stdout), args


def run_in_tty(*args: str, env: dict[str, str] | None = None) -> str:
    """Run qcheck with its stdout on a pseudo-terminal, as in an interactive shell; returns what it printed."""
    import pty
    import subprocess
    import sys

    from core_helpers import cli_env

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qcheck", *args], stdout=follower, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=cli_env({"TERM": "xterm-256color", "COLUMNS": "200", **(env or {})}))
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_unless_no_color(models: dict[str, Path]) -> None:
    coloured = run_in_tty("verify", str(models["bad"]), "--select", "QC0")
    assert ANSI.search(coloured) and "QC023" in coloured
    assert "\x1b[1;31m" in coloured  # errors in bold red
    plain = run_in_tty("verify", str(models["bad"]), "--select", "QC0", env={"NO_COLOR": "1"})
    assert "QC023" in plain and "\x1b[1;31m" not in plain and "\x1b[31m" not in plain


def test_console_report_content(models: dict[str, Path]) -> None:
    r = run_cli("verify", str(models["bad"]), str(models["clean"]), "--select", "QC0")
    lines = r.stdout.splitlines()
    assert lines[0] == str(models["bad"])
    finding = next(line for line in lines if "QC023" in line)
    assert finding.startswith("  QC023 error subgraph 0 > tensor 3 'y': scale[0] is 0.0") and finding.endswith("[invalid-scale]")
    assert lines.index(finding) < lines.index(str(models["clean"])) < lines.index("  no findings")
    assert lines[-1] == "2 model(s): 1 error(s), 0 warning(s), 0 info"


ACME_EXTRAS = '''
from qcheck import Expectation, Reporter, hookimpl


def render(reports, out):
    for r in reports:
        out.write(f"ACME {r.path}: {[f.code for f in r.findings]}\\n")


@hookimpl
def qcheck_register_reporters(register):
    register(Reporter("acme", render, "one line per model"))


@hookimpl
def qcheck_register_expectations(register):
    register(Expectation("acme-ready", "runs on the ACME NPU"))
'''


def readme_block(lang: str, marker: str) -> str:
    """The fenced `lang` code block of README.md that contains `marker`."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(rf"```{lang}\n(.*?)```", text, re.DOTALL)
    return next(b for b in blocks if marker in b)


@pytest.fixture(scope="module")
def acme_site(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fake installed distribution with the README's example plugin and a second one, via entry points."""
    site = tmp_path_factory.mktemp("site")
    (site / "qcheck_acme").mkdir()
    (site / "qcheck_acme" / "__init__.py").write_text(readme_block("python", "qcheck_acme/__init__.py"))
    (site / "acme_extras.py").write_text(ACME_EXTRAS)
    info = site / "qcheck_acme-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: qcheck-acme\nVersion: 1.0\n")
    entry = readme_block("toml", "[project.entry-points.qcheck]").replace("[project.entry-points.qcheck]", "[qcheck]").replace('"', "")
    (info / "entry_points.txt").write_text(entry + "acme_extras = acme_extras\n")
    return os.pathsep.join([str(site), str(ROOT), str(ROOT / "plugins")])


def test_readme_python_api_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    model = str(ROOT / "fixtures" / "models" / "builder_int8_conv_bad_params.tflite")
    code = readme_block("python", "report = qcheck.verify(").replace('"model.tflite"', repr(model))
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README example is trusted text of this repository
    out = capsys.readouterr().out
    assert "QC022 error subgraph 0 > tensor 1 'conv/weights'" in out and "conv/weights INT8 (4, 3, 3, 3)" in out
    assert namespace["data"].shape == (108,)  # type: ignore[attr-defined]


def test_entry_point_plugins_load(acme_site: str, models: dict[str, Path]) -> None:
    env = {"PYTHONPATH": acme_site}
    plugins = run_cli("plugins", env=env).stdout
    assert re.search(r"^acme\s+\[qcheck-acme\]\s+1 rule$", plugins, re.MULTILINE), plugins
    assert re.search(r"^acme_extras\s+\[qcheck-acme\]\s+1 expectation, 1 reporter$", plugins, re.MULTILINE), plugins
    assert "ACME001  no-gelu" in run_cli("rules", env=env).stdout
    gelu = models["clean"].parent / "gelu.tflite"
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    t = b.tensor("t", "FLOAT32", [1])
    b.op("GELU", [t], [t])
    b.io([t], [t])
    b.save(gelu)
    r = run_cli("verify", str(gelu), str(models["clean"]), "--select", "ACME", "--format", "acme", "--expect", "acme-ready", env=env)
    assert r.returncode == 1, r.stderr
    assert r.stdout == f"ACME {gelu}: ['ACME001']\nACME {models['clean']}: []\n"
    blocked = run_cli("--disable-plugin", "acme", "rules", env=env)
    assert blocked.returncode == 0 and "ACME001" not in blocked.stdout


def test_broken_entry_point_plugin_is_named_not_a_crash(tmp_path: Path, models: dict[str, Path]) -> None:
    """An installed plugin that fails to import: exit 2, one line naming it, and it can be blocked."""
    (tmp_path / "qcheck_broken.py").write_text("import module_that_does_not_exist_anywhere\n")
    info = tmp_path / "qcheck_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: qcheck-broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[qcheck]\nbroken = qcheck_broken\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), str(ROOT / "plugins")])}
    r = run_cli("verify", str(models["clean"]), env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        (
            "qcheck: error: third-party plugin broken (qcheck_broken) failed to load: ModuleNotFoundError: "
            "No module named 'module_that_does_not_exist_anywhere' (block it with --disable-plugin broken)"
        )
    ]
    assert run_cli("--disable-plugin", "broken", "verify", str(models["clean"]), env=env).returncode == 0
