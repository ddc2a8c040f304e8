"""Findings: what rules report, as typed frozen values."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from qcheck.tflite.model import Operator, Subgraph, Tensor


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that `--fail-on` can compare."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (choose error, warning or info)") from None

    def __str__(self) -> str:
        return self.name.lower()


class _EmptyDetails(Mapping[str, object]):
    """The shared default of `details`: immutable, and picklable (reports cross --jobs workers)."""

    def __getitem__(self, key: str) -> object:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __reduce__(self) -> str:
        return "NO_DETAILS"  # unpickles as this module's singleton


NO_DETAILS: Mapping[str, object] = _EmptyDetails()


class Location(NamedTuple):
    """Where a finding is: any of subgraph, operator and tensor (None where it does not apply)."""

    subgraph: int | None = None
    operator: int | None = None
    opcode: str | None = None
    tensor: int | None = None
    tensor_name: str | None = None

    @property
    def key(self) -> str:
        """An index-free identity (names, not positions) for baselines and ignores."""
        parts = [f"sg{self.subgraph}" if self.subgraph is not None else "model"]
        if self.opcode:
            parts.append(self.opcode)
        if self.tensor_name:
            parts.append(self.tensor_name)
        elif self.tensor is not None:  # (an unnamed tensor: its index is all that tells it apart)
            parts.append(f"t{self.tensor}")
        return "/".join(parts)

    def sort_key(self) -> tuple[int, int, int]:
        return (
            -1 if self.subgraph is None else self.subgraph,
            -1 if self.operator is None else self.operator,
            -1 if self.tensor is None else self.tensor,
        )

    def __str__(self) -> str:
        parts = []
        if self.subgraph is not None:
            parts.append(f"subgraph {self.subgraph}")
        if self.operator is not None:
            parts.append(f"op {self.operator} {self.opcode or ''}".rstrip())
        elif self.opcode:
            parts.append(self.opcode)
        if self.tensor is not None:
            name = f" '{self.tensor_name}'" if self.tensor_name else ""
            parts.append(f"tensor {self.tensor}{name}")
        return " > ".join(parts) or "model"


MODEL = Location()


def at_op(sg: Subgraph, op: Operator) -> Location:
    """The location of an operator."""
    return Location(sg.index, op.index, op.opcode)


def at_tensor(sg: Subgraph, t: Tensor, op: Operator | None = None) -> Location:
    """The location of a tensor, optionally as seen from the operator that reads or writes it."""
    return Location(sg.index, op.index if op else None, op.opcode if op else None, t.index, t.name)


class Violation(NamedTuple):
    """What a rule yields: where, a one-sentence message with the actual values, a fix hint."""

    where: Location
    message: str
    fix: str | None = None
    details: Mapping[str, object] = NO_DETAILS


class Finding(NamedTuple):
    """A violation stamped with its rule's identity and severity: what reports carry."""

    code: str
    rule: str
    severity: Severity
    message: str
    location: Location
    fix: str | None = None
    details: Mapping[str, object] = NO_DETAILS
    occurrence: int = 0  # n for the n+1-th finding of one rule at the same location key in a model

    @property
    def fingerprint(self) -> str:
        """Unique within a model and stable across re-conversions: code, index-free location, occurrence."""
        import hashlib  # only JSON/SARIF output needs it; kept off the start-up path

        key = f"{self.code}|{self.location.key}" + (f"|{self.occurrence}" if self.occurrence else "")
        return hashlib.sha256(key.encode()).hexdigest()[:16]


class Suppression(NamedTuple):
    """Why a finding is hidden from the verdict (SARIF `suppressions`): a baseline or a configured ignore."""

    source: str  # "baseline", "per-file-ignores", "ignore-operators", "ignore-tensors"
    reason: str  # which entry matched, e.g. "per-file-ignores 'legacy/*' = QC2"
