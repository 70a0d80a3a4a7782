"""Admin settings: the co-op's settings, member classes and share types, edited in place."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import htmx
from ..db import get_db
from ..errors import InvalidInput
from ..models import AdmissionRule, ApplicationQuestion, MemberClass, QuestionKind, ShareType
from ..services import holdings, settings, share_types
from ..templating import current_coop
from .access import admin_required

bp = Blueprint("admin", __name__, url_prefix="/staff/settings")


def _page_context() -> dict[str, object]:
    classes = settings.list_classes(get_db())
    return {
        "fields": settings.SETTING_FIELDS,
        "booleans": settings.BOOLEAN_SETTINGS,
        "classes": classes,
        "share_types": share_types.list_share_types(get_db()),
        "weights_problem": settings.check_voting_weights(classes),
        "rules": list(AdmissionRule),
        "kinds": list(QuestionKind),
    }


@bp.get("")
@admin_required
def index() -> str:
    return render_template("admin/settings.html", **_page_context())


def _setting_or_404(name: str) -> None:
    if name not in settings.SETTING_FIELDS and name not in settings.BOOLEAN_SETTINGS:
        abort(404)


@bp.get("/<name>")
@admin_required
def edit_setting(name: str) -> Response:
    """The inline form for one setting (the whole page without JavaScript)."""
    _setting_or_404(name)
    return htmx.render(
        "admin/setting_page.html",
        "admin/_setting_form.html",
        name=name,
        value=getattr(current_coop(), name),
        error=None,
        **_page_context(),
    )


@bp.post("/<name>")
@admin_required
def update_setting(name: str) -> Response:
    _setting_or_404(name)
    db = get_db()
    raw = request.form.get("value", "")
    try:
        stored = settings.update_setting(
            db, name, raw, actor=current_user, config=current_app.config
        )
    except InvalidInput as exc:
        return htmx.render(
            "admin/setting_page.html",
            "admin/_setting_form.html",
            name=name,
            value=raw,
            error=exc.message,
            status=422,
            **_page_context(),
        )
    db.commit()
    if htmx.is_htmx():
        return htmx.render(
            "admin/_setting_row.html",
            "admin/_setting_row.html",
            name=name,
            value=getattr(stored, name),
            **_page_context(),
        )
    flash("Setting saved.", "success")
    return htmx.redirect(url_for("admin.index") + f"#setting-{name}")


def _class_or_404(code: str) -> MemberClass:
    member_class = settings.find_class(get_db(), code)
    if member_class is None:
        abort(404)
    return member_class


@bp.get("/classes/<code>")
@admin_required
def edit_class(code: str) -> Response:
    member_class = _class_or_404(code)
    return htmx.render(
        "admin/class_page.html",
        "admin/_class_form.html",
        member_class=member_class,
        values=None,
        errors={},
        **_page_context(),
    )


@bp.post("/classes/<code>")
@admin_required
def update_class(code: str) -> Response:
    db = get_db()
    member_class = _class_or_404(code)
    values = request.form.to_dict()
    values.setdefault("open_for_applications", "")
    try:
        settings.update_class(db, member_class, values, actor=current_user)
    except InvalidInput as exc:
        db.rollback()
        member_class = _class_or_404(code)
        return htmx.render(
            "admin/class_page.html",
            "admin/_class_form.html",
            member_class=member_class,
            values=values,
            errors={exc.field or "name": exc.message},
            status=422,
            **_page_context(),
        )
    db.commit()
    if htmx.is_htmx():
        return htmx.render(
            "admin/_class_card.html",
            "admin/_class_card.html",
            member_class=member_class,
            **_page_context(),
        )
    flash(f"{member_class.name} class saved.", "success")
    return htmx.redirect(url_for("admin.index") + f"#class-{code}")


@bp.post("/classes/<code>/questions")
@admin_required
def add_question(code: str) -> Response:
    db = get_db()
    member_class = _class_or_404(code)
    try:
        settings.save_question(db, member_class, request.form, actor=current_user)
    except InvalidInput as exc:
        flash(f"The question was not added: {exc.message}", "error")
        return htmx.redirect(url_for("admin.index") + f"#class-{code}")
    db.commit()
    flash("Question added.", "success")
    return htmx.redirect(url_for("admin.index") + f"#class-{code}")


@bp.post("/classes/<code>/questions/<int:question_id>/delete")
@admin_required
def remove_question(code: str, question_id: int) -> Response:
    db = get_db()
    member_class = _class_or_404(code)
    question = db.get(ApplicationQuestion, question_id)
    if question is None or question.class_id != member_class.id:
        abort(404)
    settings.remove_question(db, member_class, question, actor=current_user)
    db.commit()
    flash("Question removed; answers already given keep it.", "success")
    return htmx.redirect(url_for("admin.index") + f"#class-{code}")


def _share_type_or_404(code: str) -> ShareType:
    share_type = holdings.find_type(get_db(), code)
    if share_type is None:
        abort(404)
    return share_type


def _share_type_form(
    share_type: ShareType, values: dict[str, str] | None, errors: dict[str, str], status: int = 200
) -> Response:
    return htmx.render(
        "admin/share_type_page.html",
        "admin/_share_type_form.html",
        share_type=share_type,
        issued=share_types.has_been_issued(get_db(), share_type),
        values=values,
        errors=errors,
        status=status,
        **_page_context(),
    )


@bp.get("/share-types/<code>")
@admin_required
def edit_share_type(code: str) -> Response:
    """The inline form for a share type's terms (the whole page without JavaScript)."""
    return _share_type_form(_share_type_or_404(code), None, {})


@bp.post("/share-types/<code>")
@admin_required
def update_share_type(code: str) -> Response:
    db = get_db()
    share_type = _share_type_or_404(code)
    values = request.form.to_dict()
    for flag in share_types.SHARE_TYPE_FLAGS:
        values.setdefault(flag, "")  # an unticked box sends nothing
    try:
        share_types.update_share_type(db, share_type, values, actor=current_user)
    except InvalidInput as exc:
        db.rollback()
        return _share_type_form(
            _share_type_or_404(code), values, {exc.field or "name": exc.message}, status=422
        )
    db.commit()
    if htmx.is_htmx():
        return htmx.render(
            "admin/_share_type_card.html",
            "admin/_share_type_card.html",
            share_type=share_type,
            **_page_context(),
        )
    flash(f"{share_type.name} saved.", "success")
    return htmx.redirect(url_for("admin.index") + f"#share-type-{code}")
