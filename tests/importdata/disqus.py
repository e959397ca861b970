"""Disqus exports written from Disqus's published export format (root <disqus> in the
http://disqus.com namespace, internal ids in the disqus-internals namespace as dsq:id):
categories, then threads, then posts, each post naming its thread and, for a reply, its
parent by dsq:id.

`write_awkward` writes a small file with every case a real export throws at an importer;
`write_export` streams a big realistic one for the benchmark. Both return what they wrote.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd'
    ' http://disqus.com/api/schemas/1.0/internals.xsd">\n'
)
FORUM = "thenews"


@dataclass
class Written:
    """What a reader should make of the file."""

    threads: int = 0  # ThreadRecords
    comments: int = 0  # CommentRecords, duplicates included
    replies: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # posts the reader must report as unusable
    repaired: int = 0  # invalid UTF-8 sequences
    deleted_threads: int = 0

    def count(self, status: str, reply: bool = False) -> None:
        self.comments += 1
        self.replies += reply
        self.statuses[status] = self.statuses.get(status, 0) + 1


def cdata(text: str) -> str:
    """A CDATA section holding any text: "]]>" cannot appear inside one, so it is split."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def thread_xml(
    dsq_id: str,
    *,
    link: str | None,
    title: str,
    created: str,
    identifier: str = "",
    closed: bool = False,
    deleted: bool = False,
) -> str:
    """A <thread>; `link=None` leaves the element out, as some exports do."""
    link_xml = "" if link is None else f"<link>{escape(link)}</link>"
    return (
        f"<thread dsq:id={quoteattr(dsq_id)}><id>{escape(identifier)}</id><forum>{FORUM}</forum>"
        f'<category dsq:id="1"/>{link_xml}<title>{escape(title)}</title><message/>'
        f"<createdAt>{created}</createdAt><author><name>Ed Itor</name>"
        "<isAnonymous>false</isAnonymous><username>editor</username></author>"
        f"<ipAddress>127.0.0.1</ipAddress><isClosed>{_bool(closed)}</isClosed>"
        f"<isDeleted>{_bool(deleted)}</isDeleted></thread>\n"
    )


def post_xml(
    dsq_id: str,
    thread: str,
    message_xml: str,
    *,
    created: str,
    parent: str = "",
    name: str = "",
    email: str = "",
    username: str = "",
    anonymous: bool = False,
    ip: str = "",
    deleted: bool = False,
    spam: bool = False,
) -> str:
    """A <post>; `message_xml` is the message element's content as it goes in the file."""
    parent_xml = f"<parent dsq:id={quoteattr(parent)}/>" if parent else ""
    return (
        f"<post dsq:id={quoteattr(dsq_id)}><id/><message>{message_xml}</message>"
        f"<createdAt>{created}</createdAt><isDeleted>{_bool(deleted)}</isDeleted>"
        f"<isSpam>{_bool(spam)}</isSpam><author><email>{escape(email)}</email>"
        f"<name>{escape(name)}</name><isAnonymous>{_bool(anonymous)}</isAnonymous>"
        f"<username>{escape(username)}</username></author><ipAddress>{ip}</ipAddress>"
        f"<thread dsq:id={quoteattr(thread)}/>{parent_xml}</post>\n"
    )


# The awkward file's posts, by dsq:id, so tests can look them up.
SPLIT_CDATA_BODY = "<p>Code: <code>a[b[0]]>c</code> and ]]> again</p>"
# Escaped HTML with XML character references, decoded to the HTML Disqus stored (whose own
# entities, like &eacute;, stay for the HTML sanitiser).
ENTITY_XML = (
    "&lt;p&gt;Caf&amp;eacute; &amp;amp; cr&#232;me &#x1F600; &#8212; "
    "&lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;"
)
ENTITY_BODY = "<p>Caf&eacute; &amp; crème 😀 — <b>bold</b></p>"
REPAIRED_BODY = "<p>caf\ufffd ol\ufffd!</p>"
EMOJI_BODY = "<p>🎉👍🏽 family 👨\u200d👩\u200d👧</p>"
ARABIC_BODY = "<p>مرحبا بالعالم</p>"
HEBREW_BODY = "<p>שלום עולם</p>"
HTML_BODY = (
    '<p>See <a href="https://news.example/a?x=1&amp;y=2" rel="nofollow">this</a>'
    ' <b>now</b><br>and <img src="https://uploads.disquscdn.com/images/abc.jpg"></p>'
)
ORPHAN_THREAD = "404"  # posts name this thread, which the file does not have
UNDATED = "1900"  # a post whose date cannot be read


