"""Server-side translations: every catalogue complete and compiled; readers get their language."""

import gettext
import json
import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

import parley
from parley.embed.bundle import ASSETS
from parley.embed.strings import widget_strings
from tests.factories import ArticleFactory, SiteFactory, ThreadFactory, post_comment

LOCALE_DIR = Path(parley.__file__).parent / "locale"
LANGUAGES = ["de", "es", "ru", "ar"]
NPLURALS = {"de": 2, "es": 2, "ru": 3, "ar": 6}

# printf-style placeholders as Python and Django's {% blocktranslate %} write them.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")
# Code, commands and protocol text a reader may have to type: never translated.
VERBATIM = re.compile(
    r"parley site add … --origin|Authorization: Bearer <token>|https?://(?:[\w.-]*\w)?"
)


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None  # pgettext's context: the same words, meant otherwise
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text[1:-1])


def parse_po(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """The header and entries of a .po file; enough of the format for makemessages' output."""
    entries: list[Entry] = []
    entry, key = Entry(), ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if key:
                entries.append(entry)
            entry, key = Entry(), ""
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#~"):
            raise AssertionError(f"{path}: obsolete entry left in: {line}")
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if key == "msgid":
                entry.msgid += _unquote(line)
            elif key == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + _unquote(line)
            else:
                index = int(key[7:-1]) if key.startswith("msgstr[") else 0
                entry.msgstr[index] += _unquote(line)
        else:
            key, _, value = line.partition(" ")
            if key == "msgid":
                entry.msgid = _unquote(value)
            elif key == "msgctxt":
                entry.msgctxt = _unquote(value)
            elif key == "msgid_plural":
                entry.msgid_plural = _unquote(value)
            else:
                index = int(key[7:-1]) if key.startswith("msgstr[") else 0
                entry.msgstr[index] = _unquote(value)
    [header] = [e for e in entries if e.msgid == ""]
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    return fields, [e for e in entries if e.msgid]


def catalogue(lang: str, ext: str = "po") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"django.{ext}"


def plural_rule(header: dict[str, str]) -> tuple[int, Callable[[int], int]]:
    match = re.fullmatch(r"nplurals=(\d+); *plural=(.+?);?", header["Plural-Forms"])
    assert match, header["Plural-Forms"]
    return int(match[1]), gettext.c2py(match[2])


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) - {"%%"}


def test_the_catalogues_live_where_django_looks():
    assert [Path(p) for p in settings.LOCALE_PATHS] == [LOCALE_DIR]
    assert {code for code, _ in settings.LANGUAGES} == {"en", *LANGUAGES}
    for lang in LANGUAGES:
        assert catalogue(lang).is_file()
        assert catalogue(lang, "mo").is_file()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_with_its_placeholders(lang):
    header, entries = parse_po(catalogue(lang))
    nplurals, plural = plural_rule(header)
    assert header["Language"] == lang
    assert nplurals == NPLURALS[lang]
    # A plural form that only ever stands for one number (Arabic "one comment", "two
    # comments") may spell the number out instead of using the placeholder.
    numbers_per_form = [0] * nplurals
    for n in range(1000):
        numbers_per_form[plural(n)] += 1
    assert all(numbers_per_form), f"{lang}: a plural form no number uses"
    assert entries

    problems = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        wanted = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        fragments = set(VERBATIM.findall(entry.msgid))
        forms = range(nplurals) if entry.msgid_plural is not None else range(1)
        if sorted(entry.msgstr) != list(forms):
            problems.append(f"forms {sorted(entry.msgstr)} for {entry.msgid!r}")
            continue
        for form in forms:
            text = entry.msgstr[form]
            found = placeholders(text)
            if not text.strip():
                problems.append(f"untranslated: {entry.msgid!r}")
            elif entry.msgid_plural is not None and numbers_per_form[form] == 1:
                if not found <= wanted:
                    problems.append(f"placeholders {found} vs {wanted} in {text!r}")
            elif found != wanted:
                problems.append(f"placeholders {found} vs {wanted} in {text!r}")
            if not all(fragment in text for fragment in fragments):
                problems.append(f"{fragments} must stay as written in {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(lang):
    header, entries = parse_po(catalogue(lang))
    nplurals, plural = plural_rule(header)
    data = catalogue(lang, "mo").read_bytes()
    magic, _, count = struct.unpack("<III", data[:12])
    assert magic == 0x950412DE
    with catalogue(lang, "mo").open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)

    assert count == len(entries) + 1, "the .mo is stale: run `parley compilemessages`"
    assert compiled.info()["language"] == lang
    for entry in entries:
        if entry.msgctxt is not None:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr[0]
            continue
        if entry.msgid_plural is None:
            assert compiled.gettext(entry.msgid) == entry.msgstr[0], entry.msgid
            continue
        for n in range(200):
            expected = entry.msgstr[plural(n)]
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, n) == expected
    assert nplurals == NPLURALS[lang]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")
