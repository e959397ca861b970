"""The `parley` command as a publisher runs it."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from parley.articles.demo import seed_demo
from parley.comments.models import Comment, CommentRevision, Thread
from parley.notifications.models import OutboundEmail
from parley.sites.models import Site

pytestmark = pytest.mark.django_db


def test_site_add_with_several_origins():
    call_command(
        "site_add",
        "blog",
        "--domain",
        "Blog.Example",
        "--origin",
        "https://blog.example/",
        "--origin",
        "https://www.blog.example",
    )

    site = Site.objects.get(name="blog")
    assert site.domains == ["blog.example"]
    assert site.origins == ["https://blog.example", "https://www.blog.example"]
    assert site.moderation == Site.Moderation.POST


@pytest.mark.parametrize(
    ("name", "origin", "message"),
    [
        ("bad name", "https://ok.example", "not a valid site name"),
        ("ok", "ftp://nope", "is not an origin"),
    ],
)
def test_site_add_refuses_bad_input(name, origin, message):
    with pytest.raises(CommandError, match=message):
        call_command("site_add", name, "--domain", "x.example", "--origin", origin)
    assert not Site.objects.exists()


def test_site_add_is_spelled_as_in_the_docs(tmp_path):
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    run = [sys.executable, "-m", "parley"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, cwd=tmp_path)

    result = subprocess.run(
        [*run, "site", "add", "blog", "--domain", "blog.example"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "Added site blog" in result.stdout


def test_demo_seeds_a_multilingual_discussion_four_levels_deep():
    site, password = seed_demo()

    thread = Thread.objects.get(site=site, uri="/articles/why-the-teyra-crossing-stalled/")
    comments = Comment.objects.filter(thread=thread)
    assert 75 <= thread.published_count == comments.count() <= 85
    assert comments.filter(depth=4).count() >= 5
    assert CommentRevision.objects.filter(comment__thread=thread).exists()
    assert comments.filter(upvotes__gt=0).exists()
    assert site.articles.count() == 3
    assert all(a.figures.exists() for a in site.articles.all())
    assert len(password) >= 12

    seed_demo()  # a second run keeps the demo as it is
    assert Comment.objects.filter(thread=thread).count() == comments.count()


def test_the_demo_editor_is_alerted_of_the_seeded_held_comments():
    seed_demo()

    alerts = OutboundEmail.objects.filter(to="editor@frontline-review.example", kind="held")
    assert alerts.exists()
    assert all(a.subject.startswith("Held for review") for a in alerts)


def test_site_add_on_an_existing_site_adds_an_embedding_origin():
    call_command("site_add", "blog", "--domain", "blog.example")
    call_command(
        "site_add", "blog", "--domain", "blog.example", "--origin", "https://Friends.example/"
    )

    site = Site.objects.get(name="blog")
    assert site.domains == ["blog.example"]
    assert site.origins == ["https://friends.example"]


def test_staff_allow_an_origin_in_the_admin_one_per_line(client, admin_user):
    call_command("site_add", "blog", "--domain", "blog.example")
    site = Site.objects.get(name="blog")
    client.force_login(admin_user)
    form = {
        "name": "blog",
        "title": "",
        "domains": "blog.example\nwww.blog.example",
        "origins": "https://www.blog.example\nhttp://127.0.0.2:8150",
        "moderation": "post",
        "max_depth": "4",
        "edit_window_minutes": "15",
        "max_body_length": "10000",
        "account_deletion": "choice",
    }

    response = client.post(f"/admin/parley_sites/site/{site.pk}/change/", form)
    bad = client.post(
        f"/admin/parley_sites/site/{site.pk}/change/", form | {"origins": "not an origin"}
    )

    assert response.status_code == 302
    site.refresh_from_db()
    assert site.origins == ["https://www.blog.example", "http://127.0.0.2:8150"]
    assert site.domains == ["blog.example", "www.blog.example"]
    assert "is not an origin" in bad.content.decode()


def test_parley_site_alone_or_with_help_says_how_to_add_one(tmp_path):
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    run = [sys.executable, "-m", "parley", "site"]

    asked = subprocess.run([*run, "--help"], env=env, capture_output=True, text=True)
    bare = subprocess.run(run, env=env, capture_output=True, text=True)

    assert asked.returncode == 0
    assert bare.returncode == 2
    for result in (asked, bare):
        assert "parley site add NAME --domain D" in result.stdout
