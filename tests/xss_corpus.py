"""The XSS corpus, tests/data/xss_payloads.jsonl: one JSON string a line, `XSSID` standing for
the line's number, so that a payload that runs says which it is (`parleyXss(17)`)."""

import json
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "xss_payloads.jsonl"


def load_corpus() -> list[str]:
    lines = CORPUS.read_text().splitlines()
    return [json.loads(line).replace("XSSID", str(n)) for n, line in enumerate(lines, 1)]
