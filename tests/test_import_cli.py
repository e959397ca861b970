"""`parley import` as an operator meets it: mistakes on the command line, damaged or hostile
files, address rules, a dry run, a run killed half-way, and a loss the report must catch."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from parley.comments.models import Comment, Thread
from parley.imports import load
from parley.imports.urlmap import RuleError, build
from tests.factories import SiteFactory
from tests.importdata import disqus, report_row

pytestmark = pytest.mark.django_db

THREAD = """<thread dsq:id="{key}"><id>{key}</id><forum>news</forum><link>{link}</link>
<title>Story {key}</title><createdAt>2014-01-01T10:00:00Z</createdAt>
<author><name>Ed</name><isAnonymous>false</isAnonymous></author></thread>"""
POST = """<post dsq:id="{key}"><id/><message><![CDATA[<p>Comment {key}</p>]]></message>
<createdAt>2014-01-02T10:00:{second:02d}Z</createdAt><isDeleted>false</isDeleted>
<isSpam>false</isSpam><author><name>Reader {key}</name><isAnonymous>false</isAnonymous>
</author><thread dsq:id="{thread}"/></post>"""


def export(path: Path, links: dict[str, str], posts: int = 2) -> Path:
    """A small Disqus export: one thread per link, `posts` comments in each."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">',
    ]
    parts += [THREAD.format(key=key, link=link) for key, link in links.items()]
    for key in links:
        parts += [
            POST.format(key=f"{key}{n}", thread=key, second=n) for n in range(posts)
        ]  # fmt: skip
    parts.append("</disqus>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def run_import(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_unknown_site_or_a_bad_rule_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    path = export(tmp_path / "d.xml", {"1": "https://old.example/a/"})
    with pytest.raises(CommandError, match=r"no site named 'elsewhere'.*parley site add"):
        run_import("disqus", str(path), "--site", "elsewhere")
    SiteFactory.create()
    with pytest.raises(CommandError, match="is not a rule: write OLD=>NEW"):
        run_import("disqus", str(path), "--site", "news", "--map-url", "old.example")
    with pytest.raises(CommandError, match=r"missing\.xml: cannot open the file"):
        run_import("disqus", str(tmp_path / "missing.xml"), "--site", "news")
    assert not Thread.objects.exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], r"line \d+.*truncated"),
        (
            lambda text: text.replace(
                "<disqus ",
                '<!DOCTYPE disqus [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;'
                '&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<disqus ',
            ).replace("Comment 10", "&c;"),
            r"line \d+.*entit",
        ),
    ],
    ids=["truncated", "entity-bomb"],
)
def test_a_damaged_or_hostile_file_stops_naming_the_place_and_writes_nothing(
    tmp_path: Path, damage: Any, message: str
) -> None:
    site = SiteFactory.create()
    good = export(tmp_path / "good.xml", {"1": "https://old.example/a/", "2": "/b/"}, posts=40)
    run_import("disqus", str(good), "--site", site.name)
    before = list(Comment.objects.order_by("pk").values_list("pk", "body"))
    bad = tmp_path / "bad.xml"
    bad.write_text(damage(good.read_text()))

    with pytest.raises(CommandError, match=message) as stopped:
        run_import("disqus", str(bad), "--site", site.name)

    assert "bad.xml" in str(stopped.value) and "Nothing was written" in str(stopped.value)
    assert stopped.value.returncode == 2
    assert list(Comment.objects.order_by("pk").values_list("pk", "body")) == before


def test_rules_map_old_addresses_and_the_report_lists_what_no_rule_matched(
    tmp_path: Path,
) -> None:
    SiteFactory.create()
    path = export(
        tmp_path / "d.xml",
        {
            "1": "http://old.example/?p=12",
            "2": "https://old.example/2014/01/story",
            "3": "https://elsewhere.example/x",
        },
    )
    rules = tmp_path / "rules.txt"
    # As a redirect plugin exports it: a header row, old addresses as paths.
    rules.write_text("source,target\n/?p=12,/2014/01/first/\n")
    report = run_import(
        "disqus", str(path), "--site", "news", "--map-url", f"@{rules}",
        "--map-url", "https://old.example/=>/", "--map-url", "slash:add",
        "--report", str(tmp_path / "report.json"),
    )  # fmt: skip

    uris = set(Thread.objects.values_list("uri", flat=True))
    assert uris == {"/2014/01/first/", "/2014/01/story/", "/x/"}
    assert "1 thread matched no --map-url rule and keeps its path:\n  3: /x/" in report
    saved = json.loads((tmp_path / "report.json").read_text())
    assert {t["key"]: t["matched"] for t in saved["threads"]} == {"1": True, "2": True, "3": False}


