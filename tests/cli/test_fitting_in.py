"""qcheck where release managers already are: the pre-commit hook, the GitHub Action and its example, the README's config."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from core_helpers import cli_env, run_cli
from testpaths import FIXTURES, HELPERS, ROOT

GOOD, BAD = FIXTURES / "tf_int8-only.tflite", FIXTURES / "builder_quant_defects.tflite"


def git_repo(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    for cmd in (["init", "-q"], ["add", "."], ["-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "models"]):
        subprocess.run(["git", *cmd], cwd=folder, check=True, capture_output=True)
    return folder


def test_pre_commit_hook_runs_for_real_on_tflite_files_only(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "models", {"good.tflite": GOOD.read_bytes(), "deep/bad.tflite": BAD.read_bytes(), "README.md": b"# m\n"})
    env = cli_env({"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    env.pop("PYTHONPATH")  # the hook must run the qcheck pre-commit installed from the repository, nothing else

    def hook(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "qcheck", "--files", *files, "--verbose"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False)

    ok = hook("good.tflite", "README.md")
    assert ok.returncode == 0 and re.search(r"qcheck\.+Passed", ok.stdout) and "1 model(s): 0 error(s)" in ok.stdout, ok.stdout[-2000:]
    bad = hook("good.tflite", "deep/bad.tflite", "README.md")
    assert bad.returncode == 1 and re.search(r"qcheck\.+Failed", bad.stdout) and "QC021" in bad.stdout and "README" not in bad.stdout.split("qcheck")[-1]


def expand(text: str, values: dict[str, str]) -> str:
    """GitHub's `${{ expr }}` substitution for the expressions the action and the example use."""
    def one(m: re.Match[str]) -> str:
        return values[m.group(1).strip()]

    return re.sub(r"\$\{\{([^}]*)\}\}", one, text)


def run_step(script: str, cwd: Path, env: dict[str, str]) -> int:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, timeout=900, check=False).returncode


def test_the_github_workflow_example_and_the_action_run_their_steps(tmp_path: Path) -> None:
    workflow: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "github-workflow.yml").read_text())
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    readme = (ROOT / "README.md").read_text()
    assert (ROOT / "examples" / "github-workflow.yml").read_text().split("\n", 2)[2] in readme  # the README shows this file
    checkout = tmp_path / "checkout"  # what actions/checkout gives: the models and the repository's configuration
    (checkout / "models" / "v2").mkdir(parents=True)
    (checkout / "models" / "good.tflite").write_bytes(GOOD.read_bytes())
    (checkout / "models" / "v2" / "bad.tflite").write_bytes(BAD.read_bytes())
    (checkout / "pyproject.toml").write_text('[tool.qcheck]\nignore = ["QC303"]\n')
    venv = tmp_path / "runner"  # a fresh Python, as actions/setup-python gives
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {**cli_env(), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    env.pop("PYTHONPATH", None)
    statuses = []
    for step in workflow["jobs"]["qcheck"]["steps"]:
        uses = step.get("uses", "")
        if uses.endswith("/qcheck@main"):  # this repository's action: each of its run steps, with the inputs of `with`
            inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | {k: str(v) for k, v in step.get("with", {}).items()}
            values = {"github.action_path": str(ROOT), **{f"inputs.{k}": v for k, v in inputs.items()}}
            statuses += [run_step(expand(s["run"], values), checkout, env) for s in action["runs"]["steps"]]
        elif "run" in step:
            found = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
            statuses.append(run_step(expand(step["run"], {"steps.qcheck.outputs.exit-status": found["exit-status"]}), checkout, env))
        else:  # GitHub's own actions (checkout, setup-python, upload-sarif) are done above or checked below
            assert uses.split("@")[0] in ("actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif")
    assert statuses == [0, 0, 1]  # installed, checked, and the job fails on the findings
    assert (venv / "bin" / "qcheck").exists()
    doc = json.loads((checkout / "qcheck.sarif").read_text())
    schema = json.loads((HELPERS / "schemas" / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(doc))
    results = doc["runs"][0]["results"]
    uris = {a["location"]["uri"] for a in doc["runs"][0]["artifacts"]}
    assert uris == {"models/good.tflite", "models/v2/bad.tflite"} and results and "QC303" not in {r["ruleId"] for r in results}
    assert doc["runs"][0]["invocations"][0]["properties"]["settings"]["config"] == str(checkout / "pyproject.toml")
    text = summary.read_text()
    assert text.startswith("### qcheck: exit status 1") and "**2 model(s)**" in text and "| `models/v2/bad.tflite` |" in text and "QC021" in text


def test_the_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n(\[tool\.qcheck\]\n.*?)```", readme, re.DOTALL)
    assert block is not None
    (tmp_path / "pyproject.toml").write_text(block.group(1))
    r = run_cli("config", cwd=tmp_path)
    assert r.returncode == 0 and '"int8-only"' in r.stdout and "pyproject.toml:" in r.stdout, r.stderr
