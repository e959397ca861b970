"""`parley moderation score [--site NAME]` and `parley moderation retrain --site NAME`."""

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from parley.moderation.scoring import CATEGORIES, Scorer

MAX_LINE_BYTES = 1_000_000
MAX_TEXT_CHARS = 100_000
BATCH = 32
MIN_LABELS = 20


class Command(BaseCommand):
    help = (
        "Score comments offline (`score`: JSON lines on stdin, one JSON line per input on "
        "stdout) or refit a site's scorer head from its moderators' decisions (`retrain`)."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        score = sub.add_parser("score", help="JSON lines {text, lang?} in, scores out")
        score.add_argument("--site", help="use this site's own head (needs the database)")
        retrain = sub.add_parser("retrain", help="refit a site's head from its labels")
        retrain.add_argument("--site", required=True)
        retrain.add_argument(
            "--force", action="store_true", help="store the new head even if it scores worse"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "score":
            self.score(options.get("site"))
        else:
            self.retrain(options["site"], force=options.get("force", False))

    # ------------------------------------------------------------------ score

    def score(self, site_name: str | None) -> None:
        scorer = self.scorer(site_name)
        out = sys.stdout
        started, scored, failed = time.monotonic(), 0, 0
        pending: list[dict[str, Any]] = []  # in input order: {"error"} or {"text", "lang"}

        def flush() -> None:
            nonlocal scored, failed
            todo = [p for p in pending if "text" in p]
            if todo:
                results = scorer.score([p["text"] for p in todo], [p["lang"] for p in todo])
                for p, result in zip(todo, results, strict=True):
                    p["result"] = {
                        "scores": {k: result.scores[k] for k in CATEGORIES},
                        "lang": result.lang,
                        "reasons": result.reasons,
                    }
            for p in pending:
                answer = p.get("result") or {"error": p["error"]}
                out.write(json.dumps(answer, ensure_ascii=False) + "\n")
            out.flush()
            scored += len(todo)
            failed += len(pending) - len(todo)
            pending.clear()

        for line, more_ready in read_lines(sys.stdin.buffer):
            pending.append(parse_line(line))
            if len(pending) >= BATCH or not more_ready:
                flush()
        flush()
        self.stderr.write(
            f"scored {scored} lines, {failed} errors, in {time.monotonic() - started:.1f} s"
        )

    def scorer(self, site_name: str | None) -> Scorer:
        from parley.moderation.scoring.local import local_scorer, site_scorer

        if not site_name:
            return local_scorer()
        from parley.moderation.models import SiteHead

        site = self.site(site_name)
        head = SiteHead.objects.filter(site=site).first()
        if head is None:
            self.stderr.write(f"site {site.name} has no head of its own: using the shipped one")
            return local_scorer()
        return site_scorer(site.pk, head.trained_at, lambda: bytes(head.weights))

    def site(self, name: str) -> Any:
        from parley.sites.models import Site

        site = Site.objects.filter(name=name).first()
        if site is None:
            raise CommandError(f"no site named {name!r}")
        return site

    # ------------------------------------------------------------------ retrain

    def retrain(self, site_name: str, *, force: bool = False) -> None:
        from parley.moderation.models import Label, SiteHead
        from parley.moderation.scoring import train
        from parley.moderation.scoring.head import Head

        site = self.site(site_name)
        labels = list(Label.objects.filter(site=site).order_by("pk"))
        if len(labels) < MIN_LABELS:
            raise CommandError(
                f"site {site.name} has {len(labels)} moderator decisions; retraining needs at "
                f"least {MIN_LABELS} (approve, reject or mark as spam more comments first)",
                returncode=1,
            )
        shipped = Head.shipped()
        current = SiteHead.objects.filter(site=site).first()
        before = Head.from_bytes(bytes(current.weights)) if current else shipped

        examples = train.load_labelled(split="train")
        heldout_examples = train.load_labelled(split="heldout")
        if not examples:
            self.stderr.write("the labelled train split is not installed: fitting on labels only")
        for label in labels:
            examples.append(
                train.Example(
                    label.text,
                    label.lang or "",
                    {
                        "toxicity": int(label.verdict == Label.Verdict.ABUSIVE),
                        "spam": int(label.verdict == Label.Verdict.SPAM),
                    },
                    "site",
                    weight=train.LABELLED_WEIGHT,
                    id=f"label-{label.pk}",
                )
            )
        self.stderr.write(
            f"embedding {len(examples)} examples ({len(labels)} from {site.name}) and the "
            "held-out split: a few minutes on two cores"
        )
        data = train.prepare(examples)
        after = train.refit_for_site(shipped, data, site.name)

        if heldout_examples:
            heldout = train.prepare(heldout_examples)
            was = train.toxicity_report(before, heldout)
            now = train.toxicity_report(after, heldout)
            self.print_comparison(was, now)
            # The site's labels may rightly move it off the general held-out split a little;
            # a fall this large means labels that contradict each other, or too few.
            if not force and (now.get("all") or 0) < (was.get("all") or 0) - MAX_AUC_LOSS:
                raise CommandError(
                    f"the new head scores the held-out split more than {MAX_AUC_LOSS} worse: "
                    "kept the current one (--force stores it anyway)",
                    returncode=1,
                )
        else:
            self.stdout.write("the held-out split is not installed: no before/after figures")
        SiteHead.objects.update_or_create(
            site=site,
            defaults={
                "weights": after.to_bytes(),
                "trained_at": timezone.now(),
                "examples": len(labels),
            },
        )
        self.stdout.write(f"stored the new head of {site.name} ({len(labels)} labels)")

    def print_comparison(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.stdout.write("held-out toxicity ROC-AUC   before   after")
        for key in before:
            name = "all languages" if key == "all" else key
            self.stdout.write(f"  {name:<24} {fmt(before[key]):>7} {fmt(after.get(key)):>7}")


MAX_AUC_LOSS = 0.02


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def parse_line(raw: bytes | None) -> dict[str, Any]:
    """One input line → {"text", "lang"} to score, or {"error"} saying what is wrong."""
    if raw is None:
        return {"error": _("line longer than 1 MB")}
    try:
        item = json.loads(raw)
    except ValueError as error:  # also bad UTF-8
        return {"error": _("not valid JSON: %(error)s") % {"error": error}}
    if not isinstance(item, dict):
        return {"error": _('each line must be a JSON object with a "text" field')}
    text, lang = item.get("text"), item.get("lang")
    if not isinstance(text, str):
        return {"error": _('"text" is missing or not a string')}
    if not text.strip():
        return {"error": _('"text" is empty')}
    if len(text) > MAX_TEXT_CHARS:
        return {
            "error": _("text longer than %(limit)s characters") % {"limit": f"{MAX_TEXT_CHARS:,}"}
        }
    if lang is not None and not (isinstance(lang, str) and LANGUAGE_TAG.fullmatch(lang.strip())):
        return {"error": _('"lang" must be a language code, e.g. "de"')}
    return {"text": text, "lang": (lang or "").strip().lower() or None}


LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?")


def read_lines(stream: IO[bytes]) -> Iterator[tuple[bytes | None, bool]]:
    """Lines of at most MAX_LINE_BYTES (None for a longer one, which is skipped without
    holding it in memory), each with whether another whole line is already waiting: a
    caller that answers before blocking keeps an interactive pipe going."""
    fd = stream.fileno()
    buffer = b""
    too_long = False
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        buffer += chunk
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for index, line in enumerate(lines):
            more = index + 1 < len(lines)
            if too_long or len(line) > MAX_LINE_BYTES:
                too_long = False
                yield None, more
            else:
                yield line, more
        if len(buffer) > MAX_LINE_BYTES:
            too_long, buffer = True, b""
    if too_long:
        yield None, False
    elif buffer.strip():
        yield buffer, False
