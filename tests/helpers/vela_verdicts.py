"""What Arm's Vela 5.2 (Ethos-U) leaves on the CPU in each model, cached by sha256.

Each model (quantized ones, and float ones too: Vela leaves their float ops to the CPU, and what it drops
or keeps around them is part of the answer) is compiled once per accelerator configuration, in a child process with a time limit and a
temporary output directory. The operators of subgraph 0 of the original model that survive as builtin
(or non-Ethos-U custom) ops in `<name>_vela.tflite` stay on the CPU; the others went into the NPU
partitions, the `ethos-u` custom ops (../shared/reference/targets.md §5.3: matched by op code and
output tensor names). Vela's stdout names the reason per operator ("Warning (supported operators)
operator: X, ofm: 'name'\nReason: ..."), kept beside each CPU op.

Models that already hold an `ethos-u` or `edgetpu-custom-op` custom op (compiled ones) are skipped.
The verdicts are kept in tests/truth/vela_verdicts.json. After upgrading ethos-u-vela or adding
models: `.venv/bin/python tests/helpers/vela_verdicts.py` (resumes: models already cached for the
installed Vela are kept; `--fresh` recompiles them all).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from testpaths import ROOT
from verdicts import _shown, all_models, sha256

import qcheck
from qcheck.registry import Registry, make_registry

CACHE = ROOT / "tests" / "truth" / "vela_verdicts.json"
CONFIGS = ("ethos-u55-128", "ethos-u85-256")
TIMEOUT = 120.0
MEMORY = 4 << 30  # address-space limit of one Vela child
COMPILED = frozenset({"ethos-u", "edgetpu-custom-op"})  # custom ops of models compiled already
# Regor's console form (targets.md §5.3): the reason runs to the first blank line.
WARNING = re.compile(r"Warning \(supported operators\) operator: (\S+), ofm: '([^']*)'\nReason: ([^\n]*(?:\n(?!\n)[^\n]*)*)")


def version() -> str:
    return f"ethos-u-vela {importlib.metadata.version('ethos-u-vela')}"


def vela() -> str:
    found = Path(sys.executable).parent / "vela"
    return str(found) if found.exists() else (shutil.which("vela") or "vela")


def label(model: qcheck.Model, op: qcheck.Operator) -> str:
    """The op code, or a custom op's name."""
    if not op.is_custom:
        return op.opcode
    codes = model.operator_codes
    return (codes[op.opcode_index].custom_code or "") if 0 <= op.opcode_index < len(codes) else ""


def signatures(model: qcheck.Model) -> list[tuple[str, tuple[str, ...]]]:
    """Subgraph 0's operators as (label, output tensor names)."""
    if not model.subgraphs:
        return []
    sub = model.subgraphs[0]
    # (Vela writes an unnamed tensor back as "<unnamed>")
    return [(label(model, op), tuple((t.name or "<unnamed>") if (t := sub.tensor(i)) is not None else "" for i in op.outputs))
            for op in sub.operators]


def compilable(registry: Registry, path: Path) -> tuple[bool, str]:
    """Whether Vela should see the model: (take it, why not / its scheme)."""
    from qcheck.engine import model_facts

    try:
        model = qcheck.load(path)
    except qcheck.ModelError as e:
        return False, f"unreadable: {e}"
    names = {label(model, op) for _, op in model.iter_operators() if op.is_custom}
    if names & COMPILED:
        return False, f"compiled already ({', '.join(sorted(names & COMPILED))})"
    return True, str(model_facts(registry, model).get("scheme"))


