"""Run .tflite models through ai-edge-litert in a child process with a time limit: a bad model can crash it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# The child: one line of JSON per event on stdout. SIGALRM keeps its default action (terminate), so
# a model that hangs inside native code is stopped too; the parent reads that as a timeout.
_CHILD = r"""
import json, resource, signal, sys
import numpy as np
job = json.loads(sys.stdin.readline())
if job["memory"]:
    resource.setrlimit(resource.RLIMIT_AS, (job["memory"], job["memory"]))
try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError as e:
    print(json.dumps({"event": "unavailable", "message": str(e)}), flush=True)
    sys.exit(0)

def say(**kw):
    print(json.dumps(kw), flush=True)

for i, path in enumerate(job["models"]):
    say(event="begin", i=i)  # a crash from here on is blamed on model i
    signal.alarm(max(1, int(job["timeout"] + 0.999)))
    try:
        it = Interpreter(model_path=path, num_threads=1)
        feeds = None
        if job["inputs"]:
            with np.load(job["inputs"], allow_pickle=False) as f:
                feeds = [f[f"arr_{k}"] for k in range(len(f.files))]
            for d, x in zip(it.get_input_details(), feeds):
                if tuple(d["shape"]) != x.shape:
                    it.resize_tensor_input(d["index"], list(x.shape))
        it.allocate_tensors()
        if job["invoke"]:
            for k, d in enumerate(it.get_input_details()):
                x = feeds[k] if feeds is not None and k < len(feeds) else np.zeros(d["shape"], d["dtype"])
                it.set_tensor(d["index"], x.astype(d["dtype"]))
            it.invoke()
            outs = it.get_output_details()
            arrays = [it.get_tensor(d["index"]) for d in outs]
            # String tensors come back as object arrays: fixed-width bytes keep the file pickle-free.
            np.savez(job["outputs"] + f"{i}.npz", *[a.astype(bytes) if a.dtype == object else a for a in arrays])
            say(event="ok", i=i, names=[d["name"] for d in outs])
        else:
            say(event="ok", i=i, names=[])
    except Exception as e:  # the loader's or a kernel's refusal
        say(event="error", i=i, message=" ".join(str(e).split())[:2000] or type(e).__name__)
    signal.alarm(0)
"""


@dataclass(frozen=True)
class RunResult:
    """What the interpreter made of one model.

    status: "ok"; "error" (the interpreter refused the model, `message` says why); "crash" (the child
    died, e.g. on SIGSEGV); "timeout"; "unavailable" (ai-edge-litert is not installed).
    """

    status: str
    message: str = ""
    outputs: tuple[np.ndarray, ...] = ()
    output_names: tuple[str, ...] = ()
    returncode: int | None = None
    stderr: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_interpreter(path: str | os.PathLike[str], timeout: float = 60.0, *, inputs: Sequence[np.ndarray] | None = None,
                    invoke: bool = True, memory_limit: int | None = None) -> RunResult:
    """Load (and unless `invoke` is False, run) one model in a child process.

    `inputs` feed the model's inputs in order (shapes are resized to them); by default each input
    gets zeros of its declared shape. Outputs come back raw (quantized types stay quantized).
    """
    return run_interpreters([path], timeout, inputs=inputs, invoke=invoke, memory_limit=memory_limit)[0]


def run_interpreters(paths: Sequence[str | os.PathLike[str]], timeout: float = 60.0, *, inputs: Sequence[np.ndarray] | None = None,
                     invoke: bool = True, memory_limit: int | None = None) -> list[RunResult]:
    """`run_interpreter` for many models in one child process, restarted after each crash or timeout."""
    results: dict[int, RunResult] = {}
    with tempfile.TemporaryDirectory(prefix="qcheck-litert-") as tmp:
        feeds = ""
        if inputs is not None:
            feeds = str(Path(tmp) / "inputs.npz")
            np.savez(feeds, *inputs)
        models = [str(Path(p).resolve()) for p in paths]
        start = 0
        while start < len(models):
            job = {"models": models[start:], "timeout": timeout, "inputs": feeds, "invoke": invoke,
                   "outputs": str(Path(tmp) / "out"), "memory": memory_limit}
            results.update(_batch(job, start, timeout, Path(tmp)))
            failed = [i for i, r in results.items() if i >= start and r.status in ("crash", "timeout")]
            if results.get(start) is not None and results[start].status == "unavailable":
                return [results[start]] * len(models)
            start = (max(failed) + 1) if failed else len(models)
    return [results.get(i, RunResult("crash", "the interpreter process ended before reaching this model")) for i in range(len(models))]


def _batch(job: dict[str, object], start: int, timeout: float, tmp: Path) -> dict[int, RunResult]:
    """Run one child over job["models"]; results keyed by absolute model index."""
    count = len(job["models"])  # type: ignore[arg-type]
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(job) + "\n", capture_output=True, text=True,
                              timeout=timeout * count + 30, check=False)
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:  # the child's own alarm did not fire: killed by the parent
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout or ""
        stderr, code = "", None
    out: dict[int, RunResult] = {}
    current = None
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the interpreter's own chatter on stdout
        if event["event"] == "unavailable":
            return {start: RunResult("unavailable", event["message"])}
        i = start + int(event["i"])
        if event["event"] == "begin":
            current = i
        elif event["event"] == "ok":
            out[i] = RunResult("ok", "", _outputs(tmp / f"out{event['i']}.npz") if job["invoke"] else (), tuple(event["names"]), code, stderr)
            current = None
        else:
            out[i] = RunResult("error", event["message"], (), (), code, stderr)
            current = None
    if current is not None:
        timed_out = code is None or code == -signal.SIGALRM
        message = f"no answer within {timeout} s" if timed_out else f"the interpreter process died ({_describe(code)})"
        out[current] = RunResult("timeout" if timed_out else "crash", message, (), (), code, stderr[-4000:])
    return out


def _outputs(path: Path) -> tuple[np.ndarray, ...]:
    with np.load(path, allow_pickle=False) as f:
        return tuple(f[f"arr_{k}"] for k in range(len(f.files)))


def _describe(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"
