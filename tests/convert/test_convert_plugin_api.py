"""`qcheck convert` with third-party strategies registered through pluggy: orchestration, safety, errors (no TensorFlow)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qcheck import Expectation, Location, Strategy, Violation, cli, hookimpl, rule
from qcheck.convert import ConversionError, ConvertRequest, convert, convert_all
from qcheck.convert.calibration import InputSpec
from qcheck.errors import UsageError
from qcheck.registry import make_registry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"
MODEL = (FIXTURES / "builder_int8_conv_clean.tflite").read_bytes()


@rule("ACME001", "acme-strict-refuses")
def acme_strict(model: Any, ctx: Any) -> Iterator[Violation]:
    """Fails every model when the user expects acme-strict (a stand-in for a scheme the output misses)."""
    if ctx.expect == "acme-strict":
        yield Violation(Location(), f"the model has {len(model.main.operators)} operators, acme-strict wants none")


class Acme:
    """A third-party plugin: expectations, a rule, and strategies that do not need TensorFlow."""

    def __init__(self, *, misconfigured: bool = False) -> None:
        self.misconfigured = misconfigured
        self.converted: list[str] = []
        self.fed: list[Any] = []

    @hookimpl
    def qcheck_register_expectations(self, register: Any) -> None:
        register(Expectation("acme-any", "any readable model"))
        register(Expectation("acme-strict", "nothing passes"))

    @hookimpl
    def qcheck_register_rules(self, register: Any) -> None:
        register(acme_strict)

    @hookimpl
    def qcheck_register_strategies(self, register: Any) -> None:
        register(Strategy("acme-copy", "acme-any", "returns a fixed model", self.copy))
        register(Strategy("acme-calibrated", "acme-any", "consumes calibration data", self.calibrated,
                          needs_calibration=True, inputs=self.inputs))
        register(Strategy("acme-strict", "acme-strict", "output misses its promise", self.copy))
        register(Strategy("acme-noisy", "acme-any", "prints like a converter", self.noisy))
        register(Strategy("acme-broken", "acme-any", "raises", self.broken))
        register(Strategy("acme-garbage", "acme-any", "returns bytes that are no model", lambda r: b"not a model at all"))
        if self.misconfigured:
            register(Strategy("acme-unknown-expect", "acme-nothing", "promises an unregistered scheme", self.copy))

    def copy(self, request: ConvertRequest) -> bytes:
        self.converted.append("copy")
        return MODEL

    def inputs(self, request: ConvertRequest) -> list[InputSpec]:
        return [InputSpec("x", (None, 4), "float32")]

    def calibrated(self, request: ConvertRequest) -> bytes:
        assert request.calibration is not None
        self.fed.extend(request.calibration.dataset(keyed=True)())
        return MODEL

    def noisy(self, request: ConvertRequest) -> bytes:
        print("Saved artifact at '/tmp/x'. The following endpoints are available:")
        os.write(1, b"C-level stdout noise\n")
        os.write(2, b"C-level stderr noise\n")
        return MODEL

    def broken(self, request: ConvertRequest) -> bytes:
        os.write(2, b"converter log before the crash\n")
        raise RuntimeError("converter exploded\nwith a long multi-line dump")


def install(monkeypatch: pytest.MonkeyPatch, plugin: Acme) -> Acme:
    """Load the plugin in the command line too (as an installed entry point would be), without qcheck_tf."""

    def registry(**kw: Any) -> Any:
        kw["blocked"] = [*kw.get("blocked", ()), "qcheck_tf"]
        return make_registry(external=False, extra=[plugin], **kw)

    monkeypatch.setattr(cli, "make_registry", registry)
    return plugin


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> Acme:
    return install(monkeypatch, Acme())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "model.keras"
    path.write_bytes(b"the source, never touched")
    return path


def test_strategy_runs_end_to_end_and_writes_atomically(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    out = tmp_path / "out.tflite"
    assert cli.main(["convert", str(source), "--strategy", "acme-copy", "-o", str(out)]) == 0
    assert out.read_bytes() == MODEL and acme.converted == ["copy"]
    assert source.read_bytes() == b"the source, never touched"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left behind
    assert "acme-copy: ok" in capfd.readouterr().out


def test_strategies_json_lists_third_party_strategies(acme: Acme, capsys: Any) -> None:
    assert cli.main(["strategies", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name": "acme-copy", "expect": "acme-any", "description": "returns a fixed model"} in rows
    assert all(set(r) == {"name", "expect", "description"} for r in rows)


def test_output_that_misses_its_promise_exits_1_with_the_report(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    out = tmp_path / "out.tflite"
    assert cli.main(["convert", str(source), "--strategy", "acme-strict", "-o", str(out)]) == 1
    text = capfd.readouterr().out
    assert "ACME001" in text and "acme-strict wants none" in text
    assert "FAIL" in text and "--expect acme-strict" in text
    assert out.exists()  # kept for inspection: the file is valid, it just is not what was promised


def test_converter_noise_stays_out_of_qcheck_output(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    assert cli.main(["convert", str(source), "--strategy", "acme-noisy", "-o", str(tmp_path / "o.tflite")]) == 0
    cap = capfd.readouterr()
    assert "Saved artifact" not in cap.out + cap.err and "C-level" not in cap.out + cap.err
    assert "acme-noisy: ok" in cap.out
    # ... but it is kept for --debug.
    assert cli.main(["--debug", "convert", str(source), "--strategy", "acme-noisy", "-o", str(tmp_path / "o.tflite"), "--force"]) == 0
    assert "C-level stderr noise" in capfd.readouterr().err


def test_existing_output_is_kept_without_force_and_replaced_with_it(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    out = tmp_path / "out.tflite"
    out.write_bytes(b"keep")
    assert cli.main(["convert", str(source), "--strategy", "acme-copy", "-o", str(out)]) == 2
    assert out.read_bytes() == b"keep" and acme.converted == []  # refused before converting
    assert "exists (use --force" in capfd.readouterr().err
    assert cli.main(["convert", str(source), "--strategy", "acme-copy", "-o", str(out), "--force"]) == 0
    assert out.read_bytes() == MODEL


@pytest.mark.parametrize("case", ["missing-source", "same-as-source", "missing-folder", "folder-is-a-file", "output-is-a-folder"])
def test_path_errors_exit_2_in_one_line_before_converting(acme: Acme, source: Path, tmp_path: Path, capfd: Any, case: str) -> None:
    (tmp_path / "plain").write_text("x")
    src, out = {
        "missing-source": (tmp_path / "nope.keras", tmp_path / "o.tflite"),
        "same-as-source": (source, source),
        "missing-folder": (source, tmp_path / "no" / "o.tflite"),
        "folder-is-a-file": (source, tmp_path / "plain" / "o.tflite"),
        "output-is-a-folder": (source, tmp_path),
    }[case]
    assert cli.main(["convert", str(src), "--strategy", "acme-copy", "-o", str(out), "--force"]) == 2
    err = capfd.readouterr().err
    assert err.startswith("qcheck: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert acme.converted == [] and source.read_bytes() == b"the source, never touched"


@pytest.mark.parametrize(("strategy", "message"), [
    ("acme-broken", "strategy acme-broken failed: RuntimeError|converter exploded"),
    ("acme-garbage", "unreadable model"),
    ("acme-unknown-expect", "promises --expect 'acme-nothing', which no loaded plugin registers"),
    ("no-such-strategy", "unknown strategy 'no-such-strategy'"),
])
def test_strategy_errors_exit_2_with_no_output(
    monkeypatch: pytest.MonkeyPatch, source: Path, tmp_path: Path, capfd: Any, strategy: str, message: str
) -> None:
    install(monkeypatch, Acme(misconfigured=True))
    out = tmp_path / "o.tflite"
    assert cli.main(["convert", str(source), "--strategy", strategy, "-o", str(out)]) == 2
    err = capfd.readouterr().err
    assert any(m in err for m in message.split("|")) and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_debug_shows_the_converter_traceback(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    assert cli.main(["--debug", "convert", str(source), "--strategy", "acme-broken", "-o", str(tmp_path / "o.tflite")]) == 2
    err = capfd.readouterr().err
    assert "Traceback" in err and "RuntimeError: converter exploded" in err and "converter log before the crash" in err


def test_calibration_is_validated_before_any_conversion(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    np.save(tmp_path / "wrong.npy", np.zeros((5, 3), np.float32))
    out = tmp_path / "o.tflite"
    assert cli.main(["convert", str(source), "--strategy", "acme-calibrated", "--calibration", str(tmp_path / "wrong.npy"), "-o", str(out)]) == 2
    assert "expected shape (?, 4)" in capfd.readouterr().err and acme.fed == [] and not out.exists()
    assert cli.main(["convert", str(source), "--strategy", "acme-calibrated", "-o", str(out)]) == 2
    assert "needs calibration data" in capfd.readouterr().err


def test_calibration_reaches_the_strategy_bounded_by_samples(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    np.save(tmp_path / "c.npy", np.arange(40, dtype=np.float32).reshape(10, 4))
    args = ["convert", str(source), "--strategy", "acme-calibrated", "--calibration", str(tmp_path / "c.npy"), "--samples", "3"]
    assert cli.main([*args, "-o", str(tmp_path / "o.tflite")]) == 0
    assert [s["x"].tolist() for s in acme.fed] == [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8, 9, 10, 11]]]


def test_random_calibration_warns_loudly(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    args = ["convert", str(source), "--strategy", "acme-calibrated", "--calibration", "random", "--samples", "2"]
    assert cli.main([*args, "-o", str(tmp_path / "o.tflite")]) == 0
    assert "WARNING: calibrating with RANDOM data" in capfd.readouterr().err and len(acme.fed) == 2


def test_all_compares_strategies_keeps_going_and_exits_with_the_worst(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    out = tmp_path / "all"
    assert cli.main(["convert", str(source), "--all", "-o", str(out), "--calibration", "random", "--format", "json"]) == 2
    doc = json.loads(capfd.readouterr().out)
    assert doc["schema_version"] == 1 and doc["exit_status"] == 2 and doc["source"] == str(source)
    rows = {r["strategy"]: r for r in doc["results"]}
    assert rows["acme-copy"]["verdict"] == "ok" and rows["acme-copy"]["bytes"] == len(MODEL)
    assert rows["acme-strict"]["verdict"] == "fail" and rows["acme-strict"]["findings"][0]["code"] == "ACME001"
    assert rows["acme-broken"]["verdict"] == "error" and "converter exploded" in rows["acme-broken"]["error"]
    written = sorted(p.name for p in out.iterdir())
    assert "acme-copy.tflite" in written and "acme-broken.tflite" not in written and "acme-garbage.tflite" not in written


def test_all_prints_the_comparison_table(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    registry = make_registry(external=False, extra=[acme])
    results = convert_all(source, tmp_path / "all", ["acme-copy", "acme-strict"], registry=registry)
    import io

    from qcheck.convert.view import render

    buf = io.StringIO()
    render(results, registry, buf, table=True, reports=False)
    text = buf.getvalue()
    for column in ("strategy", "output size", "ratio to float", "detected scheme", "verdict", "findings", "conversion time"):
        assert column in text
    assert "acme-strict: FAIL" in text and "ACME001" in text  # the failing output's report is shown


def test_python_api_returns_bytes_without_writing(acme: Acme, source: Path) -> None:
    registry = make_registry(external=False, extra=[acme])
    result = convert(source, "acme-copy", registry=registry)
    assert result.data == MODEL and result.output is None and result.verdict == "ok" and result.seconds >= 0
    with pytest.raises(ConversionError, match="converter exploded"):
        convert(source, "acme-broken", registry=registry)
    with pytest.raises(UsageError, match="unknown strategy"):
        convert(source, "nope", registry=registry)


def test_strategies_are_listed_without_importing_tensorflow() -> None:
    """qcheck_tf is registered on every run, so registering it must stay TensorFlow-free."""
    import subprocess
    import sys

    code = ("import sys, io, contextlib; from qcheck import cli; out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out): status = cli.main(['strategies'])\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'PIL'))\n"
            "print(status, 'int8-only' in out.getvalue(), heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.stdout.split("\n")[0] == "0 True []", proc.stdout + proc.stderr


def test_all_as_an_html_page_compares_the_sizes(acme: Acme, source: Path, tmp_path: Path, capfd: Any) -> None:
    out, page = tmp_path / "all", tmp_path / "convert.html"
    assert cli.main(["convert", str(source), "--all", "-o", str(out), "--calibration", "random", "--format", "html", "--report", str(page)]) == 2
    text = page.read_text()
    written = sorted(p.name for p in out.iterdir())
    assert "<h2>Models compared</h2>" in text and all(f"{name}</h2>" in text for name in written)
    assert "converter exploded" in text  # the strategy that failed is shown too
    assert text.count("<svg") >= 1 and capfd.readouterr().out.count("<html") == 0
