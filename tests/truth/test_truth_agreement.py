"""qcheck against the runtimes, over every model the tests can see (fixtures, tests/corpus, ../shared/corpus).

Each model's verdict from LiteRT's builtin kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES) and from
TFLite Micro (load, allocate, one invoke on zero inputs, in a child process) comes from
tests/truth/runtime_verdicts.json, or is run live for a model missing there (tests/helpers/verdicts.py).

- (a) a model LiteRT refuses or crashes on has an ERROR naming the cause, unless the cause is an op
  LiteRT does not provide (custom, Flex, unknown version: a deployment fact), or it is listed in
  LITERT_REFUSALS below with what happens and why qcheck does not report it;
- (b) an ERROR whose message says LiteRT refuses, aborts or crashes is confirmed by LiteRT;
- (c) a model both runtimes load and run gets no ERROR unless SPEC_ERRORS lists it with its reason.
TFLite Micro's own refusals (ops it lacks, hybrid and float kernels it does not have) are target
facts, not defects of the model: tests/targets/test_targets_agreement.py holds the tflm profile to
them (verdict per model, and the node TFLite Micro stops at).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from targets_exceptions import LITERT_PROBE_ONLY
from verdicts import Verdict, all_models, sha256, verdicts

import qcheck
from qcheck.registry import Registry

MODELS = all_models()
# An op the runtime does not provide: the model is fine, the deployment must register the op.
NOT_PROVIDED = re.compile(r"unresolved custom op|Select TensorFlow op|Didn't find op for builtin opcode|Failed to get registration")
# What LiteRT's words say, for claims in messages.
CLAIMS = re.compile(r"LiteRT (rejects|refuses|aborts|crashes)|refuse the model|rejected at load", re.IGNORECASE)

# LiteRT refusals that qcheck does not report as an ERROR, by file name: what happens, and why.
LITERT_REFUSALS: dict[str, str] = {
    # input-dependent (the zero inputs of the probe make an op fail; with real inputs the model runs) or
    # beyond the probe's memory: shared with the target tests
    **LITERT_PROBE_ONLY,
    # graph and shape defects outside qcheck's quantization scope (not checked yet)
    "tflite_testdata_tensor_string_data_type.bin.tflite": "gap: ADD of STRING tensors (LiteRT add.cc: 'Type STRING is unsupported by op Add')",
    "litert_test_testdata_simple_squeeze.tflite": "gap: SQUEEZE squeeze_dims names a dimension that is not 1 (squeeze.cc)",
    "litert_test_testdata_blockwise_quantized.tflite": "gap: ADD of a blockwise-quantized tensor without data aborts LiteRT (SIGABRT)",
    "tflite_testdata_add_shared_tensors.bin.tflite": "gap: LiteRT stops at an ADD whose output is also its input (not checked); qcheck reports the tensor nothing writes (QC013) behind it",
}

# ERRORs on models that both runtimes load and run: the spec reason, by (file name, rule code).
SPEC_ERRORS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, Verdict]]:
    return verdicts(MODELS)


@pytest.fixture(scope="module")
def reports(registry: Registry) -> dict[str, qcheck.Report | None]:
    out: dict[str, qcheck.Report | None] = {}
    for p in MODELS:
        try:
            out[sha256(p)] = qcheck.verify(p, registry=registry)
        except qcheck.ModelError:
            out[sha256(p)] = None  # unreadable: exit 2, counts as an error
    return out


def _errors(report: qcheck.Report | None) -> set[str]:
    return {"unreadable"} if report is None else {f.code for f in report.findings if f.severity == qcheck.Severity.ERROR}


def test_the_probe_saw_every_model(table: dict[str, dict[str, Verdict]]) -> None:
    assert len(MODELS) >= 80 and set(table) == {sha256(p) for p in MODELS}
    assert all(set(v) == {"litert-builtin", "tflm", "xnnpack"} for v in table.values())


def test_a_litert_refusal_is_an_error_or_explained(table: dict[str, dict[str, Verdict]], reports: dict[str, qcheck.Report | None]) -> None:
    unexplained = []
    for p in MODELS:
        v = table[sha256(p)]["litert-builtin"]
        if v.status == "ok" or NOT_PROVIDED.search(v.reason) or p.name in LITERT_REFUSALS:
            continue
        if not _errors(reports[sha256(p)]):
            unexplained.append(f"{p.name}: LiteRT {v.status}: {v.reason[:160]}")
    assert not unexplained, "\n".join(unexplained)


def test_explained_refusals_are_still_refusals(table: dict[str, dict[str, Verdict]]) -> None:
    """The table stays true: every model it explains is present and still refused by LiteRT."""
    by_name = {p.name: table[sha256(p)]["litert-builtin"] for p in MODELS}
    for name in LITERT_REFUSALS:
        if name in by_name:  # (the shared corpus may be absent: tests/corpus holds some of them)
            assert by_name[name].status != "ok", name


def test_runtime_claims_in_messages_are_true(table: dict[str, dict[str, Verdict]], reports: dict[str, qcheck.Report | None]) -> None:
    false = []
    for p in MODELS:
        report = reports[sha256(p)]
        for f in report.findings if report is not None else ():
            if f.severity == qcheck.Severity.ERROR and CLAIMS.search(f.message) and table[sha256(p)]["litert-builtin"].status == "ok":
                false.append(f"{p.name}: {f.code} says '{f.message[:140]}', but LiteRT runs it")
    assert not false, "\n".join(false)


def test_no_error_on_models_both_runtimes_run(table: dict[str, dict[str, Verdict]], reports: dict[str, qcheck.Report | None]) -> None:
    unjustified = []
    for p in MODELS:
        v = table[sha256(p)]
        if v["litert-builtin"].status == "ok" and v["tflm"].status == "ok":
            for code in sorted(_errors(reports[sha256(p)])):
                if (p.name, code) not in SPEC_ERRORS:
                    unjustified.append(f"{p.name}: {code}")
    assert not unjustified, "\n".join(unjustified)


def test_unreadable_models_are_refused_by_litert_too(table: dict[str, dict[str, Verdict]], reports: dict[str, qcheck.Report | None]) -> None:
    for p in MODELS:
        if reports[sha256(p)] is None:
            assert table[sha256(p)]["litert-builtin"].status != "ok", f"qcheck cannot read {p.name}, but LiteRT runs it"


def test_scheme_of_every_model(reports: dict[str, qcheck.Report | None]) -> None:
    """tests/truth/schemes.tsv: the scheme of every model by sha256, with the reason for each kind and for the odd ones."""
    rows = [line.split("\t") for line in (Path(__file__).parent / "schemes.tsv").read_text().splitlines()[1:]]
    expected = {sha: (path, scheme) for sha, path, scheme, _why in rows}
    wrong = []
    for p in MODELS:
        path, scheme = expected.get(sha256(p), (p.name, "missing from schemes.tsv"))
        report = reports[sha256(p)]
        got = "unreadable" if report is None else report.facts.get("scheme")
        if got != scheme:
            wrong.append(f"{path}: detected {got}, table says {scheme}")
    assert not wrong, "\n".join(wrong)


def test_cached_verdicts_are_reproducible(table: dict[str, dict[str, Verdict]]) -> None:
    """A sample of the cache, run again now, gives the same statuses (the cache is not a stale guess)."""
    from verdicts import run

    # (no time-outs in the sample: each costs the full time limit)
    refused = [p for p in MODELS if any(v.status != "ok" for v in table[sha256(p)].values())
               and all(v.status != "timeout" for v in table[sha256(p)].values())]
    accepted = [p for p in MODELS if all(v.status == "ok" for v in table[sha256(p)].values())]
    sample = sorted(refused, key=sha256)[:6] + sorted(accepted, key=sha256)[:6]
    live = run(sample)
    assert {sha256(p): {rt: v.status for rt, v in live[sha256(p)].items()} for p in sample} == \
        {sha256(p): {rt: v.status for rt, v in table[sha256(p)].items()} for p in sample}
