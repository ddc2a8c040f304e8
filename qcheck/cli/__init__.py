"""The `qcheck` command line: argument parsing only; the work happens in the engine and plugins."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence

from qcheck.cli import check, compare, convert, diff, docs
from qcheck.errors import QcheckError
from qcheck.registry import make_registry

# Modules that add subcommands: each has `add_commands(subparsers)` setting `func(args, registry)`.
COMMAND_MODULES = (check, diff, compare, docs, convert)


def build_parser() -> argparse.ArgumentParser:
    from qcheck import __version__

    parser = argparse.ArgumentParser(prog="qcheck", description="Inspect and validate quantized .tflite (LiteRT) models.")
    parser.add_argument("--version", action="version", version=f"qcheck {__version__}")
    parser.add_argument("--disable-plugin", action="append", default=[], metavar="NAME", help="do not load this plugin (repeatable)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        registry = make_registry(blocked=args.disable_plugin)
        return int(args.func(args, registry))
    except QcheckError as e:  # ModelError and UsageError included
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
