"""Float islands: the float ops of an integer model grouped into connected pieces, one finding each."""

from __future__ import annotations

from typing import NamedTuple

from qcheck import Model
from qcheck.inspection import op_label
from qcheck_spec.scheme import analyse


class Island(NamedTuple):
    """Float ops of one subgraph joined by the FLOAT32 tensors they share, in execution order."""

    subgraph: int
    ops: tuple[tuple[int, str], ...]  # (operator index, opcode or custom name)
    postprocessing: bool  # ends the graph in a custom op: float by design (e.g. TFLite_Detection_PostProcess)

    def listing(self) -> str:
        shown = ", ".join(f"{name} (op {i})" for i, name in self.ops[:8])
        return shown + (f" and {len(self.ops) - 8} more" if len(self.ops) > 8 else "")


def islands(model: Model) -> tuple[Island, ...]:
    """The `float_ops` of the scheme analysis as islands (memoized per model)."""
    return model.memo(("qcheck_spec", "islands"), lambda: _islands(model))


def _islands(model: Model) -> tuple[Island, ...]:
    by_subgraph: dict[int, list[int]] = {}
    for s, o, _ in analyse(model).float_ops:
        by_subgraph.setdefault(s, []).append(o)
    out = []
    for s, ops in by_subgraph.items():
        sg = model.subgraphs[s]
        parent = {o: o for o in ops}
        # Two float ops belong together when one reads a non-constant FLOAT32 tensor the other writes.
        for o in ops:
            for i in sg.operators[o].inputs:
                t, producer = sg.tensor(i), sg.producers.get(i)
                if t is not None and t.dtype == "FLOAT32" and producer in parent:
                    parent[_root(parent, o)] = _root(parent, producer)
        groups: dict[int, list[int]] = {}
        for o in ops:
            groups.setdefault(_root(parent, o), []).append(o)
        outputs = set(sg.outputs)
        for members in groups.values():
            named = tuple((o, op_label(model, sg.operators[o])) for o in sorted(members))
            customs = [o for o in members if sg.operators[o].is_custom]
            # Post-processing: a custom op whose outputs are only the graph's outputs, and nothing of the island leads back
            # into integer ops (no QUANTIZE in it).
            post = bool(customs) and all(set(sg.operators[o].outputs) <= outputs for o in customs) and not any(
                sg.operators[o].opcode == "QUANTIZE" for o in members)
            out.append(Island(s, named, post))
    return tuple(sorted(out, key=lambda isl: (isl.subgraph, isl.ops[0][0])))


def _root(parent: dict[int, int], o: int) -> int:
    """Union-find: the representative of o's group (paths halved on the way)."""
    while parent[o] != o:
        parent[o] = parent[parent[o]]
        o = parent[o]
    return o
