"""What the subcommands share: output and selection options, atomic output, folder expansion."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from qcheck.findings import Severity


def severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as e:  # argparse would print only "invalid severity value"
        raise argparse.ArgumentTypeError(str(e)) from None


def codes(text: str) -> tuple[str, ...]:
    """Code prefixes (upper-cased) or rule names (kebab-case, kept as written)."""
    return tuple(c.strip() if "-" in c else c.strip().upper() for c in text.split(",") if c.strip())


def add_output_options(p: argparse.ArgumentParser, formats_help: str = "console or json") -> None:
    p.add_argument("--format", default="console", help=f"output format: {formats_help} (default: console)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")


@contextmanager
def output(args: argparse.Namespace) -> Iterator[TextIO]:
    """Where a streamed report goes: -o FILE (a temp file put in place only if all goes well) or stdout."""
    if getattr(args, "output", None):
        from qcheck.fsutil import atomic_text

        with atomic_text(args.output) as f:
            yield f
    else:
        yield sys.stdout
        sys.stdout.flush()


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


def dump_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
