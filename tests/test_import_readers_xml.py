"""The Disqus and WordPress (WXR) readers: what they make of exports with every awkward
case, and how they refuse files that are broken, dangerous or of the other format."""

import gzip
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from parley.imports.readers import disqus, wxr
from parley.imports.records import (
    ArticleRecord,
    CommentRecord,
    Meter,
    NoteRecord,
    Options,
    Reader,
    Record,
    SkipRecord,
    SourceError,
    ThreadRecord,
)
from tests.importdata import disqus as disqus_data
from tests.importdata import wxr as wxr_data

T = TypeVar("T")


def read_all(reader: Reader, path: Path, articles: bool = False) -> list[Record]:
    return list(reader(str(path), Meter(), Options(articles=articles)))


def of(kind: type[T], records: list[Record]) -> list[T]:
    return [record for record in records if isinstance(record, kind)]


def comments_by_key(records: list[Record]) -> dict[str, CommentRecord]:
    """The comments by key; of a key written twice, the first."""
    found: dict[str, CommentRecord] = {}
    for comment in of(CommentRecord, records):
        found.setdefault(comment.key, comment)
    return found


def write(tmp_path: Path, text: str | bytes, name: str = "export.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.fixture
def disqus_export(tmp_path: Path) -> tuple[Path, disqus_data.Written]:
    path = tmp_path / "disqus.xml"
    return path, disqus_data.write_awkward(path)


def test_disqus_export_gives_every_thread_and_post_as_written(
    disqus_export: tuple[Path, disqus_data.Written],
) -> None:
    path, written = disqus_export
    records = read_all(disqus.read, path)
    comments = of(CommentRecord, records)
    assert len(of(ThreadRecord, records)) == written.threads
    assert len(comments) == written.comments
    assert Counter(comment.status for comment in comments) == written.statuses
    assert sum(bool(comment.parent_key) for comment in comments) == written.replies
    # The loader sorts out order, duplicates and missing parents or threads: the reader
    # passes them on as the file has them.
    by_key = comments_by_key(records)
    assert by_key["1002"].parent_key == "1003"
    assert by_key["1004"].parent_key == "999999"
    assert by_key["1011"].parent_key == "1010"
    assert [c.body for c in comments if c.key == "1005"] == [
        "<p>First copy</p>",
        "<p>Second copy of the same id</p>",
    ]
    assert {by_key["1016"].thread_key, by_key["1017"].thread_key} == {disqus_data.ORPHAN_THREAD}
    assert all(comment.body_format == "html" for comment in comments)


def test_disqus_bodies_arrive_decoded(disqus_export: tuple[Path, disqus_data.Written]) -> None:
    by_key = comments_by_key(read_all(disqus.read, disqus_export[0]))
    assert by_key["1001"].body == disqus_data.HTML_BODY
    # XML's escapes and character references are undone; HTML's own entities are the
    # sanitiser's business.
    assert by_key["1006"].body == disqus_data.ENTITY_BODY
    assert by_key["1007"].body == disqus_data.SPLIT_CDATA_BODY
    assert by_key["1009"].body == disqus_data.EMOJI_BODY
    assert by_key["1010"].body == disqus_data.ARABIC_BODY
    assert by_key["1011"].body == disqus_data.HEBREW_BODY
    assert by_key["1014"].body == ""


def test_disqus_authors_registered_guest_and_gone(
    disqus_export: tuple[Path, disqus_data.Written],
) -> None:
    by_key = comments_by_key(read_all(disqus.read, disqus_export[0]))
    registered, guest, gone = by_key["1001"], by_key["1002"], by_key["1012"]
    assert (registered.author_name, registered.author_email) == ("Ana Lima", "ana@example.org")
    assert (registered.author_id, registered.anonymous, registered.ip) == (
        "analima",
        False,
        "10.0.0.1",
    )
    assert (guest.author_name, guest.author_id, guest.anonymous) == ("Guest Reader", "", True)
    assert (gone.author_name, gone.author_email, gone.author_id) == ("", "", "")
    assert by_key["1010"].author_name == "سارة"


def test_disqus_threads_keep_link_title_and_closing(
    disqus_export: tuple[Path, disqus_data.Written],
) -> None:
    records = read_all(disqus.read, disqus_export[0])
    threads = {thread.key: thread for thread in of(ThreadRecord, records)}
    assert threads["100"].url == "https://news.example/2019/05/cafe"
    assert threads["100"].title == "Café & politics"
    assert threads["100"].created_at is not None
    assert threads["100"].created_at.isoformat() == "2019-05-04T09:00:00+00:00"
    assert threads["100"].closed_at is None
    assert threads["200"].url == ""  # no <link>: the loader gives it one
    assert threads["300"].closed_at == threads["300"].created_at
    notes = [note.text for note in of(NoteRecord, records)]
    assert any("1 thread(s) are marked deleted" in note for note in notes)


def test_disqus_invalid_bytes_are_replaced_and_reported(
    disqus_export: tuple[Path, disqus_data.Written],
) -> None:
    path, written = disqus_export
    records = read_all(disqus.read, path)
    assert comments_by_key(records)["1008"].body == disqus_data.REPAIRED_BODY
    repair = [note.text for note in of(NoteRecord, records) if "UTF-8" in note.text]
    line = next(n for n, text in enumerate(path.read_bytes().split(b"\n"), 1) if b"\xff" in text)
    assert repair == [
        f"disqus.xml: {written.repaired} byte sequence(s) that were not valid UTF-8 were "
        f"replaced by U+FFFD (\ufffd), the first on line {line}"
    ]


def test_disqus_post_with_unreadable_date_is_skipped_with_reason(
    disqus_export: tuple[Path, disqus_data.Written],
) -> None:
    path, written = disqus_export
    skipped = of(SkipRecord, read_all(disqus.read, path))
    assert len(skipped) == written.skipped
    assert (skipped[0].kind, skipped[0].key) == ("comment", disqus_data.UNDATED)
    assert "'last Tuesday' cannot be read" in skipped[0].reason
    assert skipped[0].where.startswith("disqus.xml line ")


def test_progress_is_metered_in_bytes(disqus_export: tuple[Path, disqus_data.Written]) -> None:
    path = disqus_export[0]
    seen: list[int] = []
    meter = Meter(on_change=lambda m: seen.append(m.done))
    list(disqus.read(str(path), meter, Options()))
    assert meter.total == path.stat().st_size
    assert seen[-1] == meter.total


def test_gzipped_export_is_read_as_disqus_sends_it(
    tmp_path: Path, disqus_export: tuple[Path, disqus_data.Written]
) -> None:
    path, written = disqus_export
    packed = write(tmp_path, gzip.compress(path.read_bytes()), "disqus.xml.gz")
    records = read_all(disqus.read, packed)
    assert len(of(CommentRecord, records)) == written.comments
    assert of(CommentRecord, records) == [
        replace(comment, where=comment.where.replace("disqus.xml", "disqus.xml.gz"))
        for comment in of(CommentRecord, read_all(disqus.read, path))
    ]
    with pytest.raises(SourceError) as raised:
        read_all(disqus.read, write(tmp_path, packed.read_bytes()[:-100], "cut.xml.gz"))
    assert "cut.xml.gz: the compressed file cannot be read" in str(raised.value)


@pytest.fixture
def wxr_export(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, wxr_data.Written]:
    path = tmp_path / "wordpress.xml"
    return path, wxr_data.write_awkward(path, version=request.param)


@pytest.mark.parametrize("wxr_export", ["1.1", "1.2"], indirect=True)
def test_wxr_export_gives_comments_of_every_status(
    wxr_export: tuple[Path, wxr_data.Written],
) -> None:
    path, written = wxr_export
    records = read_all(wxr.read, path)
    comments = of(CommentRecord, records)
    assert len(comments) == written.comments
    assert Counter(comment.status for comment in comments) == written.statuses
    assert sum(bool(comment.parent_key) for comment in comments) == written.replies
    by_key = comments_by_key(records)
    assert by_key["1102"].parent_key == "1101"
    assert by_key["1103"].parent_key == "1105"  # a parent further down
    assert by_key["1104"].parent_key == "999"  # a parent that does not exist
    assert len([c for c in comments if c.key == "1105"]) == 2
    assert (by_key["1106"].status, by_key["1107"].status, by_key["1108"].status) == (
        "pending",
        "spam",
        "deleted",
    )
    assert {by_key["1101"].thread_key, by_key["2001"].thread_key} == {"10", "20"}


@pytest.mark.parametrize("wxr_export", ["1.1", "1.2"], indirect=True)
def test_wxr_bodies_authors_and_meta(wxr_export: tuple[Path, wxr_data.Written]) -> None:
    records = read_all(wxr.read, wxr_export[0])
    by_key = comments_by_key(records)
    assert by_key["1101"].body == wxr_data.HTML_BODY
    assert by_key["1101"].extra == {"meta": {"akismet_result": ["false"], "rating": ["4", "5"]}}
    assert by_key["1102"].extra == {}
    assert by_key["1113"].body == wxr_data.EMOJI_BODY
    assert by_key["1113"].author_url == "https://ana.example/"
    assert by_key["1114"].body == wxr_data.ARABIC_BODY
    assert by_key["1115"].body == wxr_data.HEBREW_BODY
    assert by_key["1116"].body == wxr_data.ENTITY_BODY
    assert by_key["1117"].body == wxr_data.REPAIRED_BODY
    assert by_key["1118"].body == wxr_data.SPLIT_CDATA_BODY
    # No GMT date: the site's local one.
    assert by_key["1118"].created_at.strftime("%Y-%m-%d %H:%M:%S") == wxr_data.LOCAL_DATE
    assert (by_key["1111"].author_name, by_key["1111"].author_id) == ("Ed Itor", "1")
    assert (by_key["1101"].author_id, by_key["1101"].ip) == ("", "10.0.0.1")
    gone = by_key[wxr_data.DELETED_USER]
    assert (gone.author_name, gone.author_email, gone.author_id) == ("", "", "42")
    assert any("2 byte sequence(s)" in note.text for note in of(NoteRecord, records))


@pytest.mark.parametrize("wxr_export", ["1.2"], indirect=True)
def test_wxr_pingbacks_and_undated_comments_are_reported_not_imported(
    wxr_export: tuple[Path, wxr_data.Written],
) -> None:
    path, written = wxr_export
    skipped = {skip.key: skip for skip in of(SkipRecord, read_all(wxr.read, path))}
    assert len(skipped) == written.skipped
    assert skipped["1109"].reason == "pingback: not a reader comment"
    assert skipped["1110"].reason == "trackback: not a reader comment"
    assert "cannot be read" in skipped[wxr_data.UNDATED].reason
    assert skipped["1109"].where.startswith("wordpress.xml line ")


@pytest.mark.parametrize("wxr_export", ["1.2"], indirect=True)
def test_wxr_threads_are_commented_items_and_articles_come_only_when_asked(
    wxr_export: tuple[Path, wxr_data.Written],
) -> None:
    path, written = wxr_export
    plain = read_all(wxr.read, path)
    threads = {thread.key: thread for thread in of(ThreadRecord, plain)}
    assert len(threads) == written.threads
    assert not of(ArticleRecord, plain)
    assert threads["10"].url == "https://blog.example/2020/03/river/"
    assert threads["10"].title == "The river & the town"
    assert threads["20"].url == "https://blog.example/?page_id=20"  # no <link>: the guid
    assert threads["60"].url == ""
    assert threads["60"].closed_at == threads["60"].created_at
    assert threads["10"].closed_at is None

    with_articles = read_all(wxr.read, path, articles=True)
    articles = {article.key: article for article in of(ArticleRecord, with_articles)}
    # Published posts and pages; not the attachment, the draft or the menu entry.
    assert sorted(articles) == ["10", "20", "40", "60"] and len(articles) == written.articles
    assert len(of(ThreadRecord, with_articles)) == written.threads_with_articles
    river = articles["10"]
    assert (river.thread_key, river.slug, river.author_name) == ("10", "river", "Ed Itor")
    assert (river.body, river.body_format) == (wxr_data.POST_CONTENT, "html")
    assert river.dek == "The river rose."
    assert river.published_at == threads["10"].created_at


def test_truncated_export_names_where_it_stops(
    tmp_path: Path, disqus_export: tuple[Path, disqus_data.Written]
) -> None:
    data = disqus_export[0].read_bytes()
    cut = data.index(b'<post dsq:id="1010">') + 60
    with pytest.raises(SourceError) as raised:
        list(disqus.read(str(write(tmp_path, data[:cut])), Meter(), Options()))
    line = data[:cut].count(b"\n") + 1
    assert raised.value.where.startswith(f"export.xml line {line}, column ")
    assert str(raised.value).endswith(
        f': the file ends inside <post dsq:id="1010">, begun on line {line} (truncated export?)'
    )


def test_broken_xml_is_refused_with_its_place(tmp_path: Path) -> None:
    text = disqus_data.HEAD + "<thread dsq:id='1'>\n<title>Caf&eacute;</title></thread></disqus>"
    with pytest.raises(SourceError) as raised:
        list(disqus.read(str(write(tmp_path, text)), Meter(), Options()))
    assert raised.value.where == "export.xml line 4, column 11"
    assert "an entity XML does not define" in str(raised.value)


BOMB = """<?xml version="1.0"?>
<!DOCTYPE disqus [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<disqus xmlns="http://disqus.com"><thread><title>&lol9;</title></thread></disqus>
"""


@pytest.mark.parametrize("reader", [disqus.read, wxr.read])
def test_entity_expansion_bomb_is_refused_at_once(tmp_path: Path, reader: Reader) -> None:
    path = write(tmp_path, BOMB)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as raised:
            read_all(reader, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 2
    assert peak < 5_000_000
    assert raised.value.where.startswith("export.xml line 3, ")  # the first declaration
    assert str(raised.value).endswith(
        ": the file declares XML entities, which Parley refuses to expand "
        "(possible entity-expansion attack)"
    )


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = write(tmp_path, "top secret", "secret.txt")
    text = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<rss><channel><title>&xxe;</title></channel></rss>"
    )
    with pytest.raises(SourceError) as raised:
        read_all(wxr.read, write(tmp_path, text))
    assert f"external entity pointing at 'file://{secret}'" in str(raised.value)
    assert "refuses to read" in str(raised.value)
    assert "top secret" not in str(raised.value)


def test_each_reader_refuses_the_other_format_by_name(
    tmp_path: Path,
    disqus_export: tuple[Path, disqus_data.Written],
) -> None:
    wordpress = tmp_path / "wordpress.xml"
    wxr_data.write_awkward(wordpress)
    with pytest.raises(SourceError) as raised:
        read_all(disqus.read, wordpress)
    assert str(raised.value) == (
        "wordpress.xml line 3: this is not a Disqus export: its root element is <rss>, not "
        "<disqus>. It looks like a WordPress export: import it as wxr."
    )
    with pytest.raises(SourceError) as raised:
        read_all(wxr.read, disqus_export[0])
    assert "this is not a WordPress export: its root element is <disqus>" in str(raised.value)
    assert "import it as disqus" in str(raised.value)


def test_a_plain_rss_feed_is_not_a_wordpress_export(tmp_path: Path) -> None:
    feed = "<rss version='2.0'><channel><title>News</title><item><title>A</title></item>"
    with pytest.raises(SourceError) as raised:
        read_all(wxr.read, write(tmp_path, feed + "</channel></rss>"))
    assert "this RSS file is not a WordPress export: it has no <wp:wxr_version>" in str(
        raised.value
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "export.xml: the file is empty"),
        (b'{"comments": []}', "export.xml line 1, column 1: this is not an XML file"),
    ],
)
def test_files_that_are_not_xml_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(SourceError) as raised:
        read_all(disqus.read, write(tmp_path, content))
    assert message in str(raised.value)


