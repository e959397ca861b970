"""`parley import isso` from end to end on the awkward database: nothing lost, the thread
reads as Isso showed it, and a second run changes nothing."""

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from parley.comments.models import Comment, Subscription
from tests.factories import SiteFactory
from tests.importdata import report_row
from tests.importdata.isso import write_awkward

pytestmark = pytest.mark.django_db


def run_import(path: Path, report: Path) -> str:
    out = StringIO()
    call_command("import", "isso", str(path), "--site", "news", "--report", str(report),
                 stdout=out, stderr=StringIO())  # fmt: skip
    return out.getvalue()


def test_isso_import_loses_nothing_and_a_second_run_changes_nothing(
    tmp_path: Path, client: Any
) -> None:
    SiteFactory.create()
    written = write_awkward(tmp_path / "comments.db")

    report = run_import(tmp_path / "comments.db", tmp_path / "1.json")

    assert "Nothing was lost" in report
    assert report_row(report) == (written.comments,) * 3
    assert report_row(report, "subscriptions") == (written.subscriptions,) * 3
    page = client.get("/api/v1/threads?site=news&uri=/2026/11/river-crossing/").json()
    html = " ".join(c["html"] for c in page["comments"])
    assert "<strong>Bold</strong>" in html and "<b>raw tag</b>" in html  # as Isso showed it
    assert "<script>" not in html and "onclick" not in html
    # Isso never confirmed the addresses it mailed: Parley asks first.
    assert not Subscription.objects.filter(confirmed_at__isnull=False).exists()
    before = list(Comment.objects.order_by("pk").values())

    again = run_import(tmp_path / "comments.db", tmp_path / "2.json")

    assert "Nothing was lost" in again
    assert report_row(again) == (written.comments, written.comments, 0)
    assert list(Comment.objects.order_by("pk").values()) == before
