"""The bounds a comparison is judged by: defaults, --min-output-sqnr, --max-layer-share and --fail-if conditions."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from qcheck.compare.result import Comparison, LayerError, TensorMetrics
from qcheck.errors import UsageError

_OPS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
# What a condition may name: the model outputs' metrics (error accumulated through the whole model) and
# each layer's own (error introduced); the attribute of TensorMetrics / LayerError it reads.
OUTPUT_METRICS = {"sqnr": "sqnr_db", "mse": "mse", "max_abs": "max_abs", "cosine": "cosine", "kl": "kl", "top1": "top1", "top5": "top5"}
LAYER_METRICS = {"sqnr": "sqnr_db", "mse": "mse", "max_abs": "max_abs", "share": "share", "rmse_over_scale": "rmse_over_scale"}
_CONDITION = re.compile(r"^\s*(output|layer)\.([a-z0-9_]+)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Condition:
    """`SCOPE.METRIC OP NUMBER`, e.g. "output.sqnr < 20": it holds for an output (or layer) whose metric compares so."""

    text: str
    scope: str  # "output" or "layer"
    metric: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Condition:
        m = _CONDITION.match(text)
        if not m:
            raise UsageError(f"--fail-if {text!r}: expected SCOPE.METRIC OP NUMBER, e.g. 'output.sqnr < 20' "
                             "(SCOPE: output or layer; OP: <, <=, > or >=)")
        scope, metric = m.group(1), m.group(2)
        known = OUTPUT_METRICS if scope == "output" else LAYER_METRICS
        if metric not in known:
            raise UsageError(f"--fail-if {text!r}: unknown {scope} metric {metric!r} (choose from: {', '.join(known)})")
        return cls(text.strip(), scope, metric, m.group(3), float(m.group(4)))

    def holds(self, comparison: Comparison) -> Iterator[tuple[TensorMetrics | LayerError, float]]:
        """Every output or layer for which the condition holds, with its value (undefined values never hold)."""
        items: tuple[TensorMetrics | LayerError, ...] = comparison.outputs if self.scope == "output" else comparison.layers
        attribute = (OUTPUT_METRICS if self.scope == "output" else LAYER_METRICS)[self.metric]
        for item in items:
            value = getattr(item, attribute)
            if value is not None and not (isinstance(value, float) and math.isnan(value)) and _OPS[self.op](value, self.bound):
                yield item, value


@dataclass(frozen=True)
class Thresholds:
    # At 10 dB the error's power is a tenth of the signal's (an rms error of 32% of the rms value).
    min_output_sqnr: float = 10.0
    max_layer_share: float = 0.5  # of all error introduced in the model, by one layer
    # QuantizationDebugger's tutorial flags layers above 0.7: rounding alone gives 1/sqrt(12) = 0.29.
    beyond_rounding: float = 0.7
    # 16-bit and float outputs: rounding alone keeps an op's own SQNR above 60 dB; below this it is more.
    beyond_rounding_sqnr: float = 30.0
    fail_if: tuple[Condition, ...] = ()

    def beyond_rounding_error(self, layer: LayerError) -> bool:
        """The op's own error is more than its output's rounding can explain (clipping, a wrong scale)."""
        if layer.dtype in ("INT8", "UINT8") and layer.rmse_over_scale is not None:
            return layer.rmse_over_scale > self.beyond_rounding
        return layer.sqnr_db < self.beyond_rounding_sqnr

    def __post_init__(self) -> None:
        if not 0 < self.max_layer_share <= 1:
            raise UsageError(f"--max-layer-share must be in (0, 1], got {self.max_layer_share}")
        if not math.isfinite(self.min_output_sqnr):
            raise UsageError(f"--min-output-sqnr must be a number of dB, got {self.min_output_sqnr}")
