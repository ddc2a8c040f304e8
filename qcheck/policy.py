"""What a project's configuration does to findings: severity overrides, and ignores by file, operator or tensor name."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from qcheck.findings import Finding, Severity, Suppression
from qcheck.rules import matches
from qcheck.tflite.model import Model


class Policy(NamedTuple):
    """The configured ignores and overrides (empty: findings pass unchanged)."""

    severity: tuple[tuple[str, Severity], ...] = ()  # rule code prefix or name -> severity; the longest prefix wins
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # path glob -> code prefixes
    ignore_operators: tuple[str, ...] = ()  # globs over op types and custom op names
    ignore_tensors: tuple[str, ...] = ()  # globs over tensor names

    def __bool__(self) -> bool:
        return any((self.severity, self.per_file_ignores, self.ignore_operators, self.ignore_tensors))


def file_matches(pattern: str, absolute: str) -> bool:
    """ruff's per-file-ignores: a pattern without a slash matches the file name, else the absolute path (the
    configuration made its patterns absolute from the folder it sits in)."""
    return fnmatchcase(PurePosixPath(absolute).name if "/" not in pattern else absolute, pattern)


def apply(findings: Sequence[Finding], model: Model, path: str, policy: Policy) -> tuple[list[Finding], list[tuple[Finding, Suppression]]]:
    """The findings kept, and those a configured ignore hides (with the entry that matched)."""
    if not policy:
        return list(findings), []
    absolute = Path(path).absolute().as_posix()
    file_codes = [(pat, codes) for pat, codes in policy.per_file_ignores if file_matches(pat, absolute)]
    kept: list[Finding] = []
    hidden: list[tuple[Finding, Suppression]] = []
    for f in findings:
        if policy.severity and (level := _override(f, policy.severity)) is not None:
            f = f._replace(severity=level)
        why = _why_ignored(f, model, file_codes, policy)
        if why is None:
            kept.append(f)
        else:
            hidden.append((f, why))
    return kept, hidden


def _override(f: Finding, severity: tuple[tuple[str, Severity], ...]) -> Severity | None:
    by_name = [level for key, level in severity if key == f.rule]
    if by_name:
        return by_name[-1]
    best = max(((matches(f.code, (key,)), level) for key, level in severity), default=(0, None), key=lambda kv: kv[0])
    return best[1] if best[0] else None


def _why_ignored(f: Finding, model: Model, file_codes: list[tuple[str, tuple[str, ...]]], policy: Policy) -> Suppression | None:
    for pattern, codes in file_codes:
        if matches(f.code, codes) or f.rule in codes:
            return Suppression("per-file-ignores", f"per-file-ignores {pattern!r} = {', '.join(codes)}")
    loc = f.location
    if policy.ignore_tensors and loc.tensor_name:
        for pattern in policy.ignore_tensors:
            if fnmatchcase(loc.tensor_name, pattern):
                return Suppression("ignore-tensors", f"ignore-tensors {pattern!r} matches tensor {loc.tensor_name!r}")
    if policy.ignore_operators and loc.opcode:
        names = [n for n in (loc.opcode, _custom_name(model, loc.subgraph, loc.operator)) if n]
        for pattern in policy.ignore_operators:
            if hit := next((n for n in names if fnmatchcase(n, pattern)), None):
                return Suppression("ignore-operators", f"ignore-operators {pattern!r} matches operator {hit}")
    return None


def _custom_name(model: Model, subgraph: int | None, operator: int | None) -> str | None:
    if subgraph is None or operator is None or not 0 <= subgraph < len(model.subgraphs):
        return None
    ops = model.subgraphs[subgraph].operators
    op = ops[operator] if 0 <= operator < len(ops) else None
    codes = model.operator_codes
    if op is None or not op.is_custom or not 0 <= op.opcode_index < len(codes):
        return None
    return codes[op.opcode_index].custom_code
