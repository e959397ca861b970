# Look-alike letters from other scripts are what this module is about.
# ruff: noqa: RUF001, RUF002, RUF003
"""Finding listed words and phrases in comments written to slip past a word filter.

A comment is read word by word. Each character becomes a *unit* that may stand for several
letters: "1" for i or l, a Cyrillic "і" for a Latin i, a masked "*" for any letter, and a symbol
inside a word ("sh$$t", "f_u_c_k") also for nothing at all. A listed word matches a word of the
comment when some reading of its units spells it, letters repeated for emphasis counting once.
Matching is by whole word, so "analysis" never matches "anal"; an entry ending in "*" matches
the start of a word instead ("idiot*" also finds "idiots"). Readings are explored with a trie
of the listed words and remembered per word of text, so a comment costs about one pass.
"""

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

LEXICON_PATH = Path(__file__).parent / "scoring" / "data" / "profanity.txt"

# Unit kinds. LETTER and DIGIT units make up the core of a word; the others may stand around it
# ("**idiot**", "idiot!") or inside it.
_LETTER, _DIGIT, _MASK, _GAP, _SYMBOL = range(5)
_ANY = "\x00"  # a mask: stands for any one letter

# Leetspeak: what digits and symbols stand for, in Latin and in Cyrillic words.
_LEET = {
    "0": "oо",
    "1": "ilи",
    "3": "eез",
    "4": "aач",
    "5": "s",
    "6": "bбg",
    "7": "tт",
    "8": "bв",
    "9": "g",
    "@": "aа",
    "$": "s",
    "!": "i",
    "|": "li",
    "€": "eе",
    "+": "tт",
    "¢": "c",
    "£": "l",
    "¥": "y",
    "§": "s",
}
# Characters that look like a Latin letter: Cyrillic, Greek, small capitals, dotless i.
_LATIN_LOOKALIKE = {
    **dict(zip("авекмнорстухѕіјԁӏһүѵԛԝ", "abekmhopctyxsijdlhyvqw", strict=True)),
    **dict(zip("АВЕКМНОРСТХУЅІЈ", "abekmhopctxysij", strict=True)),
    **dict(zip("αβεηικνορτυχωµμ", "abenikvoptuxwuu", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx", strict=True)),
    **dict(zip("ᴀʙᴄᴅᴇɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢıƒ", "abcdeghijklmnoprstuvwyzif", strict=True)),
}
# Latin letters also written for another ("pvta", as on Roman inscriptions).
_ALSO_WRITTEN_FOR = {"v": "u"}
# Latin letters that stand in for Cyrillic ones inside Russian words ("xуй", "nизда").
_CYRILLIC_LOOKALIKE = {
    "a": "а",
    "b": "вб",
    "c": "с",
    "d": "д",
    "e": "е",
    "h": "н",
    "i": "и",
    "k": "к",
    "m": "м",
    "n": "п",
    "o": "о",
    "p": "р",
    "r": "г",
    "t": "т",
    "u": "и",
    "x": "х",
    "y": "у",
    "z": "з",
}
# Letters written twice for emphasis rather than spelling: vowels, and in Arabic every letter
# (Arabic writes a doubled consonant once, with a shadda).
_DOUBLED_FOR_EMPHASIS = set("aeiouyаеёиоуыэюя") | {chr(c) for c in range(0x621, 0x64B)}
# Diacritics are decoration ("fück") except where they make another letter of the language.
_KEPT_MARKS = {"ñ", "й"}
# Arabic spelling variants written interchangeably, and Persian forms of Arabic letters.
_ARABIC_FOLD = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك"}
# Punctuation that may sit inside an obfuscated word; all other punctuation separates words.
_INWORD_PUNCTUATION = set("*#_!?@%&")
_SEPARATING_SYMBOLS = set("<>=^`~")
_DECORATION = {"\u0640"}  # Arabic tatweel stretches a word without changing it

# A word: anything between whitespace and separating punctuation.
_SEPARATORS = r"\s,.;:/\\()\[\]{}<>\"'`«»‹›„“”‚‘’\-–—…¿¡،؛؟=^~"
_WORD = re.compile(rf"[^{_SEPARATORS}]+")
# Letters spelled out one by one ("f u c k", "f.u.c.k"): at least three one-character words
# with at most three separating characters between each.
_SPACED_GAP = 3
_SPACED_KEY = "\x00"
_SPACED_MOST = 64  # letters spelled out in one run; a longer run is read in parts
# Readings tried for one word from one start: far more than any real word needs, and a bound
# on the work a word of symbols and masks can cause.
_MOST_STATES = 5000


@dataclass(frozen=True)
class Match:
    phrase: str  # the listed phrase, e.g. "shit"
    as_written: str  # the text as the commenter wrote it, e.g. "sh$$t"


@dataclass(frozen=True)
class _Unit:
    kind: int
    letters: frozenset[str]  # every letter this character may stand for
    reading: str  # the one reading `normalise` gives it
    start: int  # the character's place in its word
    end: int


# --- reading characters ----------------------------------------------------------------------


def _strip_marks(letter: str) -> str:
    if letter in _KEPT_MARKS:
        return letter
    decomposed = unicodedata.normalize("NFD", letter)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base if len(base) == 1 else letter


def _letter_reading(letter: str) -> str:
    """How a (case-folded) letter is written in the lexicon: no decorative marks, one form."""
    base = _strip_marks(letter)
    return _ARABIC_FOLD.get(base, base)


@functools.cache
def _char_units(char: str) -> tuple[tuple[int, frozenset[str], str], ...]:
    """What one character of text may stand for; () for characters that are only decoration."""
    category = unicodedata.category(char)
    if category in ("Cf", "Mn", "Me", "Mc") or char in _DECORATION:
        return ()  # zero-width characters, soft hyphens, combining marks
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char:  # fullwidth, ligatures, mathematical and circled letters
        return tuple(unit for c in compatible for unit in _char_units(c))
    if char.isspace() or (not _WORD.fullmatch(char)):
        return ((-1, frozenset(), " "),)  # separates words
    if category.startswith("L"):
        folded = char.casefold()
        if len(folded) > 1:  # ß → ss
            return tuple(unit for c in folded for unit in _char_units(c))
        reading = _letter_reading(folded)
        letters = {folded, reading, _strip_marks(folded)}
        for form in (char, folded, reading):
            latin = _LATIN_LOOKALIKE.get(form)
            if latin:
                letters.add(latin)
        letters.update(_ALSO_WRITTEN_FOR.get(folded, ""))
        for latin in [c for c in letters if c in _CYRILLIC_LOOKALIKE]:
            letters.update(_CYRILLIC_LOOKALIKE[latin])
        return ((_LETTER, frozenset(letters), reading),)
    if category == "Nd":
        digit = str(unicodedata.digit(char))
        return ((_DIGIT, frozenset(digit + _LEET.get(digit, "")), digit),)
    if char in "*#":
        return ((_MASK, frozenset({char, _ANY}), char),)
    if char == "_":
        return ((_GAP, frozenset({char, _ANY}), char),)
    if char in _SEPARATING_SYMBOLS or (
        category.startswith("P") and char not in _INWORD_PUNCTUATION
    ):
        return ((-1, frozenset(), " "),)
    return ((_SYMBOL, frozenset(char + _LEET.get(char, "") + _ANY), char),)


@functools.lru_cache(maxsize=65536)
def _units(word: str) -> tuple[_Unit, ...]:
    """The units of a run of text between separators, placed relative to it; separating
    units (kind -1: a fullwidth comma, "†") are kept for the caller to split at."""
    return tuple(
        _Unit(kind, letters, reading, index, index + 1)
        for index, char in enumerate(word)
        for kind, letters, reading in _char_units(char)
    )


def _is_core(unit: _Unit) -> bool:
    return unit.kind in (_LETTER, _DIGIT)


# Characters that read as one letter or digit, the same whatever surrounds them. A word made
# of them only is first checked by a regular expression built from the listed words (the
# matcher's `_plain_filter`); most words of a comment never get further.
_REPERTOIRE = [
    chr(code)
    for first, last in ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x400, 0x4FF))
    for code in range(first, last + 1)
] + [chr(code) for code in range(0x621, 0x64A + 1) if chr(code) not in _DECORATION]
_PLAIN: dict[str, tuple[int, frozenset[str], str]] = {
    char: units[0]
    for char in _REPERTOIRE
    if len(units := _char_units(char)) == 1 and units[0][0] in (_LETTER, _DIGIT)
}
_PLAIN_CLASS = "".join(map(re.escape, _PLAIN))
_PLAIN_WORD = re.compile(f"[{_PLAIN_CLASS}]+")
_NOT_PLAIN = re.compile(f"[^{_PLAIN_CLASS}{_SEPARATORS}]")
# A word of one character that may be part of a word spelled out letter by letter.
_SINGLE = re.compile(rf"(?<![^{_SEPARATORS}])[^{_SEPARATORS}](?![^{_SEPARATORS}])")


