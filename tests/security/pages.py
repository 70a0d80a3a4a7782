"""What a page offers a browser: its links and its forms, read from the HTML as sent.

The fuzz (test_fuzz.py) learns each form's fields here rather than from a list kept by
hand, so a field added to a template is fuzzed without a new line in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class Field:
    """One named control: its value as the page fills it, and a select's options."""

    name: str
    value: str
    kind: str  # input type, "select" or "textarea"
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    """A form: where and how it is sent, and its named controls in page order."""

    method: str
    action: str
    fields: list[Field] = field(default_factory=list)
    # Submit buttons that carry a value (name=action value=submit), and other actions
    # (formaction, hx-post) that send the same fields.
    buttons: list[tuple[str, str]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def defaults(self) -> list[tuple[str, str]]:
        """The pairs a browser sends unchanged: checked boxes only, a select's chosen
        option, and the first valued submit button."""
        pairs = []
        for f in self.fields:
            if f.kind in ("checkbox", "radio") and f.value.startswith("\0unchecked:"):
                continue
            if f.kind in ("file", "submit", "button", "reset", "image"):
                continue
            pairs.append((f.name, f.value))
        if self.buttons:
            pairs.append(self.buttons[0])
        return pairs


class _PageParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def _url(self, href: str) -> str:
        return urljoin(self.base, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(self._url(a["href"]))
        for attr in ("hx-get", "data-hx-get"):
            if a.get(attr):
                self.links.append(self._url(a[attr]))
        if tag == "form":
            method = (a.get("method") or "get").lower()
            self._form = Form(method=method, action=self._url(a.get("action") or self.base))
            for attr in ("hx-post", "data-hx-post"):
                if a.get(attr):
                    self._form.actions.append(self._url(a[attr]))
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "image", "button"):
                if name:
                    form.buttons.append((name, a.get("value", "")))
                if a.get("formaction"):
                    form.actions.append(self._url(a["formaction"]))
                return
            if not name:
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind in ("checkbox", "radio") and "checked" not in a:
                value = "\0unchecked:" + value
            form.fields.append(Field(name, value, kind))
        elif tag == "button":
            if name:
                form.buttons.append((name, a.get("value", "")))
            if a.get("formaction"):
                form.actions.append(self._url(a["formaction"]))
        elif tag == "select" and name:
            self._select = Field(name, "", "select")
            form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a or len(self._select.options) == 1:
                self._select.value = value
        elif tag == "textarea" and name:
            self._textarea = Field(name, "", "textarea")
            form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_page(html: str, url: str) -> tuple[list[str], list[Form]]:
    """The page's same-site links (paths with their query) and its forms."""
    parser = _PageParser(url)
    parser.feed(html)
    parser.close()
    return [p for p in map(local_path, parser.links) if p], parser.forms


def local_path(url: str) -> str | None:
    """``url``'s path and query when it points into the portal, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "") or parts.netloc not in ("localhost", ""):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
