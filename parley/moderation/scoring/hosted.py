"""A hosted, Perspective-compatible scorer that a site may choose to send its text to.

The local scorer always runs alongside: it answers for every text the service does not
answer within the budget (or answers with an error), and it supplies spam, which Perspective
does not score.
"""

import concurrent.futures
import json
import logging
import time
import urllib.parse
import urllib.request
from dataclasses import replace

from django.utils.translation import gettext as _

from . import Score, Scorer

log = logging.getLogger(__name__)

ATTRIBUTES = {
    "toxicity": "TOXICITY",
    "insult": "INSULT",
    "identity_attack": "IDENTITY_ATTACK",
    "threat": "THREAT",
    "profanity": "PROFANITY",
}
# The service gets this share of the budget; the rest is the local scorer's, so that a
# service that hangs still leaves an answer in time.
HOSTED_SHARE = 0.7
# Requests to a hung service finish in the background, a few at a time.
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="parley-hosted")


class HostedError(Exception):
    pass


class HostedScorer:
    def __init__(self, url: str, key: str, budget_ms: int, local: Scorer) -> None:
        self.url, self.key, self.local = url, key, local
        self.budget = max(budget_ms, 1) / 1000

    def score(self, texts: list[str], langs: list[str | None] | None = None) -> list[Score]:
        if not texts:
            return []
        deadline = time.monotonic() + self.budget * HOSTED_SHARE
        given = list(langs) if langs else [None] * len(texts)
        futures = [
            _pool.submit(self._ask, text, lang, deadline)
            for text, lang in zip(texts, given, strict=True)
        ]
        local = self.local.score(texts, langs)
        out = []
        for future, fallback in zip(futures, local, strict=True):
            try:
                hosted = future.result(timeout=max(deadline - time.monotonic(), 0.0))
            except concurrent.futures.TimeoutError:
                out.append(failed(fallback, _("it did not answer in time")))
                continue
            except (HostedError, OSError, ValueError) as error:
                log.warning("hosted scorer failed: %s", error)
                out.append(failed(fallback, str(error)))
                continue
            scores = {**fallback.scores, **hosted}
            reasons = [_("scored by the site's hosted scorer"), *fallback.reasons]
            out.append(Score(scores, fallback.lang, reasons, "hosted"))
        return out

    def _ask(self, text: str, lang: str | None, deadline: float) -> dict[str, float]:
        body: dict[str, object] = {
            "comment": {"text": text},
            "requestedAttributes": {name: {} for name in ATTRIBUTES.values()},
        }
        if lang:
            body["languages"] = [lang]
        url = self.url
        if self.key:
            sep = "&" if urllib.parse.urlsplit(url).query else "?"
            url = f"{url}{sep}key={urllib.parse.quote(self.key)}"
        request = urllib.request.Request(  # noqa: S310 - the site's own configured URL
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        timeout = max(deadline - time.monotonic(), 0.05)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read(1_000_000))
        try:
            found = answer["attributeScores"]
            return {
                ours: min(max(float(found[theirs]["summaryScore"]["value"]), 0.0), 1.0)
                for ours, theirs in ATTRIBUTES.items()
                if theirs in found
            }
        except (KeyError, TypeError, ValueError) as error:
            raise HostedError(f"unexpected answer: {error!r}") from error


def failed(fallback: Score, why: str) -> Score:
    reason = _("the hosted scorer failed (%(why)s); scored locally") % {"why": why}
    return replace(fallback, reasons=[reason, *fallback.reasons], source="local")
