"""The litert, xnnpack and tflm profiles against the real runtimes, over every model the tests can see.

The runtimes' answers come from tests/truth/runtime_verdicts.json (tests/helpers/verdicts.py runs
them: LiteRT's builtin kernels and TFLite Micro load, allocate and invoke on zero inputs; the
"xnnpack" probe lists the operators of subgraph 0 the default XNNPACK delegate takes, unfused,
and counts its partitions fused). Every disagreement must be in one of the tables below, with its
evidence; a table entry that no longer disagrees fails too, so the tables stay true.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from targets_exceptions import LITERT, PARTITIONS, PLACEMENT, TFLM
from testpaths import SHARED_MODELS
from verdicts import Verdict, all_models, sha256, verdicts

import qcheck
from qcheck.confirm import failing_node
from qcheck.engine import Settings
from qcheck.registry import Registry
from qcheck.targets import TargetResult

MODELS = all_models()
FULL_CORPUS = bool(SHARED_MODELS)  # ../shared/corpus beside the clone (.ci/run requires it)
TARGETS = ("litert", "xnnpack", "tflm")


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, Verdict]]:
    return verdicts(MODELS)


@pytest.fixture(scope="module")
def placed(registry: Registry) -> dict[str, dict[str, TargetResult]]:
    out: dict[str, dict[str, TargetResult]] = {}
    for p in MODELS:
        try:
            out[sha256(p)] = dict(qcheck.verify(p, registry=registry, settings=Settings(targets=TARGETS)).targets)
        except qcheck.ModelError:
            pass  # unreadable: no verdict (tests/truth checks LiteRT refuses these too)
    return out


def _xnnpack_ops(placed: dict[str, dict[str, TargetResult]], table: dict[str, dict[str, Verdict]]) -> dict[tuple[str, int], tuple[str, bool]]:
    """(file, operator) -> (opcode, agrees) over subgraph 0 of every model XNNPACK loaded."""
    out = {}
    for p in MODELS:
        real = table[sha256(p)]["xnnpack"]
        if sha256(p) not in placed or real.status != "ok":
            continue
        on = set(real.delegated)
        for op in placed[sha256(p)]["xnnpack"].ops:
            if op.subgraph == 0:
                out[(p.name, op.operator)] = (op.opcode, (op.placement == "accelerated") == (op.operator in on))
    return out


def test_xnnpack_placement_agrees_on_99_percent_of_operators(placed: dict[str, dict[str, TargetResult]],
                                                              table: dict[str, dict[str, Verdict]]) -> None:
    ops = _xnnpack_ops(placed, table)
    wrong = {k: opcode for k, (opcode, agrees) in ops.items() if not agrees}
    assert len(ops) >= 1000
    assert len(ops) - len(wrong) >= 0.99 * len(ops) or not FULL_CORPUS, f"{len(ops) - len(wrong)}/{len(ops)}"
    unexplained = [f"{name} op {i} {opcode}" for (name, i), opcode in sorted(wrong.items()) if (name, i) not in PLACEMENT]
    assert not unexplained, "\n".join(unexplained)
    stale = [k for k in PLACEMENT if k in ops and ops[k][1]]
    assert not stale, f"listed as disagreements but now agree: {stale}"


def test_xnnpack_partition_count_agrees_on_95_percent_of_models(placed: dict[str, dict[str, TargetResult]],
                                                                 table: dict[str, dict[str, Verdict]]) -> None:
    compared = wrong = 0
    unexplained, stale = [], []
    for p in MODELS:
        real = table[sha256(p)]["xnnpack"]
        if sha256(p) not in placed or real.status != "ok":
            continue
        mine = len(placed[sha256(p)]["xnnpack"].partitions)
        compared += 1
        if mine != real.partitions:
            wrong += 1
            if p.name not in PARTITIONS:
                unexplained.append(f"{p.name}: qcheck {mine}, XNNPACK {real.partitions}")
        elif p.name in PARTITIONS:
            stale.append(p.name)
    assert compared >= 60 and (compared - wrong >= 0.95 * compared or not FULL_CORPUS), f"{compared - wrong}/{compared}"
    assert not unexplained, "\n".join(unexplained)
    assert not stale, f"listed as disagreements but now agree: {stale}"


@pytest.mark.parametrize(("target", "runtime", "exceptions"), [("litert", "litert-builtin", LITERT), ("tflm", "tflm", TFLM)])
def test_model_verdict_agrees_on_99_percent_of_models(placed: dict[str, dict[str, TargetResult]], table: dict[str, dict[str, Verdict]],
                                                      target: str, runtime: str, exceptions: dict[str, str]) -> None:
    compared = agree = 0
    unexplained, stale = [], []
    for p in MODELS:
        if sha256(p) not in placed:
            continue
        real = table[sha256(p)][runtime]
        mine = placed[sha256(p)][target]
        same = (real.status == "ok") == (mine.verdict != "fails")
        compared += 1
        agree += same
        if not same and p.name not in exceptions:
            why = [op.reasons[0].message for op in mine.ops if op.placement == "unsupported" and op.reasons][:1]
            unexplained.append(f"{p.name}: {target} {mine.verdict} {why}, runtime {real.status}: {real.reason[:150]}")
        if same and p.name in exceptions:
            stale.append(p.name)
    assert compared >= 60
    assert not unexplained, "\n".join(unexplained)
    assert not stale, f"listed as disagreements but now agree: {stale}"
    # A model that fails only on the probe's zero inputs ("input: ..." in the table) runs with real ones.
    names = {p.name for p in MODELS}
    input_only = sum(1 for name, why in exceptions.items() if why.startswith("input:") and name in names)
    if FULL_CORPUS:  # (the share is the whole corpus's; without ../shared every disagreement must still be listed)
        assert agree >= 0.99 * (compared - input_only), f"{agree}/{compared}, {input_only} fail only on zero inputs"


@pytest.mark.parametrize(("target", "runtime"), [("litert", "litert-builtin"), ("tflm", "tflm")])
def test_the_node_a_runtime_stops_at_is_one_qcheck_marks_unsupported(placed: dict[str, dict[str, TargetResult]],
                                                                      table: dict[str, dict[str, Verdict]], target: str, runtime: str) -> None:
    checked, missed = 0, []
    for p in MODELS:
        real = table[sha256(p)][runtime]
        node = failing_node(real.reason)
        if sha256(p) not in placed or node is None or "invoke" in real.reason:
            continue  # (an op failing at invoke on zero inputs may be input-dependent: the verdict tables cover those)
        mine = placed[sha256(p)][target]
        unsupported = {op.operator for op in mine.ops if op.subgraph == 0 and op.placement == "unsupported"}
        checked += 1
        if node not in unsupported and not mine.problems and p.name not in (LITERT if target == "litert" else TFLM):
            missed.append(f"{p.name}: {runtime} stops at op {node} ({real.reason[:120]}); qcheck marks {sorted(unsupported)[:8]}")
    assert checked >= 15
    assert not missed, "\n".join(missed)


def test_every_operator_of_every_subgraph_is_placed(placed: dict[str, dict[str, TargetResult]]) -> None:
    for p in MODELS[:60]:
        if sha256(p) not in placed:
            continue
        model = qcheck.load(p)
        want = [(s.index, op.index) for s in model.subgraphs for op in s.operators]
        for name in TARGETS:
            assert [(op.subgraph, op.operator) for op in placed[sha256(p)][name].ops] == want, (p.name, name)


def test_exception_tables_name_models_that_exist() -> None:
    names = {Path(p).name for p in MODELS}
    for table_ in (LITERT, TFLM, PARTITIONS):
        assert set(table_) <= names or len(names) < 200, set(table_) - names  # (the shared corpus may be absent)
    assert {name for name, _ in PLACEMENT} <= names or len(names) < 200
