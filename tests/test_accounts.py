"""Reader accounts: signing in with an e-mailed link (from the widget on another site and on
Parley's own pages), what a signed-in reader may do, and the profile page."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from PIL import Image

from parley.accounts.models import AccountSession, SignInRequest
from parley.comments.models import Comment, Subscription
from parley.moderation.models import Policy
from parley.notifications.delivery import deliver_due
from parley.notifications.models import OutboundEmail
from parley.sites.models import Site
from tests.factories import SiteFactory
from tests.mail import smtp  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

WIDGET = "https://blog.example"
STORY = f"{WIDGET}/2026/story/"
OWN = "http://127.0.0.1"
OWN_PAGE = f"{OWN}/articles/river/"


@pytest.fixture(autouse=True)
def site(unscored_site):
    return unscored_site


def from_widget(**extra):
    return {"HTTP_ORIGIN": WIDGET, **extra}


def ask(client, email="ann@example.org", return_url=STORY, site="news", **extra):
    data = {"site": site, "email": email, "return_url": return_url}
    return client.post_json("/auth/email", data, **extra)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def link_in_outbox() -> str:
    """The sign-in link of the last message written, as the reader's mail shows it."""
    message = OutboundEmail.objects.order_by("pk").last()
    assert message is not None
    found = re.search(r"https?://\S+/accounts/signin/\S+/", message.text)
    assert found is not None
    return path_of(found[0])


def token_in(link: str) -> str:
    found = re.search(r"/accounts/signin/([^/]+)/", link)
    assert found is not None
    return found[1]


def follow(link: str) -> str:
    """Open the e-mailed link (in any browser: it only leads back) and read the token the
    page it leads to finds in its fragment."""
    response = Client().get(link)
    assert response.status_code == 302
    return response["Location"].split("#parley-signin=")[1]


def complete(client, token, browser_key, **extra):
    return client.post_json("/auth/complete", {"token": token, "browser_key": browser_key}, **extra)


def sign_in(client, email="ann@example.org", return_url=STORY, **extra) -> str:
    """The whole flow through the outbox; returns the session the widget keeps."""
    browser_key = ask(client, email, return_url, **extra).json()["browser_key"]
    response = complete(client, follow(link_in_outbox()), browser_key, **extra)
    assert response.status_code == 200, response.content
    return response.json()["session"]


def me(client, session="", **extra):
    headers = {"HTTP_X_PARLEY_SESSION": session} if session else {}
    return client.get("/api/v1/auth/me", **headers, **extra).json()["account"]


def post(client, body="Hello", session="", origin=WIDGET, **fields):
    """From the widget on the publisher's page, or (`origin=OWN`) on Parley's own page, where
    the browser sends Parley's cookies."""
    data = {"site": "news", "uri": "/2026/story/", "body": body, "author_name": "Ann", **fields}
    headers = {"HTTP_ORIGIN": origin, **({"HTTP_X_PARLEY_SESSION": session} if session else {})}
    response = client.post_json("/comments", data, **headers)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_reader_signs_in_from_the_widget_on_another_site_and_posts_as_their_account(
    client,
    smtp,  # noqa: F811
):
    asked = ask(client, "Ann@Example.org", f"{STORY}#comments", **from_widget())

    assert asked.status_code == 202
    assert "ann@example.org" in asked.json()["message"]
    browser_key = asked.json()["browser_key"]
    deliver_due()
    (mail,) = smtp.wait_for(1)
    assert mail.envelope_to == ["ann@example.org"]
    assert mail.subject == "Your sign-in link"
    assert "blog.example" in mail.text and browser_key not in mail.text

    # A mail scanner opening the link changes nothing; the link leads back to the story.
    landing = Client().get(path_of(mail.link("/accounts/signin/")))
    assert landing.status_code == 302
    assert landing["Location"].startswith(f"{STORY}#parley-signin=")
    assert SignInRequest.objects.get().used_at is None and not User.objects.exists()
    token = landing["Location"].split("#parley-signin=")[1]

    signed_in = complete(client, token, browser_key, **from_widget())

    assert signed_in.status_code == 200
    user = User.objects.get()
    assert (user.email, user.is_staff) == ("ann@example.org", False)
    assert signed_in.json()["account"]["email"] == "ann@example.org"
    assert signed_in.json()["account"]["avatar"].startswith("/avatars/")
    assert "_auth_user_id" not in client.session  # no cookie of Parley's on another site
    session = signed_in.json()["session"]
    assert me(client, session, **from_widget())["email"] == "ann@example.org"
    assert me(client, **from_widget()) is None
    post(client, "Signed in now", session=session)
    assert Comment.objects.get().account == user


