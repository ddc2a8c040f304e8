"""Operator-code rules: the two builtin-code fields, custom names, operators newer than the schema."""

from __future__ import annotations

from collections.abc import Iterator

from qcheck import Context, Location, Model, Severity, Violation, rule
from qcheck.tflite.schema import BUILTIN_OPERATORS, PLACEHOLDER_FOR_GREATER_OP_CODES


@rule("QC008", "inconsistent-operator-code")
def inconsistent_operator_code(model: Model, ctx: Context) -> Iterator[Violation]:
    """An OperatorCode's two builtin-code fields name different operators, or a custom op has no name.

    ## What it checks
    Writers set `deprecated_builtin_code = builtin_code` below 127 and 127
    (PLACEHOLDER_FOR_GREATER_OP_CODES) above. A placeholder with a small `builtin_code`, two
    different non-zero codes, or a CUSTOM op without `custom_code` are inconsistent. (A byte
    field left 0 is QC011.)

    ## Why it matters
    LiteRT and TFLite Micro run max(both) (`GetBuiltinCode`): with the placeholder and a small
    code that is 127, which no runtime resolves ("Op builtin_code out of range: 127"); with two
    different codes, readers that use one field run another operator than those that use both.
    A CUSTOM op without a name cannot be resolved.

    ## How to fix
    Re-export with a current converter or fix the tool that wrote the operator codes.

    ## References
    - LiteRT `tflite/converter/schema/schema_utils.cc` (GetBuiltinCode),
      `schema_conversion_utils.cc`; tensorflow/tensorflow#46663
    """
    for oc in model.operator_codes:
        where = Location(opcode=oc.name)
        dep, new = oc.deprecated_builtin_code, oc.builtin_code
        if dep == PLACEHOLDER_FOR_GREATER_OP_CODES and new < PLACEHOLDER_FOR_GREATER_OP_CODES:
            yield Violation(where, f"operator code {oc.index}: deprecated_builtin_code is the placeholder 127 but builtin_code is {new}")
        elif dep != 0 and 0 < new < PLACEHOLDER_FOR_GREATER_OP_CODES and dep != new:
            yield Violation(where, f"operator code {oc.index}: deprecated_builtin_code {dep} differs from builtin_code {new}")
        elif dep != 0 and new > PLACEHOLDER_FOR_GREATER_OP_CODES and dep != PLACEHOLDER_FOR_GREATER_OP_CODES:
            yield Violation(where, f"operator code {oc.index}: builtin_code {new} needs deprecated_builtin_code 127, found {dep}")
        if oc.name == "CUSTOM" and not oc.custom_code:
            yield Violation(where, f"operator code {oc.index} is CUSTOM without a custom_code")


@rule("QC011", "deprecated-builtin-code-unset", severity=Severity.WARNING)
def deprecated_builtin_code_unset(model: Model, ctx: Context) -> Iterator[Violation]:
    """An OperatorCode leaves `deprecated_builtin_code` 0 (ADD) while `builtin_code` names another op.

    ## What it checks
    `deprecated_builtin_code == 0` with `builtin_code > 0`: the writer filled only the int32 field
    (seen in LiteRT's own NPU-precompiled test models and the AI Edge Quantizer's output).

    ## Why it matters
    LiteRT and TFLite Micro read max(both) (`GetBuiltinCode`) and run the right operator; readers
    older than the extended operator codes (TF < 2.4) and tools that read only the byte field take
    every such op for ADD.

    ## How to fix
    Set `deprecated_builtin_code = min(builtin_code, 127)`, as the converters do.

    ## References
    - LiteRT `tflite/converter/schema/schema_utils.cc` (GetBuiltinCode), `schema.fbs` (OperatorCode);
      tensorflow/tensorflow#46663
    """
    for oc in model.operator_codes:
        if oc.deprecated_builtin_code == 0 and oc.builtin_code > 0:
            yield Violation(Location(opcode=oc.name), f"operator code {oc.index} ({oc.name}): deprecated_builtin_code is 0 (ADD) while builtin_code is "
                                                      f"{oc.builtin_code}; LiteRT and TFLite Micro use the larger, older readers run ADD")


@rule("QC010", "unknown-operator", severity=Severity.INFO)
def unknown_operator(model: Model, ctx: Context) -> Iterator[Violation]:
    """An operator is custom or newer than qcheck's schema, so no op-specific rule checks it.

    ## What it checks
    Operator codes that are CUSTOM, or whose builtin code lies beyond the schema qcheck knows
    (BuiltinOperator 0..{last}).

    ## Why it matters
    qcheck cannot vouch for the quantization of these ops; the target runtime must provide them
    (a custom op needs its kernel registered).

    ## How to fix
    Nothing to fix in the model; check that the deployment runtime provides these ops.

    ## References
    - `schema.fbs` BuiltinOperator
    """
    for oc in model.operator_codes:
        if oc.name == "CUSTOM":
            yield Violation(Location(opcode=oc.custom_code or "CUSTOM"), f"custom operator {oc.custom_code!r} (operator code {oc.index}) is not checked by qcheck")
        elif oc.code >= len(BUILTIN_OPERATORS) or oc.code < 0:
            yield Violation(Location(opcode=oc.name), f"builtin code {oc.code} is newer than qcheck's schema; its ops are not checked")


unknown_operator.check.__doc__ = (unknown_operator.check.__doc__ or "").replace("{last}", str(len(BUILTIN_OPERATORS) - 1))
