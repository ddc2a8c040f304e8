"""The CI formats read by real consumers: SARIF against the official schema, JUnit by junitparser, GitHub commands."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from core_helpers import run_cli
from junitparser import Error, Failure, JUnitXml
from qcheck_report.github import escape_data, escape_property
from testpaths import FIXTURES, HELPERS, LOCAL_MODELS, ROOT

SCHEMA = json.loads((HELPERS / "schemas" / "sarif-schema-2.1.0.json").read_text())
FIXTURE_MODELS = sorted(str(p) for p in FIXTURES.glob("*.tflite"))
SAMPLE = [str(p) for p in LOCAL_MODELS[::4]]  # 17 third-party models from every producer


def github_code_scanning_problems(doc: dict[str, Any]) -> list[str]:
    """What GitHub code scanning needs beyond the schema ("SARIF support for code scanning": required properties, limits)."""
    bad = []
    if doc.get("version") != "2.1.0" or len(doc.get("runs", [])) != 1:
        bad.append("version 2.1.0 and exactly one run")
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    rules = driver.get("rules", [])
    if not driver.get("name") or len({r["id"] for r in rules}) != len(rules) or len(rules) > 25_000:
        bad.append("driver name, unique rule ids, at most 25,000 rules")
    for r in rules:
        if not (r.get("shortDescription", {}).get("text") and r.get("fullDescription", {}).get("text") and r.get("help", {}).get("text")):
            bad.append(f"rule {r['id']} lacks a description or help")
        if r.get("defaultConfiguration", {}).get("level") not in ("error", "warning", "note"):
            bad.append(f"rule {r['id']} has no default level")
    results = run.get("results", [])
    if len(results) > 25_000:
        bad.append("more than 25,000 results")
    for res in results:
        loc = (res.get("locations") or [{}])[0].get("physicalLocation", {})
        uri = loc.get("artifactLocation", {}).get("uri", "")
        if not res.get("ruleId") or not res.get("message", {}).get("text") or res.get("level") not in ("error", "warning", "note"):
            bad.append(f"result without ruleId, message or level: {res}")
        if not uri or uri.startswith("/") or not loc.get("region", {}).get("startLine"):
            bad.append(f"result without a relative artifact URI and region.startLine: {loc}")
        if not res.get("partialFingerprints"):
            bad.append("result without partialFingerprints")
        if "ruleIndex" in res and rules[res["ruleIndex"]]["id"] != res["ruleId"]:
            bad.append(f"ruleIndex {res['ruleIndex']} is not rule {res['ruleId']}")
    return bad


def sarif(*args: str, cwd: Path | None = None) -> tuple[dict[str, Any], int]:
    r = run_cli("verify", *args, "--format", "sarif", *(() if "--config" in args else ("--isolated",)), cwd=cwd, timeout=300)
    assert r.returncode in (0, 1, 2), r.stderr
    doc = json.loads(r.stdout)
    errors = [f"{e.message[:200]} at {'/'.join(map(str, e.absolute_path))}" for e in jsonschema.Draft4Validator(SCHEMA).iter_errors(doc)]
    assert errors == [], errors[:5]
    assert github_code_scanning_problems(doc) == []
    return doc, r.returncode


def test_sarif_of_fixtures_and_third_party_models_is_valid_and_complete(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"not a model")
    doc, status = sarif(*FIXTURE_MODELS, *SAMPLE, str(broken), cwd=ROOT)
    run = doc["runs"][0]
    listed = json.loads(run_cli("rules", "--format", "json").stdout)
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {d["code"] for d in listed}
    js = json.loads(run_cli("verify", *FIXTURE_MODELS, *SAMPLE, str(broken), "--format", "json", "--isolated").stdout)
    findings = [(os.path.relpath(m["path"], ROOT), f["code"], f["fingerprint"]) for m in js["models"] for f in m["findings"]]
    artifacts = [a["location"]["uri"] for a in run["artifacts"]]
    got = [(artifacts[r["locations"][0]["physicalLocation"]["artifactLocation"]["index"]], r["ruleId"], r["partialFingerprints"]["qcheck/v1"])
           for r in run["results"]]
    assert sorted(got) == sorted(findings) and len(got) >= 40  # every finding, at its model, relative to the working directory
    assert status == 2 and run["invocations"][0]["exitCode"] == 2 and not run["invocations"][0]["executionSuccessful"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and "broken.tflite" in notes[0]["message"]["text"]
    broken_uri = notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert broken_uri == broken.as_uri()  # outside the working directory: an absolute file URI
    logical = {loc["kind"] for r in run["results"] for loc in r["locations"][0]["logicalLocations"]}
    assert logical == {"module", "function", "variable"}


def test_sarif_with_targets_a_baseline_and_ignores(tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    some = FIXTURE_MODELS[:5]
    assert run_cli("verify", *some, "--write-baseline", str(base), "--isolated").returncode == 1
    (tmp_path / "qcheck.toml").write_text('ignore-tensors = ["*weights*"]\nrule-docs-url = "https://models.example.com/qcheck/{code}-{name}.html"\n')
    doc, _ = sarif(*(str(Path(p).resolve()) for p in [*some, *SAMPLE[:4]]), "--target", "all", "--baseline", str(base),
                        "--config", str(tmp_path / "qcheck.toml"), cwd=Path(FIXTURES).parents[1])
    results = doc["runs"][0]["results"]
    assert {r["helpUri"] for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "QC023"} == {
        "https://models.example.com/qcheck/QC023-invalid-scale.html"}
    states = {r["baselineState"] for r in results}
    assert states == {"new", "unchanged"}
    baselined = [r for r in results if r["baselineState"] == "unchanged"]
    assert baselined and all(r["suppressions"][0]["kind"] == "external" for r in baselined)
    assert any(r["ruleId"].startswith("QC6") for r in results)  # the target rules' findings
    ignored = [r for r in results if "suppressions" in r and "ignore-tensors" in r["suppressions"][0]["justification"]]
    assert all("weights" in r["locations"][0]["logicalLocations"][-1]["name"] for r in ignored)


def test_junit_xml_read_by_junitparser(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"TFL3")
    models = [*FIXTURE_MODELS, str(broken)]
    js = json.loads(run_cli("verify", *models, "--format", "json", "--isolated").stdout)
    for fail_on in ("error", "info"):
        out = tmp_path / f"{fail_on}.xml"
        assert run_cli("verify", *models, "--format", "junit", "-o", str(out), "--fail-on", fail_on, "--isolated").returncode == 2
        suites = list(JUnitXml.fromfile(str(out)))
        assert [s.name for s in suites] == models
        level = {"error": 2, "info": 0}[fail_on]
        rank = {"error": 2, "warning": 1, "info": 0}
        for suite, model in zip(suites, js["models"], strict=True):
            cases = list(suite)
            if "error" in model:
                assert len(cases) == 1 and isinstance(cases[0].result[0], Error)
                continue
            failing = [f for f in model["findings"] if rank[f["severity"]] >= level]
            failed = [c for c in cases if any(isinstance(x, Failure) for x in c.result)]
            assert sum(len((c.result[0].text or "").splitlines()) for c in failed) == len(failing)
            assert suite.failures == len(failed) and suite.tests == len(cases) >= 5


def test_github_workflow_commands_one_per_finding(tmp_path: Path) -> None:
    r = run_cli("verify", *FIXTURE_MODELS, "--format", "github", "--isolated")
    js = json.loads(run_cli("verify", *FIXTURE_MODELS, "--format", "json", "--isolated").stdout)
    lines = r.stdout.splitlines()
    commands = [re.match(r"^::(error|warning|notice) file=([^,]+),title=([^:]+)::(.+)$", line) for line in lines[:-1]]
    assert all(commands) and len(commands) == sum(len(m["findings"]) for m in js["models"])
    kinds = {m.group(1) for m in commands if m}
    assert kinds == {"error", "notice"} and lines[-1].startswith(f"{len(FIXTURE_MODELS)} model(s)")
    # the runner's own escaping (@actions/core escapeData / escapeProperty)
    assert escape_data("a%b\r\nc") == "a%25b%0D%0Ac" and escape_property("x: y, z") == "x%3A y%2C z"


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "github", "console", "statistics"])
def test_every_format_combines_many_models_and_folders_in_one_report(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    r = run_cli("verify", str(FIXTURES), *SAMPLE[:3], "--format", fmt, "-o", str(out), "--isolated")
    assert r.returncode == 1 and out.stat().st_size > 0 and r.stdout == ""
    text, models = out.read_text(), [*FIXTURE_MODELS, *SAMPLE[:3]]
    if fmt in ("json", "sarif", "junit", "console"):  # every model named (github and statistics name the findings only)
        assert all(Path(p).name in text for p in models)
    if fmt in ("console", "statistics", "github"):
        assert f"{len(models)} model(s)" in text


def test_json_report_records_exit_status_totals_and_settings() -> None:
    r = run_cli("verify", *FIXTURE_MODELS, "--format", "json", "--isolated", "--ignore", "QC5", "--fail-on", "warning", "--target", "xnnpack")
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["exit_status"] == r.returncode == 1
    counts = {s: sum(m["summary"][s] for m in doc["models"]) for s in ("error", "warning", "info")}
    assert doc["totals"] == {"models": len(FIXTURE_MODELS), "unreadable": 0, **counts, "suppressed": 0}
    assert doc["settings"]["selection"] == "--ignore QC5" and doc["settings"]["fail_on"] == "warning" and doc["settings"]["targets"] == ["xnnpack"]
    assert doc["settings"]["config"] is None and doc["qcheck"]


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "github", "console", "statistics"])
def test_streamed_report_equals_the_report_rendered_at_once(fmt: str, tmp_path: Path) -> None:
    """`verify` streams each report as it comes (flat memory); a reporter's `render` over all reports must say the same."""
    from qcheck.engine import Settings, default_registry, verify_file
    from qcheck.reporting import Run

    models = [*FIXTURE_MODELS, *SAMPLE[:6]]
    streamed = run_cli("verify", *models, "--format", fmt, "--target", "xnnpack", "--target", "tflm", "--isolated", "-j", "2", cwd=ROOT)
    registry = default_registry()
    settings = Settings(targets=("xnnpack", "tflm"))
    reports = tuple(verify_file(p, registry, settings) for p in models)
    recorded = {"selection": "the default rules", "expect": None, "targets": ("xnnpack", "tflm"), "fail_on": "error",
                "config": None, "baseline": None}
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)  # (SARIF's artifact URIs are relative to the working directory)
    try:
        registry.reporters[fmt].render(Run(reports, settings=recorded, rules=tuple(registry.rules.values())), out)
    finally:
        os.chdir(cwd)
    assert streamed.stdout == out.getvalue() and streamed.returncode == 1


def test_quiet_prints_only_the_errors_and_the_summary(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"nope")
    js = json.loads(run_cli("verify", *FIXTURE_MODELS, "--format", "json", "--isolated").stdout)
    r = run_cli("verify", *FIXTURE_MODELS, str(broken), "-q", "--isolated")
    lines = r.stdout.splitlines()
    errors = [(m["path"], f["code"]) for m in js["models"] for f in m["findings"] if f["severity"] == "error"]
    assert [tuple(line.split(": ")[0].split(" ")[:1]) for line in lines[:-2]] == [(p,) for p, _ in errors]
    assert [line.split(": ")[1].split(" ")[0] for line in lines[:-2]] == [c for _, c in errors]
    assert lines[-2] == f"{broken}: error: {r.stderr.split('error: ', 1)[1].strip()}" and lines[-1].startswith(f"{len(FIXTURE_MODELS) + 1} model(s)")
    assert r.returncode == 2
