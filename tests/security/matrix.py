"""The access matrix: what each role gets from each endpoint, for its own object and another's.

One entry per endpoint of ``app.url_map`` (``static`` aside); a new route fails
``test_every_endpoint_is_in_the_matrix`` until it is entered here. An entry maps each
role to an outcome class (``tests/security/routes.py``: ok, login, redirect, forbidden,
not_found, refused), or to a pair (own, other) where the route names a person's object:
own is asked only of a role that has such an object, other always (it is Ann's, or
Ben's when Ann or Pat asks). A value "plain/htmx" names outcomes that differ by request kind
(a page that redirects where an htmx poll answers its fragment).

For a POST, ``allowed`` marks a role that may act: the request is not sent (it would
change the world the other checks read); every other outcome is sent, with a valid CSRF
token and an empty form, and must write nothing.

The rules, by blueprint: ``staff.*`` — visitors sign in, everyone else who is not staff
403; ``staff.settings.*`` admins only. The members' area (meetings, requisitions,
elections, the board) — members on the register and staff; applicants 403. A person's
objects (orders, certificates, withdrawals, sessions, applications, proxies) — the owner;
anyone else 404, hidden as if missing; staff where their work needs it.
"""

from __future__ import annotations

from typing import Any

from .world import ROLES

Expect = str | tuple[str, str]
MEMBERS = ("member", "other_member", "off_roll", "proxy_holder")


def roles(
    visitor: Expect,
    applicant: Expect,
    members: Expect,
    staff: Expect,
    admin: Expect | None = None,
    /,
    **each: Expect,
) -> dict[str, Expect]:
    """An entry: ``members`` for the four member roles, ``admin`` as ``staff`` unless
    told (an override of ``staff`` too); ``each`` overrides one role by name."""
    entry = {"visitor": visitor, "applicant": applicant, "staff": staff}
    entry["admin"] = staff if admin is None else admin
    entry.update(dict.fromkeys(MEMBERS, members))
    entry.update(each)
    if "staff" in each and "admin" not in each and admin is None:
        entry["admin"] = each["staff"]
    return entry


def everyone(outcome: Expect) -> dict[str, Expect]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: Expect = "ok", **each: Expect) -> dict[str, Expect]:
    """Visitors sign in first; every signed-in role gets ``outcome``."""
    return roles("login", outcome, outcome, outcome, **each)


def members_area(outcome: Expect = "ok", **each: Expect) -> dict[str, Expect]:
    """The members' business (meetings, requisitions, elections): members and staff."""
    return roles("login", "forbidden", outcome, outcome, **each)


def staff_only(outcome: Expect = "ok", **each: Expect) -> dict[str, Expect]:
    return roles("login", "forbidden", "forbidden", outcome, **each)


def admin_only(outcome: Expect = "ok") -> dict[str, Expect]:
    return roles("login", "forbidden", "forbidden", "forbidden", outcome)


def members_only(outcome: Expect = "ok", **each: Expect) -> dict[str, Expect]:
    """A member's own page: applicants and staff (not on the register) find nothing."""
    return roles("login", "not_found", outcome, "not_found", **each)


# Staff POSTs with an empty form: each is refused for the form (409/422), a redirect
# (an action without fields: archive, resume…), or answers a preview; all are allowed.
STAFF_ACTION = staff_only("allowed")
MEMBER_ACTION = members_area("allowed", staff="forbidden")
OWN = ("allowed", "not_found")  # a member's action on their own object, and on another's