@dataclass
class Author:
    name: str
    email: str = ""
    username: str = ""
    anonymous: bool = False
    ip: str = ""


def write_awkward(path: Path) -> Written:
    written = Written(threads=3, deleted_threads=1, skipped=1, repaired=2)
    posts: list[str] = []
    user = Author("Ana Lima", "ana@example.org", "analima", ip="10.0.0.1")
    guest = Author("Guest Reader", anonymous=True, ip="10.0.0.2")

    def post(
        dsq_id: str,
        thread: str,
        message_xml: str,
        by: Author = user,
        *,
        parent: str = "",
        status: str = "published",
        created: str = "2019-05-04T10:00:00Z",
    ) -> None:
        posts.append(
            post_xml(
                dsq_id,
                thread,
                message_xml,
                created=created,
                parent=parent,
                name=by.name,
                email=by.email,
                username=by.username,
                anonymous=by.anonymous,
                ip=by.ip,
                deleted=status == "deleted",
                spam=status == "spam",
            )
        )
        if dsq_id != UNDATED:
            written.count(status, reply=bool(parent))

    post("1001", "100", cdata(HTML_BODY))
    post("1002", "100", cdata("<p>Replying before my parent appears</p>"), guest, parent="1003")
    post("1003", "100", cdata("<p>I am the parent, written later</p>"))
    post("1004", "100", cdata("<p>My parent is gone</p>"), parent="999999")
    post("1005", "100", cdata("<p>First copy</p>"))
    post("1005", "100", cdata("<p>Second copy of the same id</p>"))
    post("1006", "100", ENTITY_XML)
    post("1007", "100", cdata(SPLIT_CDATA_BODY))
    post("1008", "100", cdata("@@REPAIR@@"))
    post("1009", "100", cdata(EMOJI_BODY), guest)
    post("1010", "100", cdata(ARABIC_BODY), Author("سارة", username="sara"))
    post(
        "1011",
        "100",
        cdata(HEBREW_BODY),
        Author("דנה", username="dana"),
        parent="1010",
    )
    # A deleted account: Disqus keeps the post but no name, address or username.
    post("1012", "100", cdata("<p>Written by someone who left</p>"), Author("", anonymous=True))
    post("1013", "100", cdata("<p>Cheap pills at spam.example</p>"), guest, status="spam")
    post("1014", "100", "", status="deleted")
    post("1015", "200", cdata("<p>On a page with no link</p>"))
    post("1016", ORPHAN_THREAD, cdata("<p>My thread is not in the file</p>"))
    post("1017", ORPHAN_THREAD, cdata("<p>Reply on the missing thread</p>"), parent="1016")
    post("1018", "300", cdata("<p>On a closed, deleted thread</p>"))
    post(UNDATED, "100", cdata("<p>When?</p>"), created="last Tuesday")

    threads = [
        thread_xml(
            "100",
            link="https://news.example/2019/05/cafe",
            title="Café & politics",
            created="2019-05-04T09:00:00Z",
            identifier="100 https://news.example/?p=100",
        ),
        thread_xml("200", link=None, title="A page with no link", created="2019-05-04T09:30:00Z"),
        thread_xml(
            "300",
            link="https://news.example/old",
            title="Old news",
            created="2018-01-01T00:00:00Z",
            closed=True,
            deleted=True,
        ),
    ]
    text = (
        HEAD + '<category dsq:id="1"><forum>thenews</forum><title>General</title>'
        "<isDefault>true</isDefault></category>\n"
        + "".join(threads)
        + "".join(posts)
        + "</disqus>\n"
    )
    # Bytes that are not UTF-8, as old exports carry: a Latin-1 é (0xE9, then a space) and 0xFF.
    path.write_bytes(text.encode().replace(b"@@REPAIR@@", b"<p>caf\xe9 ol\xff!</p>"))
    return written


