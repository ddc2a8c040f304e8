"""Unusual but valid models, built with ModelBuilder: each must verify without a false ERROR."""

from __future__ import annotations

import struct

import numpy as np

from qcheck.tflite.builder import ModelBuilder

RNG = np.random.default_rng(5)


def fc_block(b: ModelBuilder, x: int, n_in: int, n_out: int, *, subgraph: int = 0, x_scale: float = 0.05, bias: bool = True) -> int:
    """A correctly quantized int8 FULLY_CONNECTED reading tensor `x`; returns its output tensor."""
    w_scale = RNG.uniform(0.002, 0.01, n_out)
    w = b.tensor(f"fc{x}/w", "INT8", [n_out, n_in], data=RNG.integers(-127, 128, (n_out, n_in), dtype=np.int8),
                 scale=w_scale, zero_point=[0] * n_out, subgraph=subgraph)
    ins = [x, w, -1]
    if bias:
        ins[2] = b.tensor(f"fc{x}/b", "INT32", [n_out], data=RNG.integers(-100, 100, n_out, dtype=np.int32),
                          scale=x_scale * w_scale, zero_point=[0] * n_out, subgraph=subgraph)
    y = b.tensor(f"fc{x}/y", "INT8", [1, n_out], scale=0.1, zero_point=-3, subgraph=subgraph)
    b.op("FULLY_CONNECTED", ins, [y], options={"fused_activation_function": "NONE"}, version=9, subgraph=subgraph)
    return y


def int8_input(b: ModelBuilder, name: str, n: int, subgraph: int = 0, **extra: object) -> int:
    return b.tensor(name, "INT8", [1, n], scale=0.05, zero_point=-3, subgraph=subgraph, **extra)  # type: ignore[arg-type]


def while_model() -> ModelBuilder:
    """main: x -> WHILE(cond=1, body=2) -> y; cond compares a counter, body adds."""
    b = ModelBuilder()
    cond, body = b.subgraph("while_cond"), b.subgraph("while_body")
    i = b.tensor("i", "INT32", [], subgraph=0)
    x = int8_input(b, "x", 4)
    i_out = b.tensor("i_out", "INT32", [])
    y = int8_input(b, "y", 4)
    b.op("WHILE", [i, x], [i_out, y], options={"cond_subgraph_index": cond, "body_subgraph_index": body})
    b.io([i, x], [i_out, y])
    ci = b.tensor("ci", "INT32", [], subgraph=cond)
    cx = int8_input(b, "cx", 4, subgraph=cond)
    limit = b.tensor("limit", "INT32", [], data=np.array(3, np.int32), subgraph=cond)
    flag = b.tensor("flag", "BOOL", [], subgraph=cond)
    b.op("LESS", [ci, limit], [flag], subgraph=cond)
    b.io([ci, cx], [flag], subgraph=cond)
    bi = b.tensor("bi", "INT32", [], subgraph=body)
    bx = int8_input(b, "bx", 4, subgraph=body)
    one = b.tensor("one", "INT32", [], data=np.array(1, np.int32), subgraph=body)
    bi2 = b.tensor("bi2", "INT32", [], subgraph=body)
    bx2 = int8_input(b, "bx2", 4, subgraph=body)
    b.op("ADD", [bi, one], [bi2], subgraph=body)
    b.op("ADD", [bx, bx], [bx2], subgraph=body)
    b.io([bi, bx], [bi2, bx2], subgraph=body)
    return b


def if_model() -> ModelBuilder:
    """main: IF(cond, x) with then/else subgraphs that each hold a quantized FULLY_CONNECTED."""
    b = ModelBuilder()
    then, other = b.subgraph("then"), b.subgraph("else")
    c = b.tensor("cond", "BOOL", [1])
    x = int8_input(b, "x", 8)
    y = b.tensor("y", "INT8", [1, 4], scale=0.1, zero_point=-3)
    b.op("IF", [c, x], [y], options={"then_subgraph_index": then, "else_subgraph_index": other})
    b.io([c, x], [y])
    for sg in (then, other):
        bx = int8_input(b, f"x{sg}", 8, subgraph=sg)
        b.io([bx], [fc_block(b, bx, 8, 4, subgraph=sg)], subgraph=sg)
    return b


def signature_only_subgraphs() -> ModelBuilder:
    """Two entry points (train/infer style): subgraph 1 is reached only through its signature."""
    b = ModelBuilder()
    x = int8_input(b, "x", 8)
    y = fc_block(b, x, 8, 4)
    b.io([x], [y])
    sg = b.subgraph("decode")
    x2 = int8_input(b, "x2", 8, subgraph=sg)
    y2 = fc_block(b, x2, 8, 2, subgraph=sg)
    b.io([x2], [y2], subgraph=sg)
    b.signature("encode", {"x": x}, {"y": y}, subgraph=0)
    b.signature("decode", {"x": x2}, {"y": y2}, subgraph=sg)
    return b