def test_signing_in_on_parleys_own_pages_also_signs_in_the_browser(client):
    sign_in(client, return_url=OWN_PAGE)

    assert me(client)["email"] == "ann@example.org"
    page = client.get("/accounts/profile/")
    assert "Signed in as ann@example.org" in page.content.decode()


def test_a_used_link_says_so_and_signs_nobody_in_twice(client):
    browser_key = ask(client, **from_widget()).json()["browser_key"]
    link = link_in_outbox()
    token = follow(link)
    assert complete(client, token, browser_key, **from_widget()).status_code == 200

    again = complete(client, token, browser_key, **from_widget())
    page = Client().get(link)

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "used"
    assert page.status_code == 409
    assert "was used already" in page.content.decode()
    assert AccountSession.objects.count() == 1


def test_an_expired_link_says_so_offers_to_ask_again_and_changes_nothing(client):
    browser_key = ask(client, **from_widget()).json()["browser_key"]
    link = link_in_outbox()
    SignInRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = Client().get(link)
    token = token_in(link)
    answer = complete(client, token, browser_key, **from_widget())

    assert page.status_code == 410
    assert "has expired" in page.content.decode()
    assert f'href="{STORY}"' in page.content.decode()  # back to the story, to ask again
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "expired"
    assert SignInRequest.objects.get().used_at is None
    assert not User.objects.exists() and not AccountSession.objects.exists()


def test_a_tampered_link_does_not_work_and_changes_nothing(client):
    browser_key = ask(client, **from_widget()).json()["browser_key"]
    link = link_in_outbox()
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]

    page = Client().get(tampered)
    token = token_in(tampered)
    answer = complete(client, token, browser_key, **from_widget())

    assert page.status_code == 400
    assert "This link does not work" in page.content.decode()
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_link"
    assert SignInRequest.objects.get().used_at is None
    assert not User.objects.exists()


def test_the_link_signs_in_only_the_browser_that_asked_for_it(client, other_reader):
    browser_key = ask(client, **from_widget()).json()["browser_key"]
    token = follow(link_in_outbox())

    elsewhere = complete(other_reader, token, "a-guessed-key", **from_widget())

    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"] == {
        "code": "other_browser",
        "message": "This link was asked for in another browser. Open it there, or ask for a "
        "new link here.",
        "fields": {},
    }
    assert SignInRequest.objects.get().used_at is None and not User.objects.exists()
    assert complete(client, token, browser_key, **from_widget()).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_requests_for_one_address_is_throttled(
    client,
    settings,
    smtp,  # noqa: F811
):
    settings.PARLEY_RATE_LIMITS_ENABLED = True

    statuses = [ask(client, **from_widget()).status_code for _ in range(6)]
    deliver_due()

    assert statuses == [202, 202, 202, 429, 429, 429]
    assert len(smtp.wait_for(3, timeout=2)) == 3
    assert SignInRequest.objects.count() == 3


def test_an_address_that_would_smuggle_a_header_is_refused_and_nothing_is_written(client):
    response = ask(client, "ann@example.org\r\nBcc: all@example.org", **from_widget())

    assert response.status_code == 422
    assert "email" in response.json()["error"]["fields"]
    assert not SignInRequest.objects.exists() and not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example/2026/story/",
        "https://blog.example@evil.example/",
        "javascript:alert(1)",
        "/2026/story/",
    ],
)
def test_a_link_cannot_lead_to_a_page_the_site_does_not_allow(client, return_url):
    response = ask(client, return_url=return_url, **from_widget())

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["return_url"]
    assert not SignInRequest.objects.exists() and not OutboundEmail.objects.exists()


def test_a_suppressed_address_is_told_the_same_and_gets_no_mail(client):
    from parley.notifications.models import Suppression

    Suppression.objects.create(email="ann@example.org", reason="bounce")

    response = ask(client, **from_widget())

    assert response.status_code == 202
    assert "ann@example.org" in response.json()["message"]
    assert not OutboundEmail.objects.exists()


