"""Reader Markdown → safe HTML, done once when a comment is written (reads serve stored HTML)."""

from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "a", "blockquote", "code", "pre",
    "ul", "ol", "li", "hr",
}  # fmt: skip
# Per tag. "*" must be given, empty: nh3 otherwise allows `lang` and `title` on every tag.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "*": set()}
LINK_REL = "nofollow ugc noopener"


def _image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Images are shown as links, never loaded: a reader's browser fetches nothing from a
    stranger's host (privacy), and old imported comments point at hosts that are gone."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    label = self.renderInlineAsText(token.children or [], options, env) or src
    href = escapeHtml(src)
    return f'<a href="{href}">🖼 {escapeHtml(label)}</a>'


def reader_markdown(*, allow_html: bool = False) -> MarkdownIt:
    """The Markdown readers write. Imported comments from systems that let readers write
    inline HTML (Isso) are read with `allow_html`, then sanitised like everything else."""
    parser = (
        MarkdownIt("commonmark", {"html": allow_html, "linkify": True, "typographer": False})
        .enable(["linkify", "strikethrough"])
        .disable(["heading", "lheading"])
    )
    parser.add_render_rule("image", _image_as_link)
    return parser


_md = reader_markdown()


def _sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )


def render_markdown(source: str) -> str:
    # markdown-it escapes raw HTML and refuses javascript:/data: links; nh3 is the second
    # line of defence, so a bug in either alone does not reach a reader.
    return _sanitise(_md.render(source)).strip()
