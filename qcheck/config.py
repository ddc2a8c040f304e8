"""Project configuration: `[tool.qcheck]` in pyproject.toml, qcheck.toml or .qcheck.toml, found upward as ruff does.

Keys (kebab-case, as in ruff):

    select = ["QC2", "QC301"]          # rule code prefixes or rule names to run (default: the default rules)
    extend-select = ["QC506"]          # added to the selection
    ignore = ["QC5"]                   # removed from it
    expect = "int8-only"               # the scheme every model must have
    targets = ["xnnpack", "ethos-u55"] # --target
    fail-on = "warning"                # lowest severity that fails the run
    format = "sarif"                   # the report format
    jobs = 4                           # worker processes
    baseline = "qcheck-baseline.json"  # findings recorded there are hidden (relative to this file)
    ignore-operators = ["TFLite_Detection_PostProcess"]  # findings at these ops (types or custom names, globs)
    ignore-tensors = ["*/postprocess/*"]                 # findings at tensors with these names (globs)
    rule-docs-url = "https://docs.example.com/qcheck/{code}.html"  # where your rule docs live: SARIF helpUri

    [tool.qcheck.severity]             # per-rule severity overrides (code prefix or rule name)
    QC203 = "error"

    [tool.qcheck.per-file-ignores]     # path globs (relative to this file; no slash: the file name) -> codes
    "legacy/*.tflite" = ["QC2"]

Command-line options override the file. Any unknown key, code, rule name, target, expectation, severity or
format is a UsageError (exit 2) naming the file and line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from qcheck.errors import UsageError
from qcheck.findings import Severity

FILES = (".qcheck.toml", "qcheck.toml", "pyproject.toml")  # in each folder, the first that configures qcheck wins
LISTS = ("select", "extend-select", "ignore", "targets", "ignore-operators", "ignore-tensors")
STRINGS = ("expect", "fail-on", "format", "baseline", "rule-docs-url")
TABLES = ("severity", "per-file-ignores")
KEYS = (*LISTS, *STRINGS, "jobs", *TABLES)


class Value(NamedTuple):
    value: Any
    source: str  # "default", "command line", or "FILE:LINE"


class Config(NamedTuple):
    """A configuration file's validated values (kebab-case keys) and where each sits."""

    path: str | None = None  # None: no file (none found, or --isolated)
    values: Mapping[str, Any] = {}
    lines: Mapping[str, int] = {}  # key -> line number in the file

    def source(self, key: str) -> str:
        return f"{self.path}:{self.lines.get(key, 1)}"


