"""Outgoing mail, sent only after the transaction that queued it commits.

Services call :func:`queue` with a template name; the message is rendered at once (while
the request's data is at hand) and kept on the session. A listener on the session's
``after_commit`` delivers it: by SMTP when a host is configured, otherwise as an ``.eml``
file in ``instance/outbox/``. A rollback drops it.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import coop
from .config import public_base_url

log = logging.getLogger(__name__)

_PENDING = "portal.outgoing_mail"


@dataclass(frozen=True)
class Mail:
    """A rendered message waiting to be sent."""

    to: str
    subject: str
    text: str
    html: str


def render(template: str, *, to: str, **context: Any) -> Mail:
    """Render ``templates/mail/<template>.txt`` and ``.html``; the text one sets ``subject``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if has_request_context():
        return _render(app, template, to, context)
    # From the command line, links are made against the configured public URL.
    with app.test_request_context("/", base_url=public_base_url(app.config)):
        return _render(app, template, to, context)


def _render(app: Flask, template: str, to: str, context: dict[str, Any]) -> Mail:
    context = {"to": to, **context}
    text_template = app.jinja_env.get_template(f"mail/{template}.txt")
    app.update_template_context(context)
    module = text_template.make_module(context)
    subject = str(getattr(module, "subject", "")).strip()
    if not subject:
        raise ValueError(f"mail/{template}.txt must set a subject")
    html = render_template(f"mail/{template}.html", subject=subject, **context)
    return Mail(to=to, subject=subject, text=str(module).strip() + "\n", html=html)


def queue(db: Session, template: str, *, to: str, **context: Any) -> Mail:
    """Render a message and send it once ``db`` commits (never if it rolls back)."""
    # The co-op's settings as this transaction sees them (it may be changing them).
    mail = render(template, to=to, coop=coop.settings(db), **context)
    if not db.in_transaction():
        db.begin()  # so that a rollback, even before any query, drops the message
    db.info.setdefault(_PENDING, []).append(mail)
    return mail


def build_message(mail: Mail, *, sender: str) -> EmailMessage:
    """The MIME message for ``mail``: plain text with an HTML alternative."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = sender
    message["To"] = mail.to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def deliver(mail: Mail, app: Flask | None = None) -> None:
    """Send one message by SMTP, or write it to the outbox when no SMTP host is set."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    message = build_message(mail, sender=config["MAIL_FROM"])
    if not config.get("SMTP_HOST"):
        outbox = outbox_path(app)
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        (outbox / f"{stamp}-{secrets.token_hex(4)}.eml").write_bytes(bytes(message))
        return
    with smtplib.SMTP(
        config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def outbox_path(app: Flask | None = None) -> Path:
    """Where messages go when no SMTP host is configured."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Path(app.instance_path) / "outbox"


@dataclass(frozen=True)
class OutboxMessage:
    """A message read back from the outbox, for the staff page and the tests."""

    name: str
    to: str
    subject: str
    date: str
    text: str


def read_outbox(app: Flask | None = None) -> list[OutboxMessage]:
    """Messages in the outbox, newest first."""
    folder = outbox_path(app)
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = parsed.get_body(preferencelist=("plain",))
        messages.append(
            OutboxMessage(
                name=path.stem,
                to=str(parsed["To"]),
                subject=str(parsed["Subject"]),
                date=str(parsed["Date"]),
                text=body.get_content() if body is not None else "",  # type: ignore[union-attr]
            )
        )
    return messages


def _send_after_commit(session: Session) -> None:
    pending: list[Mail] = session.info.pop(_PENDING, [])
    for mail in pending:
        try:
            deliver(mail)
        except Exception:  # the commit stands; a lost mail is logged, not a 500
            log.exception("could not send %r to %s", mail.subject, mail.to)


def _drop_after_rollback(session: Session, _previous: object = None) -> None:
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Hook delivery to every session's commit (once per process)."""
    if not event.contains(Session, "after_commit", _send_after_commit):
        event.listen(Session, "after_commit", _send_after_commit)
        event.listen(Session, "after_soft_rollback", _drop_after_rollback)
