"""Joining: the member classes, the application form, and the applicant's status page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import coop
from ..db import get_db, transaction
from ..errors import InvalidState
from ..htmx import flash_and_redirect
from ..models import Application, MemberClass
from ..services.documents import library
from ..services.membership import applications, review_times
from ..services.membership.applications import ApplicationInput, InvalidFields
from ..services.register import classes
from ..services.shares import orders, payments
from .access import current_member, found

bp = Blueprint("membership", __name__)


@bp.get("/join")
def join() -> str:
    """Each class explained: who it is for, what it costs, what it gives."""
    db = get_db()
    open_classes = classes.list_classes(db, open_only=True)
    member = current_member()
    user = current_user if current_user.is_authenticated else None
    open_by_class = None
    if user is not None:
        open_by_class = {
            a.class_id: a for a in applications.applications_of(db, current_user) if a.is_open
        }
    return render_template(
        "membership/join.html",
        classes=open_classes,
        member=member,
        open_by_class=open_by_class or {},
        costs={c.id: orders.joining_cost(db, user, c) for c in open_classes},
    )


def _open_class(code: str) -> MemberClass:
    member_class = classes.find_class(get_db(), code)
    if member_class is None or not member_class.open_for_applications:
        abort(404)
    return member_class


def _form_page(
    member_class: MemberClass,
    application: Application | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    refusal: str | None = None,
) -> tuple[str, int]:
    """The application form, filled from what was typed or from the saved draft; or, when
    the person may not apply (``refusal``), why not, in place of the form."""
    if values is None:
        values = {}
        if application is not None:
            values.update({f"answer-{a['key']}": a["value"] for a in application.answers})
            values.update({k: getattr(application, k) for k in applications.ADDRESS_LIMITS})
        else:
            member = current_member()
            if member is not None:
                values.update({k: getattr(member, k) for k in applications.ADDRESS_LIMITS})
    return render_template(
        "membership/apply.html",
        member_class=member_class,
        application=application,
        values=values,
        errors=errors or {},
        refusal=refusal,
        cost=orders.joining_cost(get_db(), current_user, member_class),
        answer_field=applications.answer_field,
        rulebook=library.current_rulebook(get_db(), coop.today()),
    ), status


@bp.get("/join/<code>")
@login_required
def join_class(code: str) -> tuple[str, int]:
    member_class = _open_class(code)
    db = get_db()
    application = applications.open_application(db, current_user, member_class)
    refusal = None
    if application is None:
        refusal = applications.refusal(db, current_user, member_class)
    return _form_page(member_class, application, refusal=refusal)


@bp.post("/join/<code>")
@login_required
def join_class_post(code: str) -> Response | tuple[str, int]:
    member_class = _open_class(code)
    given = ApplicationInput.from_form(request.form)
    saving = request.form.get("action") == "save"
    application = None
    try:
        with transaction() as db:
            application = applications.start_application(db, current_user, member_class)
            if saving:
                applications.save_draft(db, application, given, actor=current_user)
            else:
                applications.submit_application(db, application, given, actor=current_user)
    except InvalidFields as exc:
        return _form_page(
            member_class, application, values=request.form.to_dict(), errors=exc.errors, status=422
        )
    except InvalidState as exc:  # already in the class, or no longer a member
        return _form_page(member_class, None, status=exc.status, refusal=exc.message)
    if saving:
        return flash_and_redirect(
            "Your draft is saved. Come back to it whenever you like.",
            url_for("membership.join_class", code=code),
        )
    return flash_and_redirect(
        f"Thank you: your application to the {member_class.name} class is in.",
        url_for("membership.application_status"),
    )


@bp.get("/application")
@login_required
def application_status() -> str:
    """The applicant's applications: their answers, their state, the reviewer's reason or
    question, and what happens next (with how long staff have usually taken)."""
    db = get_db()
    mine = applications.applications_of(db, current_user)
    return render_template(
        "membership/status.html",
        applications=mine,
        dues={due.application.id: due for due in payments.admission_dues(db, current_user)},
        member=current_member(),
        review_times=review_times.for_waiting(db, mine),
    )


@bp.post("/application/<int:application_id>/withdraw")
@login_required
def withdraw(application_id: int) -> Response:
    application = found(applications.get_for_applicant(get_db(), application_id, current_user))
    with transaction() as db:
        applications.withdraw_application(db, application, actor=current_user)
    return flash_and_redirect(
        f"Your {application.member_class.name} application is withdrawn.",
        url_for("membership.application_status"),
        "info",
    )
