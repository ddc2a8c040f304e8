"""Built-in plugin: the target profiles of runtimes installed on this machine (litert, xnnpack, tflm) and the QC6xx rules."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

from qcheck import Fact, Rule, Target, hookimpl
from qcheck.findings import Finding
from qcheck.rules import collect
from qcheck.targets import Placed
from qcheck.tflite.model import Model
from qcheck_targets import rules

LITERT_SOURCES = (
    "LiteRT tflite/core/kernels/register.cc (BuiltinOpResolver; ranges checked against the ai-edge-litert 2.3.0 wheel)",
    "LiteRT tflite/core/subgraph.cc (unresolved custom ops, Flex ops, kernel Prepare failures)",
    "the spec rules' findings whose details say LiteRT refuses the model",
)
XNNPACK_SOURCES = ("LiteRT tflite/delegates/xnnpack/xnnpack_delegate.cc (VisitNode and its Visit*Node checks)",
                   "LiteRT tflite/graph_info.cc (PartitionGraphIntoIndependentNodeSubsets)")
GPU_SOURCES = (
    "LiteRT tflite/tools/versioning/gpu_compatibility.cc (commit d6d8577b; line numbers of targets.md §2.1)",
    "LiteRT tflite/delegates/gpu/common/model_builder.cc (GetOpsToReplace, IsAllAllowedTensors; commit e3b6183f)",
    "LiteRT tflite/delegates/gpu/delegate_options.cc (max_delegated_partitions 1), tflite/core/subgraph.cc (static-sized tensors only)",
)
EDGETPU_SOURCES = (
    "coral.ai model requirements (via google-coral/edgetpu#594), the Coral op table mirrored by Axis ARTPEC-7",
    "google-coral/edgetpu issues (targets.md §4; rows the notes call UNCONFIRMED say so in their reasons)",
    "the compiler's single-segment cut (edgetpu#461; targets.md §4.3), checked on the corpus's compiled PoseNet pairs",
)
ETHOSU_SOURCES = (
    "Vela 5.2 `vela --supported-ops-report` (SUPPORTED_OPS.md, the default Regor core) and the regor constraint sources (targets.md §5)",
    "checked op by op against Vela 5.2 on every quantized corpus model (tests/truth/vela_verdicts.json)",
)
NNAPI_SOURCES = (
    "LiteRT tflite/delegates/nnapi/nnapi_delegate.cc (NNAPIDelegateKernel::Validate, at feature level 8: Android 15's)",
    "LiteRT tflite/delegates/nnapi/nnapi_delegate_kernel.h (the feature levels)",
    "LiteRT tflite/delegates/nnapi/nnapi_delegate.h (max_number_delegated_partitions 3)",
)
TFLM_SOURCES = (
    "TFLite Micro python/tflite_micro/python_ops_resolver.cc (checked op by op against the wheel)",
    "TFLite Micro tensorflow/lite/micro/kernels/*.cc Prepare and Eval type checks (tflm_kernels.py)",
    "TFLite Micro micro_allocator.cc, micro_interpreter_graph.cc (no STRING tensors, no resizing)",
    "the spec rules' findings whose details say TFLite Micro refuses or crashes on the model",
)


def _lazy(module: str, function: str = "place") -> Callable[[Model, Mapping[str, object], Sequence[Finding]], Placed]:
    """The profile's `place`, imported on first use: its tables cost start-up time only with --target."""
    def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
        placed: Placed = getattr(importlib.import_module(f"qcheck_targets.{module}"), function)(model, facts, findings)
        return placed

    return place


def _nnapi_level(options: Mapping[str, str]) -> Target:
    """`nnapi:level=1.2`: the delegate on a device of that NNAPI version or feature level."""
    from qcheck_targets import nnapi, nnapi_ops

    levels = dict(zip(("1.0", "1.1", "1.2", "1.3", "5", "6", "7", "8"), nnapi_ops.LEVELS, strict=True))
    if set(options) != {"level"} or options["level"] not in levels:
        raise ValueError(f"bad options {dict(options)}")
    level = levels[options["level"]]
    return NNAPI._replace(summary=f"Android's NNAPI delegate at {nnapi_ops.NAMES[level]}", place=nnapi.profile(level))


def _edgetpu_subgraphs(options: Mapping[str, str]) -> Target:
    """`edgetpu:subgraphs=multiple`: the compiler's experimental `-a` mode, one TPU segment per run of mappable ops."""
    if set(options) != {"subgraphs"} or options["subgraphs"] not in ("one", "multiple"):
        raise ValueError(f"bad options {dict(options)}")
    multiple = options["subgraphs"] == "multiple"
    return EDGETPU._replace(summary=EDGETPU.summary + (" (with -a: several TPU segments)" if multiple else ""),
                            partitioning="all" if multiple else "prefix")