EXPECTED: dict[str, dict[str, Expect]] = {
    # Public pages, sign-in, sign-up and the links in e-mails (a forged token is refused).
    "public.landing": everyone("ok"),
    "public.healthz": everyone("ok"),
    "bare.bare": everyone("ok"),
    "documents.library": everyone("ok"),
    "membership.join": everyone("ok"),
    "shares.verify": everyone("ok"),  # public by design: the certificate's QR code
    "auth.check_inbox": everyone("ok"),
    "auth.forgot_password": everyone("ok"),
    "auth.verify_email": everyone("ok"),  # the page says the link is not valid
    "auth.login": roles("ok", "redirect", "redirect", "redirect"),
    "auth.signup": roles("ok", "redirect", "redirect", "redirect"),
    "auth.cancel_email_change": everyone("refused"),
    "auth.reset_password": everyone("refused"),
    "auth.unlock": everyone("refused"),
    "auth.login_post": everyone("refused"),
    "auth.signup_post": everyone("refused"),
    "auth.forgot_password_post": everyone("refused"),
    "auth.cancel_email_change_post": everyone("refused"),
    "auth.reset_password_post": everyone("refused"),
    "auth.unlock_post": everyone("refused"),
    "auth.verify_email_post": everyone("refused"),
    "auth.logout": everyone("allowed"),
    "auth.resend_verification": signed_in("allowed"),
    "auth.confirm_password": signed_in("ok"),
    # The code step of a sign-in: without a password typed first, back to the password.
    "auth.login_code": everyone("login"),
    "auth.login_code_post": everyone("login"),
    # Two-factor set-up: anyone signed in; beginning it makes a secret to scan (allowed),
    # an empty code is refused, and without it on there is nothing to regenerate or turn off
    # (staff, who have it, may make new recovery codes but never turn it off).
    "two_factor.setup": signed_in("ok"),
    "two_factor.start": signed_in("allowed"),
    "two_factor.enable": signed_in("refused"),
    "two_factor.regenerate": signed_in("refused", staff="allowed", admin="allowed"),
    "two_factor.disable": signed_in("refused", staff="forbidden", admin="forbidden"),
    "auth.confirm_password_post": signed_in("refused"),
    # Documents: the one asked for is for members; a visitor or applicant finds nothing.
    "documents.document": roles("not_found", "not_found", "ok", "ok"),
    "documents.version": roles("not_found", "not_found", "ok", "ok"),
    "documents.version_pdf": roles("not_found", "not_found", "ok", "ok"),
    "documents.changes": everyone("not_found"),  # it has one version: no changes to show
    # The signed-in person's own pages.
    "me.dashboard": signed_in(),
    "me.export": signed_in(),
    "me.profile": signed_in(),
    "me.security": signed_in(),
    "me.profile_post": signed_in("refused"),
    "me.change_email": signed_in("refused"),
    "me.change_password": signed_in("allowed"),
    "me.end_other_sessions": signed_in("allowed"),
    "me.end_session": signed_in(OWN),
    "me.resign": members_only(),
    "me.resign_post": members_only("allowed"),
    "me.set_primary_class": members_only("not_found"),  # one class: no choice to make
    # Joining.
    "membership.application_status": signed_in(),
    "membership.join_class": signed_in(),
    "membership.join_class_post": signed_in("refused"),
    "membership.withdraw": roles("login", OWN, OWN, "not_found"),
    # Shares: the owner, and staff (they record payments and cancel for members).
    "shares.overview": signed_in(),
    "shares.history": members_only(),
    "shares.buy": members_only(applicant="redirect", staff="redirect"),
    "shares.buy_post": members_only("allowed"),
    "shares.order": roles("login", "not_found", ("ok", "not_found"), "ok"),
    "shares.cancel_order": roles("login", "not_found", OWN, "allowed"),
    "shares.certificate_pdf": roles("login", "not_found", ("ok", "not_found"), "ok"),
    "withdrawals.request_form": members_only(),
    "withdrawals.request_post": members_only("allowed"),
    "withdrawals.cancel": roles("login", "not_found", OWN, "allowed"),
    # Meetings: members on the register and staff. Olga, admitted after the roll was
    # frozen, reads the meeting but may not take part.
    "meetings.meetings": members_area(),
    "meetings.meeting": members_area(),
    "meetings.turnout": members_area(),
    "meetings.results": members_area(),
    "meetings.results_csv": members_area(),
    "meetings.minutes_pdf": members_area(),
    "meetings.live": members_area("redirect/ok"),  # no session running: back to the meeting
    "meetings.live_ballots": members_area("redirect/ok"),
    "meetings.votes": members_area("not_found"),  # a secret ballot has no list of votes
    "meetings.proxy": members_area(),
    "meetings.proxy_form_pdf": members_area(off_roll="forbidden", staff="forbidden"),
    "meetings.vote": MEMBER_ACTION,
    "meetings.appoint_proxy": MEMBER_ACTION,
    # A proxy: the grantor may revoke it, the holder answer and cast it; no one else.
    "meetings.revoke_proxy": members_area(
        ("allowed", "forbidden"), proxy_holder="forbidden", staff="forbidden"
    ),
    "meetings.answer_proxy": members_area(
        "forbidden", proxy_holder=("allowed", "forbidden"), staff="forbidden"
    ),
    "meetings.cast_proxy": members_area(
        "forbidden", proxy_holder=("allowed", "forbidden"), staff="forbidden"
    ),
    "proposals.call": members_area(),
    "proposals.submit": members_area("allowed"),
    "proposals.second": MEMBER_ACTION,
    "requisitions.requisitions_list": members_area(),
    "requisitions.requisition": members_area(),
    "requisitions.start": members_area("allowed"),
    "requisitions.sign": members_area("forbidden"),  # signing has closed: it was met
    "board.board_page": members_area(),
    "elections.nominations_page": members_area(),
    "elections.photo": members_area("not_found"),  # the candidate has no photo
    "elections.nominate": MEMBER_ACTION,
    "elections.second": MEMBER_ACTION,
    "elections.accept": members_area("forbidden"),  # only the nominee, who is not here
    "elections.withdraw": members_area("forbidden"),
    "election_results.election": members_area(
        "forbidden", staff="ok"
    ),  # not declared yet: staff only
    "election_ballots.ballot": members_area(),
    "election_ballots.rank": MEMBER_ACTION,
    # The proxy named is for another meeting: not found for anyone.
    "election_ballots.rank_for": members_area("not_found"),
    # Staff pages.
    "staff.dashboard.index": staff_only(),
    "staff.audit.log": staff_only(),
    "staff.outbox.messages": staff_only(),
    "staff.outbox.message": staff_only("not_found"),  # read in debug mode only
    "staff.applications.queue": staff_only(),
    "staff.members.search": staff_only(),
    "staff.members.export_csv": staff_only(),
    "staff.members.detail": staff_only(),
    "staff.members.shares_list": staff_only(),
    "staff.register.register": staff_only(),
    "staff.register.export_csv": staff_only(),
    "staff.register.export_pdf": staff_only(),
    "staff.register.export": staff_only(),
    "staff.register.export_file": staff_only(),
    "staff.orders.pending": staff_only(),
    "staff.withdrawals.pending": staff_only(),
    "staff.transfers.page": staff_only(),
    "staff.documents.library": staff_only(),
    "staff.documents.document": staff_only(),
    "staff.board.page": staff_only(),
    "staff.requisitions.requisition": staff_only(),
    "staff.meetings.list": staff_only(),
    "staff.meetings.meeting": staff_only(),
    "staff.meetings.live": staff_only(),
    "staff.meetings.roll_csv": staff_only(),
    "staff.meeting_room.attendance": staff_only(),
    "staff.meeting_room.room": staff_only(),
    "staff.meeting_notices.progress": staff_only(),
    "staff.meeting_proposals.proposals": staff_only(),
    "staff.meeting_proxies.proxies": staff_only(),
    "staff.meeting_proxies.new_proxy": staff_only(),
    "staff.meeting_elections.elections": staff_only(),
    "staff.meeting_elections.election": staff_only(),
    "staff.meeting_minutes.editor": staff_only("refused"),  # voting is open: no minutes yet
    "staff.settings.index": admin_only(),
    "staff.settings.edit_setting": admin_only(),
    "staff.settings.edit_class": admin_only(),
    "staff.settings.edit_share_type": admin_only(),
    "staff.settings.update_setting": admin_only("allowed"),
    "staff.settings.update_class": admin_only("allowed"),
    "staff.settings.update_share_type": admin_only("allowed"),
    "staff.settings.add_question": admin_only("allowed"),
    "staff.settings.remove_question": admin_only("allowed"),
    # A proxy is cast by staff only when it is the chair's: Pat holds this one.
    "staff.meeting_proxies.cast": staff_only("forbidden"),
}
for _endpoint in (
    "staff.applications.approve",
    "staff.applications.approve_selected",
    "staff.applications.ask",
    "staff.applications.reject",
    "staff.applications.remind",
    "staff.board.end_term",
    "staff.board.record",
    "staff.documents.archive",
    "staff.documents.create",
    "staff.documents.preview",
    "staff.documents.publish",
    "staff.documents.rulebook",
    "staff.documents.update_details",
    "staff.meeting_elections.cancel",
    "staff.meeting_elections.change",
    "staff.meeting_elections.close_nominations",
    "staff.meeting_elections.confirm_candidate",
    "staff.meeting_elections.confirm_list",
    "staff.meeting_elections.count_now",
    "staff.meeting_elections.create",
    "staff.meeting_elections.declare",
    "staff.meeting_elections.open_nominations",
    "staff.meeting_elections.reject_candidate",
    "staff.meeting_minutes.preview",
    "staff.meeting_minutes.publish",
    "staff.meeting_minutes.save",
    "staff.meeting_notices.resume",
    "staff.meeting_proposals.accept",
    "staff.meeting_proposals.return_",
    "staff.meeting_proposals.set_call",
    "staff.meeting_proxies.cast_directed",
    "staff.meeting_proxies.record_proxy",
    "staff.meeting_room.hands",
    "staff.meeting_room.mark",
    "staff.meeting_room.paper",
    "staff.meetings.add_agenda_item",
    "staff.meetings.add_resolution",
    "staff.meetings.cancel",
    "staff.meetings.close_in_session",
    "staff.meetings.close_voting",
    "staff.meetings.create",
    "staff.meetings.edit_resolution",
    "staff.meetings.end_session",
    "staff.meetings.open_in_session",
    "staff.meetings.open_voting",
    "staff.meetings.send_notice",
    "staff.meetings.start_session",
    "staff.meetings.take_item",
    "staff.meetings.withdraw_resolution",
    "staff.members.anonymise",
    "staff.members.confirm_resignation",
    "staff.orders.record_payment",
    "staff.register.request_export",
    "staff.requisitions.record_meeting",
    "staff.transfers.record",
    "staff.withdrawals.approve",
    "staff.withdrawals.reject",
    "staff.withdrawals.repay",
):
    EXPECTED[_endpoint] = STAFF_ACTION


def expected(endpoint: str, role: str, variant: str, htmx: bool) -> str:
    """The outcome class the matrix expects for one request."""
    value: Any = EXPECTED[endpoint][role]
    if isinstance(value, tuple):
        value = value[0] if variant == "own" else value[1]
    plain, _, for_htmx = value.partition("/")
    return for_htmx if htmx and for_htmx else plain
