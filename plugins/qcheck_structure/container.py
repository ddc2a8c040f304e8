"""Container rules: the FlatBuffer's own consistency (version, buffers, indices)."""

from __future__ import annotations

from collections.abc import Iterator

from qcheck import Context, Location, Model, Violation, rule
from qcheck.findings import at_op, at_tensor
from qcheck.tflite.schema import ELEMENT_BITS, SCHEMA_VERSION

LITERT_REJECTS = {"runtimes": {"litert": "rejects"}}  # a finding's details: LiteRT refuses the model (qcheck.targets)


@rule("QC001", "unsupported-schema-version")
def unsupported_schema_version(model: Model, ctx: Context) -> Iterator[Violation]:
    """Model.version is not the schema version the runtime accepts (3).

    ## What it checks
    The `version` field of the root `Model` table.

    ## Why it matters
    The interpreter refuses any other value ("Model provided is schema version %d not equal to
    supported version 3"), so the file will not load anywhere.

    ## How to fix
    Re-export the model with a current converter.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`; `schema.fbs` (TFLITE_SCHEMA_VERSION = 3)
    """
    if model.version != SCHEMA_VERSION:
        yield Violation(Location(), f"schema version is {model.version}, the runtime accepts only {SCHEMA_VERSION}", details=LITERT_REJECTS)


@rule("QC002", "no-subgraph")
def no_subgraph(model: Model, ctx: Context) -> Iterator[Violation]:
    """The model has no subgraph, so there is nothing to run.

    ## What it checks
    `Model.subgraphs` is empty.

    ## Why it matters
    The interpreter rejects such a model ("No subgraph in the model").

    ## How to fix
    The file was cut or produced by a broken exporter; convert the model again.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`
    """
    if not model.subgraphs:
        yield Violation(Location(), "the model has no subgraph", details={"runtimes": {"litert": "rejects", "tflm": "crashes"}})


@rule("QC003", "nonempty-sentinel-buffer")
def nonempty_sentinel_buffer(model: Model, ctx: Context) -> Iterator[Violation]:
    """`buffers[0]` holds data, but it must be the empty sentinel.

    ## What it checks
    The first entry of `Model.buffers`.

    ## Why it matters
    Tensors without data point at buffer 0; if it holds bytes, every activation tensor would be
    read as a constant filled with them.

    ## How to fix
    Fix the exporter: buffer 0 is reserved and must stay empty.

    ## References
    - `schema.fbs`, comment on `Model.buffers`
    """
    if model.buffers and model.buffers[0].size:
        yield Violation(Location(), f"buffers[0] holds {model.buffers[0].size} bytes; it must be empty")


@rule("QC004", "buffer-index-out-of-range")
def buffer_index_out_of_range(model: Model, ctx: Context) -> Iterator[Violation]:
    """A tensor or metadata entry points at a buffer that does not exist.

    ## What it checks
    `Tensor.buffer` and `Metadata.buffer` against the length of `Model.buffers`; a model with no
    buffers at all (not even the empty `buffers[0]` that tensors without data point at) is one
    finding.

    ## Why it matters
    Measured with ai-edge-litert 2.3.0 and tflite-micro: an index past a non-empty buffer list
    makes LiteRT refuse the model ("Tensor N specifies out of range buffer") and TFLite Micro
    crash (SIGSEGV); with no buffer list at all LiteRT runs the model, but TFLite Micro still
    reads out of bounds and crashes.

    ## How to fix
    The file is corrupt or was written by a tool that leaves out the sentinel: export it again
    (writers put an empty buffer first).

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc` (ParseTensors); `schema.fbs` (Model.buffers:
      "the 0th entry of this array must be an empty buffer (sentinel)")
    """
    n = len(model.buffers)
    if n == 0 and any(True for _ in model.iter_tensors()):
        yield Violation(Location(), "the model has no buffers, not even the empty buffers[0] sentinel its tensors point at: LiteRT runs "
                                    "it, TFLite Micro reads out of bounds (segfault)", details={"runtimes": {"litert": "runs", "tflm": "crashes"}})
        return
    for sg, t in model.iter_tensors():
        if t.buffer >= n:
            yield Violation(at_tensor(sg, t), f"buffer index {t.buffer} is out of range (the model has {n} buffers): LiteRT refuses the "
                                              "model, TFLite Micro crashes", details={"runtimes": {"litert": "rejects", "tflm": "crashes"}})
    for name, index in model.metadata.items():
        if index >= n:
            yield Violation(Location(), f"metadata {name!r} points at buffer {index}, out of range ({n} buffers)")