class _Word:
    """A word of the text. `key` is the word as written; letters spelled out one by one are
    joined into one word, placed in the text (base 0), with a key that starts with NUL."""

    __slots__ = ("_units", "base", "end", "key")

    def __init__(self, key: str, base: int, units: tuple[_Unit, ...] | None = None) -> None:
        self.key = key
        self.base = base  # add to a unit's start and end for its place in the text
        self._units = units
        self.end = units[-1].end if units else base + len(key)

    @property
    def spaced(self) -> bool:
        return self.key.startswith(_SPACED_KEY)

    @property
    def units(self) -> tuple[_Unit, ...]:
        if self._units is None:
            self._units = _units(self.key)
        return self._units


def _split(key: str, base: int) -> list[_Word]:
    """The words in a run of text between separators: one, unless a character in it reads
    as a separator."""
    if not _NOT_PLAIN.search(key):
        return [_Word(key, base)]
    units = _units(key)
    if all(unit.kind >= 0 for unit in units):
        return [_Word(key, base)] if units else []
    words, piece = [], []
    for unit in (*units, _Unit(-1, frozenset(), " ", 0, 0)):
        if unit.kind >= 0:
            piece.append(unit)
        elif piece:
            offset = piece[0].start
            words.append(_Word(key[offset : piece[-1].end], base + offset))
            piece = []
    return words


