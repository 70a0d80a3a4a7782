"""htmx on the server: page or partial from one URL, redirects, errors, the pinned file."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from portal import ROOT
from portal.config import HTMX_SRI, HTMX_VERSION

VENDORED = ROOT / "static" / "vendor" / "htmx.min.js"


@pytest.mark.skipif(not VENDORED.exists(), reason="htmx not fetched (make htmx)")
def test_the_vendored_htmx_is_the_pinned_version_with_the_pinned_hash():
    data = Path(VENDORED).read_bytes()
    digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert f"sha384-{digest}" == HTMX_SRI
    assert f'version:"{HTMX_VERSION}"' in data.decode().replace(" ", "")


def test_the_htmx_config_meta_forbids_eval_inline_styles_and_history_cache(client):
    html = client.get("/").get_data(as_text=True)
    raw = re.search(r'<meta name="htmx-config" content="([^"]+)">', html).group(1)
    config = json.loads(raw.replace("&#34;", '"').replace("&quot;", '"'))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["allowScriptTags"] is False
    assert config["historyCacheSize"] == 0
    assert {"code": "422", "swap": True} in config["responseHandling"]


def test_the_csrf_header_is_set_on_the_body(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r"<body data-hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'>", html)


def test_pages_use_only_data_hx_attributes():
    bare = []
    for template in (ROOT / "templates").rglob("*.html"):
        for match in re.finditer(r"\s(hx-[a-z-]+)=", template.read_text()):
            bare.append(f"{template.name}: {match.group(1)}")
    assert bare == []


def test_no_inline_script_or_style_in_page_templates():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        if template.parts[-2] in {"pdf", "mail"}:
            continue
        text = template.read_text()
        if re.search(r"<script>|<script [^>]*>[^<]|style=\"|<style", text):
            offenders.append(template.name)
    assert offenders == []


def test_one_url_answers_the_page_or_the_partial(client, make_user):
    make_user(email="staff@example.org", role="staff")
    client.login("staff@example.org")
    page = client.get("/staff/audit")
    partial = client.htmx_get("/staff/audit?action=user.logged_in")
    assert "<html" in page.get_data(as_text=True)
    text = partial.get_data(as_text=True)
    assert "<html" not in text
    assert text.lstrip().startswith('<section id="audit-results"')
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in partial.headers["Vary"]


def test_a_boosted_or_history_restore_request_gets_the_whole_page(client, make_user):
    make_user(email="staff@example.org", role="staff")
    client.login("staff@example.org")
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        response = client.htmx_get("/staff/audit", headers=extra)
        assert "<html" in response.get_data(as_text=True)


def test_a_signed_out_htmx_request_gets_hx_redirect_to_login(client):
    response = client.htmx_get("/staff/audit?action=x")
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    plain = client.get("/staff/audit")
    assert plain.status_code == 303
    assert plain.headers["Location"].startswith("/login?next=/staff/audit")


def test_an_htmx_error_is_retargeted_to_the_message_region(client, make_user):
    make_user(email="member@example.org")
    client.login("member@example.org")
    response = client.htmx_get("/staff/audit")
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#messages"
    text = response.get_data(as_text=True)
    assert "<html" not in text and 'role="alert"' in text
