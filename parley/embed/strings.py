"""The widget's own words in the reader's language, sent inside the thread fragment.

/embed.js carries English only (`STRINGS.en` in widget.js): four more languages would cost
every reader bytes for one. Instead each thread fragment, rendered in its language and
cached per language anyway, ends with these strings as JSON in
`<script type="application/json" class="parley-strings">`: no extra request, nothing on
show (nor run) on Parley's own pages. The widget lays them over `STRINGS.en`; what it needs
before the first fragment arrives (the loading and network-error texts) stays English.

Keys are the widget's. Messages are written with `%(name)s`, as everywhere in Parley, and
reach the widget with its `{name}` placeholders in their place.

Plurals: the widget picks a form with `Intl.PluralRules` (categories zero, one, two, few,
many, other), as it always has. So for each category the language has, the server sends
the gettext form of a number in that category, with `{n}` where the number goes:
e.g. Russian `{"one": "{n} комментарий", "few": "{n} комментария", "many": …}`. No
plural formula travels and the widget needs no code for it.
"""

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _

WIDGET_STRINGS = {
    "loading": _("Loading comments…"),
    "retry": _("Try again"),
    "offline": _("Comments could not be reached. Check your connection and try again."),
    "failed": _("Something went wrong. Please try again."),
    "placeholder": _("Would love your thoughts, please comment"),
    "comment": _("Comment"),
    "replyTo": _("Reply to %(name)s"),
    "markdown": _("Markdown: **bold**, _italic_, [link](https://…), > quote"),
    "name": _("Name"),
    "email": _("E-mail"),
    "emailHint": _("optional, never shown"),
    "website": _("Website"),
    "optional": _("optional"),
    "required": _("This field is required."),
    "post": _("Post comment"),
    "postReply": _("Post reply"),
    "cancel": _("Cancel"),
    "reply": _("Reply"),
    "up": _("Vote up"),
    "down": _("Vote down"),
    "votes": _("%(up)s up, %(down)s down"),
    "voted": _("Score %(score)s"),
    "report": _("Report"),
    "reportWhy": _("Why are you reporting this comment?"),
    "spam": _("Spam or advertising"),
    "insult": _("Insult or harassment"),
    "hate": _("Hate against a group"),
    "threat": _("Threat of violence"),
    "illegal": _("Illegal content"),
    "off_topic": _("Off topic"),
    "other": _("Something else"),
    "chooseReason": _("Choose a reason."),
    "note": _("Note"),
    "why": _("Why is this content illegal?"),
    "notice": _(
        "A notice of illegal content under the EU Digital Services Act: the moderators need "
        "your name, your e-mail and your statement."
    ),
    "yourName": _("Your name"),
    "yourEmail": _("Your e-mail"),
    "goodFaith": _(
        "I confirm in good faith that the information in this notice is accurate and complete"
    ),
    "sendReport": _("Send report"),
    "reported": _("Thank you. A moderator will look at this comment."),
    "edit": _("Edit"),
    "editLabel": _("Edit your comment"),
    "save": _("Save"),
    "del": _("Delete"),
    "delAsk": _("Delete this comment?"),
    "delYes": _("Yes, delete"),
    "posted": _("Comment posted"),
    "pending": _("Awaiting moderation"),
    "leaveEmpty": _("Leave this field empty"),
    "pendingSaid": _("Thank you. Your comment will appear once a moderator has approved it."),
    "saved": _("Comment saved"),
    "deleted": _("Comment deleted"),
    "deletedText": _("This comment was deleted."),
    "edited": _("edited"),
    "inReplyTo": _("in reply to %(name)s"),
    "notify": _("Notify of"),
    "notifyThread": _("new follow-up comments"),
    "notifyReplies": _("new replies to my comments"),
    "subscribe": _("Subscribe"),
    "delivery": _("Send e-mail"),
    "instant": _("at once"),
    "daily": _("in a daily digest"),
    "follow": _("Follow replies"),
    "signIn": _("Sign in"),
    "sendLink": _("E-mail me a link"),
    "signedIn": _("Signed in as %(name)s"),
    "signOut": _("Sign out"),
    "close": _("Close"),
    "commentOn": _("Comment on this"),
    "unquote": _("Remove quote"),
    "quoted": _("Passage quoted in your comment"),
    "loadedMore": _("More comments loaded"),
    # The thread's heading says the same: one translation for both.
    "count": ngettext_lazy("%(counter)s comment", "%(counter)s comments", "counter"),
    "viewReplies": ngettext_lazy("View %(n)s reply", "View %(n)s replies", "n"),
    "fresh": ngettext_lazy("%(n)s new comment", "%(n)s new comments", "n"),
}
PLURALS = {"count": "counter", "viewReplies": "n", "fresh": "n"}

# A number in each of the language's Intl.PluralRules (CLDR) categories for integers;
# "other" always, as the widget falls back to it (Russian uses it for fractions only).
PLURAL_SAMPLES: dict[str, dict[str, int]] = {
    "en": {"one": 1, "other": 2},
    "de": {"one": 1, "other": 2},
    "es": {"one": 1, "many": 1_000_000, "other": 2},
    "ru": {"one": 1, "few": 2, "many": 5, "other": 5},
    "ar": {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100},
}


class _Number(int):
    """A number that picks a plural form and prints as the widget's `{n}`."""

    def __str__(self) -> str:
        return "{n}"


class _Placeholders(dict[str, Any]):
    """Every `%(name)s` becomes the widget's `{name}`."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def widget_strings() -> dict[str, str | dict[str, str]]:
    """WIDGET_STRINGS in the active language, as the widget's STRINGS table has them."""
    samples = PLURAL_SAMPLES.get((get_language() or "en").split("-")[0], PLURAL_SAMPLES["en"])
    strings: dict[str, str | dict[str, str]] = {}
    for key, message in WIDGET_STRINGS.items():
        if key in PLURALS:
            strings[key] = {
                category: message % _Placeholders({PLURALS[key]: _Number(n)})
                for category, n in samples.items()
            }
        else:
            strings[key] = message % _Placeholders()
    return strings


# What json_script escapes: the JSON cannot end the <script> element, nor start a comment.
_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def widget_strings_script() -> SafeString:
    """The strings as the thread fragment carries them; JSON a browser never shows."""
    data = json.dumps(widget_strings(), ensure_ascii=False, separators=(",", ":"))
    return format_html(
        '<script type="application/json" class="parley-strings">{}</script>',
        mark_safe(data.translate(_ESCAPES)),  # noqa: S308 - escaped for a script element
    )
