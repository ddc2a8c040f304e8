"""The layer-wise model: the float model with each measured op reading fresh inputs, fed from the quantized model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qcheck.compare.matching import Layer
from qcheck.tflite.rewrite import rewrite


def layerwise_model(float_bytes: bytes, layers: Sequence[Layer]) -> tuple[bytes, dict[tuple[int, int], int]]:
    """A copy of the float model where every activation input of each layer's float op is a new subgraph input.

    Fed with the quantized model's own inputs of that op (dequantized), the float op computes what the op
    should have output given what it received: the difference from the quantized output is the error the
    op adds by itself, whatever its inputs inherited. This is what TensorFlow's QuantizationDebugger measures
    with its NumericVerify ops (debugger.py, layer-wise mode), built here from the two .tflite files alone.
    Returns the model and, per (float op, input slot), the index of its new input tensor.
    """
    fresh: dict[tuple[int, int], int] = {}

    def edit(model: Any, schema: Any) -> None:
        sub = model.subgraphs[0]
        inputs, outputs = list(sub.inputs), list(sub.outputs)
        for layer in layers:
            if layer.float_op < 0:
                continue
            op = sub.operators[layer.float_op]
            op_inputs = list(op.inputs)
            for slot, _ in layer.feeds:
                source = sub.tensors[op_inputs[slot]]
                t = schema.TensorT()
                t.shape, t.shapeSignature, t.type = source.shape, source.shapeSignature, source.type
                t.name = f"qcheck-layerwise/{layer.float_op}/{slot}".encode()
                t.buffer = 0  # buffer 0 is the schema's empty sentinel
                sub.tensors.append(t)
                fresh[(layer.float_op, slot)] = len(sub.tensors) - 1
                op_inputs[slot] = len(sub.tensors) - 1
                inputs.append(len(sub.tensors) - 1)
            op.inputs = op_inputs
            # An output nothing reads any more: a delegate would compute it inside its partition and never write it back.
            outputs += [t for t in op.outputs[:1] if t not in outputs]
        sub.inputs, sub.outputs = inputs, outputs
        model.signatureDefs = []  # the signatures name the original inputs only; the interpreter reads sub.inputs

    return rewrite(float_bytes, edit), fresh
