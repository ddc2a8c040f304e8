"""Edit a whole .tflite through the schema's object API (ai-edge-litert's generated module) and write it back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcheck.errors import UsageError


def rewrite(data: bytes, edit: Callable[[Any, Any], None]) -> bytes:
    """The model in `data` with `edit(model, schema)` applied to its unpacked ModelT (the object API), packed again.

    `schema` is ai_edge_litert's schema_py_generated module (for TensorT and the enums). Slow on purpose-built
    paths only: every table and buffer is unpacked and copied.
    """
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        raise UsageError("rewriting a model needs ai-edge-litert: pip install 'qcheck[runtimes]'") from None
    import flatbuffers

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    edit(model, schema)
    builder = flatbuffers.Builder(max(1024, len(data) + 4096))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
