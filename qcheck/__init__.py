"""qcheck: inspect and validate quantized TensorFlow Lite (LiteRT) models."""

from __future__ import annotations

from qcheck.engine import Settings, verify
from qcheck.errors import ModelError, QcheckError, UsageError
from qcheck.findings import Finding, Location, Severity, Violation, at_op, at_tensor
from qcheck.registry import Expectation, Fact, Reporter, Strategy, Target, hookimpl
from qcheck.reporting import Report
from qcheck.rules import Context, Rule, rule
from qcheck.tflite.model import Model, Operator, Quantization, Subgraph, Tensor
from qcheck.tflite.reader import load

__version__ = "0.1.0"

__all__ = [
    "Context", "Expectation", "Fact", "Finding", "Location", "Model", "ModelError", "Operator", "QcheckError",
    "Quantization", "Report", "Reporter", "Rule", "Settings", "Severity", "Strategy", "Subgraph",
    "Target", "Tensor", "UsageError", "Violation", "__version__", "at_op", "at_tensor", "hookimpl", "load", "rule", "verify",
]
