"""Old page addresses → the uris of Parley threads.

A rule is one of
  OLD=>NEW                 an address starting with OLD starts with NEW instead
                           (a domain change: `https://old.example/=>https://news.example/`,
                           or `https://news.example=>` to keep the path only)
  ?p=123=>/2019/05/slug/   an exact address (or its query) → a permalink
  re:PATTERN=>REPLACEMENT  a regular expression (Python syntax, \\1 for groups)
  slash:add | slash:strip  give every path a trailing slash, or take it away
  @FILE                    rules read from FILE, one a line (# starts a comment); a line
                           `OLD,NEW` (a CSV of redirects, header row and all) is an exact
                           rule; an OLD that is a path (`/?p=12`) matches it on any host
Rules apply in order; the first rule of the first three kinds that matches wins, then the
slash rules. What no rule matched keeps its path (and query): `https://old.example/a/?p=1`
becomes `/a/?p=1`, and the report lists it.
"""

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class RuleError(ValueError):
    pass


@dataclass
class Rule:
    text: str
    apply: Callable[[str], str | None]
    hits: int = 0  # threads it mapped: a rule that maps none is reported


@dataclass
class UrlMap:
    rules: list[Rule] = field(default_factory=list)
    slash: str = ""  # "add", "strip" or ""

    def map(self, url: str) -> tuple[str, bool]:
        """The thread uri for `url`, and whether a rule matched."""
        for rule in self.rules:
            mapped = rule.apply(url)
            if mapped is not None:
                rule.hits += 1
                return self._slashed(as_uri(mapped)), True
        return self._slashed(as_uri(url)), False

    def _slashed(self, uri: str) -> str:
        if not self.slash:
            return uri
        path, sep, query = uri.partition("?")
        if self.slash == "add" and not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            path += "/"
        elif self.slash == "strip" and path != "/":
            path = path.rstrip("/") or "/"
        return path + sep + query


def as_uri(url: str) -> str:
    """A full address → the path (and query) Parley keys threads by; a path stays as it is."""
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    if not parts.scheme and not parts.netloc:
        path = url.strip().split("#", 1)[0] or "/"
        return path if path.startswith("/") else "/" + path
    return path + (f"?{parts.query}" if parts.query else "")


def _exact(old: str, new: str) -> Callable[[str], str | None]:
    def apply(url: str) -> str | None:
        if url == old:
            return new
        # `?p=123` also matches `https://old.example/?p=123`, and a path (`/?p=123`, as
        # redirect plugins write them) the same address on any host.
        query = urlsplit(url).query
        if old.startswith("?") and query and "?" + query == old:
            return new
        if old.startswith("/") and as_uri(url) == old:
            return new
        return None

    return apply


def _prefix(old: str, new: str) -> Callable[[str], str | None]:
    return lambda url: new + url[len(old) :] if url.startswith(old) else None


def _pattern(pattern: str, replacement: str, text: str) -> Callable[[str], str | None]:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise RuleError(f"{text!r}: not a regular expression ({error})") from None

    def apply(url: str) -> str | None:
        return compiled.sub(replacement, url, count=1) if compiled.search(url) else None

    return apply


def parse_rule(text: str, urlmap: UrlMap, *, where: str = "") -> None:
    at = f"{where}: " if where else ""
    text = text.strip()
    if text in ("slash:add", "slash:strip"):
        urlmap.slash = text.partition(":")[2]
        return
    if text.startswith("@"):
        read_rules_file(Path(text[1:]), urlmap)
        return
    old, arrow, new = text.partition("=>")
    if not arrow:
        raise RuleError(
            f"{at}{text!r} is not a rule: write OLD=>NEW, re:PATTERN=>NEW, slash:add, "
            "slash:strip or @FILE"
        )
    if old.startswith("re:"):
        urlmap.rules.append(Rule(text, _pattern(old[3:], new, text)))
    elif old.startswith("?") or old.endswith(("$",)):
        urlmap.rules.append(Rule(text, _exact(old.rstrip("$"), new)))
    elif not old:
        raise RuleError(f"{at}{text!r}: the old part of the rule is empty")
    else:
        urlmap.rules.append(Rule(text, _prefix(old, new)))


def read_rules_file(path: Path, urlmap: UrlMap) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(f"cannot read the rules file {path}: {error}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=>" not in line and "," in line:
            old, new = (part.strip() for part in next(csv.reader(io.StringIO(line)))[:2])
            if not old.startswith(("/", "?", "http://", "https://")):
                continue  # a CSV's header row ("source,target")
            urlmap.rules.append(Rule(line, _exact(old, new)))
        else:
            parse_rule(line, urlmap, where=f"{path} line {number}")


def build(rules: Iterable[str]) -> UrlMap:
    urlmap = UrlMap()
    for text in rules:
        parse_rule(text, urlmap)
    return urlmap
