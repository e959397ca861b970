"""Per-site rules run before the scorer: the banned phrases, limits and blocks a site's
moderators set in its `Policy`, and the signs of bots and copy-paste campaigns.

Every hit carries a reason a moderator reads in the queue, with its evidence. The raw network
address is never part of a reason: reasons are stored, addresses are not.
"""

import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .obfuscation import Match, PhraseMatcher, normalise

if TYPE_CHECKING:
    from .gate import Submission
    from .models import Policy


@dataclass(frozen=True)
class RuleHit:
    action: Literal["hold", "spam"]
    reason: str  # readable by a moderator, e.g. 'banned phrase “idiot” written as “1d!0t”'


DUPLICATE_WINDOW = timedelta(hours=24)  # the same author posting the same text again
CAMPAIGN_WINDOW = timedelta(hours=1)  # anyone posting the same text again…
CAMPAIGN_COPIES = 3  # …this many times already
# Earlier copies of a new comment compared with it, newest first.
RECENT_COMMENTS = 500
_EVIDENCE_CHARS = 60


def check_rules(policy: "Policy", submission: "Submission") -> list[RuleHit]:
    """The site's rules that `submission` breaks; none when it breaks none."""
    body = submission.body
    hits = [
        *_banned_phrases(policy, body),
        *_too_many_links(policy, body),
        *_too_many_mentions(policy, body),
        *_blocked_email_domain(policy, submission.author_email),
        *_blocked_network(policy, submission.ip),
    ]
    # An edit was a new comment once and passed these then; the form is not shown again.
    if submission.comment_id is None:
        hits += [
            *_honeypot(submission.honeypot),
            *_sent_too_fast(policy, submission.form_token),
            *_duplicate(submission),
            *_flood(policy, submission),
        ]
    return hits


