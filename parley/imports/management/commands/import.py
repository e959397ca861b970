"""`parley import disqus|wxr|wpdiscuz|isso|parley SOURCE --site NAME [--map-url RULE]…
[--dry-run]`: bring a site's comments over from another system, and prove nothing was lost."""

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from parley.imports import report
from parley.imports.export import SITE_SETTINGS
from parley.imports.load import Loader, counted
from parley.imports.media import copy_media
from parley.imports.progress import Progress
from parley.imports.readers import FORMATS, reader_for
from parley.imports.records import Meter, Options, SourceError
from parley.imports.staging import Staging
from parley.imports.urlmap import RuleError, build
from parley.imports.urlmap import __doc__ as RULES_HELP
from parley.moderation.models import Policy
from parley.sites.models import Site


class Command(BaseCommand):
    help = (
        "Import comments from Disqus (XML export), WordPress (WXR), wpDiscuz (a MySQL/MariaDB "
        "URL or a mysqldump file), Isso (its SQLite file) or Parley's own export, then print "
        "a verification report. Running it again adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=FORMATS)
        parser.add_argument(
            "source", help="the export file, database file, or mysql://user@host/db URL"
        )
        parser.add_argument("--site", required=True, help="the Parley site to import into")
        parser.add_argument(
            "--map-url",
            action="append",
            default=[],
            metavar="RULE",
            help="old address → new: OLD=>NEW, ?p=123=>/permalink/, re:PATTERN=>NEW, "
            "slash:add, slash:strip, @FILE (see docs/imports.md)",
        )
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
        parser.add_argument(
            "--articles",
            action="store_true",
            help="WXR: make Parley articles of the WordPress posts and pages",
        )
        parser.add_argument(
            "--table-prefix", default="wp_", help="wpDiscuz: WordPress's table prefix"
        )
        parser.add_argument(
            "--copy-media",
            action="store_true",
            help="copy pictures in imported comments that their hosts still serve into "
            "Parley's storage",
        )
        parser.add_argument(
            "--report",
            metavar="FILE",
            help="where to write the JSON report (default: imports/ in the data dir)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fmt, source, site_name = options["format"], options["source"], options["site"]
        try:
            urlmap = build(options["map_url"])
        except RuleError as error:
            raise CommandError(f"--map-url {error}\n\n{RULES_HELP}", returncode=2) from None
        site = Site.objects.filter(name=site_name).first()
        if site is None and fmt != "parley":
            raise CommandError(
                f"There is no site named {site_name!r}. Add it first: "
                f"parley site add {site_name} --domain news.example",
                returncode=2,
            )
        workdir = settings.DATA_DIR / "imports"
        workdir.mkdir(exist_ok=True)
        progress = Progress(getattr(self.stderr, "_out", sys.stderr))
        descriptor, staging_path = tempfile.mkstemp(
            dir=workdir, prefix="staging-", suffix=".sqlite3"
        )
        os.close(descriptor)
        staging = Staging(Path(staging_path))
        try:
            self._stage(staging, fmt, source, options, progress)
            if site is None:
                site = self._site_from_export(staging, site_name, dry_run=options["dry_run"])
            loader = Loader(
                staging,
                site,
                fmt,
                urlmap,
                dry_run=options["dry_run"],
                articles=options["articles"] or fmt == "parley",
                on_progress=lambda done, total: progress.show(
                    done, total, "comments", done, "comments"
                ),
            )
            progress.begin("Writing")
            try:
                outcome = loader.run()
            except KeyboardInterrupt:
                progress.end()
                raise CommandError(
                    "Stopped. Whole threads written so far stay; run the same command again "
                    "to finish: it adds only what is missing.",
                    returncode=130,
                ) from None
            progress.end()
            if options["copy_media"] and not options["dry_run"]:
                tally = copy_media(site)
                outcome.media = {
                    "linked": tally.found,
                    "copied": tally.copied,
                    "copied_before": tally.already,
                    "not_copied": [{"url": url, "why": why} for url, why in tally.failed],
                }
            unused = [rule.text for rule in urlmap.rules if not rule.hits]
            self._report(outcome, staging, fmt, source, site, options, unused)
        finally:
            staging.close()

    def _stage(
        self, staging: Staging, fmt: str, source: str, options: dict[str, Any], progress: Progress
    ) -> None:
        progress.begin("Reading")
        meter = Meter(
            lambda m: progress.show(m.done, m.total, m.unit, staging.counts.comments, "comments")
        )
        reader = reader_for(fmt)
        try:
            for record in reader(
                source,
                meter,
                Options(articles=options["articles"], table_prefix=options["table_prefix"]),
            ):
                staging.add(record)
            staging.finish()
        except SourceError as error:
            progress.end()
            where = "" if source in str(error) or Path(source).name in str(error) else f"{source}: "
            raise CommandError(
                f"The {fmt} import stopped: {where}{error}\nNothing was written.", returncode=2
            ) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
            progress.end()
            raise CommandError(
                f"Cannot open {source}: {error.strerror}. Nothing was written.", returncode=2
            ) from None
        except KeyboardInterrupt:
            progress.end()
            raise CommandError(
                "Stopped while reading. Nothing was written.", returncode=130
            ) from None
        progress.end()

    def _site_from_export(self, staging: Staging, name: str, *, dry_run: bool) -> Site:
        settings_of = staging.site() or {}
        fields = {key: settings_of[key] for key in SITE_SETTINGS if key in settings_of}
        site = Site(name=name, **fields)
        if dry_run:
            return site
        with transaction.atomic():
            site.full_clean()
            site.save()
            if settings_of.get("moderation_policy"):
                Policy.objects.update_or_create(
                    site=site, defaults=settings_of["moderation_policy"]
                )
            # Moderators are this install's staff: those with the same addresses moderate the
            # new site; nobody is made staff by an import file.
            emails = settings_of.get("moderators", [])
            staff = User.objects.filter(email__in=emails, is_staff=True)
            site.moderators.set(staff)
        self.stdout.write(f"Created site {name!r} from the export's settings.")
        missing = sorted(set(emails) - {user.email for user in staff})
        if missing:
            self.stdout.write(
                "These moderators have no staff account here; add them in the admin: "
                + ", ".join(missing)
            )
        return site

    def _report(
        self,
        outcome: Any,
        staging: Staging,
        fmt: str,
        source: str,
        site: Site,
        options: dict[str, Any],
        unused_rules: list[str],
    ) -> None:
        skips, notes = staging.skips(), staging.notes()
        started = datetime.now(UTC)
        path = options["report"] or str(
            settings.DATA_DIR / "imports" / f"report-{site.name}-{fmt}-{started:%Y%m%d-%H%M%S}.json"
        )
        header = {"format": fmt, "source": source, "site": site.name, "at": started.isoformat()}
        Path(path).write_bytes(
            orjson.dumps(
                report.as_json(outcome, skips, notes, header, unused_rules),
                option=orjson.OPT_INDENT_2,
            )
        )
        self.stdout.write(
            report.as_text(
                outcome,
                skips,
                notes,
                title=f"Import of {fmt} {source} into site {site.name!r}",
                rules_given=bool(options["map_url"]),
                unused_rules=unused_rules,
                report_path=path,
            )
        )
        lost = report.lost_threads(outcome)
        if lost and not outcome.dry_run:
            raise CommandError(
                f"Comments of {counted(len(lost), 'thread')} did not arrive, with no reason "
                "given (see the report).",
                returncode=1,
            )
