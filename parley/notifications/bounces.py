"""Mail that comes back: the MTA pipes each report it receives for Parley's bounce address to
`parley notifications bounce`. An address a delivery report names as permanently failed
(RFC 3464) or a complaint names as its recipient (RFC 5965, ARF) is suppressed: the outbox
never mails it again."""

import email
import email.policy
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .models import Suppression


class NotAReport(ValueError):
    """The message is neither a delivery status notification nor a complaint."""


@dataclass(frozen=True)
class Finding:
    email: str
    reason: Suppression.Reason
    detail: str


def read_report(raw: bytes) -> list[Finding]:
    """The addresses a report says must not be mailed again; an empty list for a report that
    names none (a delay, a "not spam" feedback). Raises NotAReport for any other message."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    report_type = str(message.get_param("report-type", "")).lower()
    if message.get_content_type() != "multipart/report" or not message.is_multipart():
        raise NotAReport(_("This is not a delivery status notification or a complaint report."))
    parts = {part.get_content_type(): part for part in _parts(message)}
    if report_type == "delivery-status" and "message/delivery-status" in parts:
        return _failed_recipients(parts["message/delivery-status"])
    if report_type == "feedback-report" and "message/feedback-report" in parts:
        return _complainants(parts)
    raise NotAReport(
        _("This report (%(type)s) is neither a delivery status notification nor a complaint.")
        % {"type": report_type or message.get_content_type()}
    )


def _parts(message: Message) -> list[Message]:
    """The parts of a multipart, the enclosed message of a message/rfc822, or the field blocks
    of a message/delivery-status or message/feedback-report (each read as headers only)."""
    payload = message.get_payload()
    return (
        [part for part in payload if isinstance(part, Message)] if isinstance(payload, list) else []
    )


def _address(value: object) -> str:
    """A bare, valid, lower-case address from `<Ann@example.org>` or a To header; "" when
    there is none."""
    found = getaddresses([str(value or "")])
    candidate = found[0][1].strip().lower() if found else ""
    try:
        validate_email(candidate)
    except ValidationError:
        return ""
    return candidate


def _typed_address(value: object) -> str:
    """`rfc822; ann@example.org`: only the rfc822 address type is one Parley mails."""
    kind, _sep, address = str(value or "").partition(";")
    return _address(address) if kind.strip().lower() == "rfc822" else ""


def _failed_recipients(part: Message) -> list[Finding]:
    """Recipients with `Action: failed` and a permanent (5.x.x) status. A 4.x.x failure (the
    remote host was unreachable until the MTA gave up) says nothing about the address."""
    findings = []
    for block in _parts(part)[1:]:  # the first block is about the whole message
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip()
        # Original-Recipient, when the MTA reports it, is the address Parley sent to; the
        # final one differs when the mail was forwarded.
        address = _typed_address(block.get("Original-Recipient")) or _typed_address(
            block.get("Final-Recipient")
        )
        if action.startswith("failed") and status.startswith("5.") and address:
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            detail = f"{status} {diagnostic}".strip()
            findings.append(Finding(address, Suppression.Reason.BOUNCE, detail))
    return findings


def _complainants(parts: dict[str, Message]) -> list[Finding]:
    (fields, *_rest) = _parts(parts["message/feedback-report"]) or [Message()]
    feedback_type = str(fields.get("Feedback-Type", "")).strip().lower()
    if feedback_type == "not-spam":
        return []
    detail = " ".join(
        f"{name}: {fields[name]}" for name in ("Feedback-Type", "User-Agent") if name in fields
    )
    addresses = [_address(value) for value in fields.get_all("Original-Rcpt-To", [])]
    if not any(addresses):
        addresses = [_address(_enclosed_to(parts))]
    if not any(addresses):
        raise NotAReport(_("This complaint names no recipient: nothing can be suppressed."))
    unique = dict.fromkeys(a for a in addresses if a)
    return [Finding(address, Suppression.Reason.COMPLAINT, detail) for address in unique]


def _enclosed_to(parts: dict[str, Message]) -> str:
    """The To of the message complained about, whole or as headers only."""
    if "message/rfc822" in parts:
        enclosed = _parts(parts["message/rfc822"])
        return str(enclosed[0].get("To", "")) if enclosed else ""
    if "text/rfc822-headers" in parts:
        headers = parts["text/rfc822-headers"].get_payload(decode=True)
        text = headers.decode(errors="replace") if isinstance(headers, bytes) else ""
        return str(HeaderParser().parsestr(text).get("To", ""))
    return ""


def suppress(address: str, reason: str, detail: str = "") -> bool:
    """Never mail `address` again; False when it was suppressed already (its first reason
    stays)."""
    _suppression, created = Suppression.objects.get_or_create(
        email=address.lower(), defaults={"reason": reason, "detail": detail}
    )
    return created


def unsuppress(address: str) -> bool:
    """Mail `address` again; False when it was not suppressed."""
    deleted, _detail = Suppression.objects.filter(email=address.lower()).delete()
    return bool(deleted)
