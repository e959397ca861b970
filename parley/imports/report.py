"""The verification report an import ends with: what the source had, what Parley holds now,
per thread with checksums on both sides, and every item left out or changed with its reason."""

from dataclasses import asdict
from typing import Any

from .load import Outcome, ThreadVerdict, counted

# A thread table longer than this goes only to the JSON report; the text shows the problems.
SHOWN_THREADS = 100
SHOWN_ITEMS = 50


def lost_threads(outcome: Outcome) -> list[ThreadVerdict]:
    return [t for t in outcome.threads if t.state == "lost"]


def as_json(
    outcome: Outcome,
    skips: list[tuple[str, str, str, str]],
    notes: list[str],
    header: dict[str, Any],
    unused_rules: list[str],
) -> dict[str, Any]:
    return {
        **header,
        "rules_that_matched_nothing": unused_rules,
        "dry_run": outcome.dry_run,
        "totals": {
            name: asdict(getattr(outcome, name))
            for name in ("comments", "authors", "votes", "subscriptions", "quotes", "kept", "meta")
        }
        | {"articles": asdict(outcome.articles)},
        "links_to_gone_hosts": outcome.gone_links,
        "media": outcome.media,
        "threads": [
            asdict(t) | {"state": "dry run" if outcome.dry_run else t.state}
            for t in outcome.threads
        ],
        "skipped": [
            {"kind": kind, "key": key, "reason": reason, "where": where}
            for kind, key, reason, where in skips
        ],
        "notes": notes,
        "lost": [t.key for t in lost_threads(outcome)],
    }


