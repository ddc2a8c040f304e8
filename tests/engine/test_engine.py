"""Engine and plugin core: selection semantics, crashing rules, third-party plugins, clashes, facts order."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

import pytest
from core_helpers import ROOT, int8_fc

import qcheck
from qcheck import Context, Expectation, Location, Model, Reporter, Rule, Violation, hookimpl, rule
from qcheck.engine import Settings, active_rules, check_settings
from qcheck.registry import DEFAULT_PLUGINS, Registry, make_registry
from qcheck.rules import selected

CLEAN = int8_fc().build()
BAD = int8_fc(out_scale=0.0).build()  # one QC023 finding on tensor 3


@pytest.mark.parametrize(("code", "select", "ignore", "want"), [
    ("QC001", None, (), True),
    ("QC001", ("QC",), (), True),
    ("QC001", ("QC2",), (), False),
    ("QC001", None, ("QC0",), False),
    ("QC001", None, ("QC1",), True),
    ("QC001", ("QC0",), ("QC00",), False),  # the longer ignore wins
    ("QC010", ("QC0",), ("QC00",), True),  # not matched by the ignore
    ("QC001", ("QC001",), ("QC0",), True),  # the longer select wins over a shorter ignore
    ("QC001", ("QC0",), ("QC0",), False),  # equal length: ignore beats select
    ("QC023", ("QC1", "QC02"), ("QC",), True),
    ("QC023", ("QC023",), ("QC023",), False),
    ("ACME001", ("QC",), (), False),
    ("ACME001", ("A",), (), True),
])
def test_selection_truth_table(code: str, select: tuple[str, ...] | None, ignore: tuple[str, ...], want: bool) -> None:
    assert selected(code, select, ignore) is want


def test_unknown_selectors_are_usage_errors(registry: Registry) -> None:
    for settings in (Settings(select=("QC8",)), Settings(ignore=("ZZ",)), Settings(expect="no-such-scheme")):
        with pytest.raises(qcheck.UsageError):
            check_settings(registry, settings)
    check_settings(registry, Settings(select=("QC0",), ignore=("QC900",)))  # the crash code is a valid selector
    check_settings(registry, Settings(ignore=("QC9",)))


def test_verify_selection_end_to_end(registry: Registry) -> None:
    assert [f.code for f in qcheck.verify(BAD, registry=registry, select=("QC0",)).findings] == ["QC023"]
    assert qcheck.verify(BAD, registry=registry, select=("QC0",), ignore=("QC023",)).findings == ()
    assert qcheck.verify(CLEAN, registry=registry, select=("QC0",)).findings == ()


# -- a third-party plugin, registered through make_registry(extra=[...]) ---------------------------

@rule("ACME001", "acme-no-relu")
def acme_no_relu(model: Model, ctx: Context) -> Iterator[Violation]:
    """ACME's NPU has no FULLY_CONNECTED.

    ## What it checks
    x
    ## Why it matters
    x
    ## How to fix
    x
    ## References
    - none
    """
    for sg, op in model.iter_operators():
        if op.opcode == "FULLY_CONNECTED":
            yield Violation(Location(sg.index, op.index, op.opcode), f"FULLY_CONNECTED at op {op.index} (expect={ctx.expect}, facts={ctx.facts.get('acme')})")


@rule("ACME002", "acme-opt-in", default=False)
def acme_opt_in(model: Model, ctx: Context) -> Iterator[Violation]:
    """An opt-in rule: runs only when selected."""
    yield Violation(Location(), "opt-in rule ran")


@rule("ACME003", "acme-crashes")
def acme_crashes(model: Model, ctx: Context) -> Iterator[Violation]:
    """A rule that yields once, then raises."""
    yield Violation(Location(), "before the crash")
    raise ZeroDivisionError("boom")


def _text_render(reports: Sequence[qcheck.Report], out: TextIO) -> None:
    out.write(";".join(f"{r.path}={len(r.findings)}" for r in reports))


class Acme:
    """A plugin object with every kind of registration."""

    @staticmethod
    @hookimpl
    def qcheck_register_rules(register: Callable[[Rule], None]) -> None:
        for r in (acme_no_relu, acme_opt_in, acme_crashes):
            register(r)

    @staticmethod
    @hookimpl
    def qcheck_register_reporters(register: Callable[[Reporter], None]) -> None:
        register(Reporter("acme-text", _text_render, "one line"))

    @staticmethod
    @hookimpl
    def qcheck_register_expectations(register: Callable[[Expectation], None]) -> None:
        register(Expectation("acme-ready", "runs on the ACME NPU"))

    @staticmethod
    @hookimpl
    def qcheck_model_facts(model: Model) -> dict[str, object]:
        return {"acme": "first", "path": "must not replace the report's path"}


class Later:
    @staticmethod
    @hookimpl
    def qcheck_model_facts(model: Model) -> dict[str, object]:
        return {"acme": "second", "later": True}


@pytest.fixture(scope="module")
def acme() -> Registry:
    return make_registry(external=False, extra=[Acme, Later])


def test_third_party_rule_reporter_expectation(acme: Registry) -> None:
    assert acme.owner["rule:ACME001"] == "Acme" and acme.owner["reporter:acme-text"] == "Acme"
    assert "acme-ready" in acme.expectations
    report = qcheck.verify(CLEAN, registry=acme, select=("ACME001",), expect="acme-ready")
    assert [f.code for f in report.findings] == ["ACME001"]
    assert report.findings[0].message == "FULLY_CONNECTED at op 0 (expect=acme-ready, facts=first)"
    assert report.findings[0].location.opcode == "FULLY_CONNECTED"
    out = io.StringIO()
    acme.reporters["acme-text"].render([report], out)
    assert out.getvalue() == "<bytes>=1"


def test_facts_first_registered_plugin_wins(acme: Registry) -> None:
    report = qcheck.verify(CLEAN, registry=acme, select=("QC0",))
    assert report.facts["acme"] == "first" and report.facts["later"] is True
    out = io.StringIO()
    acme.reporters["json"].render([report], out)
    entry = json.loads(out.getvalue())["models"][0]
    assert entry["acme"] == "first" and entry["later"] is True
    assert entry["path"] == "<bytes>"  # a plugin fact cannot replace the report's own fields


def test_fix_hint_defaults_to_the_rules_how_to_fix(registry: Registry) -> None:
    (finding,) = qcheck.verify(BAD, registry=registry, select=("QC023",)).findings
    assert finding.fix is not None and finding.fix.startswith("Calibrate with data that exercises the tensor")
    assert "\n" not in finding.fix
    own = _plugin("OwnFix", qcheck_register_rules=lambda register: register(rule("ZZ001", "own-fix")(
        lambda model, ctx: iter([Violation(Location(), "m", fix="do this")]))))
    (finding,) = qcheck.verify(CLEAN, registry=make_registry(external=False, extra=[own]), select=("ZZ",)).findings
    assert finding.fix == "do this"  # the rule's own hint wins; a rule without docs has no default
    undocumented = _plugin("NoDoc", qcheck_register_rules=lambda register: register(rule("ZZ002", "no-doc")(
        lambda model, ctx: iter([Violation(Location(), "m")]))))
    (finding,) = qcheck.verify(CLEAN, registry=make_registry(external=False, extra=[undocumented]), select=("ZZ",)).findings
    assert finding.fix is None


def test_opt_in_rules_run_only_when_selected(acme: Registry) -> None:
    assert "ACME002" not in {r.code for r in active_rules(acme, Settings())}
    assert "ACME002" not in {r.code for r in active_rules(acme, Settings(ignore=("QC",)))}
    assert "ACME002" in {r.code for r in active_rules(acme, Settings(select=("ACME",)))}


def test_a_crashing_rule_becomes_one_finding_and_the_run_goes_on(acme: Registry) -> None:
    report = qcheck.verify(BAD, registry=acme, select=("QC0", "ACME001", "ACME003"))
    crashes = [f for f in report.findings if f.code == "QC900"]
    assert len(crashes) == 1
    assert crashes[0].rule == "rule-crashed" and crashes[0].severity == qcheck.Severity.ERROR
    assert "ACME003" in crashes[0].message and "acme-crashes" in crashes[0].message and "ZeroDivisionError: boom" in crashes[0].message
    codes = {f.code for f in report.findings}
    assert {"QC023", "ACME001"} <= codes  # rules before and after the crash still ran


def test_crash_findings_can_be_ignored(acme: Registry) -> None:
    report = qcheck.verify(BAD, registry=acme, select=("QC0", "ACME003"), ignore=("QC900",))
    assert "QC900" not in {f.code for f in report.findings} and "QC023" in {f.code for f in report.findings}


def _plugin(name: str, **hooks: Callable[..., object]) -> type:
    return type(name, (), {k: staticmethod(hookimpl(v)) for k, v in hooks.items()})


def test_duplicate_rule_code_names_both_plugins() -> None:
    clash = rule("QC001", "my-own-rule")(lambda model, ctx: iter(()))
    plugin = _plugin("ClashPlugin", qcheck_register_rules=lambda register: register(clash))
    with pytest.raises(qcheck.UsageError, match=r"'ClashPlugin' registers rule 'QC001', already registered by 'qcheck_structure'"):
        make_registry(external=False, extra=[plugin])


def test_duplicate_rule_name_and_reporter_are_rejected() -> None:
    same_name = rule("ZZ001", "invalid-scale")(lambda model, ctx: iter(()))
    with pytest.raises(qcheck.UsageError, match="rule name 'invalid-scale', already used by QC023"):
        make_registry(external=False, extra=[_plugin("P1", qcheck_register_rules=lambda register: register(same_name))])
    json_again = Reporter("json", _text_render)
    with pytest.raises(qcheck.UsageError, match="'P2' registers reporter 'json', already registered by 'qcheck_report'"):
        make_registry(external=False, extra=[_plugin("P2", qcheck_register_reporters=lambda register: register(json_again))])


def test_blocking_a_plugin_by_name() -> None:
    reg = make_registry(external=False, blocked=["qcheck_structure"])
    assert not any(c.startswith("QC0") for c in reg.rules)
    assert reg.pm.is_blocked("qcheck_structure")
    assert "json" in reg.reporters  # the other built-ins still load


def test_builtins_register_in_their_fixed_order(registry: Registry) -> None:
    names = [name for name, _ in registry.pm.list_name_plugin()]
    assert names[: len(DEFAULT_PLUGINS)] == list(DEFAULT_PLUGINS)


def test_entry_point_loading_runs_without_error() -> None:
    reg = make_registry(external=True)
    assert {"QC001", "QC025"} <= set(reg.rules)


def test_invalid_rule_codes_and_names_are_refused() -> None:
    for code, name in (("qc001", "ok-name"), ("QC01", "ok-name"), ("ABCDE001", "ok-name"), ("QC001", "Not_Kebab")):
        with pytest.raises(ValueError):
            rule(code, name)(lambda model, ctx: iter(()))


def test_verify_restores_the_garbage_collector_state() -> None:
    """Parse and rules pause the cyclic collector; it comes back as the caller had it, errors included."""
    import gc

    from qcheck.tflite.reader import collector_paused

    path = ROOT / "fixtures" / "models" / "builder_int8_conv_clean.tflite"
    assert gc.isenabled()
    qcheck.verify(path)
    assert gc.isenabled()
    with pytest.raises(qcheck.ModelError):
        qcheck.load(b"\x10\x00\x00\x00TFL3" + b"\xff" * 40)  # fails inside the paused parse
    assert gc.isenabled()
    gc.disable()
    try:
        qcheck.verify(path)
        assert not gc.isenabled()  # a caller's choice to keep it off is kept
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
