"""The ethos-u profiles against Vela 5.2: every corpus model compiled for ethos-u55-128 and ethos-u85-256.

Vela's answers are cached in tests/truth/vela_verdicts.json (tests/helpers/vela_verdicts.py compiles
each model in a child process and records which operators of subgraph 0 it left on the CPU: the
builtin ops that survive in the `_vela.tflite`, matched by opcode and output tensor names). Every
disagreement must be listed in ETHOSU below with its evidence; an entry that agrees again fails too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testpaths import ROOT, SHARED_MODELS
from verdicts import all_models, sha256

import qcheck
from qcheck.engine import Settings
from qcheck.registry import Registry

CACHE = ROOT / "tests" / "truth" / "vela_verdicts.json"
CONFIGS = {"ethos-u55": "ethos-u55-128", "ethos-u85": "ethos-u85-256"}
# (file name, target, operator) -> why qcheck and Vela differ. None today.
ETHOSU: dict[tuple[str, str, int], str] = {}


@pytest.fixture(scope="module")
def vela() -> dict[str, dict[str, object]]:
    data = json.loads(CACHE.read_text())
    assert data["version"] == "ethos-u-vela 5.2.0", data["version"]
    return data["models"]


@pytest.mark.parametrize("target", sorted(CONFIGS))
def test_placement_agrees_with_vela_on_98_percent_of_operators(vela: dict[str, dict[str, object]], registry: Registry, target: str) -> None:
    compared, wrong = 0, []
    for p in all_models():
        entry = vela.get(sha256(p))
        run = entry.get("verdicts", {}).get(CONFIGS[target]) if isinstance(entry, dict) else None
        if not isinstance(run, dict) or run.get("status") != "ok":
            continue
        real_cpu = {int(c[0]) if isinstance(c, list) else int(c["index"]) for c in run["cpu"]}
        result = qcheck.verify(p, registry=registry, settings=Settings(targets=(target,))).targets[target]
        for op in result.ops:
            if op.subgraph != 0:
                continue
            compared += 1
            if (op.placement != "accelerated") != (op.operator in real_cpu) and (p.name, target, op.operator) not in ETHOSU:
                wrong.append(f"{p.name} op {op.operator} {op.opcode}: qcheck {op.placement}, Vela {'cpu' if op.operator in real_cpu else 'npu'}")
    assert compared >= (1000 if SHARED_MODELS else 100), compared
    assert not wrong, "\n".join(wrong[:40])


def test_models_vela_refuses_are_failures_for_the_profiles(vela: dict[str, dict[str, object]], registry: Registry) -> None:
    """Quantized models only: on float models (nothing for the NPU) Vela's own exceptions in vela.py process_regor
    (10 models: unknown dimensions, 0 subgraphs, custom ops) say nothing about the Ethos-U and are not modelled."""
    missed = []
    for p in all_models():
        entry = vela.get(sha256(p))
        if not isinstance(entry, dict) or str(entry.get("scheme")).startswith("float"):
            continue
        for target, config in CONFIGS.items():
            run = entry.get("verdicts", {}).get(config) if isinstance(entry, dict) else None
            if not isinstance(run, dict) or run.get("status") != "error":
                continue
            result = qcheck.verify(p, registry=registry, settings=Settings(targets=(target,))).targets[target]
            if result.verdict != "fails":
                missed.append(f"{p.name} on {target}: Vela refuses ({str(run.get('message'))[:100]}), qcheck says {result.verdict}")
    assert not missed, "\n".join(missed)


def test_the_cache_covers_every_model(vela: dict[str, dict[str, object]]) -> None:
    compiled = [p for p in all_models() if isinstance(entry := vela.get(sha256(p)), dict) and "verdicts" in entry]
    assert len(compiled) >= (400 if SHARED_MODELS else 60)
    assert all(Path(p).exists() for p in compiled)


@pytest.mark.parametrize(("target", "custom"), [("ethos-u55", "ethos-u"), ("ethos-u85", "ethos-u"), ("edgetpu", "edgetpu-custom-op")])
def test_an_already_compiled_model_is_not_judged_again(registry: Registry, target: str, custom: str) -> None:
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    x, y, z = (b.tensor(n, "INT8", [1, 4], scale=0.1, zero_point=0) for n in "xyz")
    b.op("CUSTOM", [x], [y], custom_code=custom)
    b.op("GELU", [y], [z])  # an op Vela and the Edge TPU compiler would judge: here it is only what the compiler left
    b.io([x], [z])
    result = qcheck.verify(b.build(), registry=registry, settings=Settings(targets=(target,))).targets[target]
    assert [op.placement for op in result.ops] == ["accelerated", "cpu"]
    assert result.ops[1].reasons[0].rule == f"{target}:compiled" and result.verdict == "runs-partly"
