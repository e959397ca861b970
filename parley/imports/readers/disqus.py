"""Disqus's XML export: <disqus> holding categories, then <thread>s (the pages), then
<post>s (the comments), each post naming its thread and its parent by Disqus's internal id
(dsq:id). Categories say nothing about comments and are passed over.

A thread's key is its dsq:id, which its posts use; the page's own identifier (<id>) is not
needed to find it again because the link is kept as the thread's address.
"""

from collections.abc import Iterator

from parley.imports.records import (
    CommentRecord,
    Meter,
    NoteRecord,
    Options,
    Record,
    SkipRecord,
    SourceError,
    ThreadRecord,
)
from parley.imports.xmlstream import CLOSED_SINCE_UNKNOWN, Element, XmlStream, field_text, utc

NAMESPACES = {"http://disqus.com": "", "http://disqus.com/disqus-internals": "dsq:"}


def read(source: str, meter: Meter, options: Options) -> Iterator[Record]:
    stream = XmlStream(source, meter, record_depth=2, namespaces=NAMESPACES)
    elements = iter(stream)
    _check_root(next(elements), stream)
    deleted_threads = 0
    for element in elements:
        if element.name == "post":
            yield _comment(element, stream)
        elif element.name == "thread":
            thread = _thread(element, stream)
            deleted_threads += isinstance(thread, ThreadRecord) and _flag(element, "isDeleted")
            yield thread
    if deleted_threads:
        yield NoteRecord(
            f"{deleted_threads} thread(s) are marked deleted in Disqus; they are imported "
            "with their comments, as the pages they belong to may still be online"
        )
    note = stream.repair_note()
    if note is not None:
        yield note


def _check_root(root: Element, stream: XmlStream) -> None:
    if root.name == "disqus":
        return
    hint = (
        " It looks like a WordPress export: import it as wxr." if root.local_name == "rss" else ""
    )
    raise SourceError(
        f"this is not a Disqus export: its root element is <{root.local_name}>, "
        f"not <disqus>.{hint}",
        stream.where(root.line),
    )


def _thread(element: Element, stream: XmlStream) -> ThreadRecord | SkipRecord:
    where = stream.where(element.line)
    key = element.attrs.get("dsq:id", "")
    if not key:
        return SkipRecord("thread", "", "the thread has no dsq:id, so no post can name it", where)
    fields = element.fields()
    created = utc(field_text(fields, "createdAt"))
    closed = _flag(element, "isClosed")
    return ThreadRecord(
        key=key,
        url=field_text(fields, "link").strip(),
        title=field_text(fields, "title").strip(),
        created_at=created,
        closed_at=(created or CLOSED_SINCE_UNKNOWN) if closed else None,
        where=where,
    )


def _comment(element: Element, stream: XmlStream) -> CommentRecord | SkipRecord:
    where = stream.where(element.line)
    key = element.attrs.get("dsq:id", "")
    fields = element.fields()
    thread = fields.get("thread")
    thread_key = thread.attrs.get("dsq:id", "") if thread is not None else ""
    if not key:
        return SkipRecord("comment", "", "the post has no dsq:id", where)
    if not thread_key:
        return SkipRecord("comment", key, "the post names no thread", where)
    created_text = field_text(fields, "createdAt")
    created = utc(created_text)
    if created is None:
        return SkipRecord("comment", key, f"its date {created_text!r} cannot be read", where)
    author = fields.get("author")
    by = author.fields() if author is not None else {}
    anonymous = field_text(by, "isAnonymous").strip() == "true"
    parent = fields.get("parent")
    if field_text(fields, "isSpam").strip() == "true":
        # Spam first: a spam post that was also deleted still teaches the scorer.
        status = "spam"
    elif field_text(fields, "isDeleted").strip() == "true":
        status = "deleted"
    else:
        status = "published"
    return CommentRecord(
        key=key,
        thread_key=thread_key,
        created_at=created,
        body=field_text(fields, "message"),
        body_format="html",
        status=status,
        parent_key=parent.attrs.get("dsq:id", "") if parent is not None else "",
        author_name=field_text(by, "name").strip(),
        author_email=field_text(by, "email").strip(),
        # A guest's username is Disqus's throwaway one, not a stable identity.
        author_id="" if anonymous else field_text(by, "username").strip(),
        anonymous=anonymous,
        ip=field_text(fields, "ipAddress").strip(),
        where=where,
    )


def _flag(element: Element, name: str) -> bool:
    return element.text_of(name).strip() == "true"