def test_every_marked_string_in_the_code_is_in_the_catalogues(tmp_path, monkeypatch):
    """Extract afresh from a copy of the package and compare: a string marked for
    translation but missing here would show in English to everyone."""
    copy = tmp_path / "parley"
    shutil.copytree(
        LOCALE_DIR.parent,
        copy,
        ignore=shutil.ignore_patterns("locale", "__pycache__", "demo_content", "static", "*.mo"),
    )
    monkeypatch.chdir(copy)
    (copy / "locale").mkdir()
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command(
            "makemessages",
            locale=["de"],
            extensions=["html", "py", "txt"],
            ignore_patterns=["*/migrations/*"],
            keep_pot=True,
            verbosity=0,
        )
    _, extracted = parse_po(copy / "locale" / "django.pot")
    in_code = {(e.msgid, e.msgid_plural) for e in extracted}
    for lang in LANGUAGES:
        _, entries = parse_po(catalogue(lang))
        in_catalogue = {(e.msgid, e.msgid_plural) for e in entries}
        assert in_code - in_catalogue == set(), f"{lang}: run makemessages and translate"
        assert in_catalogue - in_code == set(), f"{lang}: no longer in the code"


@pytest.mark.parametrize(
    ("lang", "counts"),
    [
        ("de", {1: "1 Kommentar", 2: "2 Kommentare", 21: "21 Kommentare"}),
        ("es", {1: "1 comentario", 0: "0 comentarios", 5: "5 comentarios"}),
        (
            "ru",
            {
                1: "1 комментарий",
                3: "3 комментария",
                5: "5 комментариев",
                11: "11 комментариев",
                21: "21 комментарий",
                22: "22 комментария",
                111: "111 комментариев",
            },
        ),
        (
            "ar",
            {
                0: "لا تعليقات",
                1: "تعليق واحد",
                2: "تعليقان",
                3: "3 تعليقات",
                11: "11 تعليقًا",
                100: "100 تعليق",
                103: "103 تعليقات",
            },
        ),
    ],
)
def test_django_picks_the_right_plural_form(lang, counts):
    """Django's own catalogues for these languages may count plural forms differently;
    Parley's still answer with Parley's rule."""
    with translation.override(lang):
        for n, expected in counts.items():
            text = translation.ngettext("%(counter)s comment", "%(counter)s comments", n)
            assert text % {"counter": n} == expected


@pytest.mark.django_db
def test_the_thread_fragment_speaks_the_embedding_pages_language(client):
    site = SiteFactory.create()
    thread = ThreadFactory.create(site=site, uri="/x/")
    post_comment(thread, "Ein Kommentar")

    german = client.get("/fragments/thread?site=news&uri=/x/&lang=de")
    arabic = client.get("/fragments/thread?site=news&uri=/x/&lang=ar")
    english = client.get("/fragments/thread?site=news&uri=/x/")

    assert german["Content-Language"] == "de"
    html = german.content.decode()
    for text in ("Neueste", "Älteste", "Am besten bewertet", "1 Kommentar", ">Antworten</a>"):
        assert text in html
    assert "Newest" not in html
    html = arabic.content.decode()
    for text in ("الأحدث", "الأقدم", "الأكثر تصويتًا", "تعليق واحد", ">رد</a>"):
        assert text in html
    assert "Newest" not in html
    # Each language is its own cached copy: the English reader is not served the Arabic.
    html = english.content.decode()
    assert "Newest" in html
    assert "1 comment" in html


