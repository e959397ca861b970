"""Mail that comes back: the MTA pipes bounces and complaints to `parley notifications
bounce`, and the addresses they name are not mailed again. Reports are built here with the
email package, as an MTA or a mailbox provider would write them."""

import io
import os
import re
import subprocess
import sys
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from django.core.management import CommandError, call_command

from parley.notifications.delivery import deliver_due
from parley.notifications.models import OutboundEmail, Suppression
from parley.notifications.outbox import Letter, queue_email
from tests.mail import smtp  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def fields(**headers: str) -> Message:
    block = Message()
    for name, value in headers.items():
        block[name.replace("_", "-")] = value
    return block


def sent_by_parley(to: str) -> EmailMessage:
    original = EmailMessage()
    original["From"] = "Parley <parley@news.example>"
    original["To"] = to
    original["Subject"] = "Bob replied to your comment"
    original.set_content("A reply.")
    return original


def delivery_report(*recipients: Message, to: str = "ann@example.org") -> bytes:
    """An RFC 3464 report: a note for people, the status fields, the returned message."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
    report["To"] = "bounces@news.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(
        MIMEText("I'm sorry to have to inform you that your message could not be delivered.")
    )
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    status.set_payload([fields(Reporting_MTA="dns; mx.example.org"), *recipients])
    report.attach(status)
    report.attach(MIMEMessage(sent_by_parley(to)))
    return report.as_bytes()


def failed(address: str, status: str = "5.1.1", action: str = "failed", **more: str) -> Message:
    return fields(
        Final_Recipient=f"rfc822; {address}",
        Action=action,
        Status=status,
        Diagnostic_Code=f"smtp; 550 {status} <{address}>: Recipient address rejected",
        **more,
    )


def complaint(*, rcpt_to: str = "", enclosed_to: str = "", headers_only: bool = False) -> bytes:
    """An RFC 5965 (ARF) abuse report, as a mailbox provider's feedback loop sends it."""
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "feedback@isp.example"
    report["Subject"] = "Abuse report"
    report.attach(MIMEText("A user of our service marked this message as spam."))
    feedback = Message()
    feedback["Content-Type"] = "message/feedback-report"
    report_fields = {"Feedback_Type": "abuse", "User_Agent": "ISP-FBL/2.1", "Version": "1"}
    if rcpt_to:
        report_fields["Original_Rcpt_To"] = rcpt_to
    feedback.set_payload([fields(**report_fields)])
    report.attach(feedback)
    original = sent_by_parley(enclosed_to or "redacted@isp.example")
    if headers_only:
        headers = "".join(f"{name}: {value}\n" for name, value in original.items())
        report.attach(MIMEText(headers, "rfc822-headers"))
    else:
        report.attach(MIMEMessage(original))
    return report.as_bytes()


