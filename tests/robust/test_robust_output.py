"""Reports are written atomically: -o never leaves a half-written file, and a failure keeps the old one."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import pytest
from robust_check import SEED_FILES

from qcheck import Reporter, cli, hookimpl
from qcheck.registry import make_registry
from qcheck.reporting import Report

MODELS = [str(p) for p in SEED_FILES]
OLD = b'{"the previous report": true}\n'


class HalfWayReporter:
    """A reporter plugin that writes part of its output, then fails."""

    @hookimpl
    def qcheck_register_reporters(self, register) -> None:  # type: ignore[no-untyped-def]
        def render(reports: Sequence[Report], out: TextIO) -> None:
            out.write('{"models": [' + "x" * 10_000)
            raise RuntimeError("reporter failed half-way")

        register(Reporter("halfway", render, "test reporter that fails"))


@pytest.fixture
def with_halfway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "make_registry", lambda **kw: make_registry(external=False, extra=[HalfWayReporter()], **kw))


def _run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, err.getvalue()


def _assert_untouched(target: Path) -> None:
    assert target.read_bytes() == OLD
    leftovers = [p.name for p in target.parent.iterdir() if p.name != target.name and not p.name.startswith("filler")]
    assert leftovers == [], leftovers  # no temp file left behind


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "report.json"
    path.write_bytes(OLD)
    return path


def test_successful_write_replaces_the_file(target: Path) -> None:
    code, err = _run("verify", *MODELS, "--format", "json", "-o", str(target))
    assert code in (0, 1), err
    assert target.read_bytes().startswith(b"{") and b'"models"' in target.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_reporter_failing_half_way(target: Path, with_halfway: None) -> None:
    code, err = _run("verify", MODELS[0], "--format", "halfway", "-o", str(target))
    assert code == 2 and "reporter failed half-way" in err
    _assert_untouched(target)


@pytest.mark.parametrize("argv", [("verify", MODELS[0], "--format", "json"), ("inspect", MODELS[0], "--format", "json"), ("inspect", MODELS[0])])
def test_unwritable_destination(tmp_path: Path, argv: tuple[str, ...]) -> None:
    """The parent of -o is a regular file (ENOTDIR: fails even for root, unlike chmod)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(OLD)
    code, err = _run(*argv, "-o", str(blocker / "report.json"))
    assert code == 2 and "cannot write" in err and err.count("\n") == 1, err
    assert blocker.read_bytes() == OLD


def test_permission_denied(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root chmod does not stop writes, so the refusal is simulated where the temp file is made."""
    import tempfile

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, err = _run("verify", MODELS[0], "--format", "json", "-o", str(target))
    assert code == 2 and "Permission denied" in err
    _assert_untouched(target)


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_disk_full_simulated(target: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """ENOSPC after part of the report reached the disk, or at fsync."""
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, f: io.BufferedWriter) -> None:
            self.f = f

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.f.write(bytes(data[: len(data) // 2]))
            self.f.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self) -> int:
            return self.f.fileno()

        def writable(self) -> bool:
            return True

        def close(self) -> None:
            self.f.close()

    def full_disk(fd: int, *args: object, **kwargs: object) -> object:
        return Full(real_fdopen(fd, *args, **kwargs))  # type: ignore[arg-type]

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "write":
        monkeypatch.setattr(os, "fdopen", full_disk)
    else:
        monkeypatch.setattr(os, "fsync", no_space)
    code, err = _run("verify", *MODELS, "--format", "json", "-o", str(target))
    assert code == 2 and "No space left on device" in err, err
    _assert_untouched(target)


@contextlib.contextmanager
def _tiny_tmpfs(folder: Path) -> Iterator[bool]:
    """Mount a 64 kB tmpfs on `folder` when this process may (root in a container usually can)."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, check=False).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)


def test_disk_full_on_a_tiny_filesystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A really full file system where one can be mounted; otherwise the same run with ENOSPC at fsync."""
    with _tiny_tmpfs(tmp_path / "tiny") as mounted:
        target = tmp_path / "tiny" / "report.json"
        target.write_bytes(OLD)
        if mounted:
            filler = target.parent / "filler"
            with contextlib.suppress(OSError), open(filler, "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
            filler.write_bytes(filler.read_bytes()[:-8192])  # leave room for a few kB, less than the report
        else:
            monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
        code, err = _run("verify", *MODELS, "--format", "json", "-o", str(target))
        assert code == 2 and "No space left on device" in err, err
        _assert_untouched(target)
