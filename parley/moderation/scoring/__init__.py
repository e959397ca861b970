"""The scorer: text in, scores per category out, offline.

Everything outside this package talks to it through `Score` and `scorer_for`; the local model
(multilingual sentence embeddings + a small trained head + a bundled profanity model) lives in
`local.py`, the optional hosted Perspective-compatible service in `hosted.py`.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from parley.moderation.models import Policy

CATEGORIES = ("toxicity", "insult", "identity_attack", "threat", "profanity", "spam")


@dataclass(frozen=True)
class Score:
    scores: dict[str, float]  # every name in CATEGORIES, each 0 to 1
    lang: str  # ISO 639-1 code as detected (or as given), "" when unknown
    reasons: list[str] = field(default_factory=list)  # readable by a moderator
    source: str = "local"  # "local" or "hosted"

    @property
    def risk(self) -> float:
        """How urgently a moderator should look: the highest abuse score (spam is filed
        separately, by its own threshold)."""
        return max(v for k, v in self.scores.items() if k != "spam")


class Scorer(Protocol):
    def score(self, texts: list[str], langs: list[str | None] | None = None) -> list[Score]: ...


def scorer_for(policy: "Policy") -> Scorer:
    """The site's scorer: the local one (with the site's own head once it has one), or a
    hosted one that falls back to it."""
    from parley.moderation.models import SiteHead

    from .local import local_scorer, site_scorer

    scorer: Scorer = local_scorer()
    trained_at = (
        SiteHead.objects.filter(site_id=policy.site_id).values_list("trained_at", flat=True).first()
    )
    if trained_at is not None:
        scorer = site_scorer(
            policy.site_id,
            trained_at,
            lambda: SiteHead.objects.values_list("weights", flat=True).get(site_id=policy.site_id),
        )
    if policy.hosted_scorer_url:
        from .hosted import HostedScorer

        scorer = HostedScorer(
            policy.hosted_scorer_url, policy.hosted_scorer_key, policy.scorer_budget_ms, scorer
        )
    return scorer