def test_signing_out_ends_the_widgets_session(client):
    session = sign_in(client, **from_widget())

    response = client.post_json("/auth/signout", {}, **from_widget(HTTP_X_PARLEY_SESSION=session))

    assert response.status_code == 200
    assert response.json()["message"] == "You are signed out."
    assert me(client, session, **from_widget()) is None
    post(client, "As a guest again", session=session)
    assert Comment.objects.get().account is None


def test_a_forged_session_is_a_guest_not_an_error(client):
    assert me(client, "forged:token", **from_widget()) is None
    post(client, session="forged:token")
    assert Comment.objects.get().account is None


def test_the_widget_on_another_site_may_send_the_session_header(client):
    response = client.options(
        "/api/v1/auth/me",
        HTTP_ORIGIN=WIDGET,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-parley-session",
    )
    assert "X-Parley-Session" in response["Access-Control-Allow-Headers"]


def test_a_signed_in_reader_edits_and_deletes_their_comment_long_after(client, site):
    session = sign_in(client, **from_widget())
    posted = post(client, "First thought", session=session)
    site.edit_window_minutes = 0
    site.save()
    own = from_widget(HTTP_X_PARLEY_SESSION=session)
    path = f"/comments/{posted['comment']['id']}"

    edited = client.patch_json(path, {"body": "Second thought"}, **own)
    as_guest = client.patch_json(path, {"body": "Vandalised"}, **from_widget())

    assert edited.status_code == 200
    assert edited.json()["body"] == "Second thought"
    assert as_guest.status_code == 401
    assert client.delete(f"/api/v1{path}", **own).status_code == 204
    assert Comment.objects.get().status == "deleted"


def test_an_account_cannot_edit_another_readers_comment(client, other_reader):
    theirs = post(other_reader, "Mine", author_email="bob@example.org")
    session = sign_in(client, **from_widget())

    response = client.patch_json(
        f"/comments/{theirs['comment']['id']}",
        {"body": "Not yours"},
        **from_widget(HTTP_X_PARLEY_SESSION=session),
    )

    assert response.status_code == 401
    assert Comment.objects.get().body == "Mine"


def test_an_email_link_never_signs_into_a_staff_account(client):
    User.objects.create_user("editor", "ann@example.org", "pw", is_staff=True)

    sign_in(client, **from_widget())

    reader = User.objects.get(is_staff=False)
    assert reader.email == "ann@example.org"
    assert AccountSession.objects.get().user == reader


def test_of_two_readers_with_one_address_the_oldest_is_signed_in(client):
    older = User.objects.create_user("older", "Ann@Example.org")
    User.objects.create_user("newer", "ann@example.org")

    sign_in(client, **from_widget())

    assert AccountSession.objects.get().user == older


# --- The profile page --------------------------------------------------------------------


@pytest.fixture
def browser(client):
    """A reader signed in on Parley's own pages."""
    sign_in(client, return_url=OWN_PAGE)
    return client


def picture(fmt="JPEG", size=(400, 300)) -> io.BytesIO:
    image = Image.new("RGB", size, "#1f6f8b")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif)
    out.seek(0)
    out.name = "me.jpg"
    return out


def test_a_visitor_asks_for_a_link_on_the_profile_page_and_it_leads_back_there(client):
    form = client.get("/accounts/profile/")
    assert "E-mail me a sign-in link" in form.content.decode()

    sent = client.post("/accounts/profile/", {"action": "signin", "email": "Ann@example.org"})

    page = sent.content.decode()
    assert "a sign-in link is on its way" in page
    kept = re.search(r'id="parley-browser-key"[^>]*>(.*?)</script>', page)
    assert kept is not None
    browser_key = json.loads(kept[1])
    landing = Client().get(link_in_outbox())
    assert landing["Location"].startswith("http://127.0.0.1/accounts/profile/#parley-signin=")
    token = landing["Location"].split("#parley-signin=")[1]
    assert complete(client, token, browser_key).status_code == 200
    assert "Signed in as ann@example.org" in client.get("/accounts/profile/").content.decode()


