"""Share types as data: admins change how shares are bought and held, within the rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import ShareType

from .factories import HTMX, audit_actions, is_page, is_partial, reading

pytestmark = pytest.mark.usefixtures("coop")


def stored(app, code):
    with reading(app) as db:
        return db.scalar(select(ShareType).where(ShareType.code == code))


def supporter_form(**changes):
    """The supporter type's form as a browser posts it, unchanged but for ``changes``."""
    form = {
        "name": "Supporter share",
        "description": "",
        "par_value_minor": "1.00",
        "min_quantity": "5",
        "step": "5",
        "max_quantity": "",
        "withdrawable": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_the_settings_page_shows_the_share_types(admin):
    page = admin.get("/staff/settings").get_data(as_text=True)
    assert "Share types" in page
    assert 'id="share-type-supporter"' in page and 'id="share-type-membership"' in page


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_the_edit_form_is_a_page_or_a_partial(admin, headers):
    response = admin.get("/staff/settings/share-types/supporter", headers=headers)
    assert response.status_code == 200
    assert (is_partial if headers else is_page)(response)
    assert 'name="step"' in response.get_data(as_text=True)


def test_an_admin_allows_transfers_and_changes_the_step(app, admin):
    response = admin.post(
        "/staff/settings/share-types/supporter",
        data=supporter_form(step="10", transferable="y"),
        headers=HTMX,
    )
    assert response.status_code == 200 and is_partial(response)
    assert "in multiples of 10" in response.get_data(as_text=True)
    supporter = stored(app, "supporter")
    assert supporter.step == 10 and supporter.transferable and supporter.withdrawable
    assert "share_type.changed" in audit_actions(app)


def test_unticking_a_box_turns_the_rule_off_without_javascript(app, admin):
    response = admin.post(
        "/staff/settings/share-types/supporter", data=supporter_form(withdrawable=None)
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#share-type-supporter")
    assert not stored(app, "supporter").withdrawable


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_quantity": "0"}, "between 1 and"),
        ({"step": "five"}, "whole number"),
        ({"max_quantity": "3"}, "cannot be below the minimum"),
        ({"name": " "}, "cannot be empty"),
        ({"par_value_minor": "abc"}, "amount like"),
    ],
)
def test_bad_terms_are_refused_and_nothing_changes(app, admin, changes, message):
    response = admin.post(
        "/staff/settings/share-types/supporter", data=supporter_form(**changes), headers=HTMX
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored(app, "supporter").step == 5 and stored(app, "supporter").min_quantity == 5


def test_membership_shares_cannot_become_transferable(app, admin):
    response = admin.post(
        "/staff/settings/share-types/membership",
        data={
            "name": "Membership share",
            "min_quantity": "1",
            "step": "1",
            "max_quantity": "1",
            "par_value_minor": "1.00",
            "transferable": "y",
        },
    )
    assert response.status_code == 422
    assert not stored(app, "membership").transferable


def test_the_par_value_is_fixed_once_shares_are_issued(app, admin, make_member, buy):
    assert (
        admin.post(
            "/staff/settings/share-types/supporter", data=supporter_form(par_value_minor="2.00")
        ).status_code
        == 303
    )
    assert stored(app, "supporter").par_value_minor == 200
    buy(make_member(email="holder@example.org"), "supporter", 5)
    response = admin.post(
        "/staff/settings/share-types/supporter", data=supporter_form(par_value_minor="1.00")
    )
    assert response.status_code == 422
    assert "cannot change once shares" in response.get_data(as_text=True)
    assert stored(app, "supporter").par_value_minor == 200
    form = admin.get("/staff/settings/share-types/supporter").get_data(as_text=True)
    assert "readonly" in form and "Fixed: shares of this type are on the register" in form


def test_staff_who_are_not_admins_cannot_change_share_types(app, staff):
    assert staff.get("/staff/settings/share-types/supporter").status_code == 403
    response = staff.post("/staff/settings/share-types/supporter", data=supporter_form(step="1"))
    assert response.status_code == 403
    assert stored(app, "supporter").step == 5


def test_an_unknown_share_type_is_not_found(admin):
    assert admin.get("/staff/settings/share-types/gold").status_code == 404
