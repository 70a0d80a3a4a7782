"""Admin settings: the co-op's settings, member classes and share types, edited in place."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from ... import coop, htmx
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...models import AdmissionRule, ApplicationQuestion, MemberClass, QuestionKind, ShareType
from ...services import settings
from ...services.register import classes
from ...services.shares import share_types
from ..access import found, get_or_404
from ..auth import reauthentication_required

bp = Blueprint("settings", __name__)


@bp.before_request
def _admins_only() -> None:
    """The settings are an admin's (the staff blueprint has checked the sign-in)."""
    if not current_user.is_admin:
        abort(403)


def _page_context() -> dict[str, object]:
    db = get_db()
    member_classes = classes.list_classes(db)
    return {
        "fields": settings.SETTING_FIELDS,
        "booleans": settings.BOOLEAN_SETTINGS,
        "classes": member_classes,
        "share_types": share_types.list_share_types(db),
        "weights_problem": classes.check_voting_weights(member_classes),
        "rules": list(AdmissionRule),
        "kinds": list(QuestionKind),
    }


def _index_at(anchor: str) -> str:
    return url_for("staff.settings.index") + f"#{anchor}"


@bp.get("/settings")
def index() -> str:
    return render_template("staff/settings/settings.html", **_page_context())


def _setting_or_404(name: str) -> None:
    if name not in settings.SETTING_FIELDS and name not in settings.BOOLEAN_SETTINGS:
        abort(404)


@bp.get("/settings/<name>")
def edit_setting(name: str) -> Response:
    """The inline form for one setting (the whole page without JavaScript)."""
    _setting_or_404(name)
    return htmx.render(
        "staff/settings/setting_page.html",
        "staff/settings/_setting_form.html",
        name=name,
        value=getattr(coop.settings(), name),
        error=None,
        **_page_context(),
    )


@bp.post("/settings/<name>")
def update_setting(name: str) -> Response:
    _setting_or_404(name)
    raw = request.form.get("value", "")
    try:
        with transaction() as db:
            stored = settings.update_setting(db, name, raw, actor=current_user)
    except InvalidInput as exc:
        return htmx.render(
            "staff/settings/setting_page.html",
            "staff/settings/_setting_form.html",
            name=name,
            value=raw,
            error=exc.message,
            status=422,
            **_page_context(),
        )
    return htmx.partial_or_redirect(
        "staff/settings/_setting_row.html",
        _index_at(f"setting-{name}"),
        message="Setting saved.",
        name=name,
        value=getattr(stored, name),
        **_page_context(),
    )


def _class_or_404(code: str) -> MemberClass:
    return found(classes.find_class(get_db(), code))


@bp.get("/settings/classes/<code>")
def edit_class(code: str) -> Response:
    return htmx.render(
        "staff/settings/class_page.html",
        "staff/settings/_class_form.html",
        member_class=_class_or_404(code),
        values=None,
        errors={},
        **_page_context(),
    )


@bp.post("/settings/classes/<code>")
def update_class(code: str) -> Response:
    member_class = _class_or_404(code)
    values = request.form.to_dict()
    values.setdefault("open_for_applications", "")  # an unticked box sends nothing
    try:
        with transaction() as db:
            classes.update_class(db, member_class, values, actor=current_user)
    except InvalidInput as exc:
        return htmx.render(
            "staff/settings/class_page.html",
            "staff/settings/_class_form.html",
            member_class=_class_or_404(code),
            values=values,
            errors={exc.field or "name": exc.message},
            status=422,
            **_page_context(),
        )
    return htmx.partial_or_redirect(
        "staff/settings/_class_card.html",
        _index_at(f"class-{code}"),
        message=f"{member_class.name} class saved.",
        member_class=member_class,
        **_page_context(),
    )


@bp.post("/settings/classes/<code>/questions")
def add_question(code: str) -> Response:
    member_class = _class_or_404(code)
    try:
        with transaction() as db:
            classes.save_question(db, member_class, request.form, actor=current_user)
    except InvalidInput as exc:
        return htmx.flash_and_redirect(
            f"The question was not added: {exc.message}", _index_at(f"class-{code}"), "error"
        )
    return htmx.flash_and_redirect("Question added.", _index_at(f"class-{code}"))


@bp.post("/settings/classes/<code>/questions/<int:question_id>/delete")
def remove_question(code: str, question_id: int) -> Response:
    member_class = _class_or_404(code)
    question = get_or_404(ApplicationQuestion, question_id)
    if question.class_id != member_class.id:
        abort(404)
    with transaction() as db:
        classes.remove_question(db, member_class, question, actor=current_user)
    return htmx.flash_and_redirect(
        "Question removed; answers already given keep it.", _index_at(f"class-{code}")
    )


def _share_type_or_404(code: str) -> ShareType:
    return found(share_types.find_type(get_db(), code))


def _share_type_form(
    share_type: ShareType, values: dict[str, str] | None, errors: dict[str, str], status: int = 200
) -> Response:
    return htmx.render(
        "staff/settings/share_type_page.html",
        "staff/settings/_share_type_form.html",
        share_type=share_type,
        issued=share_types.has_been_issued(get_db(), share_type),
        values=values,
        errors=errors,
        status=status,
        **_page_context(),
    )


@bp.get("/settings/share-types/<code>")
def edit_share_type(code: str) -> Response:
    """The inline form for a share type's terms (the whole page without JavaScript)."""
    return _share_type_form(_share_type_or_404(code), None, {})


@bp.post("/settings/share-types/<code>")
@reauthentication_required
def update_share_type(code: str) -> Response:
    share_type = _share_type_or_404(code)
    values = request.form.to_dict()
    for flag in share_types.SHARE_TYPE_FLAGS:
        values.setdefault(flag, "")  # an unticked box sends nothing
    try:
        with transaction() as db:
            share_types.update_share_type(db, share_type, values, actor=current_user)
    except InvalidInput as exc:
        return _share_type_form(
            _share_type_or_404(code), values, {exc.field or "name": exc.message}, status=422
        )
    return htmx.partial_or_redirect(
        "staff/settings/_share_type_card.html",
        _index_at(f"share-type-{code}"),
        message=f"{share_type.name} saved.",
        share_type=share_type,
        **_page_context(),
    )
