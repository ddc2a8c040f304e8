"""Engine contracts added with the ground-truth work: expectations always checked, unique fingerprints, declared facts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from core_helpers import int8_fc
from testpaths import CORPUS

import qcheck
from qcheck import Context, Model, Rule, Violation, hookimpl, rule
from qcheck.registry import Registry, make_registry

CLEAN = int8_fc().build()


@pytest.mark.parametrize(("select", "ignore"), [(("QC2",), ()), (None, ("QC1",)), (("QC0",), ("QC101",))])
def test_a_given_expectation_is_always_checked(registry: Registry, select: tuple[str, ...] | None, ignore: tuple[str, ...]) -> None:
    """--expect float16 on an int8 model: QC101 reports it whatever the selection leaves out."""
    model = CORPUS / "microwakeword_alexa.tflite"
    report = qcheck.verify(model, registry=registry, expect="float16", select=select, ignore=ignore)
    assert any(f.code == "QC101" for f in report.findings)
    assert not any(f.code == "QC101" for f in qcheck.verify(model, registry=registry, select=select, ignore=ignore).findings)


def test_fingerprints_are_unique_within_a_model_and_stable() -> None:
    """Unnamed tensors and ops of one type share a location key: their order in the graph tells them apart."""
    from qcheck.tflite.builder import ModelBuilder

    @rule("TST001", "every-tensor-and-op")
    def everything(model: Model, ctx: Context) -> Iterator[Violation]:
        """Reports every tensor and every operator."""
        for sg, t in model.iter_tensors():
            yield Violation(qcheck.at_tensor(sg, t), "tensor")
        for sg, op in model.iter_operators():
            yield Violation(qcheck.at_op(sg, op), "op")

    class Plugin:
        @hookimpl
        def qcheck_register_rules(self, register: Callable[[Rule], None]) -> None:
            register(everything)

    def build() -> bytes:
        b = ModelBuilder()
        ts = [b.tensor("", "FLOAT32", [1, 4]) for _ in range(4)]  # no names
        b.op("RELU", [ts[0]], [ts[1]])
        b.op("RELU", [ts[1]], [ts[2]])
        b.op("RELU", [ts[2]], [ts[3]])
        b.io([ts[0]], [ts[3]])
        return b.build()

    reg = make_registry(external=False, extra=[Plugin()])
    prints = [[f.fingerprint for f in qcheck.verify(build(), registry=reg, select=("TST",)).findings] for _ in range(2)]
    assert len(prints[0]) == 7 and len(set(prints[0])) == 7
    assert prints[0] == prints[1]


def test_declared_facts_become_highlights_and_a_broken_phrase_does_not_stop_the_report() -> None:
    from qcheck import Fact

    class Plugin:
        @hookimpl
        def qcheck_register_facts(self, register: Callable[[Fact], None]) -> None:
            register(Fact("colour", "colour", lambda v: f"colour {v}", headline=True))
            register(Fact("broken", "broken", lambda v: 1 / 0))  # type: ignore[arg-type, return-value]

        @hookimpl
        def qcheck_model_facts(self, model: Model) -> dict[str, object]:
            return {"colour": "blue", "broken": 3}

    report = qcheck.verify(CLEAN, registry=make_registry(external=False, extra=[Plugin()]), select=("QC0",))
    assert report.headline == "int8"  # the spec plugin's headline fact was registered first
    assert "colour blue" in report.highlights and "broken 3" in report.highlights
