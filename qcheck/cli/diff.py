"""`qcheck diff OLD NEW`: what changed between two versions of a model, and whether that fails the run."""

from __future__ import annotations

import argparse
from typing import Any

from qcheck.cli import common
from qcheck.errors import UsageError
from qcheck.modeldiff import CATEGORIES, Change, changed, match, model_changes
from qcheck.registry import Registry
from qcheck.reporting import Report


def _categories(text: str) -> tuple[str, ...]:
    names = tuple(c.strip() for c in text.split(",") if c.strip())
    if bad := [c for c in names if c not in CATEGORIES]:
        raise argparse.ArgumentTypeError(f"unknown change {bad[0]!r} (choose from: {', '.join(CATEGORIES)})")
    return names


def add_commands(sub: Any) -> None:
    p = sub.add_parser("diff", help="what changed between two versions of a model: ops, tensors, quantization, weights, findings")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--rtol", type=float, default=1e-6, metavar="X", help="relative scale change to report (default 1e-6)")
    p.add_argument("--target", action="append", default=[], metavar="NAME", help="also compare where each op runs on this target")
    p.add_argument("--fail-on-change", type=_categories, default=(), metavar="KINDS",
                   help=f"exit 1 when the diff has changes of these kinds (comma-separated: {', '.join(CATEGORIES)})")
    p.add_argument("--format", default="console", choices=("console", "json", "markdown", "html"), help="output format (default: console)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the diff to FILE (atomically) instead of stdout")
    p.set_defaults(func=run_diff)


def _verdict_changes(ra: Report, rb: Report, old_ops: dict[int, tuple[int, str]]) -> list[Change]:
    """Scheme, findings (by fingerprint) and, per target, the verdict and each matched op's placement."""
    out = []
    if ra.headline != rb.headline:
        out.append(changed("scheme", "model", "", ra.headline, rb.headline))
    before, after = {f.fingerprint: f for f in ra.findings}, {f.fingerprint: f for f in rb.findings}
    for fp, f in after.items():
        if fp not in before:
            out.append(Change("new-errors" if f.severity.name == "ERROR" else "findings", str(f.location), f"new {f.code} {f.severity}: {f.message}"))
    out += [Change("findings", str(f.location), f"fixed {f.code} {f.severity}: {f.message}") for fp, f in before.items() if fp not in after]
    for name, a in ra.targets.items():
        b = rb.targets.get(name)
        if b is None:
            continue
        if a.verdict != b.verdict:
            out.append(changed("placement", name, "verdict", a.verdict, b.verdict))
        where_b = {(p.subgraph, p.operator): p for p in b.ops}
        for p in a.ops:
            j = old_ops.get(p.operator) if p.subgraph == 0 else None
            q = where_b.get((0, j[0])) if j else None
            if q is not None and q.placement != p.placement:
                why = f" ({q.reasons[0].rule}: {q.reasons[0].message})" if q.reasons else ""
                out.append(changed("placement", f"{name} op {p.operator} {p.opcode} -> op {q.operator}", "", p.placement, q.placement, note=why.strip()))
    return out


def run_diff(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck.engine import Settings, check_settings, verify_model
    from qcheck.targetfile import target_names
    from qcheck.tflite.reader import load

    settings = Settings(targets=target_names(registry, args.target))
    check_settings(registry, settings)
    if not args.rtol >= 0:
        raise UsageError(f"--rtol must be 0 or more, not {args.rtol}")
    old, new = load(args.old), load(args.new)
    changes, how = model_changes(old, new, args.rtol)
    ops = match(old.main, new.main).ops if old.subgraphs and new.subgraphs else {}
    changes += _verdict_changes(verify_model(old, registry, settings, args.old), verify_model(new, registry, settings, args.new), ops)
    failing = sorted({c.category for c in changes} & set(args.fail_on_change))
    data = {"old": args.old, "new": args.new, "matching": how, "changes": [c._asdict() for c in changes],
            "counts": {k: sum(1 for c in changes if c.category == k) for k in CATEGORIES}, "fail_on_change": list(args.fail_on_change),
            "failing": failing}
    if args.format == "json":
        common.emit(args, common.dump_json(data))
    else:
        from qcheck import diffview

        view = {"console": diffview.console, "markdown": diffview.markdown, "html": diffview.html_page}[args.format]
        common.emit(args, lambda out: view(data, out))
    return 1 if failing else 0
