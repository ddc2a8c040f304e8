"""Mutations of valid .tflite files aimed at their FlatBuffer structure, plus plain byte damage."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

from robust_walk import FileMap, Point, walk

# Values that break 32-bit arithmetic: sign flips, overflow when multiplied by 4 or 8, all ones.
NASTY_U32 = (0, 1, 2, 3, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0x40000000, 0x20000000, 0x3FFFFFFF, 0x10000)
NASTY_FLOATS = (float("nan"), float("inf"), float("-inf"), -1.0, 0.0, -0.0, 1e-45, 3.4e38, -3.4e38, 1e-38)


@dataclass(frozen=True)
class Seed:
    """A valid model and its structural map."""

    name: str
    data: bytes
    map: FileMap

    @classmethod
    def of(cls, name: str, data: bytes) -> Seed:
        return cls(name, data, walk(data))


def _put(b: bytearray, pos: int, fmt: str, value: object) -> None:
    """Write `value` at `pos` when it fits (mutations near the end of a file may not)."""
    size = struct.calcsize(fmt)
    if 0 <= pos and pos + size <= len(b):
        struct.pack_into(fmt, b, pos, value)


def _pick(rnd: random.Random, points: list[Point]) -> Point | None:
    return rnd.choice(points) if points else None


def truncate(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Cut the file at a structural boundary (or just around it)."""
    p = _pick(rnd, s.map.points)
    cut = max(0, min(len(b), (p.pos if p else 0) + rnd.choice((0, 0, 1, -1, 2, 4, p.width if p else 0))))
    del b[cut:]
    return f"truncate@{cut}"


