"""The core of the target machinery: verdicts, MAC shares, --target expansion, comparing with a runtime's answer."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pytest
from core_helpers import int8_fc
from qcheck_targets.common import macs

import qcheck
from qcheck.confirm import compare, failing_node
from qcheck.engine import Settings
from qcheck.errors import UsageError
from qcheck.registry import Registry, make_registry
from qcheck.runtime import RunResult
from qcheck.targetfile import is_profile_path, target_names
from qcheck.targets import OpPlacement, Placed, Reason, TargetResult, judge


def fixed(*placements: str, problems: tuple[Reason, ...] = ()) -> qcheck.Target:
    """A target that places the ops of subgraph 0 as given, in order."""
    def place(model: qcheck.Model, facts: Mapping[str, object], findings: Sequence[qcheck.Finding]) -> Placed:
        ops = [OpPlacement(0, i, op.opcode, where, (Reason("t:x", "why"),) if where != "accelerated" else (), 10 * (i + 1))
               for i, (op, where) in enumerate(zip(model.main.operators, placements, strict=True))]
        return Placed(tuple(ops), problems)

    return qcheck.Target("fixed", "test", place, delegate=True)


def two_fc() -> qcheck.Model:
    b = int8_fc()
    t = b.subgraphs[0]
    y2 = b.tensor("y2", "INT8", [1, 4], scale=0.05, zero_point=5)
    b.op("RELU", [t.outputs[0]], [y2])
    b.io(t.inputs, [y2])
    return qcheck.load(b.build())


def test_the_verdict_follows_the_placements() -> None:
    m = two_fc()
    assert judge(fixed("accelerated", "accelerated"), m, {}).verdict == "runs"
    partly = judge(fixed("accelerated", "cpu"), m, {})
    assert partly.verdict == "runs-partly" and partly.partitions == ((0,),)
    assert partly.mac_share == pytest.approx(10 / 30)
    assert judge(fixed("accelerated", "unsupported"), m, {}).verdict == "fails"
    assert judge(fixed("accelerated", "accelerated", problems=(Reason("t:y", "no"),)), m, {}).verdict == "fails"


def test_macs_of_weighted_ops() -> None:
    m = two_fc()
    fc, relu = m.main.operators
    assert macs(m.main, fc) == 4 * 8  # output [1, 4] x 8 inputs per output
    assert macs(m.main, relu) == 0


def test_target_names_expand_all_and_keep_order(registry: Registry) -> None:
    assert target_names(registry, ["tflm", "all"]) == ("tflm", *[n for n in registry.targets if n != "tflm"])
    assert is_profile_path("./acme.toml") and is_profile_path("npu/acme") and not is_profile_path("xnnpack")


def test_a_profile_file_may_not_take_a_registered_name(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "x.toml"
    path.write_text('name = "xnnpack"\nsummary = "mine"\n')
    with pytest.raises(UsageError, match="already a registered target"):
        target_names(make_registry(), [str(path)])


def test_failing_node_reads_both_runtimes_wording() -> None:
    assert failing_node("Node number 3 (CONV_2D) failed to prepare.") == 3
    assert failing_node("x. Node CONV_2D (number 5) failed to prepare with status 1") == 5
    assert failing_node("Didn't find op for builtin opcode 'X'") is None


def test_compare_flags_each_kind_of_disagreement() -> None:
    ops = (OpPlacement(0, 0, "CONV_2D", "accelerated"), OpPlacement(0, 1, "SOFTMAX", "cpu", (Reason("x:y", "z"),)))
    mine = TargetResult("xnnpack", "runs-partly", "rt", ops, ((0,),))
    same = compare(mine, RunResult("ok", delegated=(0,), partitions=1), "rt", delegate=True)
    assert same.agrees and not same.disagreements
    other = compare(mine, RunResult("ok", delegated=(0, 1), partitions=1), "rt", delegate=True)
    assert not other.agrees and other.disagreements == ("op 1 SOFTMAX: runtime accelerated, qcheck cpu",)
    failing = TargetResult("tflm", "fails", "rt", (OpPlacement(0, 0, "CONV_2D", "unsupported"), OpPlacement(0, 1, "ADD", "cpu")))
    stops_elsewhere = compare(failing, RunResult("error", "Node ADD (number 1) failed to prepare"), "rt", delegate=False)
    assert not stops_elsewhere.agrees and "op 1" in stops_elsewhere.disagreements[0]
    assert compare(failing, RunResult("error", "Node CONV_2D (number 0) failed"), "rt", delegate=False).agrees
    assert compare(failing, RunResult("unavailable", "no module"), "rt", delegate=False).agrees is None


def test_targets_run_only_when_asked(registry: Registry) -> None:
    data = int8_fc().build()
    assert qcheck.verify(data, registry=registry).targets == {}
    report = qcheck.verify(data, registry=registry, settings=Settings(targets=("litert", "tflm")))
    assert set(report.targets) == {"litert", "tflm"}
    with pytest.raises(UsageError, match="unknown --target 'nosuch'"):
        qcheck.verify(data, registry=registry, settings=Settings(targets=("nosuch",)))


def chain_model(n: int) -> qcheck.Model:
    """n float ABS ops in a chain."""
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    x = first = b.tensor("x", "FLOAT32", [1, 4])
    for i in range(n):
        y = b.tensor(f"t{i}", "FLOAT32", [1, 4])
        b.op("ABS", [x], [y])
        x = y
    b.io([first], [x])
    return qcheck.load(b.build())


# Where the ops the profile cannot take sit: at the start, in the middle, at the end, two islands.
SHAPES = {"start": "caaaaaa", "middle": "aaacaaa", "end": "aaaaaac", "islands": "aacaacaa"}
KEPT = {  # policy -> shape -> the accelerated ops after the policy
    "all": {"start": "-aaaaaa", "middle": "aaa-aaa", "end": "aaaaaa-", "islands": "aa-aa-aa"},
    "largest:1": {"start": "-aaaaaa", "middle": "aaa----", "end": "aaaaaa-", "islands": "aa------"},
    "largest:3": {"start": "-aaaaaa", "middle": "aaa-aaa", "end": "aaaaaa-", "islands": "aa-aa-aa"},
    "prefix": {"start": "-aaaaaa", "middle": "aaa----", "end": "aaaaaa-", "islands": "aa------"},
}


@pytest.mark.parametrize("policy", sorted(KEPT))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_partitioning_policy_on_built_graphs(policy: str, shape: str) -> None:
    layout = SHAPES[shape]
    m = chain_model(len(layout))
    target = fixed(*("accelerated" if c == "a" else "cpu" for c in layout))._replace(partitioning=policy)
    result = judge(target, m, {})
    got = "".join("a" if op.placement == "accelerated" else "-" for op in result.ops)
    assert got == KEPT[policy][shape]
    runs = [r for r in got.split("-") if r]
    assert [len(p) for p in result.partitions] == [len(r) for r in runs]
    assert result.transitions == sum(1 for a, b in itertools.pairwise(got) if (a == "a") != (b == "a"))
    for op in result.ops:
        if op.placement == "cpu" and layout[op.operator] == "a":  # demoted by the policy: it says why
            assert op.reasons[0].rule == "fixed:partition"


def test_an_already_compiled_model_says_what_it_was_compiled_for(registry: Registry) -> None:
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    x, y, z = (b.tensor(n, "UINT8", [1, 4], scale=0.1, zero_point=0) for n in "xyz")
    b.op("CUSTOM", [x], [y], custom_code="edgetpu-custom-op")
    b.op("RELU", [y], [z])
    b.io([x], [z])
    report = qcheck.verify(b.build(), registry=registry)
    assert report.facts["compiled_for"] == {"Edge TPU": {"partitions": 1, "cpu_ops": 1}}
    assert "compiled for Edge TPU (1 partition(s), 1 op(s) left for the CPU)" in report.highlights
    assert "compiled_for" not in qcheck.verify(int8_fc().build(), registry=registry).facts


def test_prefix_with_nothing_to_map_keeps_no_partition() -> None:
    m = chain_model(3)
    result = judge(fixed("cpu", "cpu", "cpu")._replace(partitioning="prefix"), m, {})
    assert result.partitions == () and result.count("accelerated") == 0


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_delegate_target_partitions_by_its_policy(registry: Registry, shape: str) -> None:
    """Each registered delegate target, fed the same placements, keeps what its partitioning policy says."""
    layout = SHAPES[shape]
    m = chain_model(len(layout))
    placements = fixed(*("accelerated" if c == "a" else "cpu" for c in layout))
    delegates = [t for t in registry.targets.values() if t.delegate]
    assert {t.name for t in delegates} >= {"xnnpack", "gpu", "nnapi", "edgetpu", "ethos-u55", "ethos-u65", "ethos-u85"}
    for target in delegates:
        result = judge(target._replace(place=placements.place), m, {})
        got = "".join("a" if op.placement == "accelerated" else "-" for op in result.ops)
        assert got == KEPT[target.partitioning][shape], target.name