def resource_variables() -> ModelBuilder:
    """A streaming state: CALL_ONCE initialises a variable; main reads, updates and assigns it."""
    b = ModelBuilder()
    init = b.subgraph("init")
    h = b.tensor("handle", "RESOURCE", [])
    x = int8_input(b, "x", 4)
    state = int8_input(b, "state", 4)
    new = int8_input(b, "new_state", 4)
    b.op("CALL_ONCE", [], [], options={"init_subgraph_index": init})
    b.op("VAR_HANDLE", [], [h])
    b.op("READ_VARIABLE", [h], [state])
    b.op("ADD", [state, x], [new])
    b.op("ASSIGN_VARIABLE", [h, new], [])
    b.io([x], [new])
    ih = b.tensor("ih", "RESOURCE", [], subgraph=init)
    zeros = b.tensor("zeros", "INT8", [1, 4], data=np.full((1, 4), -3, np.int8), scale=0.05, zero_point=-3, subgraph=init)
    b.op("VAR_HANDLE", [], [ih], subgraph=init)
    b.op("ASSIGN_VARIABLE", [ih, zeros], [], subgraph=init)
    return b


def string_buffer(items: list[bytes]) -> bytes:
    """LiteRT's string tensor layout: count, offsets (count + 1), then the bytes."""
    head = 4 * (len(items) + 2)
    offsets, pos = [], head
    for s in items:
        offsets.append(pos)
        pos += len(s)
    return struct.pack(f"<{len(items) + 2}i", len(items), *offsets, pos) + b"".join(items)


def string_tensors() -> ModelBuilder:
    """A constant STRING vocabulary looked up by an int8 pipeline (GATHER on strings)."""
    b = ModelBuilder()
    vocab = b.tensor("vocab", "STRING", [3], data=string_buffer([b"yes", b"no", b"maybe"]))
    idx = b.tensor("idx", "INT32", [1])
    word = b.tensor("word", "STRING", [1])
    b.op("GATHER", [vocab, idx], [word], options={"axis": 0})
    b.io([idx], [word])
    return b


def dynamic_shapes() -> ModelBuilder:
    """Batch and length left open (shape_signature -1), shapes 1 as the converter writes them."""
    b = ModelBuilder()
    x = int8_input(b, "x", 8, shape_signature=[-1, 8])
    y = fc_block(b, x, 8, 4)
    b.io([x], [y])
    return b


def sparse_densify() -> ModelBuilder:
    """A CSR-sparse FLOAT16 constant expanded by DENSIFY, then DEQUANTIZE to float (MediaPipe style)."""
    b = ModelBuilder()
    values = np.array([1.0, -2.0, 0.5], np.float16)
    sp = b.tensor("w_sparse", "FLOAT16", [2, 4], data=values, sparsity=([0, 1], [], [0, 1]))
    dense16 = b.tensor("w16", "FLOAT16", [2, 4])
    dense = b.tensor("w", "FLOAT32", [2, 4])
    x = b.tensor("x", "FLOAT32", [1, 4])
    y = b.tensor("y", "FLOAT32", [1, 2])
    b.op("DENSIFY", [sp], [dense16])
    b.op("DEQUANTIZE", [dense16], [dense])
    b.op("FULLY_CONNECTED", [x, dense, -1], [y], options={"fused_activation_function": "NONE"})
    b.io([x], [y])
    return b


def custom_and_future_ops() -> ModelBuilder:
    """A custom op and an op code newer than qcheck's table (e.g. from a future converter)."""
    b = ModelBuilder()
    x = int8_input(b, "x", 4)
    c = int8_input(b, "c", 4)
    f = int8_input(b, "f", 4)
    b.op("CUSTOM", [x], [c], custom_code="AcmePostProcess")
    b.opcodes.append((127, 4000, None, 1))  # deprecated field 127 = placeholder, as writers do above 126
    b.op("ADD", [c], [f], opcode_index=len(b.opcodes) - 1)
    b.io([x], [f])
    return b


def empty_subgraphs() -> ModelBuilder:
    """A working main subgraph next to an empty one (no tensors, no operators)."""
    b = ModelBuilder()
    x = int8_input(b, "x", 8)
    b.io([x], [fc_block(b, x, 8, 4)])
    b.subgraph("unused")
    return b


def shared_tensors_and_buffers() -> ModelBuilder:
    """One activation read by three ops; one weight buffer shared by two tensors (deduplicated constants)."""
    b = ModelBuilder()
    x = int8_input(b, "x", 8)
    w_scale = [0.01] * 4
    w1 = b.tensor("w1", "INT8", [4, 8], data=RNG.integers(-127, 128, (4, 8), dtype=np.int8), scale=w_scale, zero_point=[0] * 4)
    shared = b.subgraphs[0].tensors[w1].buffer
    w2 = b.tensor("w2", "INT8", [4, 8], buffer=shared, scale=w_scale, zero_point=[0] * 4)
    outs = []
    for w in (w1, w2, w1):
        y = b.tensor(f"y{len(outs)}", "INT8", [1, 4], scale=0.1, zero_point=-3)
        b.op("FULLY_CONNECTED", [x, w, -1], [y], options={"fused_activation_function": "NONE"}, version=9)
        outs.append(y)
    b.io([x], outs)
    return b


def optional_inputs() -> ModelBuilder:
    """Absent optional inputs (-1): FULLY_CONNECTED without bias."""
    b = ModelBuilder()
    x = int8_input(b, "x", 8)
    b.io([x], [fc_block(b, x, 8, 4, bias=False)])
    return b


def with_and_without_signatures() -> tuple[ModelBuilder, ModelBuilder]:
    models = []
    for sign in (True, False):
        b = ModelBuilder()
        x = int8_input(b, "x", 8)
        y = fc_block(b, x, 8, 4)
        b.io([x], [y])
        if sign:
            b.signature("serving_default", {"input": x}, {"output": y})
        models.append(b)
    return models[0], models[1]