def _spaced_runs(text: str) -> list[_Word]:
    """Letters spelled out one by one ("f u c k", "f.u.c.k", "s-h-i-t"): three or more
    one-character words, two of them letters, at most three separating characters apart on
    one line."""
    runs: list[_Word] = []
    run: list[tuple[int, _Unit]] = []

    def close() -> None:
        if len(run) >= 3 and sum(unit.kind == _LETTER for _at, unit in run) >= 2:
            units = tuple(
                _Unit(unit.kind, unit.letters, unit.reading, at, at + 1) for at, unit in run
            )
            key = _SPACED_KEY + "".join(text[at] for at, _unit in run)
            runs.append(_Word(key, 0, units))
        run.clear()

    for found in _SINGLE.finditer(text):
        at = found.start()
        units = [unit for unit in _units(found.group()) if unit.kind >= 0]
        if len(units) != 1:
            close()
            continue
        if len(run) >= _SPACED_MOST:
            close()
        if run:
            gap = text[run[-1][0] + 1 : at]
            if len(gap) > _SPACED_GAP or "\n" in gap:
                close()
        run.append((at, units[0]))
    close()
    return runs


def _words(text: str) -> list[_Word]:
    """Every word of `text` in order, letters spelled out one by one joined into one word."""
    runs = _spaced_runs(text) if _SINGLE.search(text) else []
    if not runs:
        return [
            word for found in _WORD.finditer(text) for word in _split(found.group(), found.start())
        ]
    words: list[_Word] = []
    spans = iter([(run.units[0].start, run.end, run) for run in runs])
    run_start, run_end, run = next(spans)
    for found in _WORD.finditer(text):
        start = found.start()
        while start >= run_end:
            run_start, run_end, run = next(spans, (len(text) + 1, len(text) + 1, run))
        if start >= run_start:
            if not words or words[-1] is not run:
                words.append(run)
            continue
        words.extend(_split(found.group(), start))
    return words