def bounce(raw: bytes) -> str:
    out = io.StringIO()
    call_command("notifications", "bounce", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def suppressed() -> dict[str, str]:
    return dict(Suppression.objects.values_list("email", "reason"))


def queue(to: str, key: str) -> bool:
    return queue_email(
        key=key, kind="manage", to=to, letter=Letter(subject="Hello", paragraphs=["Hi."]), lang="en"
    )


def test_a_bounce_suppresses_only_the_recipients_that_failed_for_good():
    report = delivery_report(
        failed("Ann@Example.org"),
        failed("bob@example.org", status="4.2.2", action="delayed"),
        # Given up after days of a host not answering: the address may well be fine.
        failed("carl@example.org", status="4.4.7"),
    )

    output = bounce(report)

    assert suppressed() == {"ann@example.org": "bounce"}
    detail = Suppression.objects.get().detail
    assert detail.startswith("5.1.1 smtp; 550 5.1.1")
    assert "ann@example.org will not be e-mailed again (Bounced)." in output


def test_a_forwarded_address_that_bounces_suppresses_the_address_parley_mailed():
    report = delivery_report(
        failed("ann@new-employer.example", Original_Recipient="rfc822; ann@example.org")
    )

    bounce(report)

    assert suppressed() == {"ann@example.org": "bounce"}


def test_mail_waiting_for_a_bounced_address_is_cancelled_and_no_more_is_written(
    smtp,  # noqa: F811
):
    assert queue("ann@example.org", "first")
    assert queue("bob@example.org", "second")

    bounce(delivery_report(failed("ann@example.org")))
    deliver_due()

    assert [m.envelope_to for m in smtp.messages] == [["bob@example.org"]]
    assert OutboundEmail.objects.get(key="first").state == "cancelled"
    assert not queue("ann@example.org", "third")
    assert not OutboundEmail.objects.filter(key="third").exists()


@pytest.mark.parametrize(
    "report",
    [
        complaint(rcpt_to="<Bob@Example.org>", enclosed_to="someone@else.example"),
        complaint(enclosed_to="Bob <bob@example.org>"),
        complaint(enclosed_to="bob@example.org", headers_only=True),
    ],
    ids=["original-rcpt-to", "enclosed-message", "enclosed-headers"],
)
def test_a_complaint_suppresses_the_address_that_complained(report):
    output = bounce(report)

    assert suppressed() == {"bob@example.org": "complaint"}
    assert Suppression.objects.get().detail == "Feedback-Type: abuse User-Agent: ISP-FBL/2.1"
    assert "bob@example.org will not be e-mailed again (Marked as spam)." in output


def test_a_report_that_names_no_lasting_failure_changes_nothing():
    delayed = delivery_report(failed("ann@example.org", status="4.2.2", action="delayed"))

    output = bounce(delayed)

    assert suppressed() == {}
    assert "nothing changed" in output


def test_a_second_report_keeps_the_first_reason():
    bounce(delivery_report(failed("bob@example.org")))

    output = bounce(complaint(rcpt_to="bob@example.org"))

    assert suppressed() == {"bob@example.org": "bounce"}
    assert "bob@example.org was suppressed already." in output


def auto_reply() -> bytes:
    reply = EmailMessage()
    reply["From"] = "ann@example.org"
    reply["Subject"] = "Out of office"
    reply.set_content("I am away until Monday.")
    return reply.as_bytes()


def read_receipt() -> bytes:
    receipt = MIMEMultipart("report", report_type="disposition-notification")
    receipt.attach(MIMEText("Your message was displayed."))
    return receipt.as_bytes()


def complaint_about_nobody() -> bytes:
    return complaint(enclosed_to="undisclosed-recipients:;")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (auto_reply(), "not a delivery status notification or a complaint"),
        (read_receipt(), "(disposition-notification) is neither"),
        (complaint_about_nobody(), "names no recipient"),
    ],
    ids=["auto-reply", "read-receipt", "complaint-about-nobody"],
)
def test_anything_else_is_refused_with_status_1_and_changes_nothing(message, error):
    Suppression.objects.create(email="zed@example.org", reason="manual")

    with pytest.raises(CommandError, match=re.escape(error)) as refused:
        bounce(message)

    assert refused.value.returncode == 1
    assert suppressed() == {"zed@example.org": "manual"}


def test_the_mta_pipes_a_message_in_and_reads_the_exit_status(tmp_path):
    """What Postfix's pipe sees: the status and a line on stderr for its log."""
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)

    result = subprocess.run(
        [sys.executable, "-m", "parley", "notifications", "bounce"],
        input=auto_reply(),
        env=env,
        capture_output=True,
        cwd=tmp_path,
    )

    assert result.returncode == 1
    assert b"This is not a delivery status notification" in result.stderr
    assert result.stdout == b""


def test_a_report_can_be_read_from_a_file(tmp_path):
    path = tmp_path / "bounce.eml"
    path.write_bytes(delivery_report(failed("ann@example.org")))

    call_command("notifications", "bounce", str(path), stdout=io.StringIO())

    assert suppressed() == {"ann@example.org": "bounce"}


def test_staff_suppress_an_address_by_hand_and_lift_it_again():
    out = io.StringIO()

    call_command(
        "notifications", "suppress", "Carl@Example.org", "--reason", "complaint", stdout=out
    )
    assert suppressed() == {"carl@example.org": "complaint"}
    assert not queue("carl@example.org", "while-suppressed")

    call_command("notifications", "unsuppress", "carl@example.org", stdout=out)
    assert suppressed() == {}
    assert queue("carl@example.org", "after")

    call_command("notifications", "unsuppress", "carl@example.org", stdout=out)
    assert out.getvalue().splitlines() == [
        "carl@example.org will not be e-mailed again (Marked as spam).",
        "carl@example.org will be e-mailed again.",
        "carl@example.org was not suppressed: nothing changed.",
    ]


def test_suppressing_by_hand_defaults_to_manual_and_refuses_a_non_address():
    call_command("notifications", "suppress", "dan@example.org", stdout=io.StringIO())

    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("notifications", "suppress", "dan at example", stdout=io.StringIO())

    assert suppressed() == {"dan@example.org": "manual"}
