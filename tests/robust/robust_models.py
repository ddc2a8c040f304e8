"""Random well-formed FlatBuffers with absurd contents (ModelBuilder): they must load and verify."""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

from qcheck.tflite.builder import OPTIONS_OF, ModelBuilder
from qcheck.tflite.options import _FIELDS as OPTION_FIELDS
from qcheck.tflite.schema import ACTIVATION_FUNCTIONS, BUILTIN_OPERATORS, ELEMENT_BITS, TENSOR_TYPES

T = TypeVar("T")

# The ops the spec rules know best, drawn more often than the long tail of BUILTIN_OPERATORS.
COMMON_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "ADD", "SUB", "MUL", "CONCATENATION",
    "AVERAGE_POOL_2D", "MAX_POOL_2D", "SOFTMAX", "LOGISTIC", "TANH", "RESHAPE", "QUANTIZE", "DEQUANTIZE",
    "BATCH_MATMUL", "MEAN", "PAD", "LEAKY_RELU", "HARD_SWISH", "GATHER", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "SVDF", "IF", "WHILE", "CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "DENSIFY", "CUSTOM",
    "EMBEDDING_LOOKUP", "STRIDED_SLICE", "SPLIT", "PRELU", "L2_NORMALIZATION", "RELU", "RELU6",
)
COMMON_TYPES = ("INT8", "UINT8", "INT16", "INT32", "FLOAT32", "FLOAT16", "INT4", "INT64", "STRING", "RESOURCE", "BOOL")
DIMS = (1, 1, 2, 3, 4, 8, 16, 0, -1, 2**31 - 1, 65536, 7)
SCALES = (0.5, 0.1, 1e-3, 1.0 / 128, 0.0, -0.5, float("nan"), float("inf"), float("-inf"), 1e-45, 3.4e38)
ZERO_POINTS = (0, 0, -128, 127, -1, 128, 255, -129, 32767, 2**40, -(2**63))
I32S = (0, 1, -1, 2, 3, 2**31 - 1, -(2**31), 1000)
# Names that break naive printing: rich markup, terminal escapes, newlines, very long, non-ASCII.
HOSTILE_NAMES = ("[/]", "[bold]x[/bold]", "[/red]", "\x1b[2J\x1b]0;title\x07", "a\nb\r\tc", "\x00", "x" * 5000, "名前/ü", "%s%n{}", "")


class Chooser(Protocol):
    """Where choices come from: a seeded `random.Random`, or hypothesis (which can shrink them)."""

    def int(self, lo: int, hi: int) -> int: ...
    def pick(self, items: Sequence[T]) -> T: ...


class RandomChooser:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def int(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)

    def pick(self, items: Sequence[T]) -> T:
        return self.rnd.choice(items)


def _shape(c: Chooser) -> list[int]:
    return [c.pick(DIMS) for _ in range(c.pick((0, 1, 1, 2, 4, 4, 3, 5, 8)))]


def _data(c: Chooser, dtype: str, shape: list[int]) -> bytes | None:
    """Right-sized data when that is small, otherwise a few arbitrary bytes (a size mismatch)."""
    kind = c.int(0, 3)
    if kind == 0:
        return None
    elements = int(np.prod(shape, dtype=object)) if shape else 1
    bits = ELEMENT_BITS.get(dtype, 8)
    if kind < 3 and 0 <= elements <= 4096:
        n = (elements * bits + 7) // 8
        return bytes((i * 37 + c.int(0, 255)) & 0xFF for i in range(n)) if n < 64 else np.full(n, c.int(0, 255), np.uint8).tobytes()
    return bytes(c.int(0, 255) for _ in range(c.int(1, 24)))


def _quant(c: Chooser, shape: list[int]) -> dict[str, object]:
    kind = c.int(0, 4)
    if kind == 0:
        return {}
    n = 1 if kind == 1 or not shape else c.pick((1, 2, 3, max(0, min(shape[0], 16)), max(0, min(shape[-1], 16))))
    q: dict[str, object] = {"scale": [c.pick(SCALES) for _ in range(n)], "quantized_dimension": c.pick((0, 0, 3, len(shape) - 1, -1, 7))}
    if c.int(0, 3):
        q["zero_point"] = [c.pick(ZERO_POINTS) for _ in range(n if c.int(0, 3) else c.int(0, 3))]
    if kind == 4:
        q["details"] = (c.pick((2, 3)), [c.pick(I32S), c.pick((-1, 0, 1, 99)), c.pick((0, 32, -1)), [c.pick((0, 1, -1, 9))]])
    return q


