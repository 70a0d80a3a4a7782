"""Admin settings over HTTP: the page, inline setting edits, member classes and questions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import (
    ApplicationQuestion,
    AuditEvent,
    CoopSettings,
    MemberClass,
    Requisition,
)
from portal.presets import RESONATE

from .factories import HTMX, audit_actions, is_page, is_partial, reading

pytestmark = pytest.mark.usefixtures("coop")


def stored_settings(app):
    with reading(app) as db:
        return db.get(CoopSettings, 1)


def listener(app):
    with reading(app) as db:
        return db.scalar(select(MemberClass).where(MemberClass.code == "listener"))


def audit_summaries(app, action):
    with reading(app) as db:
        return list(db.scalars(select(AuditEvent.summary).where(AuditEvent.action == action)))


def listener_form(**changes):
    """The listener class's edit form as a browser posts it, unchanged but for ``changes``."""
    preset = next(c for c in RESONATE.classes if c.code == "listener")
    form = {
        "name": preset.name,
        "summary": preset.summary,
        "description": preset.description,
        "admission_rule": preset.admission_rule.value,
        "required_shares": str(preset.required_shares),
        "annual_fee_minor": f"{preset.annual_fee_minor / 100:.2f}",
        "board_seats": str(preset.board_seats),
        "voting_weight": str(preset.voting_weight),
        "open_for_applications": "y",
    }
    form.update(changes)
    return form


# --- The page ------------------------------------------------------------------------------