def test_a_reader_names_themselves_and_uploads_a_picture_stripped_of_its_metadata(browser):
    response = browser.post(
        "/accounts/profile/",
        {"action": "save", "display_name": "  Ann  Example ", "avatar": picture()},
    )

    assert response.status_code == 302
    account = me(browser)
    assert account["name"] == "Ann Example"
    assert account["avatar"].startswith("/media/avatars/") and account["avatar"].endswith(".png")
    stored = browser.get(account["avatar"])
    image = Image.open(io.BytesIO(b"".join(stored.streaming_content)))
    assert (image.format, image.size) == ("PNG", (128, 128))
    assert not image.getexif() and not image.info.get("exif")
    assert "Your profile is saved." in browser.get("/accounts/profile/").content.decode()


@pytest.mark.parametrize(
    ("upload", "status", "says"),
    [
        (io.BytesIO(b"not a picture"), 422, "That is not a picture we can read"),
        (io.BytesIO(b"\0" * (2 * 1024 * 1024 + 1)), 413, "A picture has at most 2 MB."),
    ],
)
def test_a_picture_that_is_not_one_or_too_large_is_refused(browser, upload, status, says):
    upload.name = "me.png"

    response = browser.post(
        "/accounts/profile/", {"action": "save", "display_name": "Ann", "avatar": upload}
    )

    assert response.status_code == status
    assert says in response.content.decode()
    assert me(browser)["name"] == ""


def test_a_reader_claims_the_comments_they_posted_as_a_guest(browser, other_reader):
    mine = [post(other_reader, f"Old {n}", author_email="ANN@example.org") for n in range(2)]
    post(other_reader, "Bob's", author_email="bob@example.org")

    page = browser.get("/accounts/profile/").content.decode()
    assert "You posted 2 comments as a guest with ann@example.org." in page

    response = browser.post("/accounts/profile/", {"action": "claim"}, follow=True)

    assert "2 comments are now attached to your account." in response.content.decode()
    user = User.objects.get(email="ann@example.org")
    assert {c.pk for c in Comment.objects.filter(account=user)} == {
        m["comment"]["id"] for m in mine
    }
    edited = browser.patch_json(f"/comments/{mine[0]['comment']['id']}", {"body": "Now mine"})
    assert edited.status_code == 200


def test_a_reader_downloads_their_data(browser, other_reader, site):
    comment = post(browser, "My view", author_email="ann@example.org", origin=OWN)
    theirs = post(other_reader, "Other view")
    browser.post_json(f"/comments/{theirs['comment']['id']}/vote", {"value": 1})
    Subscription.objects.create(
        site=site, uri="/2026/story/", email="ann@example.org", kind="thread", reader_key="x"
    )

    response = browser.get("/accounts/profile/data/")

    assert response["Content-Disposition"] == 'attachment; filename="parley-data.json"'
    data = json.loads(response.content)
    assert data["account"]["email"] == "ann@example.org"
    assert [(c["id"], c["body"], c["thread"]) for c in data["comments"]] == [
        (comment["comment"]["id"], "My view", "/2026/story/")
    ]
    assert [(v["comment"], v["value"]) for v in data["votes"]] == [(theirs["comment"]["id"], 1)]
    assert [(s["thread"], s["kind"]) for s in data["subscriptions"]] == [("/2026/story/", "thread")]


def test_a_reader_unsubscribes_on_their_profile(browser, site):
    subscription = Subscription.objects.create(
        site=site, uri="/2026/story/", email="ann@example.org", kind="thread", reader_key="x"
    )

    response = browser.post(
        "/accounts/profile/",
        {"action": "unsubscribe", "subscription": subscription.pk},
        follow=True,
    )

    assert "Unsubscribed." in response.content.decode()
    assert not Subscription.objects.exists()


def thread_of(client):
    return client.api_get("/threads", site="news", uri="/2026/story/").json()


def delete_account(client, comments):
    return client.post(
        "/accounts/profile/", {"action": "delete", "comments": comments, "confirm": "1"}
    )


