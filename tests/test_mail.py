"""Mail goes out only after the transaction commits, as text and HTML."""

from __future__ import annotations

from dataclasses import replace
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from portal import mail
from portal.db import database


def test_mail_is_written_only_when_the_transaction_commits(app, outbox):
    with app.test_request_context("/"):
        session = database(app).session(write=True)
        mail.queue(
            session, "password_changed", to="a@example.org", user=type("U", (), {"name": "A"})()
        )
        assert outbox() == []
        session.rollback()
        session.commit()
        assert outbox() == []  # dropped with the rollback

        mail.queue(
            session, "password_changed", to="b@example.org", user=type("U", (), {"name": "B"})()
        )
        session.commit()
        session.close()
    [message] = outbox()
    assert message.to == "b@example.org"
    assert message.subject == "Your password was changed"


def test_messages_have_text_and_html_parts_from_the_templates(app):
    with app.test_request_context("/"):
        session = database(app).session(write=True)
        mail.queue(
            session,
            "verify_email",
            to="c@example.org",
            user=type("U", (), {"name": "Cian"})(),
            token="tok",
        )
        session.commit()
        session.close()
    [path] = (mail.outbox_path(app)).glob("*.eml")
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["From"] == "Reverb Music Co-op <members@reverb.example>"  # the co-op's
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "Hello Cian" in text and "/verify-email/tok" in text
    assert "Hello Cian" in html and "/verify-email/tok" in html


def test_mail_rendered_outside_a_request_uses_the_public_url(app):
    app.config["PUBLIC_BASE_URL"] = "https://members.reverb.example"
    with app.app_context():
        rendered = mail.render(
            "verify_email", to="d@example.org", user=type("U", (), {"name": "D"})(), token="t"
        )
    assert "https://members.reverb.example/verify-email/t" in rendered.text


def test_a_long_subject_reads_back_from_the_outbox_as_it_was_sent(app, outbox):
    subject = "Your application is approved: pay your membership share to become a member"
    with app.app_context():
        mail.deliver(mail.Mail(to="e@example.org", subject=subject, text="x\n", html="<p>x</p>"))
        [entry] = mail.read_outbox_entries(mail.outbox_names(app), app)
    [message] = outbox()
    assert (message.subject, entry.subject) == (subject, subject)


def test_a_message_cut_off_while_written_never_shows_in_the_outbox(app, outbox, monkeypatch):
    """A worker killed while it writes a message (issue 17 §6) leaves no half message: the
    outbox lists whole messages only, and a whole one is written as before."""
    write_bytes = Path.write_bytes

    def killed_halfway(path: Path, data: bytes) -> int:
        write_bytes(path, data[: len(data) // 2])
        raise SystemExit("killed")

    sent = mail.Mail(to="cut@example.org", subject="Cut off", text="x\n" * 500, html="<p>x</p>")
    with app.app_context():
        monkeypatch.setattr(Path, "write_bytes", killed_halfway)
        with pytest.raises(SystemExit):
            mail.deliver(sent)
        monkeypatch.undo()
        assert mail.outbox_names(app) == []
        mail.deliver(replace(sent, to="whole@example.org"))
    [message] = outbox()
    assert (message.to, message.text) == ("whole@example.org", sent.text)
    assert [p.name for p in mail.outbox_path(app).glob("*.eml")] == [f"{message.name}.eml"]


def test_mail_delivered_outside_any_context_is_from_the_co_op(app_factory):
    """A command or job may deliver with no app context: the sender is still the co-op's."""
    app = app_factory(MAIL_FROM=None)
    mail.deliver(mail.Mail(to="a@example.org", subject="Hi", text="Hi.", html="<p>Hi.</p>"), app)
    [path] = mail.outbox_path(app).glob("*.eml")
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["From"] == "Reverb Music Co-op <members@reverb.example>"
    app = app_factory(MAIL_FROM="Someone <someone@example.org>")
    mail.deliver(mail.Mail(to="a@example.org", subject="Hi", text="Hi.", html="<p>Hi.</p>"), app)
    assert any(
        "From: Someone <someone@example.org>" in p.read_text()
        for p in mail.outbox_path(app).glob("*.eml")
    )
