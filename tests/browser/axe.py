"""Runs axe-core (npm, installed by scripts/test into tests/browser/node_modules) in a page."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """axe's violations of impact serious or critical, each with the offending nodes."""
    # Evaluated, not added as a <script>: Parley's pages allow no inline script.
    page.evaluate(AXE.read_text())
    results = page.evaluate(
        "async (context) => await axe.run(context || document, {resultTypes: ['violations']})",
        context,
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:200] for n in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
