"""Baselines: record today's findings, then hide them and report only new ones.

The file is versioned JSON, sorted and indented so that it diffs well in review:

    {"qcheck_baseline": 1, "models": {"models/a.tflite": {"<fingerprint>": {"code": ..., "location": ..., "message": ...}}}}

Models are keyed by their path relative to the baseline file's folder, findings by their fingerprint
(rule code, subgraph, operator type and tensor name, and the occurrence among equal ones: no indices), so
a re-converted model keeps its baseline while its findings keep their names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from qcheck.errors import UsageError
from qcheck.findings import Suppression
from qcheck.reporting import BaselineUse, Report

VERSION = 1


def _key(model_path: str, folder: Path) -> str:
    absolute = Path(model_path).absolute()
    try:
        return Path(os.path.relpath(absolute, folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return absolute.as_posix()


class Recorder:
    """Collects the findings of each report as it arrives; `dumps` gives the baseline file."""

    def __init__(self, path: str) -> None:
        self.folder = Path(path).absolute().parent
        self.models: dict[str, dict[str, dict[str, str]]] = {}

    def add(self, r: Report) -> None:
        if r.error is not None:
            return
        entries = self.models.setdefault(_key(r.path, self.folder), {})
        for f in (*r.findings, *(f for f, why in r.suppressed if why.source == "baseline")):
            entries[f.fingerprint] = {"code": f.code, "location": f.location.key, "message": f.message}

    def summary(self, path: str) -> str:
        return f"recorded {sum(map(len, self.models.values()))} finding(s) of {len(self.models)} model(s) in the baseline {path}"

    def dumps(self) -> str:
        ordered = {m: dict(sorted(e.items())) for m, e in sorted(self.models.items())}
        return json.dumps({"qcheck_baseline": VERSION, "models": ordered}, indent=2, sort_keys=False) + "\n"


def dumps(reports: Sequence[Report], path: str) -> str:
    """The baseline file recording every finding of `reports` (and the findings they already hid by a baseline)."""
    recorder = Recorder(path)
    for r in reports:
        recorder.add(r)
    return recorder.dumps()


def load(path: str) -> Mapping[str, Mapping[str, object]]:
    """model key -> fingerprint -> entry; any problem is a UsageError naming the file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise UsageError(f"baseline {path}: cannot read it: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"baseline {path}: not valid JSON: {e}") from None
    if not isinstance(data, dict) or data.get("qcheck_baseline") != VERSION or not isinstance(data.get("models"), dict) or \
            not all(isinstance(v, dict) for v in data["models"].values()):
        raise UsageError(f"baseline {path}: not a qcheck baseline (version {VERSION}); write one with --write-baseline")
    return data["models"]  # type: ignore[no-any-return]


class Applier:
    """Hides, report by report, the findings a baseline file records; counts what it hid and what was fixed."""

    def __init__(self, path: str) -> None:
        self.path, self.recorded = path, load(path)
        self.folder = Path(path).absolute().parent
        self.hidden = self.fixed = 0
        self.why = Suppression("baseline", f"recorded in the baseline {path}")

    def apply(self, r: Report) -> Report:
        known = self.recorded.get(_key(r.path, self.folder), {})
        if r.error is not None or not known:
            return r
        old = [(f, self.why) for f in r.findings if f.fingerprint in known]
        seen = {f.fingerprint for f in r.findings} | {f.fingerprint for f, _ in r.suppressed}
        self.hidden += len(old)
        self.fixed += sum(1 for fp in known if fp not in seen)
        return replace(r, findings=tuple(f for f in r.findings if f.fingerprint not in known), suppressed=(*r.suppressed, *old))

    def use(self) -> BaselineUse:
        return BaselineUse(self.path, self.hidden, self.fixed)


def apply(reports: Sequence[Report], path: str) -> tuple[list[Report], BaselineUse]:
    """Reports with the baselined findings moved to `suppressed`, and how many were hidden and fixed."""
    applier = Applier(path)
    return [applier.apply(r) for r in reports], applier.use()
