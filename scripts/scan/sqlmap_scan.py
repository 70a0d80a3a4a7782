"""sqlmap against a live portal on 127.0.0.1 (issue 17 §4): 0 injectable parameters.

Serves a fresh demo co-op (init-db, seed-demo, gunicorn from the app's virtualenv, in a
temporary instance folder), signs in a member and a staff user, and runs sqlmap (from a
virtualenv of its own: this script is run by that virtualenv's Python and uses the
standard library only) at level 3 against:

* the sign-in form (POST /login: email, password and the User-Agent it stores),
* every search and filter parameter of the pages that have them (the names and a value
  for each are read from the page's GET form, so a new filter is scanned without a line
  here),
* the vote endpoint of the demo's open meeting (POST …/resolutions/<id>/vote: choice).

CSRF tokens are taken fresh from the form's page for every request (``--csrf-token``).
sqlmap exits 0 whether or not it finds an injection, so its findings are read from its
results file and its log, and any finding fails the run. Exit 0: every target said "0
injectable"; 1: a finding or a target sqlmap could not test.

The session cookie is left out (``-p``): it is signed, so a changed one is refused before
any query is made, and testing it only signs the scanner out. The login limits are raised
for the scanned server alone, or sqlmap would be measuring the rate limiter.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
SQLMAP = Path(sys.executable).parent / "sqlmap"

MEMBER = ("listener@reverb.example", "velvet-tram-orchard-58")
STAFF = ("staff@reverb.example", "copper-kettle-harbour-27")
# The sqlmap processes running, stopped with the scan.
RUNNING: list[subprocess.Popen[str]] = []
# Pages whose GET forms are searches or filters, and who may read them.
FILTER_PAGES = [
    ("staff", "/staff/members"),
    ("staff", "/staff/applications"),
    ("staff", "/staff/register"),
    ("staff", "/staff/orders"),
    ("staff", "/staff/audit"),
    ("member", "/documents"),
]


# -- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(instance: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """A fresh demo co-op served by gunicorn from the app's own virtualenv."""
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_SESSION_COOKIE_SECURE": "false",  # plain HTTP on the loopback
        "PORTAL_HTMX_LOCAL": "true",
        "PORTAL_LOGIN_RATE_LIMIT": "1000000 per minute",
        "PORTAL_LOGIN_MAX_FAILURES": "1000000000",
        "PORTAL_TASK_QUEUE": "immediate",
    }
    # The scan serves SQLite in its instance folder, whatever the calling shell points at.
    env.pop("DATABASE_URL", None)
    # Every sign-in sqlmap sends checks a password: at the production argon2 cost the
    # scan would measure argon2, not look for injections (the tests' cost, as conftest).
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text("ARGON2_TIME_COST = 1\nARGON2_MEMORY_COST = 8 * 1024\n")
    for command in (["init-db"], ["seed-demo"]):
        subprocess.run(
            [str(APP_PYTHON), "-m", "flask", "--app", "portal", *command],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(APP_PYTHON), "-m", "gunicorn", "--workers=2", f"--bind=127.0.0.1:{port}",
             "--timeout=120", "--graceful-timeout=5", "wsgi:app"],
            cwd=ROOT, env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()}")
        try:
            # Our own server on the loopback, over http: no other scheme can be named.
            health = f"http://127.0.0.1:{port}/healthz"
            urllib.request.urlopen(health, timeout=5).close()  # nosec B310
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer in 90 s:\n{log.read_text()}")


# -- a browser of the standard library ---------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class Forms(HTMLParser):
    """The forms of a page: method, action, and each named control's first value."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form((a.get("method") or "get").lower(), a.get("action", "")))
        elif not self.forms:
            return
        elif tag == "option" and self._select:
            self.forms[-1].fields.setdefault(self._select, a.get("value", ""))
        elif not a.get("name"):
            return
        elif tag == "button" or (tag == "input" and a.get("type") == "submit"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))
        elif tag in ("input", "textarea"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1].fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def forms(self, path: str) -> list[Form]:
        status, page = self.get(path)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        parser = Forms()
        parser.feed(page)
        return parser.forms

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def sign_in(base: str, email: str, password: str) -> Browser:
    """A browser signed in as ``email``, with the demo staff's code when the portal asks
    for one (the second step of a staff sign-in)."""
    browser = Browser(base)
    token = next(f for f in browser.forms("/login") if f.method == "post").fields["csrf_token"]
    browser.post("/login", {"email": email, "password": password, "csrf_token": token})
    code_form = [f for f in browser.forms("/login/code") if "code" in f.fields]
    if code_form:
        fields = {**code_form[0].fields, "code": demo_code()}
        browser.post("/login/code", fields)
    # Redirects are followed: a browser not signed in would land on the sign-in form.
    status, page = browser.get("/me/security")
    if status != 200 or 'action="/logout"' not in page:
        raise SystemExit(f"{email} could not sign in (GET /me/security answered {status})")
    return browser


def demo_code() -> str:
    """The demo staff's sign-in code now, from the app's own virtualenv (the scanners'
    hold no portal): the demo's key is public, never a real account's."""
    program = "from portal import demo; print(demo.two_factor_code()[0])"
    done = subprocess.run(  # nosec B603 - our own interpreter and a fixed program
        [str(APP_PYTHON), "-c", program], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


# -- the targets ------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    params: list[str]
    data: str | None = None
    cookie: str | None = None
    csrf_url: str | None = None


def targets(base: str) -> list[Target]:
    """The sign-in form, each filter page's parameters, and a vote of the open meeting."""
    member, staff = sign_in(base, *MEMBER), sign_in(base, *STAFF)
    people = {"member": member, "staff": staff}
    found = [
        Target(
            "sign-in", f"{base}/login", ["email", "password", "User-Agent"],
            data="email=someone%40example.org&password=not-the-password&csrf_token=x",
            csrf_url=f"{base}/login",
        )
    ]  # fmt: skip
    for who, page in FILTER_PAGES:
        browser = people[who]
        for form in browser.forms(page):
            action = urllib.parse.urlsplit(form.action).path or page
            if form.method != "get" or action != page:
                continue
            values = {k: v or "1" for k, v in form.fields.items()}
            if not values:
                raise SystemExit(f"the filter form on {page} has no named fields")
            query = urllib.parse.urlencode(values)
            found.append(
                Target(f"{who} {page}", f"{base}{page}?{query}", sorted(values),
                       cookie=browser.cookie())
            )  # fmt: skip
            break
        else:
            raise SystemExit(f"no search or filter form on {page}")
    found.append(vote_target(base, member))
    return found


