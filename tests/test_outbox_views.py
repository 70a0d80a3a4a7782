"""The staff outbox: mail written to the instance's folder while no SMTP server is configured,
listed newest first in pages, each message on a page of its own (and nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal import mail
from portal.views.staff.outbox import PAGE_SIZE

SENDER = "Reverb Music Co-op <members@reverb.example>"


def write_message(app, stamp: str, subject: str, *, to="ann@example.org", text="Hello.\n"):
    """Put a message in the outbox as if sent at ``stamp`` (YYYYmmddTHHMMSSffffff, UTC)."""
    message = mail.build_message(
        mail.Mail(to=to, subject=subject, text=text, html=f"<p>{text}</p>"),
        sender=SENDER,
    )
    folder = mail.outbox_path(app)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{stamp}-{int(stamp[-6:]):08x}"
    (folder / f"{name}.eml").write_bytes(bytes(message))
    return name


def stamp(n: int) -> str:
    """The n-th second of 6 December 2026, as an outbox file's time."""
    return f"20261206T{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}{n:06d}"


def test_the_outbox_is_there_whenever_no_smtp_server_is_configured(app, staff):
    # Not in debug mode: a local run or a small deployment without SMTP reads mail here.
    assert not app.debug
    name = write_message(app, stamp(1), "Confirm your e-mail address")
    page = staff.get("/staff/outbox")
    assert page.status_code == 200
    assert str(mail.outbox_path(app)) in page.get_data(as_text=True)
    assert staff.get(f"/staff/outbox/{name}").status_code == 200
    assert "/staff/outbox" in staff.get("/staff").get_data(as_text=True)


def test_with_an_smtp_server_there_is_no_outbox(app_factory, make_user):
    app = app_factory(SMTP_HOST="smtp.example.org")
    name = write_message(app, stamp(1), "Left over from before SMTP was set up")
    make_user(email="s@example.org", role="staff")
    client = app.test_client()
    client.login("s@example.org")
    assert client.get("/staff/outbox").status_code == 404
    assert client.get(f"/staff/outbox/{name}").status_code == 404
    assert "/staff/outbox" not in client.get("/staff").get_data(as_text=True)


def test_the_outbox_is_for_staff_only(app, client, make_user):
    name = write_message(app, stamp(1), "Confirm your e-mail address")
    for path in ("/staff/outbox", f"/staff/outbox/{name}"):
        assert client.get(path).status_code == 303  # to the sign-in page
    make_user(email="m@example.org")
    client.login("m@example.org")
    for path in ("/staff/outbox", f"/staff/outbox/{name}"):
        assert client.get(path).status_code == 403


def test_the_outbox_lists_the_newest_first_in_pages(app, staff):
    total = PAGE_SIZE + 5
    for n in range(total):
        write_message(app, stamp(n), f"Message {n:03d}", text=f"Body of message {n:03d}.\n")
    first = staff.get("/staff/outbox").get_data(as_text=True)
    assert f"Showing 1–{PAGE_SIZE} of {total} messages" in first
    subjects = re.findall(r">(Message \d{3})</a>", first)
    assert subjects == [f"Message {n:03d}" for n in range(total - 1, 4, -1)]
    assert "Body of message" not in first  # a list of messages, not every message in full
    assert "page=2" in first
    second = staff.htmx_get("/staff/outbox?page=2").get_data(as_text=True)
    assert "<html" not in second and 'id="outbox-results"' in second
    assert re.findall(r">(Message \d{3})</a>", second) == [
        f"Message {n:03d}" for n in range(4, -1, -1)
    ]


def test_the_list_reads_each_file_s_headers_and_not_its_body(app, monkeypatch):
    names = [
        write_message(app, stamp(n), f"Large {n}", text="x" * 2_000_000 + "\n") for n in range(3)
    ]
    opened: list[CountingFile] = []
    real_open = Path.open

    def counting_open(path: Path, *args, **kwargs):
        opened.append(CountingFile(real_open(path, *args, **kwargs)))
        return opened[-1]

    def refuse(path: Path) -> bytes:
        raise AssertionError(f"{path.name} read whole")

    monkeypatch.setattr(Path, "open", counting_open)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    entries = mail.read_outbox_entries(mail.outbox_names(app), app)
    assert [e.subject for e in entries] == ["Large 2", "Large 1", "Large 0"]
    assert [e.name for e in entries] == names[::-1]
    assert len(opened) == 3 and all(f.consumed < 4096 for f in opened)


class CountingFile:
    """A file that counts the bytes taken from it."""

    def __init__(self, fh):
        self.fh = fh
        self.consumed = 0

    def readline(self, limit: int = -1) -> bytes:
        line = self.fh.readline(limit)
        self.consumed += len(line)
        return line

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.consumed += len(data)
        return data

    def __iter__(self):
        return iter(self.readline, b"")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_a_message_opens_on_its_own_page_with_its_link_to_click(app, client, make_user, staff):
    client.post(
        "/signup",
        data={
            "name": "New Person",
            "email": "new@example.org",
            "password": "harvest-mirror-piano-64",
        },
    )
    listing = staff.get("/staff/outbox").get_data(as_text=True)
    [path] = re.findall(r'href="(/staff/outbox/[^"]+)">Confirm your e-mail address<', listing)
    page = staff.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1" in html and "Confirm your e-mail address</h1>" in html
    assert "To new@example.org" in html
    assert f"From {SENDER}".replace("<", "&lt;").replace(">", "&gt;") in html
    assert re.search(r'<a href="https?://localhost/verify-email/[^"]+"', html)


@pytest.mark.parametrize(
    "name",
    [
        "..",
        "..%2Fsecret_key",
        "%2E%2E%2Fportal.sqlite3",
        "secret_key",
        "20261206T000001000001-00000001.eml",  # the file's name, not the message's
        "20261206T000001000001-0000000A",  # upper-case hex: not a name the portal writes
        "20261206T000001000001-00000001 ",
        "20261206T000001000001-00000002",  # the form of a name, but no such message
        "20261306T000001000001-00000001",  # no 13th month
        "x" * 5000,
    ],
)
def test_a_name_that_is_not_an_outbox_message_is_not_found(app, staff, name):
    write_message(app, stamp(1), "The one message")
    (mail.outbox_path(app).parent / "secret_key").write_text("not for the outbox page")
    response = staff.get(f"/staff/outbox/{name}")
    assert response.status_code == 404
    assert "not for the outbox page" not in response.get_data(as_text=True)


def test_only_files_the_portal_writes_are_listed(app, staff):
    folder = mail.outbox_path(app)
    write_message(app, stamp(1), "A real message")
    (folder / "notes.eml").write_text("Subject: Not one of ours\n\nHello\n")
    (folder / "20261306T000001000001-00000001.eml").write_text("Subject: No such day\n\n")
    (folder / "20261206T000002000002-00000002.eml").mkdir()
    assert mail.outbox_names(app) == ["20261206T000001000001-00000001"]
    assert mail.read_outbox_message("../secret_key", app) is None
    page = staff.get("/staff/outbox").get_data(as_text=True)
    assert "A real message" in page
    assert "Not one of ours" not in page and "No such day" not in page
    assert staff.get("/staff/outbox/notes").status_code == 404


def test_an_empty_or_missing_outbox_says_so(app, staff):
    assert not mail.outbox_path(app).exists()
    page = staff.get("/staff/outbox?page=7")
    assert page.status_code == 200
    assert "The outbox is empty." in page.get_data(as_text=True)
