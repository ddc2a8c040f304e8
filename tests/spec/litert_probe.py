"""Load models in ai-edge-litert, one status line each: run as a subprocess (a bad model can crash it).

Usage: python litert_probe.py MODEL...   prints "BEGIN i", then "OK i" or "ERR i message" per model.
The default interpreter is used (with the XNNPACK delegate), as a user would load the model.
"""

from __future__ import annotations

import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def main(paths: list[str]) -> None:
    for i, path in enumerate(paths):
        print(f"BEGIN {i}", flush=True)  # a crash after this line blames model i
        try:
            it = Interpreter(model_path=path)
            it.allocate_tensors()
            for d in it.get_input_details():
                it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
            it.invoke()
            print(f"OK {i}", flush=True)
        except (RuntimeError, ValueError) as e:  # the kernel's or the loader's message
            print(f"ERR {i} " + " ".join(str(e).split())[:400], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