def test_deleting_the_account_can_keep_the_comments_as_a_deleted_user(browser, site):
    session = sign_in(browser, **from_widget())
    post(browser, "I was here", session=session, author_email="ann@example.org")
    Subscription.objects.create(
        site=site, uri="/2026/story/", email="ann@example.org", kind="thread", reader_key="x"
    )

    response = delete_account(browser, "anonymise")

    assert "Your account is deleted" in response.content.decode()
    assert not User.objects.exists() and not Subscription.objects.exists()
    (shown,) = thread_of(browser)["comments"]
    assert shown["author"]["name"] == "Deleted user"
    assert "I was here" in shown["html"]
    assert Comment.objects.get().author_email == ""
    assert me(browser) is None
    assert me(browser, session, **from_widget()) is None


def test_deleting_the_account_can_remove_the_comments(browser):
    post(browser, "Take this back", origin=OWN)

    delete_account(browser, "remove")

    assert thread_of(browser)["thread"]["count"] == 0
    assert thread_of(browser)["comments"] == []
    assert Comment.objects.get().status == "deleted"


def test_a_sites_policy_decides_over_the_readers_choice(browser, site):
    other = SiteFactory.create(name="other", account_deletion=Site.AccountDeletion.ANONYMISE)
    Policy.objects.update_or_create(site=other, defaults={"use_scorer": False})
    site.account_deletion = Site.AccountDeletion.REMOVE
    site.save()
    post(browser, "Here", origin=OWN)
    browser.post_json(
        "/comments",
        {"site": "other", "uri": "/elsewhere/", "body": "There", "author_name": "Ann"},
    )
    page = browser.get("/accounts/profile/").content.decode()
    assert "The News has decided: your comments there are removed." in page

    delete_account(browser, "remove")

    here, there = Comment.objects.order_by("pk")
    assert (here.status, there.status) == ("deleted", "published")
    assert there.author_name == "Deleted user"


def test_deleting_needs_a_confirmation(browser):
    post(browser, "Still here", origin=OWN)

    response = browser.post("/accounts/profile/", {"action": "delete", "comments": "remove"})

    assert response.status_code == 422
    assert "Tick this box to confirm." in response.content.decode()
    assert User.objects.exists() and Comment.objects.get().status == "published"


def test_signing_out_on_the_profile_page(browser):
    response = browser.post("/accounts/profile/", {"action": "signout"}, follow=True)

    assert "You are signed out." in response.content.decode()
    assert "E-mail me a sign-in link" in response.content.decode()
    assert me(browser) is None


def test_a_signed_in_author_reads_their_comments_source_to_edit_it(client, other_reader):
    session = sign_in(client, **from_widget())
    posted = post(client, "**Bold** claim", session=session)
    path = f"/api/v1/comments/{posted['comment']['id']}"

    own = client.get(path, **from_widget(HTTP_X_PARLEY_SESSION=session)).json()
    theirs = other_reader.get(path, **from_widget()).json()

    assert own["body"] == "**Bold** claim"
    assert "body" not in theirs or theirs["body"] is None


def test_a_reader_signed_in_through_the_widget_sees_their_held_comment_there(client, site):
    site.moderation = "pre"
    site.save()
    session = sign_in(client, **from_widget())
    post(client, "Held for a moderator", session=session)

    fresh_browser = Client(HTTP_HOST="127.0.0.1")  # no reader token: the session alone
    signed_in = fresh_browser.get(
        "/api/v1/threads",
        {"site": "news", "uri": "/2026/story/"},
        **from_widget(HTTP_X_PARLEY_SESSION=session),
    ).json()
    anonymous = (
        Client(HTTP_HOST="127.0.0.1")
        .get("/api/v1/threads", {"site": "news", "uri": "/2026/story/"}, **from_widget())
        .json()
    )

    assert [c["html"] for c in signed_in["comments"]] == ["<p>Held for a moderator</p>"]
    assert anonymous["comments"] == []


def test_the_widget_learns_which_comments_of_a_thread_the_account_may_edit(client, other_reader):
    session = sign_in(client, **from_widget())
    mine = post(client, "Mine", session=session)["comment"]["id"]
    post(other_reader, "Theirs")
    params = {"site": "news", "uri": "/2026/story/"}

    signed_in = client.get("/api/v1/auth/me", params, **from_widget(HTTP_X_PARLEY_SESSION=session))
    guest = other_reader.get("/api/v1/auth/me", params, **from_widget())

    assert signed_in.json()["own_comments"] == [mine]
    assert guest.json() == {"account": None, "own_comments": []}