def vote_target(base: str, member: Browser) -> Target:
    """The ballot of an open resolution on the demo's open meeting, as the member sees it."""
    _, page = member.get("/meetings")
    for meeting in dict.fromkeys(re.findall(r'href="(/meetings/\d+)"', page)):
        for form in member.forms(meeting):
            if re.fullmatch(r"/meetings/\d+/resolutions/\d+/vote", form.action):
                choice = next(v for n, v in form.buttons if n == "choice")
                return Target(
                    "member vote", base + form.action, ["choice"],
                    data=f"choice={choice}&csrf_token=x", cookie=member.cookie(),
                    csrf_url=base + meeting,
                )  # fmt: skip
    raise SystemExit("no open ballot on the demo's meetings")


# -- sqlmap -----------------------------------------------------------------------------------


def scan(target: Target, out: Path, threads: int) -> list[str]:
    """Run sqlmap on one target; the findings (empty: 0 injectable)."""
    results = out / "results.csv"
    command = [
        str(SQLMAP), "--batch", "--level=3", "--risk=1",
        "-u", target.url, "-p", ",".join(target.params), f"--output-dir={out}",
        f"--results-file={results}", "--disable-coloring", "--flush-session",
        "--skip-waf", "--timeout=90", "--retries=2",
        # A refused or accepted form answers 303 to a page: its GET tells sqlmap nothing.
        "--answers=follow=N",
        # The scanned server runs SQLite: other databases' payloads could not succeed.
        "--dbms=SQLite",
    ]  # fmt: skip
    if target.data is not None:
        command += ["--data", target.data]  # a POST (--method=POST would fetch tokens by POST)
    if target.cookie:
        command += ["--cookie", target.cookie]
    if target.csrf_url:
        # sqlmap fetches a token per request, one request at a time.
        command += ["--csrf-token=csrf_token", f"--csrf-url={target.csrf_url}"]
    else:
        command += [f"--threads={threads}"]
    env = {**os.environ, "TERM": "dumb"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    RUNNING.append(process)
    stdout, _ = process.communicate()
    run = subprocess.CompletedProcess(command, process.returncode, stdout, "")
    (out / "sqlmap.log").write_text(run.stdout)
    findings = [
        line.strip()
        for line in run.stdout.splitlines()
        if re.search(r"is vulnerable|identified the following injection point", line)
    ]
    if results.exists():
        with results.open() as fh:
            findings += [" ".join(row) for row in list(csv.reader(fh))[1:] if row]
    if not findings and "do not appear to be injectable" not in run.stdout:
        tail = "\n".join(run.stdout.splitlines()[-15:])
        findings.append(f"sqlmap did not finish testing (exit {run.returncode}):\n{tail}")
    return findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4, help="per GET target")
    parser.add_argument("--parallel", type=int, default=3, help="targets scanned at once")
    parser.add_argument("--keep", action="store_true", help="keep the instance and logs")
    args = parser.parse_args()
    if not SQLMAP.exists():
        raise SystemExit(f"sqlmap not found beside {sys.executable}")
    scratch = Path(tempfile.mkdtemp(prefix="portal-sqlmap-"))
    port = free_port()
    started = time.monotonic()
    server = serve(scratch / "instance", port, scratch / "gunicorn.log")
    failed = 0

    # A stopped scan (a CI timeout, kill) still stops its sqlmaps and its server.
    def stop(*_: object) -> None:
        for process in RUNNING:
            process.terminate()
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)

    def one(numbered: tuple[int, Target]) -> tuple[Target, list[str], float]:
        began = time.monotonic()
        findings = scan(numbered[1], scratch / f"target-{numbered[0]}", args.threads)
        return numbered[1], findings, time.monotonic() - began

    try:
        found = targets(f"http://127.0.0.1:{port}")
        with ThreadPoolExecutor(args.parallel) as pool:
            for target, findings, took in pool.map(one, enumerate(found)):
                params = ", ".join(target.params)
                if findings:
                    failed += 1
                    print(f"sqlmap: {target.name} ({params}): FINDING ({took:.0f} s)")
                    for finding in findings:
                        print(f"    {finding}")
                else:
                    print(f"sqlmap: {target.name} ({params}): 0 injectable ({took:.0f} s)")
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = [line for line in (scratch / "gunicorn.log").read_text().splitlines()
              if "Traceback" in line or "[ERROR]" in line]  # fmt: skip
    if errors:
        failed += 1
        print(f"sqlmap: the server logged {len(errors)} errors: {errors[:3]}")
    print(f"sqlmap: {time.monotonic() - started:.0f} s in all; logs in {scratch}")
    if not args.keep and not failed:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
