"""Reading a mysqldump file row by row, in constant memory.

mysqldump (MySQL's, and MariaDB's `mariadb-dump`) writes each table as a CREATE TABLE and
extended INSERTs, `INSERT INTO `t` VALUES (…),(…);`: MySQL's on one line of up to
net_buffer_length (1 MB by default), MariaDB 10.11's with a line per row;
`--complete-insert`, phpMyAdmin and others name the columns first. The file is read in
chunks and every tuple handed over as soon as it is parsed, so a line of any length costs
no more memory than its longest value.

Values follow MySQL's literal rules: strings in single or double quotes with backslash
escapes (\\0 \\' \\" \\b \\n \\r \\t \\Z \\\\, and \\% \\_ which keep their backslash) and doubled
quotes, introducers (`_binary '…'`, `_utf8mb4 '…'`), hex (`0x…`, `X'…'`) and bit (`b'…'`)
literals, NULL and numbers. Text is decoded in the dump's `SET NAMES` character set (UTF-8
unless it says latin1); bytes that are not valid in it become U+FFFD and are counted per
table.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from parley.imports.records import SourceError

CHUNK = 1 << 20
REPLACEMENT = "\ufffd".encode()
# An integer stays an int; any other number stays the text the server printed ("1.50").
Value = str | int | None

_ENCODINGS = {"utf8": "utf-8", "utf8mb3": "utf-8", "utf8mb4": "utf-8", "binary": "utf-8",
              "latin1": "cp1252"}  # fmt: skip
_SPACE = re.compile(rb"\s*+")
_LINE = re.compile(rb"[^\n]*+")
_PLAIN = re.compile(rb"[^;'\"`]*+")
_QUOTED = {
    ord(q): re.compile(rb"(?:[^%s\\]++|\\.|%s%s)*+" % (q, q, q), re.DOTALL) for q in (b"'", b'"')
}
_QUOTED[ord("`")] = re.compile(rb"[^`]*+")
_ESCAPE = {ord(q): re.compile(rb"\\(.)|%s%s" % (q, q), re.DOTALL) for q in (b"'", b'"')}
_UNESCAPED = {b"0": b"\0", b"b": b"\b", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"Z": b"\x1a",
              b"%": b"\\%", b"_": b"\\_"}  # fmt: skip
_OPEN = re.compile(rb"\s*+\(")
_AFTER_ROW = re.compile(rb"\s*+([,;])")
_USUAL_VALUE = re.compile(
    rb"\s*+(?:'((?:[^'\\]++|\\.|'')*+)'|(-?\d++)(?![.eE])|(NULL)|"
    rb"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?))\s*+([,)])",
    re.DOTALL,
)
_NUMBER = re.compile(rb"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(rb"-?\d+")
_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]*+")
_BITS = re.compile(rb"[bB]'([01]*)'")
_INTRODUCER = re.compile(rb"_[A-Za-z0-9]+\s*")
_NULL = re.compile(rb"NULL\b", re.IGNORECASE)
# What a statement of a dump can begin with; anything else means this is no dump at all.
_SQL_WORD = re.compile(rb"[A-Za-z]+\b")
_INSERT = re.compile(
    rb"(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*(?:INTO\s+)?",
    re.IGNORECASE,
)
_CREATE_TABLE = re.compile(
    rb"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?",
    re.IGNORECASE,
)
_IDENTIFIER = rb"(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))"
_NAME = re.compile(rb"%s(?:\s*\.\s*%s)?\s*" % (_IDENTIFIER, _IDENTIFIER))
_COLUMN_LIST = re.compile(rb"\(([^)]*)\)\s*")
_VALUES = re.compile(rb"VALUES?\s*", re.IGNORECASE)
_SET_NAMES = re.compile(rb"SET\s+NAMES\s+['\"]?(\w+)", re.IGNORECASE)
_DELIMITER = re.compile(rb"DELIMITER\s", re.IGNORECASE)
_HEADER = re.compile(rb"-- (?:MySQL|MariaDB) dump ")
_TRAILER = re.compile(rb"-- Dump completed")
_NOT_COLUMNS = {"PRIMARY", "KEY", "INDEX", "UNIQUE", "CONSTRAINT", "FULLTEXT", "SPATIAL",
                "FOREIGN", "CHECK", "PERIOD"}  # fmt: skip


@dataclass
class CreateTable:
    table: str
    columns: list[str]
    line: int


@dataclass
class Row:
    table: str
    # The INSERT's own column list, when it has one (one list shared by its rows).
    columns: list[str] | None
    values: tuple[Value, ...]
    line: int


@dataclass
class Repairs:
    count: int
    first_line: int


class DumpParser:
    """`for event in DumpParser(stream, name, wanted)` gives each CreateTable, and a Row for
    each tuple inserted into a table `wanted` says yes to (the others are skipped over
    without decoding). SourceError, with the line, for what is not a dump or ends early."""

    def __init__(
        self, stream: BinaryIO, name: str, wanted: Callable[[str], bool], chunk: int = CHUNK
    ) -> None:
        self.name = name
        self.wanted = wanted
        self.encoding = "utf-8"
        # mysqldump starts with "-- MySQL dump"/"-- MariaDB dump" and ends with "-- Dump
        # completed": with the first and without the last, the file was cut short.
        self.written_by_mysqldump = False
        self.completed = False
        self.repairs: dict[str, Repairs] = {}
        self._stream = stream
        self._chunk = chunk
        self._data = b""
        self._pos = 0
        self._eof = False
        self._line = 1
        self._counted = 0

    # --- the buffer: `_data[_pos:]` is what is still to parse

    def _more(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(self._chunk)
        if not chunk:
            self._eof = True
            return False
        self._line += self._data.count(b"\n", self._counted, self._pos)
        self._data = self._data[self._pos :] + chunk
        self._pos = self._counted = 0
        return True

    def _ensure(self, size: int) -> int:
        """Reads until `size` bytes are ahead or the file ends; how many are ahead."""
        while len(self._data) - self._pos < size and self._more():
            pass
        return len(self._data) - self._pos

    def line(self) -> int:
        self._line += self._data.count(b"\n", self._counted, self._pos)
        self._counted = self._pos
        return self._line

    def _scan(self, pattern: re.Pattern[bytes], offset: int, margin: int) -> int:
        """Matches `pattern` (which never fails and ends only between complete units) from
        `offset` bytes ahead, reading on while the match runs to within `margin` bytes of
        what has been read; the offset it ends at."""
        while True:
            end = pattern.match(self._data, self._pos + offset).end()  # type: ignore[union-attr]
            offset = end - self._pos
            if len(self._data) - end > margin or not self._more():
                return offset

    def _match(self, pattern: re.Pattern[bytes], lookahead: int = 256) -> re.Match[bytes] | None:
        self._ensure(lookahead)
        return pattern.match(self._data, self._pos)

    def _skip_space(self) -> None:
        offset = self._scan(_SPACE, 0, 0)  # before `_pos +=`: scanning may move the buffer
        self._pos += offset

    def _peek(self) -> int | None:
        return self._data[self._pos] if self._ensure(1) else None

    def _error(self, message: str, line: int | None = None) -> SourceError:
        return SourceError(message, f"{self.name} line {line or self.line()}")

    def _truncated(self, what: str, line: int) -> SourceError:
        return self._error(f"the file ends in the middle of {what} (truncated dump?)", line)

    # --- statements

    def __iter__(self) -> Iterator[CreateTable | Row]:
        while True:
            self._skip_space()
            if not self._ensure(2):
                break
            line = self.line()
            head = self._data[self._pos : self._pos + 2]
            completed, self.completed = self.completed, False
            if head == b"--" or head[:1] == b"#":
                text = self._rest_of_line()
                self.written_by_mysqldump |= bool(_HEADER.match(text))
                self.completed = completed or bool(_TRAILER.match(text))
            elif head == b"/*":
                self._set_names(self._comment(line))
            elif head[:1] == b";":
                self._pos += 1
            elif match := self._match(_INSERT):
                self._pos = match.end()
                yield from self._insert(line)
            elif match := self._match(_CREATE_TABLE):
                self._pos = match.end()
                yield self._create_table(line)
            elif self._match(_DELIMITER):
                self._rest_of_line()
            elif not self._match(_SQL_WORD):
                raise self._error(
                    "this is not a mysqldump file (a MySQL statement was expected here; "
                    "the wpdiscuz import reads a database URL or a dump made by mysqldump)"
                )
            else:
                self._set_names(self._statement(line, keep=True))
        if self.written_by_mysqldump and not self.completed:
            raise self._error(
                "the file ends before mysqldump's closing '-- Dump completed' line "
                "(truncated dump?)"
            )

    def _rest_of_line(self) -> bytes:
        end = self._scan(_LINE, 0, 0)
        text = self._data[self._pos : self._pos + end]
        self._pos += min(end + 1, len(self._data) - self._pos)
        return text

    def _comment(self, line: int) -> bytes:
        searched = 2
        while (end := self._data.find(b"*/", self._pos + searched)) < 0:
            searched = max(len(self._data) - self._pos - 1, 2)
            if not self._more():
                raise self._truncated("a /* comment */", line)
        text = self._data[self._pos + 2 : end]
        self._pos = end + 2
        return text

    def _set_names(self, statement: bytes) -> None:
        if match := _SET_NAMES.search(statement):
            charset = match.group(1).decode().lower()
            if charset not in _ENCODINGS:
                raise self._error(
                    f"the dump is written in the character set {charset}, which Parley does "
                    "not read: dump it again with --default-character-set=utf8mb4"
                )
            self.encoding = _ENCODINGS[charset]

    def _statement(self, line: int, keep: bool) -> bytes:
        """Up to the `;` that ends the statement (skipping quoted text); its text if `keep`."""
        offset = 0
        while True:
            offset = self._scan(_PLAIN, offset, 0)
            if not keep:
                self._pos += offset
                offset = 0
            if self._pos + offset >= len(self._data):
                raise self._truncated("a statement", line)
            quote = self._data[self._pos + offset]
            if quote == ord(";"):
                text = self._data[self._pos : self._pos + offset]
                self._pos += offset + 1
                return text
            offset = self._quoted_end(quote, offset, line)

    def _quoted_end(self, quote: int, offset: int, line: int, what: str = "a statement") -> int:
        """`offset` is at an opening quote: the offset just past its closing one."""
        end = self._scan(_QUOTED[quote], offset + 1, 0 if quote == ord("`") else 1)
        if self._pos + end >= len(self._data) or self._data[self._pos + end] != quote:
            raise self._truncated(what, line)
        return end + 1

    def _name(self, what: str, line: int) -> str:
        match = self._match(_NAME)
        if match is None:
            raise self._error(f"{what} without a table name", line)
        self._pos = match.end()
        parts = [part for part in match.groups() if part is not None]
        return parts[-1].replace(b"``", b"`").decode("utf-8", "replace")

    def _create_table(self, line: int) -> CreateTable:
        table = self._name("CREATE TABLE", line)
        body = self._statement(line, keep=True).decode(self.encoding, "replace")
        return CreateTable(table, _column_names(body), line)

    def _insert(self, line: int) -> Iterator[Row]:
        table = self._name("INSERT", line)
        columns = None
        if match := self._match(_COLUMN_LIST, 1 << 16):
            self._pos = match.end()
            names = match.group(1).decode("utf-8", "replace").split(",")
            columns = [name.strip().strip('`"').replace("``", "`") for name in names]
        if not (match := self._match(_VALUES)):
            raise self._error(f"an INSERT into {table} that is not INSERT … VALUES", line)
        self._pos = match.end()
        if not self.wanted(table):
            self._statement(line, keep=False)
            return
        what = f"an INSERT into {table}"
        while True:
            if opening := _OPEN.match(self._data, self._pos):
                self._pos = opening.end()
            else:
                self._skip_space()
                if self._peek() != ord("("):
                    raise self._unexpected(what, "(", line)
                self._pos += 1
            row_line = self.line()
            yield Row(table, columns, self._row(table, what, line), row_line)
            if closing := _AFTER_ROW.match(self._data, self._pos):
                self._pos = closing.end()
                after = closing.group(1)[0]
            else:
                self._skip_space()
                if self._peek() not in (ord(","), ord(";")):
                    raise self._unexpected(what, ", or ;", line)
                after = self._data[self._pos]
                self._pos += 1
            if after == ord(";"):
                return

    def _row(self, table: str, what: str, line: int) -> tuple[Value, ...]:
        """The values up to the row's closing parenthesis."""
        values: list[Value] = []
        while True:
            # The usual value, with what follows it, in one match: the comma or parenthesis
            # after it shows the value is whole, however the file was cut into chunks.
            if usual := _USUAL_VALUE.match(self._data, self._pos):
                string, integer, null, number, after = usual.groups()
                if string is not None:
                    if b"\\" in string or b"''" in string:
                        string = _ESCAPE[ord("'")].sub(_unescape, string)
                    values.append(self._decode(string, table))
                elif integer is not None:
                    values.append(int(integer))
                elif null is not None:
                    values.append(None)
                else:
                    values.append(number.decode())
                self._pos = usual.end()
            else:
                self._skip_space()
                if not values and self._peek() == ord(")"):
                    self._pos += 1
                    return ()
                values.append(self._value(table, what, line))
                self._skip_space()
                after = self._data[self._pos : self._pos + 1]
                if after not in (b",", b")"):
                    raise self._unexpected(what, ", or )", line)
                self._pos += 1
            if after == b")":
                return tuple(values)

    def _unexpected(self, what: str, expected: str, line: int) -> SourceError:
        found = self._data[self._pos : self._pos + 20]
        if not found:
            return self._truncated(what, line)
        shown = found.decode(self.encoding, "replace").split("\n")[0]
        return self._error(f"{expected} expected in {what}, found {shown!r}")

    def _value(self, table: str, what: str, line: int) -> Value:
        if not self._ensure(2):
            raise self._truncated(what, line)
        first, second = self._data[self._pos], self._data[self._pos + 1 : self._pos + 2]
        if first in b"'\"":
            end = self._quoted_end(first, 0, line, what)
            raw = self._data[self._pos + 1 : self._pos + end - 1]
            self._pos += end
            quote = bytes([first])
            if b"\\" in raw or quote * 2 in raw:
                raw = _ESCAPE[first].sub(_unescape, raw)
            return self._decode(raw, table)
        if first == ord("_") and (match := self._match(_INTRODUCER)):
            self._pos = match.end()
            return self._value(table, what, line)
        if first == ord("0") and second in (b"x", b"X"):
            end = self._scan(_HEX_DIGITS, 2, 0)
            digits = self._data[self._pos + 2 : self._pos + end]
            self._pos += end
            return self._decode(_from_hex(digits), table)
        if first in b"xX" and second == b"'":
            end = self._scan(_HEX_DIGITS, 2, 0)
            digits = self._data[self._pos + 2 : self._pos + end]
            if self._data[self._pos + end : self._pos + end + 1] != b"'":
                raise self._unexpected(what, "a hex literal", line)
            self._pos += end + 1
            return self._decode(_from_hex(digits), table)
        if first in b"bB" and second == b"'" and (match := self._match(_BITS)):
            self._pos = match.end()
            return int(match.group(1) or b"0", 2)
        if first in b"nN" and (match := self._match(_NULL)):
            self._pos = match.end()
            return None
        if match := self._match(_NUMBER):
            self._pos = match.end()
            number = match.group(0)
            return int(number) if _INTEGER.fullmatch(number) else number.decode()
        raise self._unexpected(what, "a value", line)

    def _decode(self, raw: bytes, table: str) -> str:
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError:
            text = raw.decode(self.encoding, "replace")
            genuine = raw.count(REPLACEMENT) if self.encoding == "utf-8" else 0
            repaired = text.count("\ufffd") - genuine
            repairs = self.repairs.setdefault(table, Repairs(0, self.line()))
            repairs.count += max(repaired, 1)
            return text


def _unescape(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)
    if escaped is None:  # a doubled quote
        return match.group(0)[:1]
    return _UNESCAPED.get(escaped, escaped)


def _from_hex(digits: bytes) -> bytes:
    return bytes.fromhex(("0" if len(digits) % 2 else "") + digits.decode())


def _column_names(body: str) -> list[str]:
    """The columns of a CREATE TABLE, from the text after its name."""
    start = body.find("(")
    if start < 0:
        return []
    names = []
    for definition in _top_level_items(body[start + 1 :]):
        definition = definition.strip()
        if definition.startswith("`"):
            end = definition.find("`", 1)
            while definition[end + 1 : end + 2] == "`":
                end = definition.find("`", end + 2)
            names.append(definition[1:end].replace("``", "`"))
        elif definition and definition.split()[0].upper() not in _NOT_COLUMNS:
            names.append(definition.split()[0].strip('"'))
    return names


def _top_level_items(text: str) -> list[str]:
    """The comma-separated items up to the parenthesis that closes the list."""
    items, depth, start, quote, index = [], 0, 0, "", 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and quote != "`":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
        index += 1
    items.append(text[start:index])
    return items
