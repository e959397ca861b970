"""/embed.js: the widget's script with its stylesheet inside, built once per process.

No build step and no second request for CSS: the stylesheet travels in the script as a
string and is put into the widget's shadow root.
"""

import json
import re
from functools import cache
from pathlib import Path

from parley.core.compressed import Compressed

ASSETS = Path(__file__).parent / "assets"


@cache
def embed_bundle() -> Compressed:
    css = _lean_css((ASSETS / "widget.css").read_text(encoding="utf-8"))
    js = _lean_js((ASSETS / "widget.js").read_text(encoding="utf-8"))
    source = f"(()=>{{const PARLEY_CSS={json.dumps(css)};\n{js}\n}})();\n"
    return Compressed.of(source.encode(), level=9)


def _lean_js(source: str) -> str:
    """Whole-line // comments and indentation go: every reader downloads them otherwise.
    Safe because widget.js keeps no multi-line strings (a test runs `node --check`)."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def _lean_css(source: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"/\*.*?\*/", "", source, flags=re.S)).strip()
