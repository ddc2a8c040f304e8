"""PLACEHOLDER until the kernel table lands (helper writing it)."""
from types import MappingProxyType

INPUT_TYPES = MappingProxyType({})
QUANTIZE_PAIRS = frozenset({("FLOAT32","INT8"),("FLOAT32","INT16"),("INT32","INT8"),("INT32","INT16"),("INT16","INT8"),("INT16","INT16"),("INT16","INT32"),("INT8","INT8"),("INT8","UINT8"),("INT8","INT16"),("INT8","INT32"),("UINT8","INT8")})
_P = frozenset({("FLOAT32","FLOAT32"),("INT16","INT8"),("INT8","INT8"),("INT8","INT4")})
FILTER_PAIRS = MappingProxyType({"CONV_2D": _P, "DEPTHWISE_CONV_2D": _P})
OUTPUT_TYPES = MappingProxyType({})
