"""The `qcheck` command line: argument parsing only; the work happens in the engine and plugins."""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from qcheck.errors import ModelError, QcheckError, UsageError
from qcheck.findings import Severity
from qcheck.registry import make_registry

# Modules that add subcommands: each has `add_commands(subparsers)` setting `func(args, registry)`.
COMMAND_MODULES: tuple[str, ...] = ("qcheck.commands", "qcheck.convert_commands")


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def build_parser() -> argparse.ArgumentParser:
    from qcheck import __version__

    parser = argparse.ArgumentParser(prog="qcheck", description="Inspect and validate quantized .tflite (LiteRT) models.")
    parser.add_argument("--version", action="version", version=f"qcheck {__version__}")
    parser.add_argument("--disable-plugin", action="append", default=[], metavar="NAME", help="do not load this plugin (repeatable)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for modname in COMMAND_MODULES:
        importlib.import_module(modname).add_commands(sub)
    return parser


def add_output_options(p: argparse.ArgumentParser, formats_help: str = "console or json") -> None:
    p.add_argument("--format", default="console", help=f"output format: {formats_help} (default: console)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")


def add_selection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated rule code prefixes to run (e.g. QC2,QC301)")
    p.add_argument("--ignore", type=_codes, default=(), metavar="CODES", help="comma-separated rule code prefixes to skip")
    p.add_argument("--fail-on", type=Severity.parse, default=Severity.ERROR, metavar="SEVERITY",
                   help="lowest severity that makes the exit status 1: error, warning or info (default: error)")
    p.add_argument("--expect", metavar="SCHEME", help="the quantization the model must have, e.g. int8-only (see 'qcheck rules')")


def emit(args: argparse.Namespace, write: Callable[[TextIO], None] | str) -> None:
    """Send output to -o FILE (rendered fully, then written atomically) or straight to stdout."""
    if getattr(args, "output", None):
        from qcheck.fsutil import atomic_write  # (tempfile: only when writing a file)

        buf = io.StringIO()
        buf.write(write) if isinstance(write, str) else write(buf)
        atomic_write(args.output, buf.getvalue().encode())
    elif isinstance(write, str):
        sys.stdout.write(write)
    else:
        write(sys.stdout)
    sys.stdout.flush()


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files as given; directories searched recursively for *.tflite, in sorted order."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(sorted(str(f) for f in Path(p).rglob("*.tflite") if f.is_file()))
        else:
            out.append(p)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        registry = make_registry(blocked=args.disable_plugin)
        return int(args.func(args, registry))
    except (QcheckError, ModelError, UsageError) as e:
        print(f"qcheck: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Reading side closed early (e.g. `| head`): not an error worth a traceback.
        try:
            sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"))  # noqa: SIM115 - lives until exit
        except OSError:
            pass
        return 0
    except Exception as e:
        if args.debug:
            raise
        print(f"qcheck: internal error: {type(e).__name__}: {e} (run with --debug for a traceback)", file=sys.stderr)
        return 2


def dump_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
