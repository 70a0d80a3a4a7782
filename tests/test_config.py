"""The app factory and its configuration layers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import create_app
from portal.config import from_environment
from portal.db import database_url
from portal.services.accounts import passwords


def test_defaults_apply_without_any_layer(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["COOP_LEGAL_NAME"] == "Reverb Music Co-operative Society Ltd"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    assert database_url(app) == f"sqlite:///{tmp_path / 'portal.sqlite3'}"


def test_layers_override_in_order(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "COOP_NAME = 'From instance'\nCOOP_TAGLINE = 'Instance tagline'\nSMTP_PORT = 2525\n"
    )
    monkeypatch.setenv("PORTAL_COOP_TAGLINE", "From environment")
    monkeypatch.setenv("PORTAL_SMTP_PORT", "465")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/portal")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "COOP_TAGLINE": "From tests"})
    assert app.config["COOP_NAME"] == "From instance"  # instance beats defaults
    assert app.config["SMTP_PORT"] == 465  # environment beats instance, typed
    assert app.config["COOP_TAGLINE"] == "From tests"  # the test dict beats everything
    assert app.config["SECRET_KEY"] == "from-env"
    assert database_url(app) == "postgresql+psycopg://u:p@db.example/portal"


def test_environment_values_take_the_type_of_their_default():
    config = {
        "HTMX_LOCAL": False,
        "BEHIND_PROXY": 0,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=1),
        "SMTP_HOST": None,
    }
    from_environment(
        config,
        {
            "PORTAL_HTMX_LOCAL": "true",
            "PORTAL_BEHIND_PROXY": "2",
            "PORTAL_PERMANENT_SESSION_LIFETIME": "600",
            "PORTAL_SMTP_HOST": "mail.example",
            "UNRELATED": "x",
        },
    )
    assert config == {
        "HTMX_LOCAL": True,
        "BEHIND_PROXY": 2,
        "PERMANENT_SESSION_LIFETIME": timedelta(seconds=600),
        "SMTP_HOST": "mail.example",
    }


def test_the_password_hash_cost_can_be_set_in_the_environment(tmp_path, monkeypatch):
    """PORTAL_ARGON2_* are read as numbers (a string stopped the app at start)."""
    monkeypatch.setenv("PORTAL_ARGON2_TIME_COST", "2")
    monkeypatch.setenv("PORTAL_ARGON2_MEMORY_COST", "8192")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    assert (app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"]) == (2, 8192)
    with app.app_context():
        assert "$m=8192,t=2," in passwords.hash_password("correct horse battery staple")


def test_a_malformed_environment_value_is_reported_by_name():
    with pytest.raises(RuntimeError, match="PORTAL_BEHIND_PROXY"):
        from_environment({"BEHIND_PROXY": 0}, {"PORTAL_BEHIND_PROXY": "lots"})


def test_missing_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(first.secret_key) == 64
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert second.secret_key == first.secret_key


def test_debug_mode_allows_the_session_cookie_over_plain_http(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DEBUG": True})
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_behind_proxy_trusts_forwarded_headers(app_factory):
    app = app_factory(BEHIND_PROXY=1)
    client = app.test_client()
    response = client.get(
        "/healthz",
        base_url="http://localhost",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers  # it saw HTTPS
