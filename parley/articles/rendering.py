"""Article bodies: staff-written Markdown with figures placed by `{figure N}` lines."""

import re

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from .images import srcset
from .models import Article

_FIGURE_LINE = re.compile(r"^[ \t]*\{figure (\d+)\}[ \t]*$", re.MULTILINE)
# Staff write the articles, but raw HTML still stays off: one stray paste must not break a page.
_md = MarkdownIt("commonmark", {"html": False, "typographer": True})


def render_article_body(article: Article) -> SafeString:
    figures = {f.position: f for f in article.figures.all()}
    parts: list[str] = []
    # Browsers submit the admin's textarea with \r\n line ends.
    body = article.body.replace("\r\n", "\n")
    for index, chunk in enumerate(_FIGURE_LINE.split(body)):
        if index % 2 == 0:
            parts.append(_md.render(chunk))
        elif figure := figures.get(int(chunk)):
            parts.append(
                render_to_string(
                    "articles/figure.html", {"figure": figure, "srcset": srcset(figure)}
                )
            )
    return mark_safe("".join(parts))  # noqa: S308 - markdown-it escapes; figures are templated
