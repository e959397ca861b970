"""The XSS corpus without a browser: the corpus itself, and the sanitiser of imported comments
(Disqus, WordPress, Isso), which let their readers write HTML. The browser test
(tests/browser/test_xss_corpus.py) shows what readers post through Parley."""

import re
from html.parser import HTMLParser

import pytest

from parley.imports.html import GONE_CLASS, TAGS, clean, markdown
from tests.xss_corpus import CORPUS, load_corpus


def test_the_corpus_is_large_distinct_and_traceable():
    lines = CORPUS.read_text().splitlines()
    assert len(lines) >= 300
    assert len(set(lines)) == len(lines)
    # A payload that runs says which it is; only those whose script is encoded (base64, char
    # codes) call alert(1) or print() instead.
    assert sum("XSSID" not in line for line in lines) <= 20


class _Markup(HTMLParser):
    """Every tag and attribute of some HTML, as (tag, name, value)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


@pytest.mark.parametrize("convert", [clean, markdown], ids=["html", "isso-markdown"])
def test_no_payload_survives_the_import_sanitiser(convert):
    link_attributes = {("href", None), ("title", None), ("rel", "nofollow ugc noopener")}
    for payload in load_corpus():
        markup = _Markup()
        markup.feed(convert(payload))
        assert markup.tags <= TAGS, payload
        for tag, name, value in markup.attributes:
            assert tag == "a", payload
            assert (
                (name, None) in link_attributes
                or (name, value) in link_attributes
                or (name == "class" and value == GONE_CLASS)
            ), payload
            if name == "href":
                assert scheme(value) in ("", "http", "https", "mailto"), payload


def scheme(url: str) -> str:
    """As a browser reads it: tabs and line breaks dropped, leading controls and spaces too."""
    url = re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(33))))
    found = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return found.group(1).lower() if found else ""