def _evidence(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EVIDENCE_CHARS else text[: _EVIDENCE_CHARS - 1] + "…"


# --- banned phrases ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _site_matcher(banned_phrases: str) -> PhraseMatcher:
    """Compiled once per distinct list, so a site pays for its list only when it changes."""
    return PhraseMatcher(line for line in banned_phrases.splitlines() if line.strip())


def _banned_phrases(policy: "Policy", body: str) -> list[RuleHit]:
    if not policy.banned_phrases.strip():
        return []
    first: dict[str, Match] = {}
    for match in _site_matcher(policy.banned_phrases).find(body):
        first.setdefault(match.phrase, match)
    return [RuleHit("hold", _banned_reason(match)) for match in first.values()]


def _banned_reason(match: Match) -> str:
    written = _evidence(match.as_written)
    if written.casefold() == match.phrase.casefold():
        return _("banned phrase “%(phrase)s”") % {"phrase": match.phrase}
    return _("banned phrase “%(phrase)s” written as “%(written)s”") % {
        "phrase": match.phrase,
        "written": written,
    }


# --- links and mentions -----------------------------------------------------------------------

_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
# Top-level domains that bare domains ("cheap-pills.example") are counted with: the common
# generic ones, those spammers favour, every two-letter country code, and RFC 2606's
# reserved names. Words run together over a full stop ("end.Then") are not domains.
_TLDS = (
    "com|net|org|info|biz|name|pro|mobi|app|dev|io|ai|co|me|tv|cc|ws|xyz|online|site|website|"
    "shop|store|top|club|live|life|news|blog|email|link|click|win|bid|vip|work|cloud|tech|"
    "space|fun|icu|buzz|today|world|agency|media|digital|money|loan|loans|casino|bet|poker|"
    "porn|sex|xxx|dating|example|test|invalid|[a-z]{2}"
)
_DOMAIN = re.compile(
    rf"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w@./])@\w(?:[\w.-]*\w)?")


def links_in(text: str) -> list[str]:
    """URLs and bare domain names, each once per time it is written."""
    urls = [url.rstrip(".,;:!?") for url in _URL.findall(text)]
    rest = _URL.sub(" ", text)
    return urls + _DOMAIN.findall(rest)


def _too_many_links(policy: "Policy", body: str) -> list[RuleHit]:
    links = links_in(body)
    if len(links) <= policy.max_links:
        return []
    reason = ngettext(
        "%(count)d link, more than the %(limit)d allowed: %(links)s",
        "%(count)d links, more than the %(limit)d allowed: %(links)s",
        len(links),
    ) % {"count": len(links), "limit": policy.max_links, "links": _listing(links)}
    return [RuleHit("hold", reason)]


def _too_many_mentions(policy: "Policy", body: str) -> list[RuleHit]:
    mentions = _MENTION.findall(_URL.sub(" ", body))
    if len(mentions) <= policy.max_mentions:
        return []
    reason = ngettext(
        "%(count)d @mention, more than the %(limit)d allowed: %(mentions)s",
        "%(count)d @mentions, more than the %(limit)d allowed: %(mentions)s",
        len(mentions),
    ) % {"count": len(mentions), "limit": policy.max_mentions, "mentions": _listing(mentions)}
    return [RuleHit("hold", reason)]


def _listing(items: list[str]) -> str:
    shown = ", ".join(_evidence(item) for item in items[:3])
    return shown + (", …" if len(items) > 3 else "")


# --- blocked e-mail domains and networks ------------------------------------------------------


def _blocked_email_domain(policy: "Policy", email: str) -> list[RuleHit]:
    if "@" not in email or not policy.blocked_email_domains.strip():
        return []
    domain = email.strip().rsplit("@", 1)[1].rstrip(".").casefold()
    for line in policy.blocked_email_domains.splitlines():
        # Written as "spam.example", "@spam.example" or "*.spam.example": the same block.
        blocked = line.strip().lstrip("@*.").rstrip(".").casefold()
        if blocked and (domain == blocked or domain.endswith("." + blocked)):
            return [
                RuleHit(
                    "spam",
                    _("e-mail address at the blocked domain “%(domain)s”") % {"domain": blocked},
                )
            ]
    return []


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=256)
def _networks(blocked_networks: str) -> tuple[IPNetwork, ...]:
    """The networks of a policy; lines that are no address or network are skipped (the
    policy form reports them)."""
    networks = []
    for line in blocked_networks.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _blocked_network(policy: "Policy", ip: str) -> list[RuleHit]:
    if not ip or not policy.blocked_networks.strip():
        return []
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return []
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # an IPv4 client seen through a dual-stack socket
    for network in _networks(policy.blocked_networks):
        if address.version == network.version and address in network:
            shown = (
                str(network.network_address)
                if network.prefixlen == network.max_prefixlen
                else str(network)
            )
            return [
                RuleHit("hold", _("sent from the blocked network %(network)s") % {"network": shown})
            ]
    return []


# --- bots -------------------------------------------------------------------------------------


def _honeypot(value: str) -> list[RuleHit]:
    if not value:
        return []
    reason = _("the field hidden from people was filled in (“%(value)s”)") % {
        "value": _evidence(value)
    }
    return [RuleHit("spam", reason)]


def _sent_too_fast(policy: "Policy", form_token: str) -> list[RuleHit]:
    from .gate import form_age_seconds  # gate imports this module

    age = form_age_seconds(form_token)
    if age is None or age >= policy.min_submit_seconds:
        return []
    reason = _("sent %(seconds)s s after the form was shown (at least %(minimum)d s expected)") % {
        "seconds": formats.number_format(max(age, 0.0), 1),
        "minimum": policy.min_submit_seconds,
    }
    return [RuleHit("hold", reason)]


# --- duplicates and floods --------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def _reading(body: str) -> str:
    """Recent comments are compared with every new one: each is read once per process."""
    return normalise(body)