def _options(c: Chooser, opcode: str, subgraphs: int) -> dict[str, object]:
    kind = OPTIONS_OF.get(opcode)
    if kind is None or kind not in OPTION_FIELDS or not c.int(0, 3):
        return {}
    out: dict[str, object] = {}
    for key, _, k, _ in OPTION_FIELDS[kind]:
        if "subgraph" in key:
            out[key] = c.pick((0, 1, subgraphs - 1, subgraphs, 2**31 - 1)) if k == "i32" else c.pick((0, 1, subgraphs, 2**32 - 1))
        elif k == "act":
            out[key] = c.pick(ACTIVATION_FUNCTIONS)
        elif k == "type":
            out[key] = c.pick((None, "INT32", "INT64", "INT8", "FLOAT32"))
        elif k == "bool":
            out[key] = bool(c.int(0, 1))
        elif k == "i8":
            out[key] = c.int(-128, 127)
        elif k == "u32":
            out[key] = c.pick((0, 1, 2**32 - 1))
        elif k == "f32":
            out[key] = c.pick(SCALES)
        else:
            out[key] = c.pick(I32S)
    return out


def _subgraph(c: Chooser, b: ModelBuilder, sg: int, subgraphs: int) -> None:
    n = c.int(0, 10)
    for i in range(n):
        dtype = c.pick(COMMON_TYPES) if c.int(0, 4) else c.pick(TENSOR_TYPES)
        shape = _shape(c)
        extra: dict[str, object] = {}
        if c.int(0, 5) == 0:
            extra["shape_signature"] = [c.pick((-1, d)) for d in shape]
        if c.int(0, 9) == 0:
            extra["is_variable"] = True
        if c.int(0, 12) == 0:
            extra["sparsity"] = ([c.int(-1, 3) for _ in range(c.int(0, 3))], [c.int(-1, 3) for _ in range(c.int(0, 2))], [c.int(0, 2) for _ in range(c.int(0, 3))])
        share = c.int(0, 6) == 0 and len(b.buffers) > 1
        buffer = c.pick((c.int(1, len(b.buffers) - 1), len(b.buffers) + 5, 2**32 - 1)) if share else None
        name = c.pick(HOSTILE_NAMES) if c.int(0, 9) == 0 else f"t{sg}_{i}"
        b.tensor(name, dtype, shape, data=None if share else _data(c, dtype, shape), buffer=buffer, subgraph=sg, **_quant(c, shape), **extra)  # type: ignore[arg-type]

    def some(allow_absent: bool) -> list[int]:
        return [c.pick((-1, n, n + 3, c.int(0, max(0, n - 1)))) if c.int(0, 5) == 0 else c.int(-1 if allow_absent else 0, max(0, n - 1)) for _ in range(c.int(0, 4))]

    for _ in range(c.int(0, 8)):
        opcode = c.pick(COMMON_OPS) if c.int(0, 3) else c.pick(BUILTIN_OPERATORS)
        custom = c.pick((None, "", "MyCustomOp", "TFLite_Detection_PostProcess", *HOSTILE_NAMES)) if opcode == "CUSTOM" else None
        index = None
        if c.int(0, 15) == 0:  # an opcode newer than qcheck's table, or an opcode_index out of range
            b.opcodes.append((127, c.pick((len(BUILTIN_OPERATORS), 300, 2**31 - 1, -5)), None, 1))
            index = c.pick((len(b.opcodes) - 1, len(b.opcodes) + 3))
        b.op(opcode, some(True), some(False), options=_options(c, opcode, subgraphs), version=c.pick((1, 1, 2, 3, 0, -1)),
             custom_code=custom, subgraph=sg, opcode_index=index, intermediates=some(False) if c.int(0, 9) == 0 else ())
    b.io(some(False), some(False), subgraph=sg)


def random_model(c: Chooser) -> bytes:
    """A model whose every field may be absurd, but whose FlatBuffer is well formed."""
    b = ModelBuilder(version=c.pick((3, 3, 3, 0, 2**32 - 1)), description=c.pick((None, "", "x" * 300, *HOSTILE_NAMES)))
    subgraphs = c.pick((1, 1, 1, 2, 3))
    for _ in range(subgraphs - 1):
        b.subgraph(c.pick(("cond", "body", "", *HOSTILE_NAMES)))
    for sg in range(subgraphs):
        _subgraph(c, b, sg, subgraphs)
    if c.int(0, 4) == 0:
        n = len(b.subgraphs[0].tensors)
        b.signature(c.pick(("serving_default", "")), {"x": c.pick((0, n, -1 & 0xFFFFFFFF))}, {"y": c.int(0, max(0, n))}, subgraph=c.pick((0, subgraphs - 1, subgraphs)))
    if c.int(0, 4) == 0:
        b.metadata("min_runtime_version", c.pick((b"1.5.0\0\0\0\0\0\0\0\0\0\0\0", b"\xff\xfe", b"", b"9" * 100)))
    if c.int(0, 5) == 0:
        b.metadata("CONVERSION_METADATA", c.pick((b"", b"\0" * 8, struct.pack("<I", 4) + b"\xff" * 12, bytes(range(64)))))
    if c.int(0, 20) == 0:
        b.subgraphs = []  # no subgraph at all
    return b.build(external=c.int(0, 15) == 0)