@rule("QC005", "buffer-size-mismatch")
def buffer_size_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """A constant tensor's byte length differs from its element count times the element size.

    ## What it checks
    For every tensor with data (dense, fixed-size dtypes): bytes == elements x bits / 8, rounded
    up for the packed types (INT4, UINT4: 2 per byte; INT2: 4 per byte). Sparse tensors are
    skipped (their length follows the sparsity metadata).

    ## Why it matters
    The runtime's verifier rejects such a model; a kernel reading it would run past the data.

    ## How to fix
    Re-export the model; the data or the shape was truncated or edited.

    ## References
    - LiteRT `tflite/core/tools/verifier.cc` (VerifyNumericTensorBuffer)
    """
    for sg, t in model.iter_tensors():
        buf = model.buffer_of(t)
        bits = ELEMENT_BITS.get(t.dtype)
        if buf is None or buf.size == 0 or bits is None or t.sparsity is not None or any(d < 0 for d in t.shape):
            continue
        want = (t.num_elements * bits + 7) // 8
        if buf.size != want:
            # num_elements only says "huge" past 2**63; a hostile shape may have thousands of dimensions.
            need = str(want) if want < 1 << 60 else "more than 2**60"
            shape = list(t.shape) if len(t.shape) <= 16 else f"[{', '.join(map(str, t.shape[:8]))}, ...] ({len(t.shape)} dimensions)"
            yield Violation(at_tensor(sg, t), f"{t.dtype} tensor of shape {shape} needs {need} bytes, its buffer {t.buffer} holds {buf.size}",
                            details={"expected_bytes": want if want < 1 << 60 else None, "actual_bytes": buf.size})


@rule("QC006", "external-buffer-out-of-range")
def external_buffer_out_of_range(model: Model, ctx: Context) -> Iterator[Violation]:
    """A buffer stored outside the FlatBuffer (`offset`/`size`) lies past the end of the file.

    ## What it checks
    Buffers located by `Buffer.offset` and `Buffer.size` (models over 2 GB) must lie inside the file.

    ## Why it matters
    The interpreter rejects the model ("specified an out of range offset"); the file was
    probably truncated, e.g. by an interrupted download.

    ## How to fix
    Download or export the file again and compare its size.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`; `tflite/core/tools/verifier.cc`
    """
    for b in model.buffers:
        if b.problem:
            yield Violation(Location(), f"buffer {b.index}: {b.problem}", details={"buffer": b.index})


@rule("QC007", "variable-tensor-with-data")
def variable_tensor_with_data(model: Model, ctx: Context) -> Iterator[Violation]:
    """A variable tensor (`is_variable`) carries constant data.

    ## What it checks
    Tensors with `is_variable = true` must not point at a buffer with data or an external buffer.

    ## Why it matters
    The loader refuses it: "Tensor %d is a variable tensor with buffer or external buffer".

    ## How to fix
    Initialise state through the graph (e.g. ASSIGN_VARIABLE) rather than through the buffer.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`
    """
    for sg, t in model.iter_tensors():
        if t.is_variable and (model.is_constant(t) or t.external_buffer):
            yield Violation(at_tensor(sg, t), f"variable tensor has data in buffer {t.buffer}")


@rule("QC009", "index-out-of-range")
def index_out_of_range(model: Model, ctx: Context) -> Iterator[Violation]:
    """An operator, subgraph or signature refers to a tensor, operator code or subgraph that does not exist.

    ## What it checks
    Operator inputs (-1 is allowed: an absent optional input), outputs and intermediates;
    subgraph inputs and outputs; signature tensor maps; `opcode_index`; the subgraph indices
    of IF, WHILE, CALL_ONCE and CALL.

    ## Why it matters
    The runtime rejects the model at load time or reads unrelated memory.

    ## How to fix
    The file is corrupt or hand-edited; export it again.

    ## References
    - LiteRT `tflite/core/interpreter_builder.cc`, `tflite/core/tools/verifier.cc`
    """
    nsub = len(model.subgraphs)
    for sg in model.subgraphs:
        n = len(sg.tensors)
        for kind, indices in (("input", sg.inputs), ("output", sg.outputs)):
            bad = [i for i in indices if not 0 <= i < n]
            if bad:
                yield Violation(Location(sg.index), f"subgraph {_out_of_range(kind, bad, n)}")
        for op in sg.operators:
            if op.opcode_index >= len(model.operator_codes):
                yield Violation(at_op(sg, op), f"opcode_index {op.opcode_index} is out of range ({len(model.operator_codes)} operator codes)")
            for kind, indices, allow_absent in (("input", op.inputs, True), ("output", op.outputs, False), ("intermediate", op.intermediates, False)):
                bad = [i for i in indices if not (0 <= i < n or (allow_absent and i == -1))]
                if bad:
                    yield Violation(at_op(sg, op), _out_of_range(kind, bad, n))
            for key, value in op.options.items():
                if (key.endswith("subgraph_index") or key == "subgraph") and not 0 <= int(value) < nsub:  # type: ignore[call-overload]
                    yield Violation(at_op(sg, op), f"{key} {value} is out of range ({nsub} subgraphs)")
    for sig in model.signature_defs:
        if not 0 <= sig.subgraph < nsub:
            yield Violation(Location(), f"signature {sig.key!r} names subgraph {sig.subgraph}, out of range ({nsub} subgraphs)")
            continue
        n = len(model.subgraphs[sig.subgraph].tensors)
        for name, i in (*sig.inputs.items(), *sig.outputs.items()):
            if not 0 <= i < n:
                yield Violation(Location(sig.subgraph), f"signature {sig.key!r} maps {name!r} to tensor {i}, out of range ({n} tensors)")


