"""Test data in each format Parley imports, written by the project from the formats' public
descriptions, and what tests read back from an import's report."""

import re


def report_row(report: str, name: str = "comments") -> tuple[int, ...]:
    """A totals line of the import report: in the source, in Parley, added now."""
    found = re.search(rf"^{name}\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$", report, re.MULTILINE)
    assert found, report
    return tuple(int(n.replace(",", "")) for n in found.groups())