# --- normalising ------------------------------------------------------------------------------


def _is_cyrillic(letter: str) -> bool:
    return "\u0400" <= letter <= "\u04ff"


def _word_reading(units: tuple[_Unit, ...]) -> str:
    """One reading of a word: look-alike letters in the word's majority script, leetspeak
    as letters inside a word that has letters, a letter repeated three times or more once."""
    core = [i for i, unit in enumerate(units) if _is_core(unit)]
    if not core:
        return ""
    letters = [unit.reading for unit in units if unit.kind == _LETTER]
    cyrillic = 2 * sum(_is_cyrillic(letter) for letter in letters) > len(letters)
    out = []
    for unit in units[core[0] : core[-1] + 1]:
        reading = unit.reading
        if unit.kind == _LETTER:
            if cyrillic and reading in _CYRILLIC_LOOKALIKE:
                reading = _CYRILLIC_LOOKALIKE[reading][0]
            elif not cyrillic:
                reading = _LATIN_LOOKALIKE.get(reading, reading)
        elif letters and unit.kind in (_DIGIT, _SYMBOL):
            choices = [c for c in _LEET.get(reading, "") if _is_cyrillic(c) == cyrillic]
            reading = choices[0] if choices else ("" if unit.kind == _SYMBOL else reading)
        elif unit.kind == _GAP:
            reading = ""
        out.append(reading)
    return _REPEATED.sub(r"\1", "".join(out))


_REPEATED = re.compile(r"(.)\1{2,}")
# Words in one script without leetspeak read letter by letter.
_FOLD = str.maketrans(
    {
        c: _LATIN_LOOKALIKE.get(reading, reading) if c < "\u0400" else reading
        for c, (_k, _l, reading) in _PLAIN.items()
    }
)
_ONE_SCRIPT = re.compile(
    "|".join(
        f"[{''.join(map(re.escape, chars))}]+"
        for chars in (
            [c for c, unit in _PLAIN.items() if unit[0] == _LETTER and c < "\u0400"],
            [c for c, unit in _PLAIN.items() if unit[0] == _LETTER and _is_cyrillic(c)],
            [c for c, unit in _PLAIN.items() if unit[0] == _LETTER and c > "\u0600"],
            [c for c, unit in _PLAIN.items() if unit[0] == _DIGIT],
        )
    )
)


def normalise(text: str) -> str:
    """The canonical reading of `text` that matching starts from: words in lower case without
    disguise (zero-width characters, decorative accents, look-alikes from another script,
    leetspeak, symbols inside words, letters spelled out or repeated for emphasis), one space
    between words. Two comments that differ only in such disguise read the same. Matching
    also tries the other readings of ambiguous characters ("1" as i or l, "*" as any letter)."""
    readings = (
        _word_reading(word.units) if word.spaced else _word_reading_cached(word.key)
        for word in _words(text)
    )
    return " ".join(reading for reading in readings if reading)


@functools.lru_cache(maxsize=65536)
def _word_reading_cached(word: str) -> str:
    if _ONE_SCRIPT.fullmatch(word):
        return _REPEATED.sub(r"\1", word.translate(_FOLD))
    return _word_reading(_units(word))


# --- the trie of listed words -----------------------------------------------------------------


class _Node:
    __slots__ = ("children", "exact", "prefix")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.exact: int | None = None  # id of a listed whole word ending here
        self.prefix: int | None = None  # id of a listed word start ("idiot*") ending here


@dataclass(frozen=True)
class _Found:
    word: int  # id of the listed word
    start: int  # first unit read as part of it
    end: int  # unit after the last one
    is_prefix: bool


# For each letter of a listed word, the plain characters that may stand for it.
_PLAIN_FOR: dict[str, set[str]] = {}
for _char, _unit in _PLAIN.items():
    for _letter in _unit[1]:
        _PLAIN_FOR.setdefault(_letter, set()).add(_char)


