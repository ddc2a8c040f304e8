"""qcheck.targets.partition follows LiteRT's greedy epoch walk (tflite/graph_info.cc): shapes of graphs, side effects."""

from __future__ import annotations

import qcheck
from qcheck.targets import partition, side_effects
from qcheck.tflite.builder import ModelBuilder


def chain(edges: list[tuple[list[str], str]], inputs: tuple[str, ...] = ("x",), dtype: str = "FLOAT32") -> qcheck.Model:
    """Ops in order, each reading the named tensors and writing one new one: [(["x"], "a"), (["a"], "b")]."""
    b = ModelBuilder()
    t = {name: b.tensor(name, dtype, [1, 4]) for name in inputs}
    for reads, writes in edges:
        t[writes] = b.tensor(writes, dtype, [1, 4])
        b.op("ADD" if len(reads) == 2 else "ABS", [t[r] for r in reads], [t[writes]])
    b.io([t[n] for n in inputs], [t[edges[-1][1]]])
    return qcheck.load(b.build())


def test_a_chain_of_chosen_ops_is_one_partition() -> None:
    m = chain([(["x"], "a"), (["a"], "b"), (["b"], "c")])
    assert partition(m.main, {0, 1, 2}) == ((0, 1, 2),)


def test_an_op_left_out_splits_a_chain() -> None:
    m = chain([(["x"], "a"), (["a"], "b"), (["b"], "c")])
    assert partition(m.main, {0, 2}) == ((0,), (2,))


def test_the_walk_is_greedy_past_an_independent_op_of_the_other_kind() -> None:
    # op 1 reads only x: op 2 (after op 0) joins op 0's partition although op 1 sits between them.
    m = chain([(["x"], "a"), (["x"], "b"), (["a"], "c"), (["b", "c"], "d")])
    assert partition(m.main, {0, 2}) == ((0, 2),)
    # op 3 needs op 1's output, so it cannot join: a second partition.
    assert partition(m.main, {0, 2, 3}) == ((0, 2), (3,))


def test_the_first_ready_op_sets_the_kind_of_each_epoch() -> None:
    # op 0 is not chosen: the first epoch is a CPU one holding op 0; op 1 waits for the next epoch,
    # which op 2 joins once op 0's output is there.
    m = chain([(["x"], "a"), (["x"], "b"), (["a", "b"], "c")])
    assert partition(m.main, {1, 2}) == ((1, 2),)
    # op 0 chosen: ops 0 and 1 share the first epoch; op 2 (CPU) comes after.
    assert partition(m.main, {0, 1}) == ((0, 1),)
    # chosen, CPU, chosen where the last needs the CPU op: two partitions.
    assert partition(m.main, {0, 2}) == ((0,), (2,))


def test_ops_with_side_effects_keep_their_order() -> None:
    # Three independent ops on RESOURCE tensors; the middle one stays on the CPU. Without the control
    # edges LiteRT adds between side-effect ops, ops 0 and 2 would share one partition.
    b = ModelBuilder()
    x = b.tensor("x", "FLOAT32", [1])
    outs = []
    for i in range(3):
        r = b.tensor(f"r{i}", "RESOURCE", [])
        y = b.tensor(f"y{i}", "FLOAT32", [1])
        b.op("READ_VARIABLE", [r], [y])
        outs.append(y)
    b.io([x], outs)
    m = qcheck.load(b.build())
    effects = side_effects(m)
    assert effects == frozenset({0, 1, 2})
    assert partition(m.main, {0, 2}) == ((0, 2),)
    assert partition(m.main, {0, 2}, effects) == ((0,), (2,))


def test_a_graph_nothing_can_schedule_ends_without_looping() -> None:
    # op 0 reads its own output: never ready, as in LiteRT (which refuses such graphs).
    b = ModelBuilder()
    x = b.tensor("x", "FLOAT32", [1, 4])
    a = b.tensor("a", "FLOAT32", [1, 4])
    b.op("ADD", [x, a], [a])
    b.io([x], [a])
    assert partition(qcheck.load(b.build()).main, {0}) == ()