def test_a_document_in_another_encoding_is_read_as_declared(tmp_path: Path) -> None:
    text = disqus_data.HEAD.replace("utf-8", "ISO-8859-1") + disqus_data.post_xml(
        "1", "2", "caf\xe9", created="2020-01-01T00:00:00Z"
    )
    records = read_all(disqus.read, write(tmp_path, (text + "</disqus>").encode("latin-1")))
    assert of(CommentRecord, records)[0].body == "café"
    assert not of(NoteRecord, records)  # Latin-1 bytes are not repairs


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reader", "writer"),
    [
        (disqus.read, lambda path: disqus_data.write_export(path, 2_000, 50_000)),
        # One post holds a tenth of the comments: they stream too.
        (wxr.read, lambda path: wxr_data.write_export(path, 100, 25_000)),
    ],
)
def test_memory_stays_flat_however_big_the_export(
    tmp_path: Path,
    reader: Reader,
    writer: Callable[[Path], disqus_data.Written | wxr_data.Written],
) -> None:
    path = tmp_path / "big.xml"
    written = writer(path)
    assert path.stat().st_size > 20_000_000
    comments = 0
    tracemalloc.start()
    try:
        for record in reader(str(path), Meter(), Options()):
            assert not isinstance(record, (SkipRecord, NoteRecord))  # nothing to repair
            comments += isinstance(record, CommentRecord)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert comments == written.comments
    assert peak < 30_000_000


def test_wordpress_escaped_commenter_names_arrive_as_written(tmp_path: Path) -> None:
    path = tmp_path / "wp.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2'
        "</wp:wxr_version><item><title>Post</title><link>https://old.example/p/</link>"
        "<wp:post_id>5</wp:post_id><wp:post_type>post</wp:post_type><wp:comment>"
        "<wp:comment_id>9</wp:comment_id><wp:comment_author>O&amp;#039;Neil &amp;amp; Sons"
        "</wp:comment_author><wp:comment_date_gmt>2015-01-02 03:04:05</wp:comment_date_gmt>"
        "<wp:comment_content>Hi</wp:comment_content><wp:comment_approved>1"
        "</wp:comment_approved></wp:comment></item></channel></rss>"
    )
    [comment] = [r for r in read_all(wxr.read, path) if isinstance(r, CommentRecord)]
    assert comment.author_name == "O'Neil & Sons"