@pytest.mark.django_db
def test_a_page_follows_the_browsers_language(client):
    article = ArticleFactory.create()
    ThreadFactory.create(site=article.site, uri=article.uri)

    html = client.get(article.uri, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert '<html lang="ru">' in html
    for text in (
        "Автор: Ed Itor",
        "0 комментариев",
        "Сначала новые",
        "Оставить комментарий",
        "Нам интересно ваше мнение — оставьте комментарий",
        "Отправить комментарий",
        "Комментариев пока нет.",
    ):
        assert text in html
    assert "Leave a comment" not in html

    html = client.get(article.uri, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "اترك تعليقًا" in html


@pytest.mark.django_db
def test_api_errors_come_in_the_readers_language(client):
    response = client.get(
        "/api/v1/threads", {"site": "nope", "uri": "/x/"}, HTTP_ACCEPT_LANGUAGE="es"
    )

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No existe ningún sitio llamado «nope»."


def widget_english() -> dict[str, Any]:
    """`STRINGS.en` as widget.js writes it: one key a line, plurals as { one: …, other: … }."""
    source = (ASSETS / "widget.js").read_text(encoding="utf-8")
    block = re.search(r"\n  en: \{\n(.*?)\n  \},\n", source, re.S)
    assert block, "STRINGS.en not found in widget.js"
    strings = {}
    for line in block[1].splitlines():
        key, value = line.strip().removesuffix(",").split(": ", 1)
        if value.startswith("{"):
            value = re.sub(r'(\w+): "', r'"\1": "', value)
        strings[key] = json.loads(value)
    return strings


def test_the_widgets_strings_are_its_english_table_in_english():
    """Every widget string has its server-side message, and in English they say the same."""
    with translation.override("en"):
        assert widget_strings() == widget_english()


def fragment_strings(client: Any, lang: str) -> dict[str, Any]:
    html = client.get(f"/fragments/thread?site=news&uri=/x/&lang={lang}").content.decode()
    script = re.search(
        r'<script type="application/json" class="parley-strings">(.*?)</script>\n'
        r'<input type="hidden" name="form_token" value="[^"]+"></div>\s*$',
        html,
        re.S,
    )
    assert script, "the strings close the .parley-thread root, before the form token"
    assert "<" not in script[1] and ">" not in script[1]
    strings: dict[str, Any] = json.loads(script[1])
    return strings


@pytest.mark.django_db
def test_the_fragment_brings_the_widget_its_strings_in_the_pages_language(client):
    thread = ThreadFactory.create(site=SiteFactory.create(), uri="/x/")
    post_comment(thread, "Ein Kommentar")
    english = widget_english()

    german = fragment_strings(client, "de")
    arabic = fragment_strings(client, "ar")
    russian = fragment_strings(client, "ru")

    for strings in (german, arabic, russian):
        assert strings.keys() == english.keys()
    assert german["post"] == "Kommentar abschicken"
    assert german["replyTo"] == "Antwort an {name}"
    assert german["votes"] == "{up} dafür, {down} dagegen"
    assert german["markdown"] == "Markdown: **fett**, _kursiv_, [Link](https://…), > Zitat"
    assert german["count"] == {"one": "{n} Kommentar", "other": "{n} Kommentare"}
    assert russian["fresh"] == {
        "one": "{n} новый комментарий",
        "few": "{n} новых комментария",
        "many": "{n} новых комментариев",
        "other": "{n} новых комментариев",
    }
    assert arabic["notify"] == "أرسل لي إشعارًا عن"
    assert arabic["count"] == {
        "zero": "لا تعليقات",
        "one": "تعليق واحد",
        "two": "تعليقان",
        "few": "{n} تعليقات",
        "many": "{n} تعليقًا",
        "other": "{n} تعليق",
    }
    # Every string is translated; these three are spelt the same in German.
    assert [key for key in english if german[key] == english[key]] == [
        "name",
        "website",
        "optional",
    ]


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js for Intl.PluralRules")
@pytest.mark.parametrize("lang", ["en", *LANGUAGES])
def test_the_widget_picks_the_catalogues_plural_form_for_every_count(lang):
    """The widget chooses by Intl.PluralRules category, the catalogue by its gettext rule:
    the form sent for each category must be the one gettext gives every number in it."""
    numbers = [*range(1000), 1_000_000]
    script = (
        f"const rules = new Intl.PluralRules({json.dumps(lang)});"
        f"console.log(JSON.stringify({json.dumps(numbers)}.map((n) => rules.select(n))));"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    categories = json.loads(result.stdout)

    with translation.override(lang):
        shown = widget_strings()
        for key, (singular, plural) in {
            "count": ("%(counter)s comment", "%(counter)s comments"),
            "viewReplies": ("View %(n)s reply", "View %(n)s replies"),
            "fresh": ("%(n)s new comment", "%(n)s new comments"),
        }.items():
            forms = shown[key]
            assert isinstance(forms, dict) and "other" in forms
            for n, category in zip(numbers, categories, strict=True):
                expected = translation.ngettext(singular, plural, n) % {"counter": n, "n": n}
                # As widget.js's t(): the category's form, else "other".
                got = forms.get(category, forms["other"]).replace("{n}", str(n))
                assert got == expected, (key, n, category)
