"""Per-site rules run before the scorer. (Contract only; implementation in progress.)"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .gate import Submission
    from .models import Policy


@dataclass(frozen=True)
class RuleHit:
    action: Literal["hold", "spam"]
    reason: str  # readable by a moderator, e.g. 'banned phrase "idiot" (as "1d!0t")'


def check_rules(policy: "Policy", submission: "Submission") -> list[RuleHit]:
    return []