NAMES = (
    "Maria García", "John Smith", "Aiko Tanaka", "Olusegun Bello", "Priya Natarajan",
    "Lars Müller", "Fatima Zahra", "Ольга Иванова", "Chen Wei", "Sam O'Neil",
    "أحمد علي", "Zoë Dupont", "Björn", "Nguyễn Văn An", "Kwame",
)  # fmt: skip
SENTENCES = (
    "I read this twice and I still disagree with the premise.",
    "Thanks for covering the council meeting, nobody else did.",
    "The numbers in the third paragraph don't add up &mdash; check the budget table.",
    "My street flooded in 2019 and the drains were never fixed.",
    "Great reporting. Subscribed.",
    "Does anyone know when the consultation closes?",
    "This is exactly what happened to my neighbour, <i>word for word</i>.",
    "Source? I'd like to read the full report.",
    "The bus route change has made my commute forty minutes longer.",
    "Well said 👏",
    "¿Alguien sabe si esto afecta también a la zona norte?",
    "Это очень важная статья.",
    "شكرا على هذا التقرير.",
    "I was at the school board meeting and it was far more heated than described here.",
    "Can we please get a follow-up on the hospital parking fees?",
)
WORDS = ("river", "council", "budget", "school", "housing", "transit", "festival", "election",
         "library", "bridge", "harbour", "market", "park", "police", "water", "energy")  # fmt: skip


def write_export(path: Path, threads: int, comments: int, seed: int = 0) -> Written:
    """A realistic export of `threads` threads and `comments` posts, written as it is made.

    Posts come in time order across threads, as Disqus writes them, busy threads getting
    more; about 30% are replies to an earlier post of the same thread; authors come from a
    pool of registered users and guests; some bodies carry links and Disqus-hosted images.
    """
    rng = random.Random(seed)
    written = Written(threads=threads)
    authors = []
    for n in range(2000):
        name = f"{NAMES[n % len(NAMES)]} {n}"
        if n % 5 == 0:  # a guest
            authors.append((name, f"guest{n}@mail.example", "", True))
        else:
            authors.append((name, f"user{n}@mail.example", f"user_{n}", False))
    start = datetime(2012, 1, 1, tzinfo=UTC)
    span = timedelta(days=365 * 10)
    # Threads are the site's articles, ids in publication order.
    thread_ids = [str(7_000_000_000 + t) for t in range(threads)]
    recent: list[list[str]] = [[] for _ in range(threads)]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(HEAD)
        out.write('<category dsq:id="1"><forum>thenews</forum><title>General</title>'
                  "<isDefault>true</isDefault></category>\n")  # fmt: skip
        for t, dsq_id in enumerate(thread_ids):
            slug = "-".join(rng.sample(WORDS, 3))
            created = start + span * t / max(threads, 1)
            out.write(
                thread_xml(
                    dsq_id,
                    link=f"https://news.example/{created:%Y/%m}/{slug}-{t}/",
                    title=f"The {slug.replace('-', ' ')} story, part {t}",
                    created=_stamp(created),
                    identifier=f"{t} https://news.example/?p={t}",
                    closed=t % 50 == 0,
                )
            )
        batch: list[str] = []
        step = span / max(comments, 1)
        for n in range(comments):
            # Readers comment on articles already published, the newest most.
            published = max(1, min(threads, threads * (n + 1) // comments))
            t = published - 1 - int(published * rng.random() ** 4)
            post_id = str(4_000_000_000 + n)
            parent = ""
            if recent[t] and rng.random() < 0.3:
                parent = rng.choice(recent[t])
            recent[t].append(post_id)
            if len(recent[t]) > 8:
                del recent[t][0]
            name, email, username, anonymous = authors[int(len(authors) * rng.random() ** 2)]
            body = " ".join(rng.choices(SENTENCES, k=1 + int(rng.random() * 4)))
            roll = rng.random()
            if roll < 0.05:
                body += f' <a href="https://example.org/{rng.choice(WORDS)}">link</a>'
            elif roll < 0.07:
                body += f" https://uploads.disquscdn.com/images/{n:x}.jpg"
            status = "spam" if roll > 0.98 else "deleted" if roll > 0.96 else "published"
            batch.append(
                post_xml(
                    post_id,
                    thread_ids[t],
                    cdata(f"<p>{body}</p>"),
                    created=_stamp(start + step * n),
                    parent=parent,
                    name=name,
                    email=email,
                    username=username,
                    anonymous=anonymous,
                    ip=f"10.{n % 250}.{n % 199}.{n % 97}",
                    deleted=status == "deleted",
                    spam=status == "spam",
                )
            )
            written.count(status, reply=bool(parent))
            if len(batch) == 2000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.write("</disqus>\n")
    return written