def test_an_admin_sees_the_settings_and_the_member_classes(admin):
    page = admin.get("/staff/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<div class="setting-row" id="setting-notice_days">' in html
    assert '<div class="setting-row" id="setting-two_person_approval">' in html
    for code in ("listener", "artist", "worker"):
        assert f'id="class-{code}"' in html
    assert "€10 a year" in html
    assert "Link to one of your releases" in html  # the artist's questions


# --- One setting ---------------------------------------------------------------------------


def test_a_setting_opens_for_editing_in_place(admin):
    partial = admin.htmx_get("/staff/settings/notice_days")
    assert partial.status_code == 200 and is_partial(partial)
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith(
        '<div class="setting-row setting-editing" id="setting-notice_days"'
    )
    assert 'name="value" value="14"' in body
    page = admin.get("/staff/settings/notice_days")
    assert page.status_code == 200 and is_page(page)
    assert "Edit a setting" in page.get_data(as_text=True)


def test_a_setting_saved_in_place_shows_the_new_value_and_is_audited(app, admin):
    response = admin.post("/staff/settings/notice_days", data={"value": "21"}, headers=HTMX)
    assert response.status_code == 200 and is_partial(response)
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith('<div class="setting-row" id="setting-notice_days">')
    assert '<span class="setting-value">21</span>' in row
    assert stored_settings(app).notice_days == 21
    assert audit_summaries(app, "settings.changed") == ["Notice period (clear days): 14 → 21"]


def test_an_amount_setting_is_audited_in_the_coops_currency(app, admin):
    response = admin.post("/staff/settings/max_holding_minor", data={"value": "200000"})
    assert response.status_code == 303
    assert audit_summaries(app, "settings.changed") == [
        "Maximum holding per member: €150,000 → €200,000"
    ]


def test_a_setting_saved_without_javascript_returns_to_the_settings_page(app, admin):
    response = admin.post("/staff/settings/notice_days", data={"value": "30"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/settings#setting-notice_days"
    assert stored_settings(app).notice_days == 30
    assert "Setting saved." in admin.get("/staff/settings").get_data(as_text=True)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_a_setting_that_is_not_a_whole_number_is_refused(app, admin, headers):
    response = admin.post("/staff/settings/notice_days", data={"value": "abc"}, headers=headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert is_partial(response) if headers else is_page(response)
    assert 'id="value-notice_days-error">Notice period must be a whole number.' in html
    assert 'value="abc"' in html  # what was typed, to correct
    assert stored_settings(app).notice_days == 14
    assert "settings.changed" not in audit_actions(app)


def test_a_setting_out_of_range_is_refused(app, admin):
    response = admin.post("/staff/settings/notice_days", data={"value": "91"}, headers=HTMX)
    assert response.status_code == 422
    assert "Notice period must be between 0 and 90." in response.get_data(as_text=True)
    assert stored_settings(app).notice_days == 14


def test_an_unknown_setting_is_not_found(app, admin):
    assert admin.get("/staff/settings/colour").status_code == 404
    assert admin.htmx_get("/staff/settings/colour").status_code == 404
    assert admin.post("/staff/settings/colour", data={"value": "red"}).status_code == 404
    assert admin.post("/staff/settings/id", data={"value": "2"}).status_code == 404
    assert "settings.changed" not in audit_actions(app)


def test_a_yes_no_setting_is_switched_on_and_off(app, admin):
    admin.post("/staff/settings/two_person_approval", data={"value": "true"})
    assert stored_settings(app).two_person_approval is True
    row = admin.post(
        "/staff/settings/two_person_approval", data={"value": "false"}, headers=HTMX
    ).get_data(as_text=True)
    assert '<span class="setting-value">No</span>' in row
    assert stored_settings(app).two_person_approval is False
    assert len(audit_summaries(app, "settings.changed")) == 2


# The meeting settings of issue 14: proxies and requisitions.
MEETING_SETTINGS = [
    # name, stored before, typed, refused, its message
    ("proxy_deadline_hours", 48, "24", "721", "Proxy deadline must be between 0 and 720."),
    ("requisition_percent", 10, "20", "0", "Requisition percentage must be between 1 and 100."),
    (
        "requisition_signing_days",
        28,
        "14",
        "366",
        "Days to collect signatures must be between 1 and 365.",
    ),
    ("requisition_call_days", 21, "28", "0", "Days to call the meeting must be between 1 and 180."),
]


@pytest.mark.parametrize(("name", "before", "typed", "refused", "message"), MEETING_SETTINGS)
def test_the_proxy_and_requisition_settings_are_edited_within_their_bounds(
    app, admin, name, before, typed, refused, message
):
    assert f'id="setting-{name}"' in admin.get("/staff/settings").get_data(as_text=True)
    assert getattr(stored_settings(app), name) == before
    for headers in (HTMX, {}):
        response = admin.post(f"/staff/settings/{name}", data={"value": refused}, headers=headers)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert getattr(stored_settings(app), name) == before
    assert "settings.changed" not in audit_actions(app)
    assert admin.post(f"/staff/settings/{name}", data={"value": typed}).status_code == 303
    assert getattr(stored_settings(app), name) == int(typed)
    [summary] = audit_summaries(app, "settings.changed")
    assert summary.endswith(f": {before} → {typed}")


def test_a_new_requisition_needs_the_percent_the_admin_set(app, admin, make_member, sign_in):
    workers = [make_member(email=f"w{i}@example.org", classes=["worker"]) for i in range(4)]
    admin.post("/staff/settings/requisition_percent", data={"value": "50"})
    data = {"kind": "class", "member_class": "worker", "purpose": "Discuss pay."}
    assert sign_in(workers[0].email).post("/meetings/requisitions", data=data).status_code == 303
    with reading(app) as db:
        requisition = db.scalar(select(Requisition))
        assert (requisition.base_members, requisition.threshold) == (4, 2)


def test_the_chair_exemption_from_the_proxy_cap_is_switched_off_and_on(app, admin):
    assert 'id="setting-chair_exempt_from_proxy_cap"' in admin.get("/staff/settings").get_data(
        as_text=True
    )
    assert stored_settings(app).chair_exempt_from_proxy_cap is True
    admin.post("/staff/settings/chair_exempt_from_proxy_cap", data={"value": "false"})
    assert stored_settings(app).chair_exempt_from_proxy_cap is False
    admin.post("/staff/settings/chair_exempt_from_proxy_cap", data={"value": "true"})
    assert stored_settings(app).chair_exempt_from_proxy_cap is True
    assert audit_summaries(app, "settings.changed") == [
        "The chair may hold any number of proxies: True → False",
        "The chair may hold any number of proxies: False → True",
    ]


# --- Member classes ------------------------------------------------------------------------


def test_a_class_fee_change_shows_on_the_join_page_and_is_audited(app, admin, client):
    response = admin.post(
        "/staff/settings/classes/listener", data=listener_form(annual_fee_minor="12.50")
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/settings#class-listener"
    assert listener(app).annual_fee_minor == 1250
    assert "€12.50 a year" in client.get("/join").get_data(as_text=True)
    assert audit_summaries(app, "member_class.changed") == ["Listener: changed annual_fee_minor"]


def test_a_class_edit_in_place_answers_with_the_class_card(app, admin):
    form = admin.htmx_get("/staff/settings/classes/listener")
    assert form.status_code == 200 and is_partial(form)
    assert 'name="annual_fee_minor" inputmode="decimal" value="10.00"' in form.get_data(
        as_text=True
    )
    response = admin.post(
        "/staff/settings/classes/listener",
        data=listener_form(annual_fee_minor="12.50"),
        headers=HTMX,
    )
    assert response.status_code == 200 and is_partial(response)
    card = response.get_data(as_text=True)
    assert card.lstrip().startswith('<article class="card class-admin" id="class-listener"')
    assert "€12.50 a year" in card


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_a_voting_weight_over_100_is_refused(app, admin, headers):
    response = admin.post(
        "/staff/settings/classes/listener",
        data=listener_form(voting_weight="150", annual_fee_minor="99"),
        headers=headers,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Voting weight must be between 0 and 100." in html
    assert 'value="150"' in html
    stored = listener(app)
    assert (stored.voting_weight, stored.annual_fee_minor) == (35, 1000)  # nothing saved
    assert "member_class.changed" not in audit_actions(app)


def test_a_bad_fee_is_refused(app, admin):
    response = admin.post(
        "/staff/settings/classes/listener",
        data=listener_form(annual_fee_minor="ten euro"),
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Annual fee must be an amount like 10 or 10.50." in response.get_data(as_text=True)
    assert listener(app).annual_fee_minor == 1000


def test_an_unknown_class_is_not_found(admin):
    assert admin.get("/staff/settings/classes/astronaut").status_code == 404
    assert admin.post("/staff/settings/classes/astronaut", data=listener_form()).status_code == 404
    add = admin.post("/staff/settings/classes/astronaut/questions", data={"label": "Why?"})
    assert add.status_code == 404


# --- Questions -----------------------------------------------------------------------------


def test_a_question_added_to_a_class_is_asked_on_its_form_until_removed(
    app, admin, make_user, sign_in
):
    response = admin.post(
        "/staff/settings/classes/listener/questions",
        data={"label": "Your favourite genre", "kind": "text", "required": "y"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/settings#class-listener"
    with reading(app) as db:
        question = db.scalar(
            select(ApplicationQuestion).where(ApplicationQuestion.label == "Your favourite genre")
        )
        question_id, key = question.id, question.key
    assert key == "your_favourite_genre"
    assert audit_summaries(app, "question.added") == ["Listener: Your favourite genre"]

    make_user(email="lee@example.org")
    applicant = sign_in("lee@example.org")
    form = applicant.get("/join/listener").get_data(as_text=True)
    assert "Your favourite genre" in form and f'name="answer-{key}"' in form
    unanswered = applicant.post(
        "/join/listener",
        data={"address_line1": "1 Main St", "town": "Cork", "country": "IE", "accept_rules": "y"},
    )
    assert unanswered.status_code == 422
    assert f'id="f-answer-{key}-error">This answer is required.' in unanswered.get_data(
        as_text=True
    )

    removed = admin.post(f"/staff/settings/classes/listener/questions/{question_id}/delete")
    assert removed.status_code == 303
    assert "Your favourite genre" not in applicant.get("/join/listener").get_data(as_text=True)
    assert audit_summaries(app, "question.removed") == ["Listener: removed Your favourite genre"]


def test_a_question_without_a_label_is_not_added(app, admin):
    response = admin.post(
        "/staff/settings/classes/listener/questions", data={"label": " ", "kind": "text"}
    )
    assert response.status_code == 303
    page = admin.get("/staff/settings").get_data(as_text=True)
    assert "The question was not added: Question cannot be empty." in page
    with reading(app) as db:
        listener_id = db.scalar(select(MemberClass.id).where(MemberClass.code == "listener"))
        questions = db.scalars(
            select(ApplicationQuestion).where(ApplicationQuestion.class_id == listener_id)
        ).all()
        assert questions == []
    assert "question.added" not in audit_actions(app)


def test_a_question_is_removed_only_through_its_own_class(app, admin):
    with reading(app) as db:
        artist_question = db.scalar(
            select(ApplicationQuestion.id).where(ApplicationQuestion.key == "artist_name")
        )
    url = f"/staff/settings/classes/listener/questions/{artist_question}/delete"
    assert admin.post(url).status_code == 404
    assert admin.post("/staff/settings/classes/listener/questions/9999/delete").status_code == 404
    with reading(app) as db:
        assert db.get(ApplicationQuestion, artist_question) is not None


# --- Who may change settings ---------------------------------------------------------------

SETTINGS_REQUESTS = [
    ("GET", "/staff/settings", {}),
    ("GET", "/staff/settings/notice_days", {}),
    ("POST", "/staff/settings/notice_days", {"value": "21"}),
    ("POST", "/staff/settings/two_person_approval", {"value": "true"}),
    ("GET", "/staff/settings/classes/listener", {}),
    ("POST", "/staff/settings/classes/listener", listener_form(annual_fee_minor="1")),
    ("POST", "/staff/settings/classes/listener/questions", {"label": "Why?", "kind": "text"}),
    ("POST", "/staff/settings/classes/artist/questions/1/delete", {}),
]


@pytest.mark.parametrize("role", ["member", "staff"])
@pytest.mark.parametrize(("method", "path", "data"), SETTINGS_REQUESTS)
def test_only_an_admin_can_reach_the_settings(app, make_user, sign_in, role, method, path, data):
    make_user(email="someone@example.org", role=role)
    client = sign_in("someone@example.org")
    before = audit_actions(app)
    for headers in ({}, HTMX):
        if method == "GET":
            response = client.get(path, headers=headers)
        else:
            response = client.post(path, data=dict(data), headers=headers)
        assert response.status_code == 403
    assert stored_settings(app).notice_days == 14
    assert audit_actions(app) == before


@pytest.mark.parametrize(("method", "path", "data"), SETTINGS_REQUESTS)
def test_a_signed_out_visitor_is_sent_to_sign_in_from_the_settings(client, method, path, data):
    def send(**headers):
        if method == "GET":
            return client.get(path, headers=headers)
        return client.post(path, data=dict(data), headers=headers)

    plain = send()
    assert plain.status_code == 303 and plain.headers["Location"].startswith("/login")
    htmx = send(**HTMX)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
