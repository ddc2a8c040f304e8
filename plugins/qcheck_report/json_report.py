"""The JSON report: versioned; fields keep their meaning once published."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TextIO

from qcheck import Report, __version__
from qcheck.findings import Finding
from qcheck.reporting import JSON_SCHEMA_VERSION as SCHEMA_VERSION
from qcheck.reporting import Run, as_run, render_all

_CORE_FIELDS = frozenset({"path", "error", "findings", "suppressed", "summary", "stats", "targets"})


def clean(value: object) -> object:
    """JSON has no NaN or infinity: write them as strings rather than emit invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def finding_json(f: Finding) -> dict[str, object]:
    loc = f.location
    location = {k: getattr(loc, k) for k in ("subgraph", "operator", "opcode", "tensor", "tensor_name") if getattr(loc, k) is not None}
    return {
        "code": f.code,
        "rule": f.rule,
        "severity": str(f.severity),
        "message": f.message,
        "location": location,
        "fix": f.fix,
        "details": dict(f.details),
        "fingerprint": f.fingerprint,
    }


def report_json(r: Report) -> dict[str, object]:
    """One model's entry, cleaned of NaN and infinity (the target placements hold none: names and indices only)."""
    entry: dict[str, object] = {"path": r.path}
    if r.error is not None:
        entry["error"] = r.error
    # Plugin facts sit beside the core fields but never replace one of them.
    entry.update((k, v) for k, v in r.facts.items() if k not in _CORE_FIELDS)
    entry["findings"] = [finding_json(f) for f in r.findings]
    if r.suppressed:  # hidden by a baseline or a configured ignore: kept for the record, never counted
        entry["suppressed"] = [{**finding_json(f), "suppression": {"source": why.source, "reason": why.reason}} for f, why in r.suppressed]
    entry["summary"] = r.summary
    if r.stats:
        entry["stats"] = dict(r.stats)
    entry = clean(entry)  # type: ignore[assignment]
    if r.targets:
        entry["targets"] = {name: result.to_json() for name, result in r.targets.items()}
    return entry


def envelope(run: Sequence[Report]) -> dict[str, object]:
    """The run's exit status, totals and baseline use (written after the models: they are known at the end)."""
    run = as_run(run)
    data: dict[str, object] = {"exit_status": run.exit_status, "totals": run.totals}
    if run.baseline is not None:
        data["baseline"] = run.baseline._asdict()
    return data


def dumps(data: object) -> bytes:
    """Indented JSON, fast (orjson: the json module's indenting encoder is pure Python, ~10x slower on large reports)."""
    import orjson

    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except (orjson.JSONEncodeError, TypeError):  # (an integer beyond 64 bits in a plugin's fact: the json module takes it)
        return json.dumps(data, indent=2, default=str).encode()


def nested(data: object, indent: str) -> str:
    """`data` as indented JSON to sit at `indent` inside a document being streamed."""
    return dumps(data).decode().replace("\n", "\n" + indent)


class JsonStream:
    """{"schema_version", "qcheck", "settings", "models": [...one per add...], "exit_status", "totals"[, "baseline"]}."""

    def __init__(self, run: Run, out: TextIO) -> None:
        self.out, self.count = out, 0
        head = {"schema_version": SCHEMA_VERSION, "qcheck": __version__, "settings": clean(dict(run.settings))}
        out.write(nested(head, "")[:-2] + ',\n  "models": [')

    def add(self, report: Report) -> None:
        self.out.write(("," if self.count else "") + "\n    " + nested(report_json(report), "    "))
        self.count += 1

    def close(self, run: Run) -> None:
        tail = nested(clean(envelope(run)), "  ")
        self.out.write(("\n  ]," if self.count else "],") + "\n  " + tail[1:-1].strip() + "\n}\n")


render = render_all(JsonStream)
