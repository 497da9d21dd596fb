"""Email over SMTP (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD``,
``SMTP_STARTTLS``, ``SMTP_SSL``, ``SMTP_FROM``, ``SMTP_TIMEOUT``).

The Message-ID is derived from the outbox idempotency key, so every (re)send of one
message carries the same Message-ID and mail systems can drop the duplicate. The SMTP
dialogue is driven step by step so that a failure is classified precisely: anything that
goes wrong before ``DATA`` is a plain failure (nothing was handed over); a connection that
breaks during ``DATA`` leaves the message *in doubt* (the server may have queued it).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from ....metadata.channels import BUILT_IN
from .base import Channel, Outgoing, SendError

__all__ = ["send", "message_id_for", "build_message"]


def message_id_for(key: str, sender: str) -> str:
    """``<rf.<sha256 of the key>@<sender's domain>>``: stable for one outbox key."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "ruleform.invalid"
    return f"<rf.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build_message(outgoing: Outgoing, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = outgoing.address
    message["Subject"] = outgoing.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = outgoing.message_id
    message["Auto-Submitted"] = "auto-generated"
    link = outgoing.link if outgoing.link and outgoing.link not in outgoing.body else ""
    message.set_content(outgoing.body + (f"\n\n{link}\n" if link else ""))
    return message


def _connect(settings: Any) -> smtplib.SMTP:
    host, port = settings["SMTP_HOST"], int(settings["SMTP_PORT"])
    timeout = float(settings["SMTP_TIMEOUT"])
    if settings["SMTP_SSL"]:
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                context=ssl.create_default_context())  # fmt: skip
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    client.ehlo()
    if settings["SMTP_STARTTLS"]:
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    if settings["SMTP_USER"]:
        client.login(settings["SMTP_USER"], settings["SMTP_PASSWORD"] or "")
    return client


def _refused(code: int, text: Any, what: str) -> SendError:
    reply = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return SendError(f"{what}: {code} {reply}", permanent=500 <= code < 600)


def send(outgoing: Outgoing, settings: Any) -> str:
    """Send one email; the server's reply to DATA, or SendError."""
    if not settings["SMTP_HOST"]:
        raise SendError("SMTP_HOST is not configured")
    sender = settings["SMTP_FROM"]
    message = build_message(outgoing, sender)
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot reach the SMTP server: {exc}") from None
    try:
        return _dialogue(client, message, parseaddr(sender)[1], outgoing.address)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _dialogue(client: smtplib.SMTP, message: EmailMessage, sender: str, to: str) -> str:
    try:
        code, text = client.mail(sender)
        if code != 250:
            raise _refused(code, text, "MAIL FROM refused")
        code, text = client.rcpt(to)
        if code not in (250, 251):
            raise _refused(code, text, "recipient refused")
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP failed before DATA: {exc}") from None
    try:
        code, text = client.data(message.as_bytes())
    except smtplib.SMTPDataError as exc:
        raise _refused(exc.smtp_code, exc.smtp_error, "message refused") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"connection lost during DATA: {exc}", in_doubt=True) from None
    reply = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {reply}"


def _user_email(user: Any) -> str | None:
    return user["email"] or None


CHANNEL = Channel("email", BUILT_IN["email"], external=True, reaches_users=True,
                  address_kind="email", send=send, user_address=_user_email,
                  message_id=lambda key, settings: message_id_for(key, settings["SMTP_FROM"]))  # fmt: skip
