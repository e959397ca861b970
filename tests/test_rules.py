"""A site's moderation rules, and matching that sees through disguised words."""

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from parley.comments.models import Comment, Thread
from parley.moderation import gate
from parley.moderation.obfuscation import Match, PhraseMatcher, builtin_profanity, normalise
from parley.moderation.rules import RuleHit, check_rules
from tests.factories import SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db


def posted(thread: Thread, body: str, **fields: Any) -> Comment:
    """An earlier comment, stored as the site stores one: with the gate's verdict."""
    comment = post_comment(thread, body, **fields)
    gate.record(comment, gate.Verdict("publish"))
    return comment

TEST_LIST = Path(__file__).parent / "data" / "obfuscated_profanity.txt"


def read_test_list() -> list[tuple[str, str, str]]:
    """(language, expected entry or "-", comment) from the test list; see its first line."""
    cases = []
    for line in TEST_LIST.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, expected, text = line.split("\t")
        text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
        cases.append((lang, expected, text))
    return cases


CASES = read_test_list()
DISGUISED = [case for case in CASES if case[1] != "-"]
CLEAN = [case for case in CASES if case[1] == "-"]


# --- the built-in lexicon through disguise -----------------------------------------------------


def test_the_test_list_covers_every_language_with_enough_cases():
    assert len(DISGUISED) >= 60
    assert len(CLEAN) >= 30
    for lang in ("en", "de", "es", "ru", "ar"):
        assert any(case[0] == lang for case in DISGUISED), lang
        assert any(case[0] == lang for case in CLEAN), lang


@pytest.mark.parametrize(("lang", "expected", "text"), DISGUISED, ids=[c[2] for c in DISGUISED])
def test_a_disguised_swear_word_is_found(lang, expected, text):
    found = builtin_profanity().find(text)

    assert found, f"{lang}: nothing found in {text!r}"
    assert found[0].phrase == expected
    assert found[0].as_written in text


@pytest.mark.parametrize(("lang", "expected", "text"), CLEAN, ids=[c[2] for c in CLEAN])
def test_a_clean_sentence_matches_nothing(lang, expected, text):
    assert builtin_profanity().find(text) == []


def test_a_match_names_the_listed_phrase_and_the_text_as_written():
    matcher = PhraseMatcher(["shit", "idiot"])

    assert matcher.find("Such sh$$t, you 1d!0t!") == [
        Match("shit", "sh$$t"),
        Match("idiot", "1d!0t"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("f*ck", "fuck"), ("sh*t", "shit"), ("b*tch", "bitch"), ("sh#t", "shit"), ("sh_t", "shit")],
)
def test_a_masked_word_matches_a_listed_word_of_its_length(text, expected):
    matcher = PhraseMatcher(["fuck", "shit", "bitch"])

    assert matcher.find(f"well, {text}!") == [Match(expected, text)]


@pytest.mark.parametrize("text", ["s*t", "sh**it", "****", "b*tchy"])
def test_a_masked_word_of_another_length_or_without_letters_matches_nothing(text):
    assert PhraseMatcher(["shit", "bitch"]).find(text) == []


def test_a_listed_word_is_matched_whole_and_a_listed_start_as_a_prefix():
    matcher = PhraseMatcher(["anal", "idiot*"])

    assert matcher.find("Our analysis: idiots, and an idiotic anal plan") == [
        Match("idiot*", "idiots"),
        Match("idiot*", "idiotic"),
        Match("anal", "anal"),
    ]


def test_an_allowed_word_is_not_caught_by_a_listed_start():
    matcher = PhraseMatcher(["бля*"], allowed=["бляха*"])

    assert matcher.find("бляха от ремня") == []
    assert matcher.find("бляяять") == [Match("бля*", "бляяять")]


def test_a_doubled_consonant_is_spelling_not_emphasis():
    matcher = PhraseMatcher(["asses"])

    assert matcher.find("We will assess it") == []
    assert matcher.find("asssses") == [Match("asses", "asssses")]