def as_text(
    outcome: Outcome,
    skips: list[tuple[str, str, str, str]],
    notes: list[str],
    *,
    title: str,
    rules_given: bool,
    unused_rules: list[str],
    report_path: str,
) -> str:
    lines = [title, "=" * len(title), ""]
    now = "would add" if outcome.dry_run else "added now"
    lines.append(f"{'':<15}{'in source':>12}{'in Parley':>12}{now:>12}")
    labels = {"kept": "kept items", "meta": "comment meta"}
    for name in ("comments", "authors", "votes", "subscriptions", "quotes", "kept", "meta",
                 "articles"):  # fmt: skip
        tally = getattr(outcome, name)
        if name in ("meta", "articles") and not tally.source:
            continue
        label = labels.get(name, name)
        present = f"{tally.present:,}"
        added = "" if name == "authors" else f"{tally.added:,}"
        if outcome.dry_run and name == "comments":
            added = f"{tally.source - tally.present:,}"
        elif outcome.dry_run and name in ("authors", "votes", "quotes"):
            present = ""  # a dry run counts these only for what it would add
        lines.append(f"{label:<15}{tally.source:>12,}{present:>12}{added:>12}")
    lines.append("")
    threads = outcome.threads
    unmatched = [t for t in threads if not t.matched]
    lines.append(f"Threads: {len(threads):,}.")
    if rules_given and unmatched:
        lines.append(
            f"{counted(len(unmatched), 'thread')} matched no --map-url rule and "
            f"{'keeps its' if len(unmatched) == 1 else 'keep their'} path:"
        )
        lines += [f"  {t.key}: {t.uri}" for t in unmatched[:SHOWN_ITEMS]]
        if len(unmatched) > SHOWN_ITEMS:
            lines.append(f"  … and {len(unmatched) - SHOWN_ITEMS:,} more in the JSON report")
    elif not rules_given:
        lines.append(
            "No --map-url rules given: every thread keeps its address's path"
            + (" (with --articles, a post's thread is its article's page)." if
               outcome.articles.source else ".")
        )  # fmt: skip
    for rule in unused_rules:
        lines.append(
            f"The rule {rule!r} matched no thread: no thread has that address, or a rule "
            "before it matched first (the first that matches wins). Running the import "
            "again with the rules put right moves the threads."
        )
    if outcome.gone_links:
        lines.append(
            f"{counted(outcome.gone_links, 'link')} to hosts that no longer serve their files "
            "(Disqus's media CDN): kept, and marked for readers."
        )
    if outcome.media is not None:
        media, failed = outcome.media, outcome.media["not_copied"]
        lines.append(
            f"--copy-media: {counted(media['linked'], 'picture link')}; {media['copied']:,} "
            f"copied into Parley's storage now, {media['copied_before']:,} by an earlier run, "
            f"{len(failed):,} not copied (their links stay as they were):"
        )
        lines += [f"  {item['url']}: {item['why']}" for item in failed[:SHOWN_ITEMS]]
    if outcome.dry_run:
        lines += ["", "Per thread (where its comments would go):"]
        lines.append(f"  {'thread':<12} {'source':>7} {'would add':>9} page")
        for t in threads[:SHOWN_THREADS]:
            lines.append(f"  {t.key[:12]:<12} {t.source:>7,} {t.added:>9,} {t.uri}")
        if len(threads) > SHOWN_THREADS:
            lines.append(f"  … and {counted(len(threads) - SHOWN_THREADS, 'thread')} more "
                         "in the JSON report")  # fmt: skip
    else:
        shown = threads if len(threads) <= SHOWN_THREADS else [
            t for t in threads if t.state != "ok"
        ][:SHOWN_THREADS]  # fmt: skip
        if shown:
            lines += ["", "Per thread (checksums over author, time and text):"]
            lines.append(
                f"  {'thread':<12} {'source':>7} {'Parley':>7} {'source sum':<16} "
                f"{'Parley sum':<16} {'state':<11} page"
            )
            for t in shown:
                lines.append(
                    f"  {t.key[:12]:<12} {t.source:>7,} {t.present:>7,} "
                    f"{t.source_checksum:<16} {t.imported_checksum:<16} {t.state:<11} {t.uri}"
                )
        if len(threads) > SHOWN_THREADS and not shown:
            lines.append(f"All {len(threads):,} threads are ok; the JSON report lists them.")
        elif len(threads) > SHOWN_THREADS:
            lines.append(
                f"  the other {counted(len(threads) - len(shown), 'thread')} are ok: "
                "see the JSON report"
            )
    changes = [(t.key, change) for t in threads for change in t.changes]
    if changes:
        lines += ["", f"Changed on the way in ({len(changes):,}):"]
        lines += [f"  thread {key}, comment {change}" for key, change in changes[:SHOWN_ITEMS]]
        if len(changes) > SHOWN_ITEMS:
            lines.append(f"  … and {len(changes) - SHOWN_ITEMS:,} more in the JSON report")
    if skips:
        lines += ["", f"Left out, with the reason ({len(skips):,}):"]
        for kind, key, reason, where in skips[:SHOWN_ITEMS]:
            place = f"  [{where}]" if where else ""
            lines.append(f"  {kind} {key}: {reason}{place}")
        if len(skips) > SHOWN_ITEMS:
            lines.append(f"  … and {len(skips) - SHOWN_ITEMS:,} more in the JSON report")
    if notes:
        lines += ["", "Notes:"] + [f"  {note}" for note in notes[:SHOWN_ITEMS]]
        if len(notes) > SHOWN_ITEMS:
            lines.append(f"  … and {len(notes) - SHOWN_ITEMS:,} more in the JSON report")
    lines.append("")
    lost = lost_threads(outcome)
    if outcome.dry_run:
        lines.append("Dry run: nothing was written.")
    elif lost:
        lines.append(
            f"NOT EVERYTHING ARRIVED: {counted(len(lost), 'thread')} "
            f"{'differs' if len(lost) == 1 else 'differ'} from the source with no reason "
            "given: " + ", ".join(t.key for t in lost[:20])
        )
    else:
        edited = sum(1 for t in threads if t.state == "edited-here")
        since = f" ({edited:,} threads were changed in Parley since an earlier import.)"
        lines.append(
            "Nothing was lost: every comment of the source is in Parley or listed above with "
            "its reason." + (since if edited else "")
        )
    if report_path:
        lines.append(f"Full report: {report_path}")
    return "\n".join(lines) + "\n"
