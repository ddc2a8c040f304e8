"""Target profiles from data files (`--target ./acme-npu.toml`) and the expansion of --target names.

A profile file is TOML::

    name = "acme-npu"                  # required: the name reports use
    summary = "ACME NPU v2 delegate"   # required: one line for `qcheck targets`
    delegate = true                    # true: listed ops are accelerated, others fall back to the CPU;
                                       # false: a runtime of its own, listed ops run, others are unsupported
    runtime = ""                       # optional: the Python distribution of its runtime, for the version
    sources = ["ACME NPU SDK 3.1, supported-ops table"]

    [ops.CONV_2D]                      # builtin name, or "CUSTOM(name)" for a custom op
    types = ["INT8"]                   # accepted types of the op's first input and first output (default: any)
    max_rank = 4                       # largest rank of those tensors (default: any)
    activations = ["NONE", "RELU"]     # accepted fused activations (default: any)
    per_axis = false                   # per-axis quantized weights (input 1) accepted (default: true)

    [ops.ADD]                          # an empty table: any instance of the op
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qcheck.errors import UsageError
from qcheck.inspection import op_label
from qcheck.registry import Registry, Target
from qcheck.targets import OpPlacement, Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph

_TOP = {"name": str, "summary": str, "delegate": bool, "runtime": str, "sources": list, "ops": dict}
_OP = {"types": list, "max_rank": int, "activations": list, "per_axis": bool}


def is_profile_path(name: str) -> bool:
    return name.endswith(".toml") or os.sep in name or (os.altsep is not None and os.altsep in name)


def target_names(registry: Registry, names: Iterable[str]) -> tuple[str, ...]:
    """--target values as registered names: 'all' expands, profile files are loaded and registered."""
    out: list[str] = []
    for name in names:
        if name == "all":
            new = list(registry.targets)
        elif ":" in name and not is_profile_path(name):
            new = [configured(registry, name)]
        elif is_profile_path(name):
            target = load_profile(name)
            if target.name in registry.targets and registry.owner.get(f"target:{target.name}") != name:
                raise UsageError(f"--target {name}: profile name {target.name!r} is already a registered target")
            registry.targets[target.name] = target
            registry.owner[f"target:{target.name}"] = name
            new = [target.name]
        else:
            new = [name]
        out += [n for n in new if n not in out]
    return tuple(out)


def configured(registry: Registry, spec: str) -> str:
    """Register `NAME:KEY=VALUE,...` as a configured copy of target NAME (Target.configure) and return its name."""
    base, _, text = spec.partition(":")
    target = registry.targets.get(base)
    if target is None:
        raise UsageError(f"unknown --target {base!r} in {spec!r} (see 'qcheck targets')")
    if target.configure is None:
        raise UsageError(f"--target {spec}: target {base!r} takes no options")
    pairs = [item.partition("=") for item in text.split(",") if item]
    if not pairs or any(not k or not sep or not v for k, sep, v in pairs):
        raise UsageError(f"--target {spec}: options are KEY=VALUE, comma-separated ({base} takes {target.options})")
    try:
        made = target.configure({k: v for k, _, v in pairs})
    except ValueError as e:
        raise UsageError(f"--target {spec}: {e} ({base} takes {target.options})") from None
    registry.targets[spec] = made._replace(name=spec, configure=None)
    registry.owner[f"target:{spec}"] = registry.owner.get(f"target:{base}", "")
    return spec


def load_profile(path: str) -> Target:
    """A Target from a TOML profile file; any problem is a UsageError naming the file."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise UsageError(f"--target {path}: cannot read the profile: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"--target {path}: not valid TOML: {e}") from None
    _check(path, "", data, _TOP, required=("name", "summary"))
    ops = data.get("ops", {})
    for op, spec in ops.items():
        if not isinstance(spec, dict):
            raise UsageError(f"--target {path}: ops.{op} must be a table")
        _check(path, f"ops.{op}.", spec, _OP)
    table = {str(k): dict(v) for k, v in ops.items()}
    delegate = bool(data.get("delegate", True))

    def place(model: Model, facts: Mapping[str, object], findings: Sequence[object]) -> Placed:
        return Placed(tuple(_place(model, sub, op, table, delegate, data["name"]) for sub in model.subgraphs for op in sub.operators))

    return Target(data["name"], data["summary"], place, runtime=data.get("runtime", ""),
                  sources=(*tuple(str(s) for s in data.get("sources", [])), f"profile file {path}"), delegate=delegate,
                  data={"ops": table})


def _check(path: str, prefix: str, data: Mapping[str, Any], schema: Mapping[str, type], required: Sequence[str] = ()) -> None:
    for key in required:
        if key not in data:
            raise UsageError(f"--target {path}: missing '{prefix}{key}'")
    for key, value in data.items():
        if key not in schema:
            raise UsageError(f"--target {path}: unknown key '{prefix}{key}' (known: {', '.join(schema)})")
        if not isinstance(value, schema[key]) or (schema[key] is int and isinstance(value, bool)):
            raise UsageError(f"--target {path}: '{prefix}{key}' must be a {schema[key].__name__}")


def _place(model: Model, sub: Subgraph, op: Operator, table: Mapping[str, Mapping[str, Any]], delegate: bool, name: str) -> OpPlacement:
    label = op_label(model, op)
    spec = table.get(label)
    fallback = "cpu" if delegate else "unsupported"
    if spec is None:
        return OpPlacement(sub.index, op.index, label, fallback, (Reason(f"{name}:op-set", f"{label} is not in the profile's op list"),))
    why = []
    data = [t for t in (sub.tensor(op.inputs[0]) if op.inputs else None, sub.tensor(op.outputs[0]) if op.outputs else None) if t is not None]
    types = spec.get("types")
    for t in data:
        if types is not None and t.dtype not in types:
            why.append(Reason(f"{name}:types", f"{t.dtype} tensor '{t.name}': the profile takes {', '.join(types)}"))
            break
    rank = spec.get("max_rank")
    if rank is not None and any(len(t.shape) > rank for t in data):
        why.append(Reason(f"{name}:rank", f"rank {max(len(t.shape) for t in data)}: the profile takes at most {rank}"))
    act = op.options.get("fused_activation_function")
    if spec.get("activations") is not None and act is not None and act not in spec["activations"]:
        why.append(Reason(f"{name}:activation", f"fused activation {act}: the profile takes {', '.join(spec['activations'])}"))
    w = sub.tensor(op.inputs[1]) if len(op.inputs) > 1 else None
    if spec.get("per_axis") is False and w is not None and w.quantization is not None and len(w.quantization.scale) > 1:
        why.append(Reason(f"{name}:per-axis", f"per-axis weights '{w.name}': the profile takes per-tensor only"))
    placed = ("accelerated" if delegate else "cpu") if not why else fallback
    return OpPlacement(sub.index, op.index, label, placed, tuple(why))