def find(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest configuration file from `start` (the working directory) upward."""
    here = Path(start or os.getcwd()).absolute()
    for folder in (here, *here.parents):
        for name in FILES:
            f = folder / name
            if f.is_file() and (name != "pyproject.toml" or _has_tool_table(f)):
                return f
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return re.search(r"^\s*\[\s*tool\.qcheck\s*[\].]", path.read_text(errors="replace"), re.MULTILINE) is not None
    except OSError:
        return False


def load(path: str | os.PathLike[str], check: Callable[[str, Any], str | None] | None = None) -> Config:
    """Read and validate one file; `check(key, value)` returns why a value is unknown (None: fine)."""
    p = Path(path)
    try:
        text = p.read_text()
        data = tomllib.loads(text)
    except OSError as e:
        raise UsageError(f"{p}: cannot read the configuration: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{p}: not valid TOML: {e}") from None
    section = "tool.qcheck" if p.name == "pyproject.toml" else None
    if section is not None:
        tool = data.get("tool")
        data = tool.get("qcheck", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise UsageError(f"{p}:{_line(text, None, 'qcheck')}: tool.qcheck must be a table, not {data!r}")
    lines = {key: _line(text, section, key) for key in data}
    for key, value in data.items():
        where = f"{p}:{lines[key]}"
        if key not in KEYS:
            raise UsageError(f"{where}: unknown configuration key {key!r} (known: {', '.join(KEYS)})")
        _check_type(where, key, value)
        for item in _items(key, value):
            if check is not None and (why := check(key, item)) is not None:
                raise UsageError(f"{p}:{_line(text, section, key, item)}: {key}: {why}")
    values = dict(data)
    for key in ("select", "extend-select", "ignore"):
        if key in values:
            values[key] = [_code(c) for c in values[key]]
    if "severity" in values:
        values["severity"] = {_code(c): level for c, level in values["severity"].items()}
    if "per-file-ignores" in values:
        values["per-file-ignores"] = {pat: [_code(c) for c in codes] for pat, codes in values["per-file-ignores"].items()}
    base = p.parent.absolute()
    if "baseline" in values:
        values["baseline"] = str(base / values["baseline"])
    if "per-file-ignores" in values:  # patterns with a slash are relative to this file's folder
        values["per-file-ignores"] = {(pat if "/" not in pat else (base / pat).as_posix()): codes
                                      for pat, codes in values["per-file-ignores"].items()}
    return Config(str(p), values, lines)


def _code(selector: str) -> str:
    """Codes in any case, rule names as written (as on the command line)."""
    return selector if "-" in selector else selector.upper()


def _check_type(where: str, key: str, value: Any) -> None:
    ok = {
        **dict.fromkeys(LISTS, lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
        **dict.fromkeys(STRINGS, lambda v: isinstance(v, str)),
        "jobs": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "severity": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "per-file-ignores": lambda v: isinstance(v, dict) and all(isinstance(x, list) and all(isinstance(c, str) for c in x) for x in v.values()),
    }[key]
    if not ok(value):
        want = {"jobs": "a positive integer", "severity": "a table of CODE = \"error\" | \"warning\" | \"info\"",
                "per-file-ignores": "a table of \"GLOB\" = [\"CODE\", ...]"}.get(key, "a list of strings" if key in LISTS else "a string")
        raise UsageError(f"{where}: {key} must be {want}, not {value!r}")


def _items(key: str, value: Any) -> list[Any]:
    """The single values a key names, for the unknown-name check."""
    if key == "severity":
        return [(code, level) for code, level in value.items()]
    if key == "per-file-ignores":
        return [code for codes in value.values() for code in codes]
    return list(value) if isinstance(value, list) else [value]


def _line(text: str, section: str | None, key: str, item: Any = None) -> int:
    """The line of `key` (or of `item` after it) in `text`, within [section] or its sub-tables; 1 if not found."""
    needle = item[0] if isinstance(item, tuple) else item
    start = 0
    if section is not None:
        m = re.search(rf"^[ \t]*\[[ \t]*{re.escape(section)}[ \t]*[\].]", text, re.MULTILINE)
        start = m.start() if m else 0
    table = rf"\[[ \t]*({re.escape(section)}\.)?" if section else r"\[[ \t]*"
    keyed = re.compile(rf"^[ \t]*({table}|\"?){re.escape(key)}\"?[ \t]*[=\]]", re.MULTILINE)
    m = keyed.search(text, start)
    at = m.start() if m else start
    if needle is not None and isinstance(needle, str):
        hit = text.find(needle, at)
        at = hit if hit >= 0 else at
    return text.count("\n", 0, at) + 1


def severity_table(values: Mapping[str, str]) -> tuple[tuple[str, Severity], ...]:
    return tuple((code, Severity.parse(level)) for code, level in values.items())


def merge(config: Config, cli: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Value]:
    """Every key's value and where it came from: the command line (not None) over the file over the default."""
    out: dict[str, Value] = {}
    for key in KEYS:
        if cli.get(key) is not None:
            out[key] = Value(cli[key], "command line")
        elif key in config.values:
            out[key] = Value(config.values[key], config.source(key))
        else:
            out[key] = Value(defaults.get(key), "default")
    return out


def describe(effective: Mapping[str, Value], path: str | None, out: Callable[[str], None], rows: Sequence[str] = KEYS) -> None:
    """`qcheck config`: each key, its value and where it came from."""
    out(f"configuration file: {path or '(none)'}")
    width = max(map(len, rows))
    for key in rows:
        v = effective[key]
        out(f"{key:{width}} = {_toml(v.value)}    # {v.source}")


def _toml(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, Severity):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
