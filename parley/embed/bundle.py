"""/embed.js: the widget's script with its stylesheet inside, built once per process.

No build step and no second request for CSS: the stylesheet travels in the script as a
string and is put into the widget's shadow root.
"""

import json
from functools import cache
from pathlib import Path

from parley.core.compressed import Compressed

ASSETS = Path(__file__).parent / "assets"


@cache
def embed_bundle() -> Compressed:
    css = (ASSETS / "widget.css").read_text(encoding="utf-8")
    js = (ASSETS / "widget.js").read_text(encoding="utf-8")
    source = f"(()=>{{const PARLEY_CSS={json.dumps(css)};\n{js}\n}})();\n"
    return Compressed.of(source.encode(), level=9)
