"""The JSON report: versioned; fields keep their meaning once published."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TextIO

from qcheck import Report, __version__
from qcheck.findings import Finding
from qcheck.reporting import JSON_SCHEMA_VERSION as SCHEMA_VERSION
from qcheck.reporting import Run

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
    if r.targets:
        entry["targets"] = {name: result.to_json() for name, result in r.targets.items()}
    return entry


def envelope(run: Sequence[Report]) -> dict[str, object]:
    """What every JSON document of qcheck starts with, and the run's totals, exit status and settings."""
    run = run if isinstance(run, Run) else Run(tuple(run))
    data: dict[str, object] = {"schema_version": SCHEMA_VERSION, "qcheck": __version__, "exit_status": run.exit_status,
                               "totals": run.totals, "settings": dict(run.settings)}
    if run.baseline is not None:
        data["baseline"] = run.baseline._asdict()
    return data


def render(run: Sequence[Report], out: TextIO) -> None:
    data = {**envelope(run), "models": [report_json(r) for r in run]}
    json.dump(clean(data), out, indent=2)
    out.write("\n")
