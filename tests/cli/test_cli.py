"""The command line as a user runs it: a separate `python -m qcheck` process per call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from core_helpers import assert_one_line_error, cli_models, run_cli

import qcheck


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return cli_models(tmp_path_factory.mktemp("cli"))


@pytest.mark.parametrize(("model", "extra", "status"), [
    ("clean", [], 0),
    ("bad", [], 1),
    ("custom", [], 0),  # an info finding does not fail the default --fail-on error
    ("custom", ["--fail-on", "warning"], 0),
    ("custom", ["--fail-on", "info"], 1),
    ("bad", ["--fail-on", "info"], 1),
    ("bad", ["--ignore", "QC023"], 0),
    ("unreadable", [], 2),
])
def test_verify_exit_status(models: dict[str, Path], model: str, extra: list[str], status: int) -> None:
    r = run_cli("verify", str(models[model]), "--select", "QC0", *extra)
    assert r.returncode == status, r.stderr
    if status == 2:
        assert_one_line_error(r.stderr)
    else:
        assert r.stderr == ""


def test_default_selection_reports_the_structural_error(models: dict[str, Path]) -> None:
    r = run_cli("verify", str(models["bad"]))
    assert r.returncode == 1 and "QC023" in r.stdout and "invalid-scale" in r.stdout


@pytest.mark.parametrize("args", [
    ["verify", "MODEL", "--select", "QC8"],
    ["verify", "MODEL", "--ignore", "NOPE"],
    ["verify", "MODEL", "--format", "xml"],
    ["verify", "MODEL", "--expect", "no-such-scheme"],
    ["verify", "MODEL", "--fail-on", "fatal"],
    ["inspect", "MODEL", "--format", "xml"],
    ["rule", "QC999"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2(models: dict[str, Path], args: list[str]) -> None:
    r = run_cli(*[str(models["clean"]) if a == "MODEL" else a for a in args])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.strip()
    assert r.stdout == ""


def test_several_models_one_unreadable(models: dict[str, Path]) -> None:
    r = run_cli("verify", str(models["clean"]), str(models["unreadable"]), str(models["bad"]), "--select", "QC0", "--format", "json")
    assert r.returncode == 2
    assert_one_line_error(r.stderr)
    assert str(models["unreadable"]) in r.stderr
    entries = json.loads(r.stdout)["models"]
    assert [Path(e["path"]).name for e in entries] == ["clean.tflite", "unreadable.tflite", "bad.tflite"]
    assert "error" not in entries[0] and entries[0]["findings"] == []
    assert "corrupt" in entries[1]["error"] or "past the end" in entries[1]["error"] or "outside" in entries[1]["error"]
    assert entries[1]["findings"] == [] and entries[1]["summary"] == {"error": 0, "warning": 0, "info": 0}
    assert [f["code"] for f in entries[2]["findings"]] == ["QC023"]


def test_folders_are_searched_recursively(models: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "m.tflite").write_bytes(models["bad"].read_bytes())
    (tmp_path / "a" / "notes.txt").write_text("not a model")
    r = run_cli("verify", str(tmp_path), "--select", "QC0", "--format", "json")
    assert r.returncode == 1
    assert [Path(e["path"]).name for e in json.loads(r.stdout)["models"]] == ["m.tflite"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("verify", str(empty)).returncode == 2


def malformed_files(folder: Path, good: bytes) -> list[Path]:
    rnd = np.random.default_rng(5)
    cases = {
        "empty": b"",
        "seven_bytes": good[:7],
        "wrong_identifier": good[:4] + b"XXXX" + good[8:],
        "random_bytes": rnd.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "random_with_identifier": b"\x10\0\0\0TFL3" + rnd.integers(0, 256, 600, dtype=np.uint8).tobytes(),
        "root_offset_past_end": (len(good) + 100).to_bytes(4, "little") + good[4:],
        "huge_vector_length": good[:-8] + b"\xff\xff\xff\x7f" + good[-4:],
        "half": good[: len(good) // 2],
    }
    for cut in range(8, len(good), max(1, len(good) // 25)):
        cases[f"cut_{cut:05d}"] = good[:cut]
    paths = []
    for name, data in cases.items():
        p = folder / f"{name}.tflite"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_malformed_inputs_exit_2_with_one_line_each(models: dict[str, Path], tmp_path: Path) -> None:
    good = models["clean"].read_bytes()
    paths = [p for p in malformed_files(tmp_path, good) if not _loads(p)]
    assert len(paths) >= 25
    r = run_cli("verify", *map(str, paths))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, lines=len(paths))
    for p in paths:
        assert f"qcheck: error: {p}: " in r.stderr


def _loads(p: Path) -> bool:
    try:
        qcheck.load(p)
    except qcheck.ModelError:
        return False
    return True


@pytest.mark.parametrize(("command", "kind"), [
    ("verify", "empty"), ("verify", "wrong_identifier"), ("verify", "random_bytes"), ("verify", "root_offset_past_end"),
    ("verify", "half"), ("inspect", "half"), ("inspect", "wrong_identifier"),
])
def test_each_malformed_kind_alone(models: dict[str, Path], tmp_path: Path, command: str, kind: str) -> None:
    path = next(p for p in malformed_files(tmp_path, models["clean"].read_bytes()) if p.stem == kind)
    r = run_cli(command, str(path))
    assert r.returncode == 2
    assert_one_line_error(r.stderr)
    if command == "inspect":
        assert r.stdout == ""


def test_missing_file(tmp_path: Path) -> None:
    r = run_cli("verify", str(tmp_path / "nope.tflite"))
    assert r.returncode == 2 and "no such file" in r.stderr
    assert_one_line_error(r.stderr)


def test_output_file_is_written_whole(models: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old content")
    r = run_cli("verify", str(models["bad"]), "--select", "QC0", "--format", "json", "-o", str(out))
    assert r.returncode == 1 and r.stdout == ""
    assert json.loads(out.read_text())["models"][0]["summary"]["error"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temp file left behind


@pytest.mark.parametrize("target", ["missing/dir/report.json", "existing_dir"])
def test_output_failure_writes_nothing(models: dict[str, Path], tmp_path: Path, target: str) -> None:
    (tmp_path / "existing_dir").mkdir()
    r = run_cli("verify", str(models["bad"]), "--format", "json", "-o", str(tmp_path / target))
    assert r.returncode == 2
    assert_one_line_error(r.stderr)
    assert "cannot write" in r.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["existing_dir"]


def test_parallel_jobs_give_the_same_report(models: dict[str, Path]) -> None:
    args = ["verify", str(models["bad"]), str(models["unreadable"]), str(models["clean"]), str(models["custom"]), "--format", "json"]
    one, two = run_cli(*args, "-j", "1"), run_cli(*args, "-j", "2")
    assert (one.returncode, one.stdout, one.stderr) == (two.returncode, two.stdout, two.stderr)
    assert one.returncode == 2 and len(json.loads(one.stdout)["models"]) == 4


@pytest.mark.parametrize(("args", "names"), [
    (["verify", "MODEL", "--fail-on", "bogus"], ("error", "warning", "info")),
    (["verify", "MODEL", "--expect", "bogus"], ("int8-only", "integer")),
    (["verify", "MODEL", "--format", "bogus"], ("console", "json")),
])
def test_usage_errors_list_the_choices(models: dict[str, Path], args: list[str], names: tuple[str, ...]) -> None:
    r = run_cli(*[str(models["clean"]) if a == "MODEL" else a for a in args])
    assert r.returncode == 2 and "bogus" in r.stderr
    assert all(n in r.stderr for n in names), r.stderr


def test_select_takes_rule_names(models: dict[str, Path]) -> None:
    by_name = run_cli("verify", str(models["bad"]), "--select", "invalid-scale", "--format", "json")
    by_code = run_cli("verify", str(models["bad"]), "--select", "QC023", "--format", "json")
    assert by_name.returncode == by_code.returncode == 1
    assert json.loads(by_name.stdout)["models"] == json.loads(by_code.stdout)["models"]
    assert run_cli("verify", str(models["bad"]), "--select", "no-such-rule").returncode == 2


def test_disable_plugin_must_name_a_plugin(models: dict[str, Path]) -> None:
    r = run_cli("--disable-plugin", "nosuch", "verify", str(models["clean"]))
    assert r.returncode == 2 and "no such plugin" in r.stderr and "qcheck_spec" in r.stderr
    assert run_cli("--disable-plugin", "qcheck_tf", "verify", str(models["clean"])).returncode == 0


def test_a_truncated_file_is_called_truncated(models: dict[str, Path]) -> None:
    r = run_cli("verify", str(models["unreadable"]))  # the clean model cut after 100 bytes
    assert r.returncode == 2 and "truncated" in r.stderr


def test_console_shows_errors_first_and_statistics(models: dict[str, Path], tmp_path: Path) -> None:
    from core_helpers import int8_fc

    b = int8_fc(out_scale=0.0)  # an ERROR (QC023) late in the graph ...
    t = b.tensor("c", "FLOAT32", [1], data=bytes(4))
    b.op("CUSTOM", [t], [b.tensor("d", "FLOAT32", [1])], custom_code="MyOp")  # ... and an INFO (QC010) at model level
    b.save(tmp_path / "both.tflite")
    lines = [ln for ln in run_cli("verify", str(tmp_path / "both.tflite")).stdout.splitlines() if ln.startswith("  QC")]
    assert [ln.split()[1] for ln in lines] == sorted((ln.split()[1] for ln in lines), key=["error", "warning", "info"].index)
    stats = run_cli("verify", str(tmp_path / "both.tflite"), str(models["bad"]), "--statistics")
    assert stats.returncode == 1
    rows = stats.stdout.splitlines()
    assert rows[0].split()[:3] == ["2", "QC023", "error"] and rows[-1].startswith("4 finding(s) in 2 model(s)")
