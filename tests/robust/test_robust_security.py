"""Security: no network, no pickle, and no file named inside a model is ever opened."""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import robust_craft as craft
from robust_check import ROOT, SEED_FILES

import qcheck
from qcheck import cli, inspection

PRODUCT = sorted((ROOT / "qcheck").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py"))
NETWORK_MODULES = {"socket", "ssl", "http", "urllib", "urllib3", "requests", "httpx", "ftplib", "smtplib", "xmlrpc", "aiohttp", "websocket"}


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno


def _calls(path: Path, names: set[str]) -> Iterator[ast.Call]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            dotted = f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else getattr(f, "id", "")
            if dotted in names:
                yield node


# The one place allowed to touch the network, only on the user's request: `qcheck compare --ray HOST:PORT`
# checks that the cluster the user named answers, before handing it to Ray (which retries for minutes).
NETWORK_ALLOWED = {("qcheck/compare/execute.py", "socket")}


def test_product_code_imports_no_network_or_pickle_module() -> None:
    bad = [f"{p.relative_to(ROOT)}:{line} imports {mod}" for p in PRODUCT for mod, line in _imports(p)
           if mod.split(".")[0] in NETWORK_MODULES | {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal"}
           and (str(p.relative_to(ROOT)), mod) not in NETWORK_ALLOWED]
    assert not bad, bad
    execute = (ROOT / "qcheck/compare/execute.py").read_text()
    assert execute.count("socket.create_connection(") == 1 and "if started and address:" in execute  # --ray ADDRESS only


def test_numpy_files_are_loaded_without_pickle() -> None:
    """Product code says allow_pickle=False explicitly; nothing anywhere in the repository turns it on."""
    loads = {"np.load", "numpy.load"}
    for p in PRODUCT:
        for call in _calls(p, loads):
            flags = {k.arg: k.value for k in call.keywords}
            value = flags.get("allow_pickle")
            assert isinstance(value, ast.Constant) and value.value is False, f"{p.relative_to(ROOT)}:{call.lineno} np.load without allow_pickle=False"
    everywhere = [p for folder in ("qcheck", "plugins", "tests", "bench", "fixtures") for p in (ROOT / folder).rglob("*.py")]
    for p in everywhere:
        for call in _calls(p, loads):
            value = {k.arg: k.value for k in call.keywords}.get("allow_pickle")
            assert not (isinstance(value, ast.Constant) and value.value), f"{p.relative_to(ROOT)}:{call.lineno} loads pickles"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way to reach the network raises (and is recorded)."""
    attempts: list[str] = []

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def call(*args: object, **kwargs: object) -> None:
            attempts.append(f"{name}{args[:2]}")
            raise OSError(f"network access attempted: {name}")
        return call

    for name in ("connect", "connect_ex", "bind", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse(name))
    return attempts


def _cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue() + err.getvalue()


def test_no_network_in_any_command(no_network: list[str], tmp_path: Path) -> None:
    models = [str(p) for p in SEED_FILES]
    code, text = _cli("verify", *models, "--format", "json", "-o", str(tmp_path / "r.json"))
    assert code in (0, 1), text
    for argv in (("inspect", models[0], "--format", "json"), ("inspect", models[-1]), ("rules",), ("rules", "--format", "json"),
                 ("rule", "QC001"), ("plugins",), ("verify", models[0], "--select", "QC0")):
        code, text = _cli(*argv)
        assert code in (0, 1), (argv, text)
    qcheck.verify(models[0], registry=qcheck.registry.make_registry(external=True))  # entry points too
    assert no_network == []


@contextlib.contextmanager
def tracking_opens() -> Iterator[list[str]]:
    """Records every file path opened meanwhile (builtins/io open, os.open)."""
    paths: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def tracked_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, (str, bytes, os.PathLike)):
            paths.append(os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    def tracked_os_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        paths.append(os.fsdecode(path))
        return real_os_open(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", tracked_open)
        mp.setattr(io, "open", tracked_open)
        mp.setattr(os, "open", tracked_os_open)
        yield paths


def test_external_buffer_group_paths_are_never_opened(tmp_path: Path, registry: object) -> None:
    """qcheck does not follow Model.external_buffer_groups at all: it neither opens the named
    files (next to the model or elsewhere) nor reports their contents."""
    secret = tmp_path / "weights.bin"
    secret.write_bytes(b"\x7f" * 16)
    model = tmp_path / "model.tflite"
    model.write_bytes(craft.external_buffer_groups([str(secret), "weights.bin", "../../../etc/passwd", "/dev/zero"]))
    with tracking_opens() as opened:
        report = qcheck.verify(model, registry=registry)  # type: ignore[arg-type]
        code, text = _cli("inspect", str(model), "--format", "json")
        inspection.describe(qcheck.load(model), str(model))
    assert code == 0, text
    assert qcheck.load(model).main.tensors[0].external_buffer == 1  # the reference is read, not followed
    assert not [f for f in report.findings if f.code == "QC900"]
    # Besides the model, only Python's own files (lazy imports, package metadata) may be read.
    python = tuple(str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, ROOT})
    others = {str(Path(p).resolve()) for p in opened} - {str(model.resolve())}
    assert [p for p in others if not p.startswith(python)] == [], others
    assert str(model.resolve()) in {str(Path(p).resolve()) for p in opened}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("out", [io.StringIO, _Terminal], ids=["pipe", "terminal"])
def test_hostile_names_are_printed_inert(out: type[io.StringIO], registry: object) -> None:
    """Rich markup in a tensor name used to crash `inspect` (MarkupError); terminal escape sequences
    in names and custom codes reached the terminal raw. Both are shown literally now."""
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder(description="[/bold]")
    x = b.tensor("[/]x[bold]\x1b]0;pwned\x07", "INT8", [1], scale=0.5)
    y = b.tensor("[link=http://evil.example]y[/link]\x1b[2J", "INT8", [1], scale=0.0)
    b.op("CUSTOM", [x], [y], custom_code="[/red]\x1b[31mEVIL")
    b.io([x], [y])
    b.subgraph("\x1b[8mhidden[/]")
    data = b.build()
    screens = []
    inspect_out = out()
    inspection.render(qcheck.load(data), "[/]model.tflite", inspect_out)
    screens.append(inspect_out.getvalue())
    report = qcheck.verify(data, registry=registry)  # type: ignore[arg-type]
    for name in ("console", "json"):
        text = out()
        registry.reporters[name].render([report], text)  # type: ignore[attr-defined]
        screens.append(text.getvalue())
    for screen in screens:
        for attack in ("\x1b]0;pwned", "\x1b[2J", "\x1b[31mEVIL", "\x1b[8m", "\x07"):
            assert attack not in screen
    assert "[/]x[bold]" in screens[0] and "[/red]" in screens[1]  # shown, not interpreted