def test_a_phrase_matches_across_spaces_and_punctuation():
    matcher = PhraseMatcher(["buy now"])

    assert matcher.find("Please BUY   N0W, friends") == [Match("buy now", "BUY   N0W")]
    assert matcher.find("buy it now") == []


def test_normalise_reads_through_disguise():
    fullwidth, cyrillic_o = "\uff26\uff35\uff23\uff2b", "\u043e"
    assert normalise(f"{fullwidth}  Y{cyrillic_o}u") == "fuck you"
    assert normalise("sh\u200bit, fuuuuck") == "shit fuck"
    assert normalise("Fück the 1d!0t") == "fuck the idiot"
    assert normalise("f u c k") == "fuck"
    assert normalise("x\u0443\u0439") == "хуй"  # a Latin x in a Russian word
    assert normalise("شَرْمُوطَة") == "شرموطه"


def test_the_builtin_lexicon_is_compiled_once():
    assert builtin_profanity() is builtin_profanity()


def time_find(matcher: PhraseMatcher, text: str, runs: int = 5) -> float:
    """The fastest of `runs` checks of `text`, in milliseconds, words not yet remembered."""
    best = float("inf")
    for _run in range(runs):
        matcher._cache.clear()
        started = time.perf_counter()
        matcher.find(text)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def test_a_long_comment_is_checked_in_one_pass(capsys):
    sentence = (
        "The council met on Tuesday to discuss the budget; residents called it a sh1t plan. "
        "Der Stadtrat hat über den Haushalt beraten. El ayuntamiento aprobó el presupuesto. "
        "Городской совет обсудил бюджет. ناقش المجلس البلدي الميزانية. "
    )
    text = (sentence * (10_000 // len(sentence) + 1))[:10_000]
    matcher = builtin_profanity()

    found = matcher.find(text)
    milliseconds = time_find(matcher, text)

    assert len(found) == text.count("sh1t")
    with capsys.disabled():
        print(f"\n10,000 characters checked in {milliseconds:.1f} ms")


# --- the site's rules through the gate ---------------------------------------------------------


@pytest.fixture
def site():
    return SiteFactory.create()


def set_policy(site, **fields):
    policy = gate.policy_for(site)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def submission(site, body="A considered comment on the budget.", **fields):
    values = {
        "site": site,
        "body": body,
        "author_name": "Ann",
        "author_email": "",
        "reader_key": "r:ann",
        "ip": "198.51.100.20",
        "ip_hash": "hash-of-ann",
    } | fields
    return gate.Submission(**values)


def test_a_comment_that_breaks_no_rule_is_published(site):
    assert gate.screen(submission(site)).action == "publish"


def test_a_banned_phrase_holds_the_comment_and_names_how_it_was_written(site):
    set_policy(site, banned_phrases="idiot\nbuy now\n")

    verdict = gate.screen(submission(site, "You 1d!0t. BUY N0W!"))

    assert verdict.action == "hold"
    assert verdict.reasons == [
        "banned phrase “idiot” written as “1d!0t”",
        "banned phrase “buy now” written as “BUY N0W”",
    ]


def test_a_banned_phrase_written_plainly_is_named_once(site):
    set_policy(site, banned_phrases="idiot")

    verdict = gate.screen(submission(site, "Idiot, idiot, idiot."))

    assert (verdict.action, verdict.reasons) == ("hold", ["banned phrase “idiot”"])


def test_banned_phrases_are_whole_words(site):
    set_policy(site, banned_phrases="anal")

    assert gate.screen(submission(site, "A careful analysis.")).action == "publish"


def test_the_builtin_lexicon_is_no_rule(site):
    assert check_rules(gate.policy_for(site), submission(site, "What a load of sh1t")) == []


def test_more_links_than_allowed_hold_the_comment(site):
    set_policy(site, max_links=2)
    body = "See https://a.example/x, www.b.example and cheap-pills.example now."

    verdict = gate.screen(submission(site, body))

    assert verdict.action == "hold"
    assert verdict.reasons == [
        "3 links, more than the 2 allowed: https://a.example/x, www.b.example, cheap-pills.example"
    ]


def test_links_up_to_the_limit_and_sentences_run_together_pass(site):
    set_policy(site, max_links=1)
    body = "Source: [the report](https://news.example/report). It ended.Then we left, e.g. home."

    assert gate.screen(submission(site, body)).action == "publish"


def test_more_mentions_than_allowed_hold_the_comment(site):
    set_policy(site, max_mentions=2)

    verdict = gate.screen(submission(site, "@ann @bob @cy, mail me at me@home.example"))

    assert verdict.action == "hold"
    assert verdict.reasons == ["3 @mentions, more than the 2 allowed: @ann, @bob, @cy"]


def test_the_same_text_again_by_the_same_reader_is_spam(site):
    thread = ThreadFactory.create(site=site)
    posted(
        thread,
        "Buy cheap pills at our shop",
        reader_key="r:ann",
        created_at=timezone.now() - timedelta(hours=2),
    )

    verdict = gate.screen(submission(site, "BUY  cheap pills at our sh0p!"))

    assert verdict.action == "spam"
    assert verdict.reasons == [
        "the same reader posted this text here 2\xa0hours ago (“Buy cheap pills at our shop”)"
    ]


def test_the_same_text_from_the_same_address_or_email_is_spam(site):
    thread = ThreadFactory.create(site=site)
    posted(thread, "Visit my blog", reader_key="r:other")  # the factory's address: "test"
    posted(thread, "Read my book", reader_key="r:third", author_email="Zoe@Mail.example")

    by_address = gate.screen(submission(site, "Visit my blog", ip_hash="test"))
    by_email = gate.screen(submission(site, "Read my book", author_email="zoe@mail.example"))

    assert by_address.action == by_email.action == "spam"
    assert "same network address" in by_address.reasons[0]
    assert "same e-mail address" in by_email.reasons[0]


def test_the_same_text_by_the_same_reader_after_a_day_is_published(site):
    thread = ThreadFactory.create(site=site)
    yesterday = timezone.now() - timedelta(hours=25)
    posted(thread, "Good morning, all", reader_key="r:ann", created_at=yesterday)

    assert gate.screen(submission(site, "Good morning, all")).action == "publish"


def test_the_fourth_copy_within_the_hour_by_anyone_is_spam(site):
    thread = ThreadFactory.create(site=site)
    campaign = "Vote NO on measure 7, tell your friends!"
    for reader in ("r:a", "r:b"):
        posted(thread, campaign, reader_key=reader)

    assert gate.screen(submission(site, campaign)).action == "publish"

    posted(thread, campaign, reader_key="r:c")
    verdict = gate.screen(submission(site, campaign))

    assert verdict.action == "spam"
    assert verdict.reasons == [
        "copy-paste campaign: this text was posted here 3 times in the last hour "
        "(“Vote NO on measure 7, tell your friends!”)"
    ]


def test_copies_older_than_an_hour_are_no_campaign(site):
    thread = ThreadFactory.create(site=site)
    earlier = timezone.now() - timedelta(hours=2)
    for reader in ("r:a", "r:b", "r:c"):
        posted(thread, "Same words", reader_key=reader, created_at=earlier)

    assert gate.screen(submission(site, "Same words")).action == "publish"


def test_more_comments_than_the_flood_limit_hold_the_next(site):
    set_policy(site, flood_comments=2, flood_window_seconds=60)
    thread = ThreadFactory.create(site=site)
    posted(
        thread, "first", reader_key="r:ann", created_at=timezone.now() - timedelta(minutes=5)
    )
    posted(thread, "second", reader_key="r:ann")

    assert gate.screen(submission(site, "third")).action == "publish"

    posted(thread, "third", reader_key="r:ann")
    verdict = gate.screen(submission(site, "fourth"))

    assert verdict.action == "hold"
    assert verdict.reasons == [
        "flood: 3 comments from the same reader or network address within 60 seconds (2 allowed)"
    ]


def test_a_blocked_email_domain_and_its_subdomains_are_spam(site):
    set_policy(site, blocked_email_domains="spam.example\n")

    verdict = gate.screen(submission(site, author_email="bob@mail.SPAM.example"))

    assert verdict.action == "spam"
    assert verdict.reasons == ["e-mail address at the blocked domain “spam.example”"]
    assert gate.screen(submission(site, author_email="bob@notspam.example")).publish


def test_a_blocked_network_holds_the_comment_without_storing_the_address(site):
    set_policy(site, blocked_networks="203.0.113.0/24\nnot a network\n2001:db8::/32\n")

    v4 = gate.screen(submission(site, ip="203.0.113.77"))
    v6 = gate.screen(submission(site, ip="2001:db8::1"))

    assert (v4.action, v4.reasons) == ("hold", ["sent from the blocked network 203.0.113.0/24"])
    assert (v6.action, v6.reasons) == ("hold", ["sent from the blocked network 2001:db8::/32"])
    assert gate.screen(submission(site, ip="198.51.100.1")).publish


def test_a_single_blocked_address_is_named_as_written(site):
    set_policy(site, blocked_networks="192.0.2.7")

    verdict = gate.screen(submission(site, ip="::ffff:192.0.2.7"))

    assert verdict.reasons == ["sent from the blocked network 192.0.2.7"]


def test_a_filled_in_honeypot_is_spam(site):
    verdict = gate.screen(submission(site, honeypot="https://pills.example"))

    assert verdict.action == "spam"
    assert verdict.reasons == [
        "the field hidden from people was filled in (“https://pills.example”)"
    ]


def form_token_shown(seconds_ago: float) -> str:
    with mock.patch.object(
        timezone, "now", return_value=timezone.now() - timedelta(seconds=seconds_ago)
    ):
        return gate.form_token()


def test_a_form_sent_too_soon_after_it_was_shown_is_held(site):
    set_policy(site, min_submit_seconds=3)

    verdict = gate.screen(submission(site, form_token=form_token_shown(0)))

    assert verdict.action == "hold"
    assert re.fullmatch(
        r"sent 0\.\d s after the form was shown \(at least 3 s expected\)", verdict.reasons[0]
    )
    assert gate.screen(submission(site, form_token=form_token_shown(10))).publish
    assert gate.screen(submission(site, form_token="")).publish  # plain API clients


def test_an_edit_skips_the_rules_for_new_comments_but_not_the_banned_phrases(site):
    set_policy(site, banned_phrases="idiot", flood_comments=0)
    thread = ThreadFactory.create(site=site)
    comment = posted(thread, "Same text", reader_key="r:ann")
    edit = {"comment_id": comment.pk, "honeypot": "x", "form_token": form_token_shown(0)}

    assert gate.screen(submission(site, "Same text", **edit)).publish
    assert gate.screen(submission(site, "Same idiot", **edit)).action == "hold"


def test_every_broken_rule_is_reported(site):
    set_policy(site, banned_phrases="idiot", blocked_email_domains="spam.example")

    hits = check_rules(
        gate.policy_for(site),
        submission(site, "idiot", author_email="a@spam.example", honeypot="bot"),
    )

    assert [hit.action for hit in hits] == ["hold", "spam", "spam"]
    assert all(isinstance(hit, RuleHit) for hit in hits)


# --- through the API ---------------------------------------------------------------------------


def post(client, **fields):
    data = {"site": "news", "uri": "/story/", "body": "Hello", "author_name": "Ann"} | fields
    return client.post_json("/comments", data)


def test_a_comment_with_a_banned_phrase_is_held_and_not_in_the_thread(client, other_reader, site):
    set_policy(site, banned_phrases="idiot")

    response = post(client, body="What an 1d10t")

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert Comment.objects.get().status == Comment.Status.PENDING
    thread = other_reader.api_get("/threads", site="news", uri="/story/").json()
    assert "1d10t" not in str(thread)


def test_a_bot_filling_in_the_honeypot_is_told_pending_and_stored_as_spam(client, site):
    response = post(client, body="Great article", homepage="https://pills.example")

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert Comment.objects.get().status == Comment.Status.SPAM
