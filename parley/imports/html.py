"""Imported bodies → the same safe HTML Parley writes for its own comments.

Disqus and WordPress store HTML (WordPress without paragraphs: it adds them when showing a
comment). Images become links, as in Parley's Markdown, so a reader's browser loads nothing
from a stranger's host; links to hosts that no longer serve their files (Disqus's CDN) are
kept as they are but marked, so readers see why they lead nowhere.
"""

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

from parley.core.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL, reader_markdown

GONE_CLASS = "parley-gone"
GONE_TITLE = "The host of this file no longer serves it"
# Disqus's media CDN stopped serving files of sites that left Disqus.
GONE_HOSTS = ("disquscdn.com", "media.disqus.com")

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_ANCHOR = re.compile(r"<a\b([^>]*)>", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_BLOCK = re.compile(r"<(p|div|blockquote|ul|ol|pre|br)\b", re.IGNORECASE)


def is_gone(url: str) -> bool:
    host = (urlsplit(html.unescape(url.strip())).hostname or "").lower()
    return any(host == gone or host.endswith("." + gone) for gone in GONE_HOSTS)


def _image_as_link(match: re.Match[str]) -> str:
    attrs = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None) for m in
             _ATTR.finditer(match.group(0))}  # fmt: skip
    src = attrs.get("src", "")
    if not src:
        return ""
    label = attrs.get("alt") or src
    return f'<a href="{src}">🖼 {label}</a>'


def _mark_gone(match: re.Match[str]) -> str:
    href = _HREF.search(match.group(1))
    url = next((g for g in href.groups() if g is not None), "") if href else ""
    if not is_gone(url):
        return match.group(0)
    return f'<a{match.group(1)} class="{GONE_CLASS}" title="{GONE_TITLE}">'


def paragraphs(text: str) -> str:
    """WordPress's wpautop, in short: blank lines part paragraphs, single ones break lines."""
    if _BLOCK.search(text):
        return text
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in parts)


def clean(source: str) -> str:
    """Safe HTML for a body that came as HTML (Disqus, WordPress)."""
    return sanitise(mark_gone(_IMG.sub(_image_as_link, paragraphs(source))))


def mark_gone(rendered: str) -> str:
    return _ANCHOR.sub(_mark_gone, rendered)


# Old systems let readers write a little more inline HTML than Parley's Markdown makes.
TAGS = ALLOWED_TAGS | {"b", "i", "u", "s", "sub", "sup"}


def sanitise(rendered: str) -> str:
    """nh3 only, no rewriting: Parley's own exported HTML comes back unchanged."""
    return nh3.clean(
        rendered,
        tags=TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"a": {GONE_CLASS}},
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    ).strip()


# Isso's Markdown allows inline HTML (Isso sanitises it afterwards, as `sanitise` does here).
_markdown_with_html = reader_markdown(allow_html=True)


def markdown(source: str) -> str:
    # Images written as Markdown are links already; those written as inline <img> are not.
    rendered = _IMG.sub(_image_as_link, _markdown_with_html.render(source))
    return sanitise(mark_gone(rendered))


def gone_links(body_html: str) -> int:
    return body_html.count(f'class="{GONE_CLASS}"')


class _Markdown(HTMLParser):
    """Just enough HTML → Markdown for a WordPress post to become an article body: the
    article renderer takes Markdown and, on purpose, no raw HTML."""

    _INLINE = {"em": "*", "i": "*", "strong": "**", "b": "**", "code": "`", "cite": "*"}
    _BLOCKS = ("p", "div", "ul", "ol", "figure", "table", "figcaption", "h1", "h2", "h3",
               "h4", "h5", "h6")  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._links: list[str] = []
        self._hidden = 0  # inside <script> or <style>: their text is not the article's
        self._quoted = 0  # blockquotes open around what comes
        self._cells = 0

    def _break(self, text: str = "\n\n") -> None:
        """A paragraph (or line) break, inside as many quotes as are open."""
        prefix = "> " * self._quoted
        self.out.append(text.replace("\n", "\n" + prefix) if prefix else text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "blockquote":
            self._quoted += 1
            self._break()
        elif tag in self._BLOCKS:
            self._break()
            if tag.startswith("h"):
                self.out.append("## ")
        elif tag == "tr":
            self._break()
            self._cells = 0
        elif tag in ("td", "th"):
            self.out.append(" | " if self._cells else "")
            self._cells += 1
        elif tag == "br":
            self._break("  \n")
        elif tag == "li":
            self._break("\n- ")
        elif tag in self._INLINE:
            self.out.append(self._INLINE[tag])
        elif tag == "a":
            self._links.append(dict(attrs).get("href") or "")
            self.out.append("[")
        elif tag == "img":
            found = dict(attrs)
            label = found.get("alt") or "image"
            self._break()
            self.out.append(f"[🖼 {label}]({found.get('src') or ''})")
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._INLINE:
            self.out.append(self._INLINE[tag])
        elif tag == "a" and self._links:
            self.out.append(f"]({self._links.pop()})")
        elif tag == "blockquote":
            self._quoted = max(0, self._quoted - 1)
            self._break()
        elif tag in self._BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._hidden or not data.strip():
            return
        # WordPress breaks a line where the author did; a bare address is a link.
        for number, line in enumerate(data.split("\n")):
            if number:
                self._break("  \n")
            for index, part in enumerate(_BARE_URL.split(line)):
                self.out.append(f"<{part}>" if index % 2 else _escaped(part))


_BARE_URL = re.compile(r"(https?://[^\s<>\]\[\"']+)")


def _escaped(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text)


# WordPress shortcodes (`[caption id="1"]…[/caption]`, `[contact-form-7 id="12"]`): the
# markers go, what they wrap (a caption, an embedded address) stays. A bracket with no
# attributes (`[sic]`) is the author's text, except the few shortcodes that take none.
_SHORTCODE = re.compile(
    r"\[/?(?:(?:caption|wp_caption|gallery|embed|audio|video|playlist)\b[^\]]*"
    r"|[a-z][\w-]*\s+\w+=[^\]]*)\]",
    re.IGNORECASE,
)


def as_markdown(source: str) -> str:
    parser = _Markdown()
    parser.feed(paragraphs(_SHORTCODE.sub("", source)))
    parser.close()
    lines: list[str] = []
    for line in "".join(parser.out).split("\n"):
        blank = not line.strip(" >")
        if blank and (not lines or not lines[-1].strip(" >")):
            continue  # one blank line between paragraphs is enough
        lines.append(line.rstrip() if blank else line)
    return "\n".join(lines).strip()
