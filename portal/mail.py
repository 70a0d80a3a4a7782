"""Outgoing mail, sent only after the transaction that queued it commits.

Services call :func:`queue` with a template name; the message is rendered at once (while
the request's data is at hand) and kept on the session. A listener on the session's
``after_commit`` delivers it: by SMTP when a host is configured, otherwise as an ``.eml``
file in ``instance/outbox/``. A rollback drops it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import smtplib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
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
    sender: str = ""  # "" for the configured sender, else the co-op's own address


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


def compose(db: Session, template: str, *, to: str, **context: Any) -> Mail:
    """Render a message from the co-op as ``db`` sees it (its settings may be changing)."""
    settings = coop.settings(db)
    return replace(render(template, to=to, coop=settings, **context), sender=sender(settings))


def queue(db: Session, template: str, *, to: str, **context: Any) -> Mail:
    """Render a message and send it once ``db`` commits (never if it rolls back)."""
    mail = compose(db, template, to=to, **context)
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


def sender(settings: Any, app: Flask | None = None) -> str:
    """Who mail is from: ``MAIL_FROM`` when configured, else the co-op's name and address."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.config.get("MAIL_FROM") or formataddr((settings.name, settings.contact_email))


def _default_sender(app: Flask) -> str:
    """The sender of a message rendered without one; works outside a request, too."""
    if app.config.get("MAIL_FROM"):
        return app.config["MAIL_FROM"]
    with app.app_context():  # commands and jobs deliver outside any context
        return sender(coop.settings(), app)


def outbox_in_use(app: Flask | None = None) -> bool:
    """Whether mail goes to the outbox folder: no SMTP host is configured."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return not app.config.get("SMTP_HOST")


def deliver(mail: Mail, app: Flask | None = None) -> None:
    """Send one message by SMTP, or write it to the outbox when no SMTP host is set."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    message = build_message(mail, sender=mail.sender or _default_sender(app))
    if outbox_in_use(app):
        outbox = outbox_path(app)
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC).strftime(_STAMP)}-{secrets.token_hex(4)}"
        # Written aside, then renamed into place: a process killed mid-write (a worker
        # SIGKILLed) leaves a stray ``.part`` file the outbox never lists, not half a
        # message in it.
        partial = outbox / f".{name}.part"
        partial.write_bytes(bytes(message))
        os.replace(partial, outbox / f"{name}.eml")
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


# An outbox file is named <UTC time to the microsecond>-<8 hex digits>.eml, so the names
# sort oldest to newest; a name is read only when it has exactly this form, which also
# keeps a name from the URL inside the outbox folder.
_STAMP = "%Y%m%dT%H%M%S%f"
_MESSAGE_NAME = re.compile(r"(?P<stamp>[0-9]{8}T[0-9]{12})-[0-9a-f]{8}")
# The most of a file read for the list: its headers, never its body.
_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class OutboxEntry:
    """A message in the outbox as the list shows it: from its name and headers only."""

    name: str
    written_at: datetime
    to: str
    subject: str


@dataclass(frozen=True)
class OutboxMessage:
    """A message read back from the outbox, for the staff page and the tests."""

    name: str
    written_at: datetime
    sender: str
    to: str
    subject: str
    text: str


def outbox_names(app: Flask | None = None) -> list[str]:
    """The names of the messages in the outbox, newest first, from the folder's listing."""
    try:
        listing = os.scandir(outbox_path(app))
    except (FileNotFoundError, NotADirectoryError):
        return []
    with listing:
        names = [
            entry.name.removesuffix(".eml")
            for entry in listing
            if entry.name.endswith(".eml") and entry.is_file()
        ]
    return sorted((name for name in names if _written_at(name)), reverse=True)


def _header(value: object) -> str:
    """A header read back as it was written (a long one is folded onto a new line)."""
    return " ".join(str(value or "").split())


def read_outbox_entries(names: list[str], app: Flask | None = None) -> list[OutboxEntry]:
    """The list's lines for ``names``: each file's headers read, its body left unread."""
    entries = []
    for name in names:
        found = _message_file(name, app)
        if found is None:
            continue  # removed since the folder was listed
        written_at, path = found
        headers = _read_headers(path)
        entries.append(
            OutboxEntry(
                name=name,
                written_at=written_at,
                to=str(headers["To"] or ""),
                subject=_header(headers["Subject"]),
            )
        )
    return entries


def read_outbox_message(name: str, app: Flask | None = None) -> OutboxMessage | None:
    """The message called ``name``, or None when no outbox file has exactly that name."""
    found = _message_file(name, app)
    if found is None:
        return None
    written_at, path = found
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = parsed.get_body(preferencelist=("plain",))
    return OutboxMessage(
        name=name,
        written_at=written_at,
        sender=str(parsed["From"] or ""),
        to=str(parsed["To"] or ""),
        subject=_header(parsed["Subject"]),
        text=body.get_content() if body is not None else "",  # type: ignore[union-attr]
    )


def read_outbox(app: Flask | None = None) -> list[OutboxMessage]:
    """Every message in the outbox, whole, newest first (for the tests)."""
    found = (read_outbox_message(name, app) for name in outbox_names(app))
    return [message for message in found if message is not None]


def _written_at(name: str) -> datetime | None:
    """When the message called ``name`` was written (UTC), or None for any other name."""
    match = _MESSAGE_NAME.fullmatch(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
    except ValueError:  # the form of a time, but no real one (month 13)
        return None


def _message_file(name: str, app: Flask | None) -> tuple[datetime, Path] | None:
    """When the message ``name`` was written and its file, or None if there is no such file."""
    written_at = _written_at(name)
    path = outbox_path(app) / f"{name}.eml"
    if written_at is None or not path.is_file():
        return None
    return written_at, path


def _read_headers(path: Path) -> EmailMessage:
    """The headers of the message at ``path``: its lines up to the first blank one."""
    lines: list[bytes] = []
    size = 0
    with path.open("rb") as fh:
        while size < _MAX_HEADER_BYTES:
            line = fh.readline(_MAX_HEADER_BYTES - size)
            if not line.strip(b"\r\n"):  # the blank line before the body, or the end
                break
            lines.append(line)
            size += len(line)
    parser = BytesParser(policy=policy.default)
    return parser.parsebytes(b"".join(lines), headersonly=True)  # type: ignore[return-value]


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
    """Hook delivery to every session's commit (once per process); tell templates whether
    mail goes to the outbox (the staff dashboard links to it then)."""
    app.jinja_env.globals["outbox_in_use"] = outbox_in_use
    if not event.contains(Session, "after_commit", _send_after_commit):
        event.listen(Session, "after_commit", _send_after_commit)
        event.listen(Session, "after_soft_rollback", _drop_after_rollback)