def _filter_pattern(node: "_Node") -> str:
    """A regular expression that matches the start of every plain word (see `_PLAIN`) that
    the trie below `node` can match, and of few others: letters repeated for emphasis are
    any number of the same letter."""
    alternatives = []
    for next_letter, child in node.children.items():
        chars = _PLAIN_FOR.get(next_letter)
        if not chars:
            continue
        # Possessive where no later letter can take the same character: linear time even
        # for "asssss…" ten thousand letters long.
        later = set().union(*(_PLAIN_FOR.get(c, set()) for c in child.children))
        quantifier = "+" if chars & later else "++"
        chars_class = "".join(map(re.escape, sorted(chars)))
        alternatives.append(f"[{chars_class}]{quantifier}{_filter_pattern(child)}")
    if node.prefix is not None:
        alternatives.append("")
    if node.exact is not None:
        alternatives.append(r"\Z")
    return f"(?:{'|'.join(alternatives)})" if alternatives else "(?!)"


def _spelling(units: Iterable[_Unit]) -> str:
    return "".join(unit.reading for unit in units if unit.kind != _GAP)


def _split_listed(phrase: str) -> list[str]:
    return [spelled for word in _words(phrase) if (spelled := _spelling(word.units))]


class PhraseMatcher:
    """Finds listed words and phrases in text however they are disguised. A phrase ending in
    "*" matches the start of a word ("idiot*": "idiots", "idiotic"). `allowed` lists words, or
    word starts ("бляха*"), never matched: innocent words that a listed start would catch."""

    def __init__(self, phrases: Iterable[str], *, allowed: Iterable[str] = ()) -> None:
        self._root = _Node()
        self._word_ids: dict[tuple[str, bool], int] = {}
        # Listed phrase and its place in the list, by its words' ids.
        self._phrases: dict[tuple[int, ...], tuple[str, int]] = {}
        self._phrase_starts: set[tuple[int, ...]] = set()  # first words of longer phrases
        for phrase in phrases:
            self._add(phrase)
        self._allowed: set[str] = set()
        self._allowed_starts: set[str] = set()
        for word in allowed:
            for spelled in _split_listed(word.strip().rstrip("*"))[:1]:
                is_start = word.strip().endswith("*")
                (self._allowed_starts if is_start else self._allowed).add(spelled)
        self._plain_filter = re.compile(_filter_pattern(self._root))
        self._cache: dict[str, list[_Found]] = {}

    def _add(self, phrase: str) -> None:
        listed = phrase.strip()
        is_prefix = listed.endswith("*") and bool(listed.rstrip("*").strip())
        words = _split_listed(listed.rstrip("*") if is_prefix else listed)
        if not words:
            return
        ids = []
        for n, word in enumerate(words):
            key = (word, is_prefix and n == len(words) - 1)
            if key not in self._word_ids:
                word_id = self._word_ids[key] = len(self._word_ids)
                node = self._root
                for letter in word:
                    node = node.children.setdefault(letter, _Node())
                if key[1]:
                    node.prefix = word_id
                else:
                    node.exact = word_id
            ids.append(self._word_ids[key])
        self._phrases.setdefault(tuple(ids), (listed, len(self._phrases)))
        self._phrase_starts.update(tuple(ids[:n]) for n in range(1, len(ids)))

    def find(self, text: str) -> list[Match]:
        """Every listed phrase found in `text`, in text order."""
        words = _words(text)
        hits = [self._matches(word) for word in words]
        found: list[Match] = []
        index = 0
        while index < len(words):
            if not hits[index]:
                index += 1
                continue
            best = self._phrase_at(words, index, hits.__getitem__)
            if best is None:
                index += 1
                continue
            phrase, last, first_hit, last_hit = best
            begin = words[index].base + words[index].units[first_hit.start].start
            finish = words[last].base + words[last].units[last_hit.end - 1].end
            found.append(Match(phrase, text[begin:finish]))
            index = last + 1
        return found

    def _phrase_at(
        self, words: list[_Word], index: int, matches: Callable[[int], list[_Found]]
    ) -> tuple[str, int, _Found, _Found] | None:
        """The best listed phrase that starts at word `index`: (phrase, index of its last
        word, how its first and its last word were read)."""
        best: tuple[str, int, _Found, _Found] | None = None
        best_rank: tuple[int, int, bool, int] = (-1, -1, False, 0)
        for hit in matches(index):
            # Phrases of several words: every word but the last read whole.
            paths: list[tuple[tuple[int, ...], int, _Found]] = [((hit.word,), index, hit)]
            while paths:
                extended = []
                for ids, last, last_hit in paths:
                    listed = self._phrases.get(ids)
                    if listed is not None:
                        # Most words, then most text, whole words before starts, list order.
                        phrase, order = listed
                        rank = (last - index, hit.end - hit.start, not hit.is_prefix, -order)
                        if rank > best_rank:
                            best, best_rank = (phrase, last, hit, last_hit), rank
                    following = last + 1
                    # Letters spelled out one by one join a phrase where a word of it
                    # ends or starts with them ("hijo de p.u.t.a").
                    if (
                        ids in self._phrase_starts
                        and following < len(words)
                        and (not words[last].spaced or last_hit.end == len(words[last].units))
                    ):
                        extended += [
                            ((*ids, nxt.word), following, nxt)
                            for nxt in matches(following)
                            if nxt.start == 0 or not words[following].spaced
                        ]
                paths = extended
        return best

    def _matches(self, word: _Word) -> list[_Found]:
        """What `word` can be read as; remembered by how it is written."""
        found = self._cache.get(word.key)
        if found is None:
            if len(self._cache) >= 50_000:
                self._cache.clear()
            if _PLAIN_WORD.fullmatch(word.key) and not self._plain_filter.match(word.key):
                found = []
            else:
                found = self._read(word.units, spaced=word.spaced)
            self._cache[word.key] = found
        return found

    def _read(self, units: tuple[_Unit, ...], *, spaced: bool) -> list[_Found]:
        """Every listed word this word of text can be read as. A word is read whole (listed
        starts: from its start); in letters spelled out one by one the word boundaries are
        unknown, so there any stretch counts."""
        # A character written more than three times in a row counts as three (masks apart):
        # as much emphasis as any reading needs, and a bound on the work "aaaa…" can cause.
        kept: list[_Unit] = []
        run_lengths: list[int] = []  # how many times in a row each kept unit is written
        origin: list[int] = []  # its index in `units`
        end_after: list[int] = []  # where the text it stands for ends, as an index in `units`
        at = 0
        for _reading, group in itertools.groupby(units, lambda u: u.reading):
            run = list(group)
            most = len(run) if run[0].kind in (_MASK, _GAP) else 3  # masks count letters
            for n, unit in enumerate(run[:most]):
                kept.append(unit)
                run_lengths.append(len(run))
                origin.append(at + n)
                end_after.append(at + len(run) if n == min(len(run), most) - 1 else at + n + 1)
            at += len(run)
        units = tuple(kept)
        core = [i for i, unit in enumerate(units) if _is_core(unit)]
        if not core or all(unit.kind != _LETTER for unit in units):
            return []
        first, last = core[0], core[-1]
        letters = sum(unit.kind == _LETTER for unit in units)
        # Masks after a word are part of it ("a**" is three letters), unless masks before it
        # show them as decoration ("**idiot**", Markdown's bold).
        last_masked = max(
            i for i, unit in enumerate(units) if _is_core(unit) or unit.kind in (_MASK, _GAP)
        )
        found: dict[int, _Found] = {}
        # Up to three symbols before a word may be part of it ("@ss", "$hit", "**idiot**").
        for start in range(len(units)) if spaced else range(max(0, first - 3), first + 1):
            if start > 0 and units[start - 1].kind == _MASK:  # decorated: "**idiot**"
                walk = self._walk(units[: last + 1], run_lengths, start, last, spaced, letters)
            else:
                walk = self._walk(units, run_lengths, start, last_masked, spaced, letters)
            for hit in walk:
                known = found.get(hit.word)
                if known is None or hit.end - hit.start > known.end - known.start:
                    found[hit.word] = hit
            if found and not spaced:
                break  # symbols before a word are part of it only if it needs them ("@ss")
        if found and not spaced and (self._allowed or self._allowed_starts):
            reading = _word_reading(units)
            if reading in self._allowed or any(map(reading.startswith, self._allowed_starts)):
                return []
        placed = [
            _Found(hit.word, origin[hit.start], end_after[hit.end - 1], hit.is_prefix)
            for hit in found.values()
        ]
        return sorted(placed, key=lambda hit: (hit.start, -hit.end))

    def _walk(
        self,
        units: tuple[_Unit, ...],
        run_lengths: list[int],
        start: int,
        last_letter: int,
        spaced: bool,
        word_letters: int,
    ) -> list[_Found]:
        # A state: trie node, next unit, the letter a repeat may continue ("fuuuck"), letters
        # read from masks (* # _), letters guessed for other symbols ("sh$$t"), letters read
        # from letters and digits, and the unit after the last one read as a letter (where
        # the word as written ends). Each state is explored once.
        hits: list[_Found] = []
        root = self._root
        stack = [(root, start, "", 0, 0, 0, start)]
        seen: set[tuple[int, int, str, int, int, int, int]] = set()
        while stack and len(seen) < _MOST_STATES:
            node, i, repeat, masked, guessed, real, read = state = stack.pop()
            key = (id(node), *state[1:])
            if key in seen:
                continue
            seen.add(key)
            # A word needs letters of its own: at least as many as guesses, and for a listed
            # start as many in the word as masks and guesses ("f***ing", not "$$$money").
            if real and guessed <= real:
                if node.exact is not None and (spaced or i > last_letter):
                    hits.append(_Found(node.exact, start, read, False))
                if node.prefix is not None and masked + guessed <= (
                    real if spaced else word_letters
                ):
                    end = read if spaced else max(read, last_letter + 1)
                    hits.append(_Found(node.prefix, start, end, True))
            if i == len(units):
                continue
            unit = units[i]
            letters = unit.letters
            is_real = unit.kind in (_LETTER, _DIGIT)
            # Emphasis: a letter written three times or more ("fuuuck", "shiiit"), or a vowel
            # written twice ("shiit"). A doubled consonant is spelling: "assess" is not "asses".
            if repeat in letters and (run_lengths[i] >= 3 or repeat in _DOUBLED_FOR_EMPHASIS):
                stack.append((node, i + 1, repeat, masked, guessed, real + is_real, i + 1))
            if unit.kind in (_GAP, _SYMBOL):  # stands for nothing: "f_u_c_k", "sh$$t"
                stack.append((node, i + 1, repeat, masked, guessed, real, read))
            # A mask never stands for the first letter: "f***" is kept, "***a" is anything.
            is_mask = _ANY in letters and node is not root
            masks, guesses = (1, 0) if unit.kind in (_MASK, _GAP) else (0, 1)
            for letter, child in node.children.items():
                if letter in letters:
                    stack.append((child, i + 1, letter, masked, guessed, real + is_real, i + 1))
                elif is_mask and letter.isalpha():
                    stack.append((child, i + 1, "", masked + masks, guessed + guesses, real, i + 1))
        return hits


def read_lexicon(text: str) -> PhraseMatcher:
    """A matcher for a lexicon in the format of scoring/data/profanity.txt."""
    phrases, allowed = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            allowed.append(line[1:])
        else:
            phrases.append(line)
    return PhraseMatcher(phrases, allowed=allowed)


@functools.cache
def builtin_profanity() -> PhraseMatcher:
    """The built-in lexicon: common swear words and insults in English, German, Spanish,
    Russian and Arabic (scoring/data/profanity.txt)."""
    return read_lexicon(LEXICON_PATH.read_text(encoding="utf-8"))
