"""Streaming an XML export (Disqus, WordPress WXR) in constant memory.

The file (gzipped or not) is fed in chunks to an expat parser, which builds small trees for
the "record" elements a reader asks for (a Disqus <post>, a WordPress <item> or <wp:comment>)
and hands each one over, detached, when it closes, so memory stays flat however large the
file. The parser carries defusedxml's protections: a file that declares entities (the
"billion laughs" expansion bomb, or an external entity pointing at a local file or an
address) is refused before anything is expanded or fetched.

Exports are supposed to be UTF-8 but old ones carry stray bytes (Latin-1 pasted into a
comment); expat would stop at the first. A UTF-8 document is repaired as it streams: each
invalid sequence becomes U+FFFD and the reader reports how many and where.
"""

import codecs
import gzip
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BufferedIOBase
from pyexpat import ExpatError, ParserCreate, errors
from typing import Any

from defusedxml.common import EntitiesForbidden, ExternalReferenceForbidden

from parley.imports.records import Meter, NoteRecord, SourceError

CHUNK = 1 << 18
GZIP_MAGIC = b"\x1f\x8b"
# Both formats say that a thread is closed, not since when; a closed thread with no readable
# date of its own is closed since the epoch, which still reads as closed.
CLOSED_SINCE_UNKNOWN = datetime(1970, 1, 1, tzinfo=UTC)
REPLACEMENT = "\ufffd".encode()
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = {"utf-8", "utf8"}
_MESSAGES = {
    errors.XML_ERROR_UNDEFINED_ENTITY: "it uses an entity XML does not define "
    "(an HTML entity such as &eacute; outside CDATA?)",
    errors.XML_ERROR_TAG_MISMATCH: "a closing tag does not match the element it closes",
    errors.XML_ERROR_INVALID_TOKEN: "it has a character XML does not allow there "
    "(an unescaped < or &, or a control character?)",
    errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "there is more after the end of the "
    "document (two exports joined together?)",
}


class Element:
    """One element of a record: short name, attributes, text and children."""

    __slots__ = ("attrs", "children", "line", "name", "parent", "text")

    def __init__(self, name: str, attrs: dict[str, str], parent: "Element | None", line: int):
        self.name = name
        self.attrs = attrs
        self.parent = parent
        self.line = line
        self.text = ""
        self.children: list[Element] = []

    @property
    def local_name(self) -> str:
        """The name without its namespace or prefix, for messages."""
        return self.name.rpartition("}")[2].rpartition(":")[2]

    def fields(self) -> dict[str, "Element"]:
        """Children by name (the last, for a name that repeats)."""
        return {child.name: child for child in self.children}

    def text_of(self, name: str) -> str:
        for child in self.children:
            if child.name == name:
                return child.text
        return ""


