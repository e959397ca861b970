"""The offline scorer as the pipeline and moderators see it: scores, reasons, language,
no network, a site's own head, and a hosted service that may be slow or down."""

import http.server
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from pytest_socket import disable_socket, enable_socket

from parley.moderation.models import Policy, SiteHead
from parley.moderation.scoring import CATEGORIES, Score, features, local, scorer_for, train
from parley.moderation.scoring.head import SHIPPED, Head
from parley.moderation.scoring.hosted import HostedScorer
from parley.moderation.scoring.local import LocalScorer, local_scorer
from tests.factories import SiteFactory

INSULT = "You are a pathetic idiot, nobody cares about your stupid opinion, just shut up."
BENIGN = "Thanks for the clear report on the council budget, the chart on page two helped."
NEWS = [
    "The Muslim community in Leeds opened a food bank next to the mosque on Friday.",
    "Jewish families in the district marked Hanukkah with a public candle lighting.",
    "Roma families were evicted from the camp near the ring road last week, the council said.",
    "Die türkische Gemeinde in Duisburg feiert am Wochenende ihr 50-jähriges Bestehen.",
    "La comunidad china de Usera celebró el Año Nuevo con un desfile por el barrio.",
    "Мигранты из Средней Азии составляют почти треть строителей в регионе, по данным ведомства.",
]


def scores(texts: list[str], langs: list[str | None] | None = None) -> list[Score]:
    return local_scorer().score(texts, langs)


def test_scores_every_category_between_0_and_1():
    [result] = scores([INSULT])
    assert set(result.scores) == set(CATEGORIES)
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())
    assert result.source == "local"
    assert result.lang == "en"


def test_scores_with_the_network_unavailable():
    local._shipped = None
    features._embedder = None
    disable_socket()
    try:
        [insult, benign] = local_scorer().score([INSULT, BENIGN])
    finally:
        enable_socket()
    assert insult.risk >= 0.5 > benign.risk


def test_civil_talk_about_a_war_is_not_held():
    """The demo discussion, in four languages, is analytical talk about a war, and written
    apart from the training set: a violent topic is not abuse."""
    texts = [example.text for example in train.load_demo_discussion()]
    held = [
        text[:60] for text, result in zip(texts, scores(texts), strict=True) if result.risk >= 0.5
    ]
    assert len(held) <= 0.06 * len(texts), held


def test_an_insult_is_held_and_a_thank_you_is_not():
    insult, benign = scores([INSULT, BENIGN])
    assert insult.scores["toxicity"] >= 0.5
    assert insult.scores["insult"] >= 0.5
    assert benign.risk < 0.5


def test_news_mentions_of_groups_are_not_held():
    for result, text in zip(scores(NEWS), NEWS, strict=True):
        assert result.risk < 0.5, (text, result.scores)


@pytest.mark.parametrize(
    ("lang", "hateful", "benign"),
    [
        (
            "de",
            "Diese Leute vermehren sich wie Ratten und fressen unser Land leer, man sollte sie "
            "alle rausschmeißen.",
            "Die Stadt hat für die Geflüchteten aus Syrien eine neue Sprachschule eröffnet.",
        ),
        (
            "es",
            "Esos inmigrantes son una plaga, vienen a robar y a vivir de nuestras ayudas.",
            "El ayuntamiento abrió un centro de acogida para inmigrantes en el antiguo colegio.",
        ),
        (
            "ru",
            "Эти приезжие как тараканы, лезут отовсюду и гадят там, где живут нормальные люди.",
            "В городе открылся центр помощи приезжим, где бесплатно учат русскому языку.",  # noqa: RUF001
        ),
    ],
)
def test_hate_without_slurs_ranks_above_news_in_other_languages(lang, hateful, benign):
    hate_score, news_score = scores([hateful, benign])
    assert hate_score.lang == news_score.lang == lang
    assert hate_score.risk > news_score.risk
    assert hate_score.scores["identity_attack"] > news_score.scores["identity_attack"]


def test_a_spam_offer_is_spam():
    [spam, benign] = scores(
        [
            "Earn $500 a day from home!!! I did it, click www.cash-fast-now.xyz and start today",
            BENIGN,
        ]
    )
    assert spam.scores["spam"] >= 0.9
    assert benign.scores["spam"] < 0.5
    assert any("links: 1" in r for r in spam.reasons)


def test_one_abusive_sentence_in_a_long_calm_comment_is_held_and_named():
    calm = (
        "The council met on Tuesday to discuss the new bus timetable. Several residents "
        "asked about the night routes and the cost of monthly passes. The meeting ran long. "
    )
    text = calm * 3 + "Whoever wrote this article should be beaten until he stops writing. " + calm
    [result] = scores([text])
    assert result.risk >= 0.5
    assert any("should be beaten until he stops" in r for r in result.reasons), result.reasons
    assert "language: en" in result.reasons


def test_a_given_language_is_kept():
    [result] = scores([BENIGN], ["de"])
    assert result.lang == "de"
    assert "language: de" in result.reasons


