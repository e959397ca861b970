"""`parley backup` and `parley restore`: a restore reproduces the site, on SQLite (the online
backup API) and on PostgreSQL (pg_dump / pg_restore)."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from parley.comments.models import Comment
from parley.moderation.models import Policy
from parley.sites.models import Site
from tests.factories import SiteFactory, say


def export(path: Path) -> dict[str, Any]:
    call_command("export", "--site", "news", "--output", str(path), stderr=io.StringIO())
    document: dict[str, Any] = json.loads(path.read_bytes())
    document.pop("exported_at", None)
    return document


@pytest.mark.django_db(transaction=True)
def test_a_restore_from_a_backup_reproduces_the_site(tmp_path: Path, client: Any) -> None:
    site = SiteFactory.create()
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    first = say(client, "Before the backup", email="ann@example.org")
    say(client, "A reply", parent=first, name="Bob")
    picture = Path(settings.MEDIA_ROOT) / "figures" / "map.png"
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_bytes(b"\x89PNG map")
    before = export(tmp_path / "before.json")
    backup = tmp_path / "site.tar.gz"
    call_command("backup", "--output", str(backup), stdout=io.StringIO())

    # Life goes on, then something goes wrong.
    say(client, "After the backup")
    Comment.objects.filter(pk=first).delete()
    SiteFactory.create(name="other")
    picture.unlink()

    call_command("restore", str(backup), "--yes", stdout=io.StringIO())

    assert export(tmp_path / "after.json") == before
    assert not Site.objects.filter(name="other").exists()
    assert picture.read_bytes() == b"\x89PNG map"
    assert oct(backup.stat().st_mode & 0o777) == "0o600"  # personal data and the secret key


@pytest.mark.django_db(transaction=True)
def test_a_file_that_is_no_backup_or_an_answer_that_is_not_yes_changes_nothing(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")
    with pytest.raises(CommandError, match="is not a Parley backup"):
        call_command("restore", str(junk), "--yes")
    backup = tmp_path / "b.tar.gz"
    call_command("backup", "--output", str(backup), stdout=io.StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", "--output", str(backup))
    with pytest.raises(CommandError, match="add --yes"):
        call_command("restore", str(backup))  # no terminal to ask on
