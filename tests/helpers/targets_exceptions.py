"""Where the litert, xnnpack and tflm profiles disagree with the real runtimes, each with its evidence.

tests/targets/test_targets_agreement.py fails on any disagreement missing here and on any entry
here that no longer disagrees. "input:" marks a model that fails only on the probe's zero inputs.
"""

from __future__ import annotations

# Models LiteRT's builtin kernels refuse only on the probe's zero inputs, or for want of memory (the
# truth tests share this table: tests/truth/test_truth_agreement.py).
LITERT_PROBE_ONLY: dict[str, str] = {
    "tflite_testdata_nested_while.bin.tflite": "input: a WHILE whose condition never turns false on zero inputs (timeout)",
    "litert_test_testdata_simple_floor_mod.tflite": "input: FLOOR_MOD divides by the zero second input",
    "litert_test_testdata_simple_topk_op_runtime_k.tflite": "input: TOPK_V2's k is a runtime input; k = 0 gives an empty output",
    "tflite_converter_quantization_lite_testdata_where.bin.tflite": "input: WHERE's output size depends on its input values",
    "tflite_java_src_testdata_tile_with_bool_input.bin.tflite": "input: TILE's multiples are a runtime input; zeros give an empty output",
    "ai_edge_quantizer_tests_models_single_slice.tflite": "input: SLICE's begin and size are runtime inputs of another rank",
    "tflite_testdata_conv_huge_im2col.bin.tflite": "resource: the im2col buffer exceeds the probe's 4 GB memory limit",
}

# LiteRT's builtin kernels (load, allocate, invoke on zeros) refuse these; the litert profile says they run.
LITERT: dict[str, str] = {
    **LITERT_PROBE_ONLY,
    "litert_test_testdata_blockwise_quantized.tflite":
        "gap: an unquantized INT8 ADD reading a blockwise-quantized tensor without data aborts LiteRT (SIGABRT); cause not isolated",
}

# TFLite Micro (load, allocate, invoke on zeros) refuses or crashes on these; the tflm profile says they run.
TFLM: dict[str, str] = {
    "tflite_testdata_nested_while.bin.tflite": "input: a WHILE whose condition never turns false on zero inputs (timeout)",
    "tflite_testdata_conv_huge_im2col.bin.tflite": "resource: 780 MB of scratch buffer, more than the probe's 64 MB arena",
    "ai_edge_torch_generative_examples_cpp_fixtures_lora_zeros_rank_16.tflite":
        "crash: a subgraph of 8 constants and no operators or inputs segfaults TFLite Micro; other graphs without operators run",
}

# XNNPACK placements (file, operator of subgraph 0) where the xnnpack profile differs from the runtime.
PLACEMENT: dict[tuple[str, int], str] = {}

# Models whose XNNPACK partition count differs from the profile's.
PARTITIONS: dict[str, str] = {}
