"""Run .tflite models through LiteRT or TFLite Micro in a child process with a time limit: a bad model can crash it."""

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
    if job["runtime"] == "tflm":
        from tflite_micro.python.tflite_micro import runtime as tflm
    else:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
except ImportError as e:
    print(json.dumps({"event": "unavailable", "message": str(e)}), flush=True)
    sys.exit(0)

def say(**kw):
    print(json.dumps(kw), flush=True)

def micro(i, path):
    # TFLite Micro: the reasons go to native stderr, which the parent splits at these markers.
    it = tflm.Interpreter.from_file(path, arena_size=job["arena"])
    if job["invoke"]:
        for k in range(job["inputs_of"][i]):
            d = it.get_input_details(k)
            it.set_input(np.zeros(d["shape"], d["dtype"]), k)
        it.invoke()
        arrays = [it.get_output(k) for k in range(job["outputs_of"][i])]
        np.savez(job["outputs"] + f"{i}.npz", *arrays)
    say(event="ok", i=i, names=[])

def placement(i, path):
    # Which ops of subgraph 0 XNNPACK takes (targets.md 1.3): unfused, every delegated op becomes its
    # own DELEGATE node, matched to the op that produces its outputs (by inputs when it has none).
    it = Interpreter(model_path=path, num_threads=1, experimental_disable_delegate_node_fusion=True)
    it.allocate_tensors()
    ops = it._get_ops_details()
    orig = [d for d in ops if d["op_name"] != "DELEGATE"]
    producer = {int(t): d["index"] for d in orig for t in d["outputs"]}
    on = set()
    for d in (d for d in ops if d["op_name"] == "DELEGATE"):
        found = {producer[int(t)] for t in d["outputs"] if int(t) in producer}
        if not found:
            ins = frozenset(int(t) for t in d["inputs"] if t >= 0)
            found = set(sorted(x["index"] for x in orig if x["index"] not in on
                               and frozenset(int(t) for t in x["inputs"] if t >= 0) == ins)[:1])
        on |= found
    fused = Interpreter(model_path=path, num_threads=1)
    fused.allocate_tensors()
    parts = sum(d["op_name"] == "DELEGATE" for d in fused._get_ops_details())
    say(event="ok", i=i, names=[], delegated=sorted(on), partitions=parts, operators=len(orig))

for i, path in enumerate(job["models"]):
    say(event="begin", i=i)  # a crash from here on is blamed on model i
    sys.stderr.write(f"@@qcheck-model {i}\n")
    sys.stderr.flush()
    signal.alarm(max(1, int(job["timeout"] + 0.999)))
    try:
        if job["runtime"] == "tflm":
            micro(i, path)
            signal.alarm(0)
            continue
        if job["runtime"] == "xnnpack":
            placement(i, path)
            signal.alarm(0)
            continue
        resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if job["runtime"] == "litert-builtin" else OpResolverType.AUTO
        it = Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=resolver)
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
    died, e.g. on SIGSEGV); "timeout"; "unavailable" (the runtime is not installed). `stderr` holds
    what the runtime printed natively while on this model (TFLite Micro's reasons are only there).
    """

    status: str
    message: str = ""
    outputs: tuple[np.ndarray, ...] = ()
    output_names: tuple[str, ...] = ()
    returncode: int | None = None
    stderr: str = field(default="", repr=False)
    # runtime "xnnpack" only: the operators of subgraph 0 XNNPACK delegated, and into how many partitions
    delegated: tuple[int, ...] = ()
    partitions: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# LiteRT with its default delegate (XNNPACK), its builtin kernels only, TFLite Micro; and "xnnpack":
# load only, and tell which operators the default XNNPACK delegate took (RunResult.delegated).
RUNTIMES = ("litert", "litert-builtin", "tflm", "xnnpack")


def run_interpreter(path: str | os.PathLike[str], timeout: float = 60.0, *, inputs: Sequence[np.ndarray] | None = None,
                    invoke: bool = True, memory_limit: int | None = None, runtime: str = "litert") -> RunResult:
    """Load (and unless `invoke` is False, run) one model in a child process.

    `inputs` feed the model's inputs in order (shapes are resized to them; LiteRT only); by default
    each input gets zeros of its declared shape. Outputs come back raw (quantized types stay quantized).
    """
    return run_interpreters([path], timeout, inputs=inputs, invoke=invoke, memory_limit=memory_limit, runtime=runtime)[0]


def run_interpreters(paths: Sequence[str | os.PathLike[str]], timeout: float = 60.0, *, inputs: Sequence[np.ndarray] | None = None,
                     invoke: bool = True, memory_limit: int | None = None, runtime: str = "litert") -> list[RunResult]:
    """`run_interpreter` for many models in one child process, restarted after each crash or timeout."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r} (choose from: {', '.join(RUNTIMES)})")
    results: dict[int, RunResult] = {}
    with tempfile.TemporaryDirectory(prefix="qcheck-litert-") as tmp:
        feeds = ""
        if inputs is not None:
            feeds = str(Path(tmp) / "inputs.npz")
            np.savez(feeds, *inputs)
        models = [str(Path(p).resolve()) for p in paths]
        io_counts = _io_counts(models) if runtime == "tflm" else ([], [])
        start = 0
        while start < len(models):
            job = {"models": models[start:], "timeout": timeout, "inputs": feeds, "invoke": invoke, "runtime": runtime,
                   "outputs": str(Path(tmp) / "out"), "memory": memory_limit, "arena": 64 << 20,
                   "inputs_of": io_counts[0][start:], "outputs_of": io_counts[1][start:]}
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
    native = _split_stderr(stderr, start)
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
            arrays = _outputs(tmp / f"out{event['i']}.npz") if job["invoke"] and job["runtime"] != "xnnpack" else ()
            out[i] = RunResult("ok", "", arrays, tuple(event["names"]), code, native.get(i, ""),
                               tuple(event.get("delegated", ())), int(event.get("partitions", 0)))
            current = None
        else:
            out[i] = RunResult("error", event["message"], (), (), code, native.get(i, ""))
            current = None
    if current is not None:
        timed_out = code is None or code == -signal.SIGALRM
        message = f"no answer within {timeout} s" if timed_out else f"the interpreter process died ({_describe(code)})"
        out[current] = RunResult("timeout" if timed_out else "crash", message, (), (), code, native.get(current, stderr)[-4000:])
    return out


def _split_stderr(stderr: str, start: int) -> dict[int, str]:
    """The child's stderr cut at its per-model markers: what the runtime printed natively for each model."""
    out: dict[int, str] = {}
    for chunk in stderr.split("@@qcheck-model ")[1:]:
        head, _, text = chunk.partition("\n")
        if head.isdigit():
            out[start + int(head)] = text
    return out


def _io_counts(models: Sequence[str]) -> tuple[list[int], list[int]]:
    """Inputs and outputs of each model's first subgraph (TFLite Micro's Python API cannot tell)."""
    from qcheck.errors import ModelError
    from qcheck.tflite.reader import load

    ins, outs = [], []
    for path in models:
        try:
            main = load(path).subgraphs[0]
            ins.append(len(main.inputs))
            outs.append(len(main.outputs))
        except (ModelError, IndexError):
            ins.append(0)
            outs.append(0)
    return ins, outs


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
