"""`parley moderation score` and `parley moderation retrain` as an operator runs them."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from parley.moderation.models import Label, SiteHead
from parley.moderation.scoring.head import Head
from tests.factories import SiteFactory


def run_score(lines: list[str], tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    # Nothing listens there: scoring without --site must not need a database.
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:9/nothing"
    return subprocess.run(
        [sys.executable, "-m", "parley", "moderation", "score", *args],
        input="".join(line + "\n" for line in lines).encode(),
        env=env,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_score_answers_every_line_in_order_with_per_line_errors(tmp_path):
    lines = [
        json.dumps({"text": "You are a pathetic idiot and a liar, shut up."}),
        json.dumps({"text": ""}),
        json.dumps({"text": "Danke für den Bericht über die neue Buslinie.", "lang": "de"}),
        "{not json",
        json.dumps({"text": "x" * 1_000_001}),
        json.dumps({"text": "y " * 60_000}),
        json.dumps({"lang": "en"}),
        json.dumps(["a list"]),
        json.dumps({"text": "Earn $900 a week from home, click www.easy-cash-now.xyz"}),
    ]
    result = run_score(lines, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == len(lines)

    insult, empty, german, bad, huge, long, missing, listed, spam = answers
    assert set(insult["scores"]) == {
        "toxicity",
        "insult",
        "identity_attack",
        "threat",
        "profanity",
        "spam",
    }
    assert insult["scores"]["toxicity"] >= 0.5 and insult["lang"] == "en"
    assert insult["reasons"]
    assert german["lang"] == "de" and german["scores"]["toxicity"] < 0.5
    assert spam["scores"]["spam"] > 0.5
    assert empty == {"error": '"text" is empty'}
    assert bad["error"].startswith("not valid JSON")
    assert huge == {"error": "line longer than 1 MB"}
    assert long == {"error": "text longer than 100,000 characters"}
    assert missing == {"error": '"text" is missing or not a string'}
    assert "JSON object" in listed["error"]
    assert b"scored 3 lines, 6 errors" in result.stderr


def test_score_answers_each_line_before_the_next_arrives(tmp_path):
    """A caller may write one line and wait for its answer."""
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "parley", "moderation", "score"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdin and proc.stdout
    try:
        for text in ["first comment here", "second comment there"]:
            proc.stdin.write((json.dumps({"text": text}) + "\n").encode())
            proc.stdin.flush()
            assert "scores" in json.loads(proc.stdout.readline())
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def _labels(site, n: int) -> None:
    abusive = [
        "You people are scum and you know it, crawl back under your rock",
        "Go to hell, you clueless hack, nobody wants your garbage writing",
        "Idiots like you should be kept away from keyboards",
        "Shut your mouth, you lying clown",
    ]
    fine = [
        "I disagree with the mayor, but the article explains the budget well",
        "Does anyone know when the new library opens?",
        "Good point about the tram, I had not thought of the night routes",
    ]
    spam = ["Cheap watches at www.best-watch-deals.xyz, 80% off today only"]
    pool = (
        [(t, "abusive") for t in abusive] + [(t, "ok") for t in fine] + [(t, "spam") for t in spam]
    )
    for i in range(n):
        text, verdict = pool[i % len(pool)]
        Label.objects.create(
            site=site, comment_id=i + 1, text=f"{text} ({i})", lang="en", verdict=verdict
        )


@pytest.mark.django_db
def test_retrain_needs_enough_decisions():
    site = SiteFactory.create()
    _labels(site, 5)
    with pytest.raises(CommandError, match="needs at least 20") as caught:
        call_command("moderation", "retrain", "--site", site.name)
    assert caught.value.returncode == 1
    assert not SiteHead.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_retrain_stores_the_sites_head_and_prints_before_and_after(capsys):
    site = SiteFactory.create()
    _labels(site, 24)
    call_command("moderation", "retrain", "--site", site.name)

    out = capsys.readouterr().out
    assert "before" in out and "after" in out
    assert "all languages" in out and " de " in out
    head = SiteHead.objects.get(site=site)
    assert head.examples == 24
    assert (
        json.loads(str(Head.from_bytes(bytes(head.weights)).arrays["meta"]))["site"]["examples"]
        == 24
    )


@pytest.mark.django_db
def test_retrain_of_an_unknown_site_says_so():
    with pytest.raises(CommandError, match="no site named"):
        call_command("moderation", "retrain", "--site", "nope")