def _out_of_range(kind: str, bad: list[int], n: int) -> str:
    """One message per index list: a damaged vector of 65,536 indices is one defect, not 65,536."""
    if len(bad) == 1:
        return f"{kind} tensor index {bad[0]} is out of range ({n} tensors)"
    shown = ", ".join(str(i) for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
    return f"{len(bad)} {kind} tensor indices are out of range ({n} tensors): {shown}"


@rule("QC013", "tensor-never-written")
def tensor_never_written(model: Model, ctx: Context) -> Iterator[Violation]:
    """An operator reads a tensor that nothing provides: not a constant, not a model input, not written.

    ## What it checks
    Every tensor a builtin operator reads is a subgraph input, a variable, an empty tensor (no
    elements), a tensor with a buffer of its own (its data is the buffer rules' business), or the
    output of an operator of the same subgraph.
    (Custom ops are not checked: Vela's `ethos-u` op reads scratch tensors that the runtime fills.)

    ## Why it matters
    LiteRT refuses the model before running it ("Input tensor N lacks data", measured with
    ai-edge-litert 2.3.0): the value would be whatever the arena held.

    ## How to fix
    Give the tensor its data, make it a model input, or connect the operator that should write it.

    ## References
    - LiteRT `tflite/core/subgraph.cc` (Invoke: "Input tensor %d lacks data")
    """
    for sg in model.subgraphs:
        written = set(sg.inputs) | set(sg.producers)
        for op in sg.operators:
            if op.is_custom:
                continue  # custom ops may read arena scratch tensors that nothing writes (Vela's ethos-u op does)
            for i in op.inputs:
                t = sg.tensor(i)
                # (a tensor that claims a buffer is the buffer rules' business when its data is missing)
                if t is None or i in written or t.is_variable or t.buffer != 0 or t.num_elements == 0:
                    continue
                written.add(i)  # once per tensor
                yield Violation(at_tensor(sg, t, op), f"{op.opcode} reads tensor {i} '{t.name}', which no operator writes and which is neither a "
                                                      "constant nor a model input: LiteRT refuses to run a model that reads such a tensor", details=LITERT_REJECTS)


@rule("QC014", "negative-dimension")
def negative_dimension(model: Model, ctx: Context) -> Iterator[Violation]:
    """A tensor's `shape` has a negative dimension.

    ## What it checks
    Every entry of `Tensor.shape` is >= 0. Dynamic dimensions belong in `shape_signature` (as
    -1), with `shape` holding a placeholder size (converters write 1).

    ## Why it matters
    LiteRT sizes every tensor from `shape` when it builds the interpreter; a -1 overflows the
    element count and the model is refused ("BytesRequired number of elements overflowed.
    Tensor N is invalidly specified in schema", measured with ai-edge-litert 2.3.0).

    ## How to fix
    Write the static shape in `shape` and the dynamic one in `shape_signature`.

    ## References
    - LiteRT `tflite/util.cc` (BytesRequired), `tflite/core/subgraph.cc` (SetTensorParametersReadWrite);
      `schema.fbs` (Tensor.shape_signature)
    """
    for sg, t in model.iter_tensors():
        if any(d < 0 for d in t.shape):
            yield Violation(at_tensor(sg, t), f"shape {list(t.shape)[:8]} has a negative dimension (dynamic sizes go in shape_signature): "
                                              "LiteRT refuses the model", details=LITERT_REJECTS)