def _limit() -> None:  # in the child: a runaway compile must not take the shared machine down
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def compile_one(path: Path, config: str) -> dict[str, Any]:
    """One Vela run: status (ok, error, crash, timeout), subgraph 0's CPU ops [index, label, reason], partitions."""
    with tempfile.TemporaryDirectory(prefix="qcheck-vela-") as out:
        cmd = [vela(), "--accelerator-config", config, "--output-dir", out, str(path.resolve())]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit, cwd=out, check=False)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "message": f"no answer in {TIMEOUT:.0f} s"}
        tail = " ".join(r.stderr.split()[-80:])[-600:]
        if r.returncode != 0:
            return {"status": "crash" if r.returncode < 0 else "error", "message": f"exit {r.returncode}: {tail}"}
        made = sorted(Path(out).glob("*_vela.tflite"))
        if not made:
            return {"status": "error", "message": f"no *_vela.tflite written: {tail}"}
        compiled = qcheck.load(made[0])
        after = signatures(compiled)
        original = signatures(qcheck.load(path))
    why = {m[2]: " ".join(m[3].split()) for m in WARNING.finditer(r.stdout)}
    left = Counter(sig for sig in after if sig[0] != "ethos-u")
    cpu, unmatched = [], []
    for i, sig in enumerate(original):
        if left[sig] > 0:
            left[sig] -= 1
            cpu.append([i, sig[0], why.get(sig[1][0], "") if sig[1] else ""])
        else:
            unmatched.append(i)
    for i in unmatched:  # a CPU op whose output Vela renamed: a BOOL output converted on the NPU ("x" -> "x_int8"),
        sig = original[i]  # or one its warnings name as left to the CPU (ofm 'Cast', written back as 'values')
        renamed = next((s for s, k in left.items() if k > 0 and s[0] == sig[0] and len(s[1]) == len(sig[1]) and sig[1]
                        and (all(new.startswith(old + "_") for new, old in zip(s[1], sig[1], strict=True)) or sig[1][0] in why)), None)
        if renamed is not None:
            left[renamed] -= 1
            cpu.append([i, sig[0], why.get(sig[1][0], "")])
    cpu.sort()
    return {"status": "ok", "message": "", "ops": len(original), "cpu": cpu,
            "partitions": sum(1 for s in compiled.subgraphs for op in s.operators if label(compiled, op) == "ethos-u"),
            "unmatched": sorted(f"{n} {list(o)}" for (n, o), k in left.items() for _ in range(k))}


def load_cache() -> dict[str, Any]:
    cached = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    return cached if cached.get("version") == version() else {"version": version(), "models": {}}


def save(data: dict[str, Any]) -> None:
    tmp = CACHE.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, CACHE)


def write_cache(models: Sequence[Path], fresh: bool = False) -> dict[str, Any]:
    """Compile every quantized model with each configuration (one Vela at a time), saving after each model."""
    data: dict[str, Any] = {"version": version(), "models": {}} if fresh else load_cache()
    table: dict[str, Any] = data["models"]
    registry = make_registry(external=False)
    for n, p in enumerate(models, 1):
        sha = sha256(p)
        done = table.get(sha, {})
        if "skipped" in done or all(c in done.get("verdicts", {}) for c in CONFIGS):
            continue
        take, scheme = compilable(registry, p)
        if not take:
            table[sha] = {"path": _shown(p), "skipped": scheme}
            save(data)
            continue
        entry = table.setdefault(sha, {"path": _shown(p), "scheme": scheme, "verdicts": {}})
        for config in CONFIGS:
            if config not in entry["verdicts"]:
                entry["verdicts"][config] = compile_one(p, config)
        save(data)
        states = " ".join(f"{c}:{v['status']}/{len(v.get('cpu', []))}cpu" for c, v in entry["verdicts"].items())
        print(f"[{n}/{len(models)}] {_shown(p)} {states}", file=sys.stderr, flush=True)
    data["models"] = dict(sorted(table.items()))
    save(data)
    return data


if __name__ == "__main__":
    result = write_cache(all_models(), fresh="--fresh" in sys.argv[1:])
    done = [e for e in result["models"].values() if "verdicts" in e]
    for config in CONFIGS:
        counts = Counter(e["verdicts"][config]["status"] for e in done if config in e["verdicts"])
        print(f"{config}: {dict(counts)}", file=sys.stderr)
    print(f"wrote {CACHE} ({len(done)} models compiled, {len(result['models']) - len(done)} skipped)", file=sys.stderr)