def retarget(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Point an offset past the end, at itself, at another table or vector, or at its own table."""
    p = _pick(rnd, s.map.of("uoffset"))
    if p is None:
        return "noop"
    other = rnd.choice(s.map.points).pos
    choice = rnd.randrange(6)
    value = (len(b) - p.pos + rnd.choice((0, 1, 4, 1 << 20)), 0, other - p.pos, rnd.choice(NASTY_U32),
             (other - p.pos) & ~3, rnd.randrange(-64, 64))[choice]
    _put(b, p.pos, "<I", value & 0xFFFFFFFF)
    return f"retarget:{p.what}@{p.pos}={value}"


def vtable(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Damage a vtable or the soffset that leads to it: self-reference, odd sizes, huge lengths."""
    p = _pick(rnd, s.map.of("table", "vtable", "vfield"))
    if p is None:
        return "noop"
    k = rnd.randrange(7)
    if p.kind == "table":
        value = (0, 4, -4, -(len(b)), len(b), 0x7FFFFFFF, -0x80000000)[k]
        _put(b, p.pos, "<i", value)
    elif p.kind == "vtable":
        value = (0, 2, 3, 5, 0xFFFF, 0xFFFE, 64)[k]
        _put(b, p.pos + rnd.choice((0, 2)), "<H", value)
    else:
        value = (0xFFFF, 0xFFFE, 1, 2, 3, 0x8000, 4)[k]
        _put(b, p.pos, "<H", value)
    return f"vtable:{p.kind}:{p.what}@{p.pos}={value}"


def veclen(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Make a vector claim a huge, zero or off-by-one number of elements."""
    p = _pick(rnd, s.map.of("veclen"))
    if p is None:
        return "noop"
    n = struct.unpack_from("<I", b, p.pos)[0] if p.pos + 4 <= len(b) else 0
    value = rnd.choice((*NASTY_U32, n + 1, max(0, n - 1), len(b) // 4, len(b), len(b) // 4 - 1, n * 2))
    _put(b, p.pos, "<I", value & 0xFFFFFFFF)
    return f"veclen:{p.what}@{p.pos}={value}"


def index(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Negative, out-of-range and boundary indices: tensors, buffers, opcodes, subgraphs."""
    roles = ("tensor_index", "buffer_index", "opcode_index", "subgraph_index", "axis", "version")
    p = _pick(rnd, s.map.with_roles(roles, 4))
    if p is None:
        return "noop"
    value = rnd.choice((-1, -2, -(2**31), 2**31 - 1, 0, 1, 2, 3, 7, 64, 255, 256, 65535, 65536, 1000, rnd.randrange(-8, 300)))
    _put(b, p.pos, "<i", value)
    return f"index:{p.role}:{p.what}@{p.pos}={value}"


def buffer_span(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Buffer.offset / Buffer.size (u64): past the end, the placeholder 1, sign-bit values."""
    p = _pick(rnd, s.map.with_roles(("offset", "size"), 8))
    if p is None:
        return "noop"
    value = rnd.choice((0, 1, 2, len(b) - 1, len(b), len(b) + 16, 2**31, 2**32, 2**63, 2**64 - 1, 2**63 + len(b)))
    _put(b, p.pos, "<Q", value)
    return f"span:{p.role}:{p.what}@{p.pos}={value}"


def union(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """A union type byte that names another (or no, or an unknown) table type."""
    p = _pick(rnd, s.map.of("scalar", role="union_type"))
    if p is None:
        return "noop"
    value = rnd.choice((0, 1, 2, 3, 4, 126, 127, 128, 200, 255, rnd.randrange(256)))
    _put(b, p.pos, "<B", value)
    return f"union:{p.what}@{p.pos}={value}"


def scalar_value(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """NaN/inf/negative scales, zero and enormous shapes, unknown dtypes, extreme zero points."""
    p = _pick(rnd, s.map.with_roles(("scale", "shape", "dtype", "zero_point", "bool", "act", "i8", "i32", "f32")))
    if p is None:
        return "noop"
    if p.role in ("scale", "f32"):
        value: object = rnd.choice(NASTY_FLOATS)
        _put(b, p.pos, "<f", value)
    elif p.role == "zero_point":
        value = rnd.choice((-(2**63), 2**63 - 1, -129, 128, 256, -1, 32768))
        _put(b, p.pos, "<q", value)
    elif p.width == 4:
        value = rnd.choice((0, -1, -2, 2**31 - 1, -(2**31), 65536, 1 << 20, 46341, 3))
        _put(b, p.pos, "<i", value)
    else:
        value = rnd.randrange(-128, 128)
        _put(b, p.pos, "<b", value)
    return f"value:{p.role}:{p.what}@{p.pos}={value}"


def bytes_damage(rnd: random.Random, s: Seed, b: bytearray) -> str:
    """Unstructured damage: flips, zeroed runs, shifted words, spliced and inserted bytes."""
    k = rnd.randrange(6)
    if k == 0:
        for _ in range(rnd.randrange(1, 16)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    elif k == 1:
        i = rnd.randrange(len(b))
        j = min(len(b), i + rnd.randrange(1, 64))
        b[i:j] = bytes(j - i)
    elif k == 2 and len(b) >= 4:  # (a stacked truncation can leave fewer bytes than a word)
        i = rnd.randrange(0, max(1, len(b) - 4), 4)
        _put(b, i, "<I", (struct.unpack_from("<I", b, i)[0] + rnd.choice((-8, -4, 4, 8, 1 << 20))) & 0xFFFFFFFF)
    elif k == 3:
        i, j = rnd.randrange(len(b)), rnd.randrange(len(b))
        n = rnd.randrange(1, 256)
        b[i : i + n] = b[j : j + n]
    elif k == 4:
        i = rnd.randrange(len(b))
        b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.choice((1, 2, 4, 8))))
    else:
        i = rnd.randrange(len(b))
        del b[i : i + rnd.choice((1, 4, 16))]
    return f"bytes:{k}"


MUTATORS: tuple[tuple[Callable[[random.Random, Seed, bytearray], str], int], ...] = (
    (truncate, 2), (retarget, 4), (vtable, 3), (veclen, 3), (index, 4), (union, 2), (scalar_value, 4), (bytes_damage, 3),
    (buffer_span, 1),
)
_FUNCS, _WEIGHTS = zip(*MUTATORS, strict=True)


def mutate(rnd: random.Random, seed: Seed) -> tuple[str, bytes]:
    """One to three stacked mutations of `seed`; returns (description, bytes)."""
    b = bytearray(seed.data)
    steps = [f(rnd, seed, b) for f in rnd.choices(_FUNCS, _WEIGHTS, k=rnd.choice((1, 1, 1, 2, 3))) if b]
    return f"{seed.name}: " + " + ".join(steps), bytes(b)
