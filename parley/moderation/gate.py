"""The one door from comments into moderation: plain data in, a Verdict out.

Issue #5 adds bans, rules and the offline scorer behind this same interface.
"""

from dataclasses import dataclass, field

from parley.sites.models import Site


@dataclass(frozen=True)
class Submission:
    site: Site
    reader_key: str
    body: str


@dataclass(frozen=True)
class Verdict:
    publish: bool
    reasons: list[str] = field(default_factory=list)


def screen(submission: Submission) -> Verdict:
    if submission.site.moderation == Site.Moderation.PRE:
        return Verdict(publish=False, reasons=["site holds every comment for review"])
    return Verdict(publish=True)
