"""The local scorer: everything on this machine, nothing from the network."""

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from django.utils.translation import gettext as _

from . import CATEGORIES, Score, features
from .head import Columns, Head

# A listed profane word is reason enough for a moderator's look, whatever the model thinks.
LEXICON_FLOOR = 0.6
# Below this risk a comment needs no explanation beyond its language.
EXPLAIN_FROM = 0.3
PASSAGE_CHARS = 120
SPAM = CATEGORIES.index("spam")
PROFANITY = CATEGORIES.index("profanity")
TOXICITY = CATEGORIES.index("toxicity")


class LocalScorer:
    def __init__(self, head: Head) -> None:
        self.head = head

    def score(self, texts: list[str], langs: list[str | None] | None = None) -> list[Score]:
        if not texts:
            return []
        given = list(langs) if langs else [None] * len(texts)
        detected = [
            lang or features.detect_lang(text) for text, lang in zip(texts, given, strict=True)
        ]
        cols = self.head.columns(texts, detected)
        probs, worst = self.head.with_sentences(
            self.head.probabilities(cols), texts, detected, features.embedder().embed
        )
        out = []
        for i, text in enumerate(texts):
            p = probs[i].copy()
            if cols.matches[i]:
                p[PROFANITY] = max(p[PROFANITY], LEXICON_FLOOR)
            scores = {name: round(float(p[c]), 4) for c, name in enumerate(CATEGORIES)}
            reasons = self._reasons(text, i, scores, cols, detected[i], worst[i])
            out.append(Score(scores, detected[i], reasons, "local"))
        return out

    def _reasons(
        self,
        text: str,
        i: int,
        scores: dict[str, float],
        cols: Columns,
        lang: str,
        passage: str,
    ) -> list[str]:
        reasons = []
        for match in cols.matches[i][:3]:
            written, phrase = str(match.as_written), str(match.phrase)
            if written.lower() == phrase.lower():
                reasons.append(_("profanity: “%(word)s”") % {"word": written})
            else:
                reasons.append(
                    _("profanity: “%(written)s” (%(word)s)") % {"written": written, "word": phrase}
                )
        abuse = {k: v for k, v in scores.items() if k != "spam"}
        top = max(abuse, key=lambda k: abuse[k])
        if abuse[top] >= EXPLAIN_FROM:
            reasons.append(
                _("highest: %(category)s %(percent)d%%")
                % {"category": category_label(top), "percent": round(abuse[top] * 100)}
            )
            reasons.append(_("weighed most: “%(passage)s”") % {"passage": shorten(passage)})
        if scores["spam"] >= EXPLAIN_FROM:
            links, money = features.link_count(text), features.money_count(text)
            reasons.append(_("spam %(percent)d%%") % {"percent": round(scores["spam"] * 100)})
            if links:
                reasons.append(_("links: %(count)d") % {"count": links})
            if money:
                reasons.append(_("money or offer words: %(count)d") % {"count": money})
        reasons.append(_("language: %(lang)s") % {"lang": lang or "?"})
        return reasons


def category_label(name: str) -> str:
    return {
        "toxicity": _("toxicity"),
        "insult": _("insult"),
        "identity_attack": _("identity attack"),
        "threat": _("threat"),
        "profanity": _("profanity"),
        "spam": _("spam"),
    }[name]


def shorten(passage: str, limit: int = PASSAGE_CHARS) -> str:
    passage = " ".join(passage.split())
    if len(passage) <= limit:
        return passage
    return passage[: limit - 1].rsplit(" ", 1)[0] + "…"


_lock = threading.Lock()
_shipped: LocalScorer | None = None
_sites: "OrderedDict[tuple[int, datetime], LocalScorer]" = OrderedDict()
SITE_HEADS_KEPT = 32


def local_scorer() -> LocalScorer:
    """The process's scorer with the shipped head, loaded on first use."""
    global _shipped
    with _lock:
        if _shipped is None:
            _shipped = LocalScorer(Head.shipped())
        return _shipped


def site_scorer(
    site_id: int, trained_at: datetime, weights: Callable[[], "bytes | memoryview"]
) -> LocalScorer:
    """A scorer with a site's own head (weights read only when not cached); the e5 model is
    shared with every other scorer."""
    key = (site_id, trained_at)
    with _lock:
        if key in _sites:
            _sites.move_to_end(key)
            return _sites[key]
    scorer = LocalScorer(Head.from_bytes(bytes(weights())))
    with _lock:
        _sites[key] = scorer
        while len(_sites) > SITE_HEADS_KEPT:
            _sites.popitem(last=False)
    return scorer
