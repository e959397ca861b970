"""WordPress's export (WXR 1.0, 1.1 and 1.2): an RSS file whose <channel> lists the site's
authors, then one <item> per post, page, attachment or menu entry, each holding its
<wp:comment>s. Comments are handed on as they close, so a post with many thousands of them
is never held whole.

A thread is a WordPress item (key: wp:post_id) at its permalink (<link>, else the <guid>).
Only items that have comments become threads, unless posts and pages are imported as
articles too (`Options.articles`): then every published post and page does. Pingbacks and
trackbacks are reported as skipped, not imported: they are notices from other blogs, not
readers' comments.
"""

import html
from collections.abc import Iterator

from parley.imports.records import (
    ArticleRecord,
    CommentRecord,
    Meter,
    Options,
    Record,
    SkipRecord,
    SourceError,
    ThreadRecord,
)
from parley.imports.xmlstream import CLOSED_SINCE_UNKNOWN, Element, XmlStream, field_text, utc

NAMESPACES = {
    **{f"http://wordpress.org/export/1.{minor}/": "wp:" for minor in range(3)},
    **{f"http://wordpress.org/export/1.{minor}/excerpt/": "excerpt:" for minor in range(3)},
    "http://purl.org/rss/1.0/modules/content/": "content:",
    "http://purl.org/dc/elements/1.1/": "dc:",
}
STATUSES = {"1": "published", "0": "pending", "spam": "spam", "trash": "deleted"}
ARTICLE_TYPES = {"post", "page"}


def read(source: str, meter: Meter, options: Options) -> Iterator[Record]:
    stream = XmlStream(
        source,
        meter,
        record_depth=3,
        namespaces=NAMESPACES,
        nested=frozenset({"wp:comment"}),
    )
    elements = iter(stream)
    _check_root(next(elements), stream)
    version_seen = False
    display_names: dict[str, str] = {}  # author login → display name, for articles' bylines
    waiting: list[Element] = []  # comments met before their item's wp:post_id, if any
    comments_in_item = 0
    for element in elements:
        if element.name == "wp:comment":
            post_id = element.parent.text_of("wp:post_id").strip() if element.parent else ""
            if not post_id:
                waiting.append(element)
                continue
            record = _comment(element, post_id, stream)
            comments_in_item += isinstance(record, CommentRecord)
            yield record
        elif element.name == "item":
            if not version_seen:
                raise SourceError(
                    "this RSS file is not a WordPress export: it has no <wp:wxr_version>",
                    stream.where(element.line),
                )
            post_id = element.text_of("wp:post_id").strip()
            for comment in waiting:
                record = _comment(comment, post_id, stream)
                comments_in_item += isinstance(record, CommentRecord)
                yield record
            waiting.clear()
            yield from _item(element, post_id, comments_in_item, display_names, options, stream)
            comments_in_item = 0
        elif element.name == "wp:wxr_version":
            version_seen = True
        elif element.name.endswith("}wxr_version"):
            raise SourceError(
                f"this is WXR version {element.text.strip()}, which Parley does not know "
                "(it reads 1.0 to 1.2)",
                stream.where(element.line),
            )
        elif element.name == "wp:author":
            fields = element.fields()
            login = field_text(fields, "wp:author_login").strip()
            display_names[login] = field_text(fields, "wp:author_display_name").strip() or login
    note = stream.repair_note()
    if note is not None:
        yield note


def _check_root(root: Element, stream: XmlStream) -> None:
    if root.name == "rss":
        return
    hint = (
        " It looks like a Disqus export: import it as disqus."
        if root.local_name == "disqus"
        else ""
    )
    raise SourceError(
        f"this is not a WordPress export: its root element is <{root.local_name}>, "
        f"not <rss>.{hint}",
        stream.where(root.line),
    )


def _item(
    element: Element,
    post_id: str,
    comments: int,
    display_names: dict[str, str],
    options: Options,
    stream: XmlStream,
) -> Iterator[Record]:
    fields = element.fields()
    where = stream.where(element.line)
    article = (
        options.articles
        and field_text(fields, "wp:post_type").strip() in ARTICLE_TYPES
        and field_text(fields, "wp:status").strip() == "publish"
    )
    if not (comments or article):
        return
    if not post_id:
        yield SkipRecord("thread", "", "the item has no wp:post_id", where)
        return
    created = utc(field_text(fields, "wp:post_date_gmt"))
    closed = field_text(fields, "wp:comment_status").strip() == "closed"
    title = field_text(fields, "title").strip()
    yield ThreadRecord(
        key=post_id,
        url=field_text(fields, "link").strip() or field_text(fields, "guid").strip(),
        title=title,
        created_at=created,
        closed_at=(created or CLOSED_SINCE_UNKNOWN) if closed else None,
        where=where,
    )
    if article:
        login = field_text(fields, "dc:creator").strip()
        yield ArticleRecord(
            key=post_id,
            thread_key=post_id,
            title=title,
            body=field_text(fields, "content:encoded"),
            body_format="html",
            author_name=display_names.get(login, login),
            slug=field_text(fields, "wp:post_name").strip(),
            dek=field_text(fields, "excerpt:encoded").strip(),
            published_at=created,
            where=where,
        )


def _comment(element: Element, post_id: str, stream: XmlStream) -> CommentRecord | SkipRecord:
    where = stream.where(element.line)
    meta: dict[str, list[str]] = {}
    fields: dict[str, Element] = {}
    for child in element.children:
        if child.name == "wp:commentmeta":
            meta.setdefault(child.text_of("wp:meta_key"), []).append(child.text_of("wp:meta_value"))
        else:
            fields[child.name] = child
    key = field_text(fields, "wp:comment_id").strip()
    if not key:
        return SkipRecord("comment", "", "the comment has no wp:comment_id", where)
    if not post_id:
        return SkipRecord("comment", key, "its item has no wp:post_id", where)
    kind = field_text(fields, "wp:comment_type").strip()
    if kind not in ("", "comment"):
        return SkipRecord("comment", key, f"{kind}: not a reader comment", where)
    # The GMT date is empty or zero in some old or hand-made exports; the site's local time
    # is then the best there is.
    gmt, local = field_text(fields, "wp:comment_date_gmt"), field_text(fields, "wp:comment_date")
    created = utc(gmt) or utc(local)
    if created is None:
        return SkipRecord(
            "comment", key, f"its dates ({gmt!r} GMT, {local!r} local) cannot be read", where
        )
    approved = field_text(fields, "wp:comment_approved").strip()
    parent = field_text(fields, "wp:comment_parent").strip()
    user_id = field_text(fields, "wp:comment_user_id").strip()
    return CommentRecord(
        key=key,
        thread_key=post_id,
        created_at=created,
        body=field_text(fields, "wp:comment_content"),
        body_format="html",
        # Anything else (a plugin's own state) waits for a moderator rather than going live.
        status=STATUSES.get(approved, "pending"),
        parent_key="" if parent in ("", "0") else parent,
        # WordPress stores commenters' names HTML-escaped ("O&#039;Neil &amp; Sons").
        author_name=html.unescape(field_text(fields, "wp:comment_author").strip()),
        author_email=field_text(fields, "wp:comment_author_email").strip(),
        author_url=field_text(fields, "wp:comment_author_url").strip(),
        author_id="" if user_id in ("", "0") else user_id,
        ip=field_text(fields, "wp:comment_author_IP").strip(),
        extra={"meta": meta} if meta else {},
        where=where,
    )
