"""Each route of the URL map filled in with the world's ids, and a response's outcome class.

A route whose arguments name something a person owns (an order, a certificate, a proxy
appointment…) is asked twice per role: with the role's own object and with another's
(Ann's; Ben's when the role is Ann or Pat). Other arguments (a meeting, a document) name objects
of the co-op that are the same for everyone, so such a route is asked once ("any").
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask import Flask
from pypdf import PdfReader
from werkzeug.routing import Rule

from .world import PERSON, World

# Arguments that name a person's own object.
OWNED = {
    "application_id",
    "number",
    "order_id",
    "withdrawal_id",
    "session_id",
    "appointment_id",
    "member_id",
}
TOKEN = "not-a-real-token"
DOCUMENT = "standing-orders"  # visible to members
FAKE_PDF = b"%PDF-1.7 certificate "  # tests.factories.fake_certificate


def rules(app: Flask) -> list[Rule]:
    """Every rule of the app but ``static``, in URL order."""
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


def is_owned(rule: Rule) -> bool:
    """Whether the route names an object some person owns (so own and other differ)."""
    return bool(OWNED & rule.arguments) and not rule.endpoint.startswith("documents.")


def variants(rule: Rule) -> tuple[str, ...]:
    """Whose object the route is asked with: ("own", "other"), or ("any",)."""
    return ("own", "other") if is_owned(rule) else ("any",)


def whose(role: str, variant: str) -> str | None:
    """The person whose objects fill the route: the role's own, or a victim's (Ann's, or
    Ben's for Ann and for Pat); None for own when the role is no one."""
    person = PERSON.get(role)
    if variant == "own":
        return person
    # Pat's own proxy is the one Ann gave him: another's is Ben's.
    return "ben" if person in ("ann", "pat") else "ann"


def _meeting(world: World, endpoint: str) -> int | None:
    if "proxy" in endpoint or "proxies" in endpoint:
        return world.proxy_meeting
    if "election" in endpoint:
        return world.shared["election_meeting"]
    if "proposal" in endpoint:
        return world.shared["proposal_meeting"]
    if endpoint == "meetings.minutes_pdf":
        return world.shared["minuted_meeting"]
    return world.secret_meeting


def arguments(world: World, rule: Rule, role: str, variant: str) -> dict[str, Any] | None:
    """The rule's arguments for this role and variant; None when there is nothing to fill
    (the role owns no such object)."""
    endpoint = rule.endpoint
    person = whose(role, variant)
    owned = world.owned.get(person, {}) if person else {}
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name in OWNED and not endpoint.startswith("documents."):
            value = owned.get(name)
        elif name == "number":  # a document's version
            value = 1
        elif name == "meeting_id":
            value = _meeting(world, endpoint)
        elif name == "resolution_id":
            proxied = "proxy" in endpoint or "proxies" in endpoint
            value = world.proxy_resolution if proxied else world.secret_resolution
        elif name == "slug":
            value = DOCUMENT
        elif name == "token":
            value = TOKEN
        elif name == "code":
            value = {
                "shares.verify": world.shared.get("verify_code"),
                "staff.settings.edit_share_type": "supporter",
                "staff.settings.update_share_type": "supporter",
            }.get(endpoint, "artist")
        elif name == "name":
            value = world.shared["outbox_name"] if "outbox" in endpoint else "quorum_percent"
        elif name == "kind":
            value = "certificates"
        else:
            value = world.shared.get(name)
        if value is None:
            return None
        values[name] = value
    return values


def requests(app: Flask, world: World, role: str) -> Iterator[tuple[Rule, str, str]]:
    """(rule, variant, path) for each route this role is asked, both variants."""
    adapter = app.url_map.bind("localhost")
    for rule in rules(app):
        for variant in variants(rule):
            values = arguments(world, rule, role, variant)
            if values is None:
                continue
            yield rule, variant, adapter.build(rule.endpoint, values)


def text_of(response: Any) -> str:
    """What a response says: a PDF's text, line by line (pypdf, as the suite reads PDFs),
    or the body as text. The factories' stand-in certificates are not real PDFs."""
    data = response.get_data()
    if response.mimetype == "application/pdf" and not data.startswith(FAKE_PDF):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode(errors="replace")


def outcome(response: Any) -> str:
    """The class of a response: ok, login, redirect, forbidden, not_found, refused (a
    4xx for the request itself: 400, 405, 409, 422), or error.

    The project's htmx forms count as their plain kind: a redirect comes as 200 with
    ``HX-Redirect`` (``portal/htmx.py``), a visitor sent to sign in as 401 with
    ``HX-Redirect`` to ``/login`` (``views/access.py``).
    """
    response.get_data()  # read streamed bodies, so each request ends before the next
    response.close()
    status = response.status_code
    target = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
    path = target.split("://", 1)[-1]
    path = path[path.find("/") :] if "://" in target else path
    if status == 401 or (status in (200, 302, 303) and target):
        return "login" if path.startswith("/login") else "redirect"
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 400:
        return "redirect"
    return {403: "forbidden", 404: "not_found"}.get(
        status, "refused" if 400 <= status < 500 else "error"
    )