def reading_digest(body: str) -> str:
    """What finds earlier copies of `body` (see Assessment.reading); empty for a text that
    reads as nothing."""
    reading = _reading(body)
    return hashlib.blake2b(reading.encode(), digest_size=8).hexdigest() if reading else ""


def _duplicate(submission: "Submission") -> list[RuleHit]:
    """The same text (as read by `normalise`) posted again on this site: by the same reader,
    network address or e-mail address within a day, or by anyone often within the hour."""
    from parley.comments.models import Comment

    from .models import Assessment

    reading = _reading(submission.body)
    if not reading:
        return []
    now = timezone.now()
    same_author = Q(comment__reader_key=submission.reader_key)
    if submission.ip_hash:
        same_author |= Q(comment__ip_hash=submission.ip_hash)
    email = submission.author_email.strip()
    if email:
        same_author |= Q(comment__author_email__iexact=email)
    recent = (
        Assessment.objects.filter(
            reading=reading_digest(submission.body),
            comment__thread__site=submission.site,
            comment__created_at__gte=now - DUPLICATE_WINDOW,
        )
        .filter(same_author | Q(comment__created_at__gte=now - CAMPAIGN_WINDOW))
        # Taken back by its author or a moderator.
        .exclude(comment__status=Comment.Status.DELETED)
        .order_by("-comment__created_at")
        .values_list(
            "comment__body",
            "comment__reader_key",
            "comment__ip_hash",
            "comment__author_email",
            "comment__created_at",
        )
    )[:RECENT_COMMENTS]
    hour_ago = now - CAMPAIGN_WINDOW
    copies = 0
    for body, reader_key, ip_hash, author_email, created_at in recent:
        if _reading(body) != reading:
            continue
        if reader_key == submission.reader_key:
            reason = _("the same reader posted this text here %(ago)s ago (“%(text)s”)")
        elif submission.ip_hash and ip_hash == submission.ip_hash:
            reason = _(
                "this text was posted here from the same network address %(ago)s ago (“%(text)s”)"
            )
        elif email and author_email.casefold() == email.casefold():
            reason = _(
                "this text was posted here with the same e-mail address %(ago)s ago (“%(text)s”)"
            )
        else:
            copies += created_at >= hour_ago
            continue
        evidence = {"ago": timesince(created_at, now), "text": _evidence(body)}
        return [RuleHit("spam", reason % evidence)]
    if copies < CAMPAIGN_COPIES:
        return []
    reason = ngettext(
        "copy-paste campaign: this text was posted here %(count)d time in the last hour "
        "(“%(text)s”)",
        "copy-paste campaign: this text was posted here %(count)d times in the last hour "
        "(“%(text)s”)",
        copies,
    ) % {"count": copies, "text": _evidence(submission.body)}
    return [RuleHit("spam", reason)]


def _flood(policy: "Policy", submission: "Submission") -> list[RuleHit]:
    """More comments than the site allows from one reader or network address in its window."""
    from parley.comments.models import Comment

    author = Q(reader_key=submission.reader_key)
    if submission.ip_hash:
        author |= Q(ip_hash=submission.ip_hash)
    since = timezone.now() - timedelta(seconds=policy.flood_window_seconds)
    earlier = Comment.objects.filter(
        author, thread__site=submission.site, created_at__gte=since
    ).count()
    if earlier < policy.flood_comments:
        return []
    window = ngettext("%(seconds)d second", "%(seconds)d seconds", policy.flood_window_seconds) % {
        "seconds": policy.flood_window_seconds
    }
    reason = ngettext(
        "flood: %(count)d comment from the same reader or network address within %(window)s "
        "(%(limit)d allowed)",
        "flood: %(count)d comments from the same reader or network address within %(window)s "
        "(%(limit)d allowed)",
        earlier + 1,
    ) % {"count": earlier + 1, "window": window, "limit": policy.flood_comments}
    return [RuleHit("hold", reason)]
