"""``claimedit rules test --junit-xml FILE``: a pack's test run as a JUnit XML report, the format
CI servers (GitLab, Jenkins, Azure DevOps, GitHub actions that publish test results) read.

One ``<testsuite>`` per pack, one ``<testcase>`` per case (``classname`` ``<pack>.<case file>``),
a ``<failure>`` per case with a line not as expected (its text as ``rules test`` prints it), and
one failing ``<testcase>`` per coverage gap (classname ``<pack>.coverage``).

Example:
    >>> import io
    >>> from claimedit.pack import packaged_rules_path
    >>> from claimedit.policy_tests import run_pack_tests
    >>> out = io.BytesIO()
    >>> write_junit([run_pack_tests(packaged_rules_path())], out)
    >>> b'failures="0"' in out.getvalue()
    True
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from claimedit.policy_tests import CaseFailure, PackTestReport

__all__ = ["write_junit"]


def write_junit(reports: Iterable[PackTestReport], out: BinaryIO) -> None:
    """Write the reports as one ``<testsuites>`` document (UTF-8, with its declaration)."""
    root = ET.Element("testsuites", name="claimedit rules test")
    total = failed = 0
    for report in reports:
        p = report.engine.provenance
        suite = ET.SubElement(root, "testsuite", name=p.pack)
        properties = ET.SubElement(suite, "properties")
        for name, value in (("version", p.version), ("content_hash", p.content_hash),
                            ("library", p.library), ("pack", report.pack)):
            ET.SubElement(properties, "property", name=name, value=value)
        by_case: dict[str, list[CaseFailure]] = {}
        for failure in report.failures:
            by_case.setdefault(failure.case.id, []).append(failure)
        for case in report.cases:
            element = ET.SubElement(suite, "testcase", name=case.name,
                                    classname=f"{p.pack}.{Path(case.file).stem}",
                                    file=case.file, line=str(case.line or 0))
            failures = by_case.get(case.id, [])
            if failures:
                first = failures[0]
                node = ET.SubElement(element, "failure", type="policy", message=(
                    f"line {first.expectation.position + 1}: expected {first.expected}, "
                    f"got {first.got}"))
                node.text = "\n".join(item.describe() for item in failures)
        for gap in report.coverage:
            element = ET.SubElement(suite, "testcase", name=gap, classname=f"{p.pack}.coverage")
            ET.SubElement(element, "failure", type="coverage", message=gap)
        cases = len(report.cases) + len(report.coverage)
        fails = len(by_case) + len(report.coverage)
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        suite.set("errors", "0")
        total += cases
        failed += fails
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
