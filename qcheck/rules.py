"""Rules: pure functions over a Model, with their code, name, severity and docs as metadata."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from qcheck.findings import Severity, Violation

if TYPE_CHECKING:
    from qcheck.tflite.model import Model

CODE_RE = re.compile(r"^[A-Z]{1,4}[0-9]{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Context(NamedTuple):
    """What a rule may read besides the model: the plugins' facts and what the user expects."""

    facts: Mapping[str, Any] = MappingProxyType({})  # what qcheck_model_facts returned, by key
    expect: str | None = None  # the --expect name the user demands (see qcheck_register_expectations)
    # --target: the targets asked for, by name; rules made with `needs_targets` see each one's verdict here
    targets: Mapping[str, Any] = MappingProxyType({})  # name -> qcheck.targets.TargetResult (or None before placement)
    # qcheck compare: rules made with `needs_comparison` see (qcheck.compare.Comparison, its Thresholds) here
    comparison: Any = None


CheckFn = Callable[["Model", Context], Iterable[Violation]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered check. Its docstring (of `check`) is its documentation."""

    code: str
    name: str
    check: CheckFn
    severity: Severity = Severity.ERROR
    default: bool = True  # part of the default selection
    # Runs after the target profiles placed the model's operators (Context.targets holds their
    # results), and only when targets are asked for: the target rule family.
    needs_targets: bool = False
    # Runs only in `qcheck compare`, over the quantized model, with Context.comparison set: the QC7xx family.
    needs_comparison: bool = False
    # The default fix hint of its findings, taken from the docs once, when the rule is made.
    fix: str | None = field(init=False, default=None, compare=False)

    def __post_init__(self) -> None:
        if not CODE_RE.match(self.code):
            raise ValueError(f"rule code {self.code!r} must be 1-4 capital letters and 3 digits")
        if not NAME_RE.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be kebab-case")
        object.__setattr__(self, "fix", fix_hint(self.doc))

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


def fix_hint(doc: str) -> str | None:
    """The first paragraph of a rule's "## How to fix" section, on one line."""
    m = re.search(r"^## How to fix[ \t]*\n(.*?)(?:\n[ \t]*\n|\n## |\Z)", doc, re.DOTALL | re.MULTILINE)
    text = " ".join(m.group(1).split()) if m else ""
    return text or None


def rule(code: str, name: str, *, severity: Severity = Severity.ERROR, default: bool = True,
         needs_targets: bool = False, needs_comparison: bool = False) -> Callable[[CheckFn], Rule]:
    """Decorator turning a check function into a Rule."""

    def wrap(fn: CheckFn) -> Rule:
        return Rule(code, name, fn, severity, default, needs_targets, needs_comparison)

    return wrap


def collect(module: ModuleType) -> list[Rule]:
    """Every Rule defined in `module`, in definition order."""
    return [v for v in vars(module).values() if isinstance(v, Rule)]


def matches(code: str, prefixes: Iterable[str]) -> int:
    """Length of the longest prefix in `prefixes` that `code` starts with (0: none)."""
    return max((len(p) for p in prefixes if code.startswith(p)), default=0)


def selected(code: str, select: Iterable[str] | None, ignore: Iterable[str]) -> bool:
    """ruff/flake8 selection: the most specific prefix wins; ignore beats select at equal length."""
    sel = matches(code, select) if select is not None else 0
    ign = matches(code, ignore)
    if select is not None and sel == 0:
        return False
    return sel > ign or (select is None and ign == 0)
