"""JUnit XML for CI test views: a test suite per model, a test case per rule family and per target.

A test case fails when it holds a finding at or above --fail-on (each such finding one line of the
failure); the findings below it are its system-out. An unreadable model is a suite with one errored
case. The shape is the one Jenkins, GitLab and GitHub test reporters read (testsuites > testsuite >
testcase > failure/error/system-out).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TextIO
from xml.etree import ElementTree as ET

from qcheck import Report
from qcheck.findings import Finding
from qcheck.reporting import Run, render_all


def family(code: str) -> str:
    """"QC203" -> "QC2xx": the rule families share their hundreds."""
    return code[:-2] + "xx" if len(code) > 2 and code[-2:].isdigit() else code


def _line(f: Finding) -> str:
    return f"{f.code} {f.severity} {f.location}: {f.message} [{f.rule}]"


def _case(suite: ET.Element, model: str, name: str, findings: Sequence[Finding], run: Run) -> tuple[int, int]:
    case = ET.SubElement(suite, "testcase", name=name, classname=model, time="0")
    failing = [f for f in findings if f.severity >= run.fail_on]
    if failing:
        first = failing[0]
        fail = ET.SubElement(case, "failure", message=f"{len(failing)} finding(s) at or above {run.fail_on}: {first.code} {first.message}"[:500],
                             type=str(max(f.severity for f in failing)))
        fail.text = "\n".join(map(_line, failing))
    rest = [f for f in findings if f.severity < run.fail_on]
    if rest:
        ET.SubElement(case, "system-out").text = "\n".join(map(_line, rest))
    return 1, int(bool(failing))


def suite(r: Report, run: Run) -> ET.Element:
    """One model's test suite: a case per rule family (and per target), or one errored case when it was unreadable."""
    s = ET.Element("testsuite", name=r.path)
    tests = failures = errors = 0
    if r.error is not None:
        case = ET.SubElement(s, "testcase", name="read", classname=r.path, time="0")
        ET.SubElement(case, "error", message=r.error[:500], type="unreadable").text = r.error
        tests, errors = 1, 1
    else:
        by_family: dict[str, list[Finding]] = defaultdict(list)
        by_target: dict[str, list[Finding]] = defaultdict(list)
        for f in r.findings:
            target = f.details.get("target") if f.details else None
            (by_target[str(target)] if target in r.targets else by_family[family(f.code)]).append(f)
        families = sorted({family(rule.code) for rule in run.rules} | set(by_family)) or ["QC"]
        cases = [(name, by_family.get(name, [])) for name in families]
        cases += [(f"target {name}: {result.verdict}", by_target.get(name, [])) for name, result in r.targets.items()]
        for name, found in cases:
            ran, failed = _case(s, r.path, name, found, run)
            tests, failures = tests + ran, failures + failed
    s.set("tests", str(tests))
    s.set("failures", str(failures))
    s.set("errors", str(errors))
    s.set("skipped", "0")
    return s


class JUnitStream:
    """<testsuites> with a <testsuite> per model, written as each model arrives."""

    def __init__(self, run: Run, out: TextIO) -> None:
        self.run, self.out = run, out
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="qcheck">\n')

    def add(self, report: Report) -> None:
        s = suite(report, self.run)
        ET.indent(s, level=1)
        self.out.write("  " + ET.tostring(s, encoding="unicode") + "\n")

    def close(self, run: Run) -> None:
        self.out.write("</testsuites>\n")


render = render_all(JUnitStream)
