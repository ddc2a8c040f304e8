"""`convert --all --data`: each strategy's output compared with the float32 one on the same data (qcheck.compare)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from qcheck.convert.request import ConvertResult
from qcheck.errors import UsageError


def measure(results: Sequence[ConvertResult], data: str | os.PathLike[str], *, samples: int | None, jobs: int,
            preprocess: str = "unit") -> None:
    """Set `accuracy` on each quantized result: its outputs' SQNR (the worst one) and top-1 agreement with float32."""
    from qcheck.compare import compare
    from qcheck.compare.execute import RuntimeFailure

    base = next((r for r in results if r.baseline and r.output is not None), None)
    if base is None or base.output is None:
        raise UsageError("--data compares each output with the float32 one, which this run did not produce")
    for r in results:
        if r.output is None or r is base:
            continue
        try:
            c = compare(base.output, r.output, data, samples=samples, jobs=jobs, preprocess=preprocess)
        except RuntimeFailure as e:  # this output does not run in LiteRT: the others are still measured
            r.accuracy = {"error": str(e)}
            continue
        sqnr = min((t.sqnr_db for t in c.outputs), default=math.nan)
        top1 = [t.top1 for t in c.outputs if t.top1 is not None]
        r.accuracy = {"output_sqnr_db": sqnr if math.isfinite(sqnr) else None, "exact": sqnr == math.inf,
                      "top1_agreement": min(top1) if top1 else None, "samples": c.samples, "data": c.data}