EDGETPU = Target("edgetpu", "Coral Edge TPU compiler: 8-bit only, static shapes, its op table, one TPU segment up to the first op it "
                 "cannot map", _lazy("edgetpu"), sources=(*EDGETPU_SOURCES, *LITERT_SOURCES), delegate=True, partitioning="prefix",
                 judges="litert", configure=_edgetpu_subgraphs, options="subgraphs=one|multiple")
NNAPI = Target("nnapi", "Android's NNAPI delegate at feature level 8: Validate()'s per-op versions, types and conditions, the 3 largest "
               "partitions delegated", _lazy("nnapi"), sources=(*NNAPI_SOURCES, *LITERT_SOURCES), delegate=True,
               partitioning="largest:3", judges="litert", configure=_nnapi_level, options="level=1.0|1.1|1.2|1.3|5|6|7|8")


@hookimpl
def qcheck_register_targets(register: Callable[[Target], None]) -> None:
    register(Target("litert", "LiteRT's builtin CPU kernels, no delegate: op versions, custom and Flex ops, kernel Prepare checks",
                    _lazy("litert"), runtime="ai-edge-litert", sources=LITERT_SOURCES, confirm="litert-builtin",
                    judges="litert"))
    register(Target("xnnpack", "LiteRT's default CPU delegate (QS8 and QU8 on, dynamic FC off): which ops it takes, in how many partitions",
                    _lazy("xnnpack"), runtime="ai-edge-litert", sources=(*XNNPACK_SOURCES, *LITERT_SOURCES), delegate=True,
                    confirm="xnnpack", judges="litert"))
    register(Target("gpu", "LiteRT's GPU delegate (OpenCL/OpenGL): its op checks, and only the largest supported partition delegated",
                    _lazy("gpu"), sources=(*GPU_SOURCES, *LITERT_SOURCES), delegate=True, partitioning="largest:1", judges="litert"))
    register(EDGETPU)
    register(NNAPI)
    for name, module_attr, summary in (
            ("ethos-u55", "place_u55", "Arm Ethos-U55 through Vela 5.2: ops on the NPU, each other op left to the CPU with Vela's reason"),
            ("ethos-u65", "place_u65", "Arm Ethos-U65 through Vela 5.2 (the U55's constraints)"),
            ("ethos-u85", "place_u85", "Arm Ethos-U85 through Vela 5.2: the U55's ops and more (BOOL, comparisons, GATHER, variables)")):
        # (the CPU side of an Ethos-U system is TFLite Micro: findings are judged by what it does)
        register(Target(name, summary, _lazy("ethosu", module_attr), runtime="ethos-u-vela", sources=ETHOSU_SOURCES, delegate=True,
                        judges="tflm"))
    register(Target("tflm", "TFLite Micro's Python interpreter: its op resolver and its kernels' type checks",
                    _lazy("tflm"), runtime="tflite-micro", sources=TFLM_SOURCES, confirm="tflm", judges="tflm"))


@hookimpl
def qcheck_register_rules(register: Callable[[Rule], None]) -> None:
    for r in collect(rules):
        register(r)


# Custom ops that hold a whole compiled partition: the Edge TPU compiler's and Vela's (targets.md §4.3, §5.2).
COMPILED = {"edgetpu-custom-op": "Edge TPU", "ethos-u": "Arm Ethos-U"}


@hookimpl
def qcheck_model_facts(model: Model) -> Mapping[str, object] | None:
    """`compiled_for`: the accelerators an already-compiled model holds partitions for, and what is left for the CPU."""
    names = {oc.index: COMPILED[oc.custom_code] for oc in model.operator_codes if oc.custom_code in COMPILED}
    if not names:
        return None
    out: dict[str, dict[str, int]] = {}
    for sub in model.subgraphs:
        for op in sub.operators:
            kind = names.get(op.opcode_index)
            if kind is not None:
                out.setdefault(kind, {"partitions": 0, "cpu_ops": 0})["partitions"] += 1
    left = sum(1 for sub in model.subgraphs for op in sub.operators if op.opcode_index not in names)
    for entry in out.values():
        entry["cpu_ops"] = left
    return {"compiled_for": out}


def _compiled_phrase(value: object) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return None
    return "; ".join(f"compiled for {kind} ({v['partitions']} partition(s), {v['cpu_ops']} op(s) left for the CPU)"
                     for kind, v in value.items() if isinstance(v, Mapping))


@hookimpl
def qcheck_register_facts(register: Callable[[Fact], None]) -> None:
    register(Fact("compiled_for", "compiled for", _compiled_phrase))