def test_a_long_rambling_calm_comment_is_not_held():
    """Speed is measured in bench/moderation_eval.py; here, that many sentences each scored
    on their own do not add up to a false alarm."""
    text = " ".join(
        f"Sentence number {i} of a very long and rambling comment about the housing plan."
        for i in range(120)
    )
    [result] = scores([text])
    assert result.risk < 0.5


def test_concurrent_callers_get_the_same_answers():
    texts = [INSULT, BENIGN, *NEWS]
    expected = [s.scores for s in scores(texts)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: scores([t])[0].scores, texts * 2))
    for a, b in zip(got, expected * 2, strict=True):
        assert a == pytest.approx(b, abs=1e-3)


def test_obfuscated_profanity_is_named_in_the_reasons():
    pytest.importorskip("parley.moderation.obfuscation")
    [result] = scores(["What a load of sh1t, this f*cking paper never checks anything"])
    assert result.scores["profanity"] >= 0.5
    assert any(r.startswith("profanity:") for r in result.reasons), result.reasons


def test_the_shipped_head_is_small_and_needs_no_pickle():
    assert SHIPPED.stat().st_size < 500_000
    with np.load(SHIPPED, allow_pickle=False) as npz:
        assert {"e5_coef", "stack_coef", "meta"} <= set(npz.files)
    head = Head.shipped()
    assert Head.from_bytes(head.to_bytes()).meta == head.meta


# ---------------------------------------------------------------- scorer_for


@pytest.mark.django_db
def test_a_site_without_its_own_head_gets_the_shipped_scorer():
    policy = Policy.objects.create(site=SiteFactory.create())
    assert scorer_for(policy) is local_scorer()


@pytest.mark.django_db
def test_a_site_with_its_own_head_is_scored_by_it():
    site = SiteFactory.create()
    policy = Policy.objects.create(site=site)
    arrays = dict(Head.shipped().arrays)
    arrays["stack_intercept"] = arrays["stack_intercept"] + 50.0  # flags everything
    SiteHead.objects.create(site=site, weights=Head(arrays).to_bytes(), examples=20)

    scorer = scorer_for(policy)
    assert isinstance(scorer, LocalScorer) and scorer is not local_scorer()
    assert scorer.score([BENIGN])[0].risk > 0.99
    assert scorer_for(policy) is scorer  # loaded once


# ---------------------------------------------------------------- hosted


class _Service(http.server.BaseHTTPRequestHandler):
    mode = "answer"
    seen: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "body": body})
        if self.mode == "hang":
            time.sleep(3)
        if self.mode == "fail":
            self.send_response(500)
            self.end_headers()
            return
        answer = {
            "attributeScores": {
                name: {"summaryScore": {"value": value, "type": "PROBABILITY"}}
                for name, value in [
                    ("TOXICITY", 0.91),
                    ("INSULT", 0.8),
                    ("IDENTITY_ATTACK", 0.1),
                    ("THREAT", 0.05),
                    ("PROFANITY", 0.2),
                ]
            }
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[tuple[str, type[_Service]]]:
    handler = type("Service", (_Service,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1alpha1/comments:analyze", handler
    server.shutdown()
    server.server_close()


def test_a_hosted_scorer_answers_in_the_perspective_format(service):
    url, handler = service
    scorer = HostedScorer(url, "secret", 2000, local_scorer())
    [result] = scorer.score([BENIGN], ["en"])
    assert result.source == "hosted"
    assert result.scores["toxicity"] == 0.91
    assert result.scores["insult"] == 0.8
    assert "spam" in result.scores  # Perspective has no spam: the local scorer supplies it
    [request] = handler.seen
    assert request["path"].endswith("?key=secret")
    assert request["body"]["comment"] == {"text": BENIGN}
    assert request["body"]["languages"] == ["en"]
    assert set(request["body"]["requestedAttributes"]) == {
        "TOXICITY",
        "INSULT",
        "IDENTITY_ATTACK",
        "THREAT",
        "PROFANITY",
    }


def test_a_hosted_scorer_that_hangs_never_delays_beyond_the_budget(service):
    url, handler = service
    handler.mode = "hang"
    local_scorer().score([INSULT])  # loaded before the clock starts, as in a running server
    scorer = HostedScorer(url, "", 400, local_scorer())
    started = time.monotonic()
    [result] = scorer.score([INSULT])
    assert time.monotonic() - started < 0.4 + 0.3
    assert result.source == "local"
    assert result.scores["toxicity"] >= 0.5
    assert "hosted scorer failed" in result.reasons[0]


def test_a_hosted_scorer_that_fails_falls_back_to_the_local_one(service):
    url, handler = service
    handler.mode = "fail"
    [result] = HostedScorer(url, "", 2000, local_scorer()).score([BENIGN])
    assert result.source == "local"
    assert "500" in result.reasons[0]
    assert result.risk < 0.5


@pytest.mark.django_db
def test_a_site_with_a_hosted_scorer_gets_it(service):
    url, _handler = service
    policy = Policy.objects.create(site=SiteFactory.create(), hosted_scorer_url=url)
    [result] = scorer_for(policy).score([BENIGN])
    assert result.source == "hosted"