class XmlStream:
    """`for element in XmlStream(...)` gives the root element as soon as it opens (without
    children, for the reader to check it is the format it expects), then each record element
    as it closes: every element at `record_depth` (the root is depth 1) and those just below
    it named in `nested` (a WordPress comment inside its post), whose `parent` is then the
    record still being read.

    `namespaces` maps namespace URIs to the prefixes a reader's names use ("" for none), so
    a reader matches "dsq:id" or "wp:comment" whatever prefixes or WXR version the file has;
    names in other namespaces read "{uri}name".
    """

    def __init__(
        self,
        source: str,
        meter: Meter,
        *,
        record_depth: int,
        namespaces: dict[str, str],
        nested: frozenset[str] = frozenset(),
    ) -> None:
        self.source = source
        self.file_name = os.path.basename(source)
        self.meter = meter
        self.record_depth = record_depth
        self.nested = nested
        self.namespaces = namespaces
        self.repaired = 0
        self.first_repaired_line = 0
        self._names: dict[str, str] = {}
        self._open: list[Element] = []
        self._done: list[Element] = []
        self._lines = 0  # newlines fed so far, for the lines of repaired bytes
        self._root_seen = False
        self._parser = self._make_parser()

    def where(self, line: int) -> str:
        return f"{self.file_name} line {line}"

    def repair_note(self) -> NoteRecord | None:
        if not self.repaired:
            return None
        return NoteRecord(
            f"{self.file_name}: {self.repaired} byte sequence(s) that were not valid UTF-8 "
            f"were replaced by U+FFFD (\ufffd), the first on line {self.first_repaired_line}"
        )

    def __iter__(self) -> Iterator[Element]:
        try:
            raw = open(self.source, "rb")  # noqa: SIM115 (closed below, also on errors)
        except OSError as error:
            raise SourceError(f"cannot open the file: {error.strerror}", self.source) from None
        with raw:
            size = os.fstat(raw.fileno()).st_size
            if size == 0:
                raise SourceError("the file is empty", self.file_name)
            self.meter.start(size)
            # Disqus sends its export gzipped; it is read as it is, without unpacking it first.
            packed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            file: BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if packed else raw
            yield from self._parse(file, raw)

    def _parse(self, file: BufferedIOBase, raw: BufferedIOBase) -> Iterator[Element]:
        chunk = self._read(file)
        repair = _is_utf8(chunk)
        carry = b""
        while chunk:
            if repair:
                chunk, carry = _split_incomplete(carry + chunk)
                chunk = self._repair(chunk)
            self._feed(chunk, final=False)
            yield from self._done
            self._done.clear()
            self.meter.advance_to(raw.tell())
            chunk = self._read(file)
        self._feed(self._repair(carry) if carry else b"", final=True)
        yield from self._done
        self._done.clear()

    def _read(self, file: BufferedIOBase) -> bytes:
        try:
            return file.read(CHUNK)
        except (OSError, EOFError) as error:  # a gzip file that is damaged or cut short
            raise SourceError(
                f"the compressed file cannot be read: {error}", self.file_name
            ) from None

    def _repair(self, data: bytes) -> bytes:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            fixed = data.decode("utf-8", "replace")
            self.repaired += fixed.count("\ufffd") - data.count(REPLACEMENT)
            if not self.first_repaired_line:
                self.first_repaired_line = self._lines + data.count(b"\n", 0, error.start) + 1
            data = fixed.encode("utf-8")
        self._lines += data.count(b"\n")
        return data

    def _feed(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except ExpatError as error:
            raise self._error(error, final) from None
        except EntitiesForbidden as error:
            if error.sysid or error.pubid:
                raise SourceError(
                    "the file declares an external entity pointing at "
                    f"{error.sysid or error.pubid!r}, which Parley refuses to read",
                    self._here(),
                ) from None
            raise SourceError(
                "the file declares XML entities, which Parley refuses to expand "
                "(possible entity-expansion attack)",
                self._here(),
            ) from None
        except ExternalReferenceForbidden as error:
            raise SourceError(
                f"the file refers to {error.sysid!r}, which Parley refuses to read", self._here()
            ) from None

    def _here(self) -> str:
        parser = self._parser
        return f"{self.where(parser.CurrentLineNumber)}, column {parser.CurrentColumnNumber + 1}"

    def _error(self, error: ExpatError, final: bool) -> SourceError:
        where = f"{self.where(error.lineno)}, column {error.offset + 1}"  # offset counts from 0
        message = errors.messages[error.code]
        if final and self._open:
            inner = self._innermost_record()
            attrs = "".join(f' {name}="{value}"' for name, value in inner.attrs.items())
            return SourceError(
                f"the file ends inside <{inner.name}{attrs}>, begun on line {inner.line} "
                "(truncated export?)",
                where,
            )
        if not self._root_seen:
            return SourceError(f"this is not an XML file (the parser says: {message})", where)
        return SourceError(f"the XML is broken: {_MESSAGES.get(message, message)}", where)

    def _innermost_record(self) -> Element:
        """The open element a person would look for: the record being read, else the root."""
        for depth in range(len(self._open), 0, -1):
            element = self._open[depth - 1]
            if depth == self.record_depth or (
                depth == self.record_depth + 1 and element.name in self.nested
            ):
                return element
        return self._open[0]

    def _make_parser(self) -> Any:
        # The handlers run for every element of a file that may hold millions: they keep to
        # local names and do as little as they can.
        parser = ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.buffer_size = CHUNK
        open_ = self._open
        done = self._done
        record_depth = self.record_depth
        nested = self.nested
        names = self._names
        short = self._short
        depth = 0

        def start(raw: str, raw_attrs: dict[str, str]) -> None:
            nonlocal depth
            depth += 1
            attrs = (
                {names.get(key) or short(key): value for key, value in raw_attrs.items()}
                if raw_attrs
                else {}
            )
            if depth > 1:
                parent = open_[-1]
                element = Element(
                    names.get(raw) or short(raw), attrs, parent, parser.CurrentLineNumber
                )
                parent.children.append(element)
            else:
                element = Element(
                    names.get(raw) or short(raw), attrs, None, parser.CurrentLineNumber
                )
                self._root_seen = True
                done.append(element)
            open_.append(element)

        def end(raw: str) -> None:
            nonlocal depth
            element = open_.pop()
            if depth == record_depth or (depth == record_depth + 1 and element.name in nested):
                element.parent.children.pop()  # type: ignore[union-attr]
                done.append(element)
            depth -= 1

        def text(data: str) -> None:
            if depth >= record_depth:
                open_[-1].text += data

        def refuse_entity(
            name: str,
            is_parameter: bool,
            value: str | None,
            base: str | None,
            sysid: str | None,
            pubid: str | None,
            notation: str | None,
        ) -> None:
            raise EntitiesForbidden(name, value, base, sysid, pubid, notation)

        def refuse_unparsed_entity(
            name: str, base: str | None, sysid: str, pubid: str | None, notation: str
        ) -> None:
            raise EntitiesForbidden(name, None, base, sysid, pubid, notation)

        def refuse_external(
            context: str, base: str | None, sysid: str | None, pubid: str | None
        ) -> int:
            raise ExternalReferenceForbidden(context, base, sysid, pubid)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        parser.EntityDeclHandler = refuse_entity
        parser.UnparsedEntityDeclHandler = refuse_unparsed_entity
        parser.ExternalEntityRefHandler = refuse_external
        return parser

    def _short(self, raw: str) -> str:
        name = self._names.get(raw)
        if name is None:
            uri, _, local = raw.rpartition(" ")
            if not uri:
                name = local
            elif uri in self.namespaces:
                name = self.namespaces[uri] + local
            else:
                name = f"{{{uri}}}{local}"
            self._names[raw] = name
        return name


def field_text(fields: dict[str, Element], name: str) -> str:
    """The text of the child called `name` in `Element.fields()`, "" if there is none."""
    element = fields.get(name)
    return element.text if element is not None else ""


def utc(text: str) -> datetime | None:
    """A time as both formats write it (Disqus "2019-05-04T10:00:00Z", WordPress
    "2019-05-04 10:00:00", both UTC) or None if unreadable, like WordPress's
    "0000-00-00 00:00:00" for never."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_utf8(head: bytes) -> bool:
    """Whether the document is UTF-8 (and so can be repaired): it says so, or says nothing and
    has no UTF-16 byte-order mark."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    declared = _DECLARED_ENCODING.match(head.removeprefix(codecs.BOM_UTF8))
    return declared is None or declared.group(1).decode().lower() in _UTF8_NAMES


def _split_incomplete(data: bytes) -> tuple[bytes, bytes]:
    """The data up to a UTF-8 sequence cut off by the chunk's end, and that sequence."""
    end = len(data)
    start = end - 1
    while start > end - 4 and start >= 0 and 0x80 <= data[start] < 0xC0:
        start -= 1
    if start < 0 or data[start] < 0xC0:
        return data, b""
    needed = 2 if data[start] < 0xE0 else 3 if data[start] < 0xF0 else 4
    if end - start >= needed:
        return data, b""
    return data[:start], data[start:]