def test_url_rules_each_kind() -> None:
    urlmap = build([
        "?p=7=>/2019/05/slug/",
        r"re:^https?://old\.example/(\d{4})/(\d\d)/(\d\d)/(.*)$=>/\1/\2/\4",
        "https://old.example/=>/",
        "slash:strip",
    ])  # fmt: skip
    assert urlmap.map("https://old.example/?p=7") == ("/2019/05/slug", True)
    assert urlmap.map("https://old.example/2019/05/04/bridge/") == ("/2019/05/bridge", True)
    assert urlmap.map("https://old.example/about/") == ("/about", True)
    assert urlmap.map("https://other.example/a/?x=1#c") == ("/a?x=1", False)
    with pytest.raises(RuleError, match="not a regular expression"):
        build(["re:(unclosed=>/"])


def test_a_dry_run_reports_and_writes_nothing(tmp_path: Path) -> None:
    SiteFactory.create()
    path = export(tmp_path / "d.xml", {"1": "/a/", "2": "/b/"}, posts=3)
    report = run_import("disqus", str(path), "--site", "news", "--dry-run")
    assert "Dry run: nothing was written." in report
    assert report_row(report) == (6, 0, 6)
    assert "Per thread (where its comments would go):" in report
    assert re.search(r"^  2 +3 +3 /b/$", report, re.MULTILINE)
    assert not Thread.objects.exists() and not Comment.objects.exists()


def test_a_comment_that_does_not_arrive_fails_the_run_naming_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SiteFactory.create()
    path = export(tmp_path / "d.xml", {"1": "/a/", "2": "/b/"}, posts=3)
    real = load._insert_rows

    def drop_the_last(model: Any, rows: list[dict[str, Any]]) -> None:
        real(model, rows[:-1])

    monkeypatch.setattr(load, "_insert_rows", drop_the_last)
    out = StringIO()
    with pytest.raises(CommandError, match="Comments of 1 thread did not arrive") as failed:
        call_command("import", "disqus", str(path), "--site", "news", stdout=out)
    assert failed.value.returncode == 1
    assert "NOT EVERYTHING ARRIVED: 1 thread differs from the source" in out.getvalue()
    assert "  2                  3       2 " in out.getvalue()  # thread 2: 3 in source, 2 here


@pytest.mark.slow
def test_a_run_killed_midway_is_finished_by_running_it_again(tmp_path: Path) -> None:
    """A real process, killed with SIGKILL once some batches are in; the same command again
    adds the rest, and every comment is there exactly once."""
    data_dir = tmp_path / "data"
    env = os.environ | {"PARLEY_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    parley = [sys.executable, "-m", "parley"]

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*parley, *args], env=env, capture_output=True, text=True)

    command("migrate", "-v0")
    command("site", "add", "news", "--domain", "news.example")
    path = tmp_path / "big.xml"
    disqus.write_export(path, threads=600, comments=30_000)
    database = sqlite3.connect(data_dir / "parley.sqlite3")

    def stored() -> int:
        return int(database.execute("SELECT COUNT(*) FROM comments_comment").fetchone()[0])

    running = subprocess.Popen(
        [*parley, "import", "disqus", str(path), "--site", "news"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while stored() == 0 and running.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.wait()
    partial = stored()
    assert 0 < partial < 30_000, partial

    again = command("import", "disqus", str(path), "--site", "news")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing was lost" in again.stdout
    assert stored() == 30_000
    duplicated = database.execute(
        "SELECT COUNT(*) FROM (SELECT source_key FROM comments_comment"
        " GROUP BY source_key HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert duplicated == 0
    assert report_row(again.stdout) == (30_000, 30_000, 30_000 - partial)


def test_a_rule_put_right_moves_the_threads_an_earlier_run_misplaced(tmp_path: Path) -> None:
    SiteFactory.create()
    path = export(tmp_path / "d.xml", {"1": "http://old.example/?p=42", "2": "/b/"}, posts=3)
    wrong = run_import(
        "disqus", str(path), "--site", "news",
        "--map-url", "http://old.example/=>/", "--map-url", "?p=42=>/2017/07/flood/",
    )  # fmt: skip
    assert "The rule '?p=42=>/2017/07/flood/' matched no thread" in wrong
    assert Thread.objects.get(uri="/?p=42").published_count == 3

    rules = ("--map-url", "?p=42=>/2017/07/flood/", "--map-url", "http://old.example/=>/")
    preview = run_import("disqus", str(path), "--site", "news", *rules, "--dry-run")
    assert "Thread 1: 3 comments would move from /?p=42 to /2017/07/flood/" in preview
    assert report_row(preview) == (6, 6, 0) and "Left out" not in preview

    right = run_import("disqus", str(path), "--site", "news", *rules)

    assert "Thread 1: 3 comments moved from /?p=42 to /2017/07/flood/" in right
    assert "Nothing was lost" in right and report_row(right) == (6, 6, 0)
    assert not Thread.objects.filter(uri="/?p=42").exists()  # the import's own mistake goes
    moved = Thread.objects.get(uri="/2017/07/flood/")
    assert moved.published_count == 3 and moved.comments.count() == 3
