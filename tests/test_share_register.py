"""The register of shares: as of a date, by type and class, totals, exports, charts, access."""

from __future__ import annotations

import csv
import gc
import io
import re
import warnings
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import charts
from portal.coop import Clock
from portal.db import write_session
from portal.models import LedgerKind, ShareOrder
from portal.services.register import classes
from portal.services.shares import holdings, ledger, share_register
from portal.views.staff import register as share_register_views

from .factories import HTMX, is_page, is_partial, reading

DUBLIN = Clock.named("Europe/Dublin")  # the Reverb co-op's zone
SVG = "{http://www.w3.org/2000/svg}"


def at(text: str) -> datetime:
    """A UTC instant written as ``2026-03-01T10:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def holders(make_member, make_ledger_row):
    """Three members on the register with shares bought and redeemed over 2026.

    Each joined the day their membership share was paid, which put it on the register:
    Ann (artist) on 15 January, then 100 supporter shares in March, 40 redeemed on 1 June;
    Bob (listener) on 10 February, then 25 supporter shares on 1 July in Dublin (30 June,
    23:30 UTC); Cy (worker) on 20 May.
    """
    ann = make_member(name="Ann Artist", classes=("artist",), admitted_on=date(2026, 1, 15))
    bob = make_member(name="Bob Listener", classes=("listener",), admitted_on=date(2026, 2, 10))
    cy = make_member(name="Cy Worker", classes=("worker",), admitted_on=date(2026, 5, 20))
    make_ledger_row(ann, "supporter", 100, at("2026-03-02T12:00"))
    make_ledger_row(ann, "supporter", 40, at("2026-06-01T09:00"), LedgerKind.REDEEM)
    make_ledger_row(bob, "supporter", 25, at("2026-06-30T23:30"))
    return ann, bob, cy


def the_register(app, as_of: date, type_code: str = "", class_code: str = ""):
    """The register as the service computes it."""
    with app.test_request_context("/"), reading(app) as db:
        flt = share_register.register_filter(
            db, as_of=as_of.isoformat(), type_code=type_code, class_code=class_code
        )
        return share_register.register(db, flt)


def held(register) -> list[tuple[str, str, int]]:
    return [(row.name, row.share_type.code, row.quantity) for row in register.rows]


# --- The register as of a date ---------------------------------------------------------------


def test_the_register_as_of_a_day_excludes_the_rows_after_it(app, holders):
    assert held(the_register(app, date(2026, 1, 14))) == []
    assert held(the_register(app, date(2026, 5, 19))) == [
        ("Ann Artist", "membership", 1),
        ("Ann Artist", "supporter", 100),
        ("Bob Listener", "membership", 1),
    ]
    assert ("Ann Artist", "supporter", 100) in held(the_register(app, date(2026, 5, 31)))
    # The redemption on 1 June counts from the end of that day.
    june = the_register(app, date(2026, 6, 1))
    assert ("Ann Artist", "supporter", 60) in held(june)
    assert ("Cy Worker", "membership", 1) in held(june)


def test_as_of_means_the_end_of_the_day_in_the_coops_time_zone(app, holders):
    # Bob's supporter shares came at 23:30 UTC on 30 June: 00:30 on 1 July in Dublin.
    assert ("Bob Listener", "supporter", 25) not in held(the_register(app, date(2026, 6, 30)))
    assert ("Bob Listener", "supporter", 25) in held(the_register(app, date(2026, 7, 1)))


def test_the_register_is_ordered_by_member_number_then_share_type(app, holders):
    rows = the_register(app, date(2026, 7, 1)).rows
    assert [(r.member_number, r.share_type.position) for r in rows] == sorted(
        (r.member_number, r.share_type.position) for r in rows
    )


def test_the_register_filters_by_share_type(app, holders):
    supporters = the_register(app, date(2026, 7, 1), type_code="supporter")
    assert held(supporters) == [("Ann Artist", "supporter", 60), ("Bob Listener", "supporter", 25)]
    assert [t.share_type.code for t in supporters.totals] == ["supporter"]


def test_the_register_filters_by_member_class_on_that_day(app, holders):
    listeners = the_register(app, date(2026, 7, 1), class_code="listener")
    assert held(listeners) == [("Bob Listener", "membership", 1), ("Bob Listener", "supporter", 25)]
    artists = the_register(app, date(2026, 7, 1), type_code="membership", class_code="artist")
    assert held(artists) == [("Ann Artist", "membership", 1)]


def test_a_member_who_has_ceased_leaves_the_class_but_stays_on_an_earlier_register(
    app, holders, cease
):
    ann = holders[0]
    cease(ann)  # ends her classes today and cancels her membership share
    today = DUBLIN.today()
    assert ("Ann Artist", "supporter", 60) in held(the_register(app, today))
    assert ("Ann Artist", "membership", 1) not in held(the_register(app, today))
    assert "Ann Artist" not in [r.name for r in the_register(app, today, class_code="artist").rows]
    earlier = the_register(app, date(2026, 7, 1), class_code="artist")
    assert ("Ann Artist", "membership", 1) in held(earlier)
    assert [r.classes for r in the_register(app, today).rows if r.name == "Ann Artist"] == [
        "Artist (ended)"
    ]


def test_totals_are_the_sum_of_the_rows_and_the_ledger_checks_out(app, holders):
    register = the_register(app, date(2026, 7, 1))
    by_type = {t.share_type.code: t for t in register.totals}
    for code, total in by_type.items():
        rows = [r for r in register.rows if r.share_type.code == code]
        assert total.shares == sum(r.quantity for r in rows)
        assert total.capital_minor == sum(r.value_minor for r in rows)
        assert total.holders == len(rows)
    assert by_type["membership"].shares == 3 and by_type["supporter"].shares == 85
    assert register.capital_minor == 8_800  # 88 shares at €1
    assert register.holders == 3
    with app.test_request_context("/"), reading(app) as db:
        assert ledger.check_register(db).ok
        end = DUBLIN.end_of_day(date(2026, 7, 1))
        assert sum(ledger.holdings(db, as_of=end).values()) == register.shares


def test_the_filter_refuses_a_malformed_date_a_future_one_and_unknown_codes(app, holders):
    from portal.errors import InvalidInput

    with app.test_request_context("/"), reading(app) as db:
        for given, field in (
            ({"as_of": "31/03/2026"}, "as_of"),
            ({"as_of": "2026-02-30"}, "as_of"),
            ({"as_of": "9999-12-31"}, "as_of"),
            ({"type_code": "golden"}, "type"),
            ({"class_code": "alien"}, "class"),
        ):
            with pytest.raises(InvalidInput) as refused:
                share_register.register_filter(db, **given)
            assert refused.value.field == field
        assert share_register.register_filter(db).as_of == DUBLIN.today()


# --- Capital over time and the chart geometry ---------------------------------------------------


def history(app, as_of: date, **filters) -> share_register.CapitalHistory:
    with app.test_request_context("/"), reading(app) as db:
        flt = share_register.register_filter(db, as_of=as_of.isoformat(), **filters)
        return share_register.capital_history(db, flt)


def test_capital_is_charted_month_by_month_from_the_first_row(app, holders):
    series = history(app, date(2026, 7, 15))
    assert series.period == "month"
    assert series.points == [
        (date(2026, 1, 31), 100),
        (date(2026, 2, 28), 200),
        (date(2026, 3, 31), 10_200),
        (date(2026, 4, 30), 10_200),
        (date(2026, 5, 31), 10_300),
        (date(2026, 6, 30), 6_300),  # Ann's redemption; Bob's shares count from 1 July
        (date(2026, 7, 15), 8_800),
    ]
    assert series.points[-1][1] == the_register(app, date(2026, 7, 15)).capital_minor


def test_a_short_register_is_charted_day_by_day(app, holders):
    series = history(app, date(2026, 2, 12), type_code="membership")
    assert series.period == "day"
    assert len(series.points) == (date(2026, 2, 12) - date(2026, 1, 15)).days + 1
    assert series.points[0] == (date(2026, 1, 15), 100)
    assert series.points[-1] == (date(2026, 2, 12), 200)


def test_the_chart_follows_the_filters(app, holders):
    listeners = history(app, date(2026, 7, 1), class_code="listener")
    assert listeners.points[0] == (date(2026, 2, 28), 100)
    assert listeners.points[-1] == (date(2026, 7, 1), 2_600)
    assert history(app, date(2026, 1, 1)).points == []


def test_a_members_holding_history_is_theirs_alone(app, holders):
    ann = holders[0]
    with app.test_request_context("/"), reading(app) as db:
        series = holdings.holding_history(db, ann.load(db))
    assert series.points[0] == (date(2026, 1, 31), 100)
    assert series.points[2] == (date(2026, 3, 31), 10_100)
    assert series.points[-1] == (DUBLIN.today(), 6_100)


def test_round_value_ticks_cover_the_largest_value():
    assert charts.value_ticks(8_800) == [0, 2_500, 5_000, 7_500, 10_000]
    assert charts.value_ticks(100) == [0, 25, 50, 75, 100]
    assert charts.value_ticks(0) == [0]
    assert charts.nice_step(1_234_567) == 500_000


def test_the_chart_places_every_point_inside_the_plot():
    series = [(date(2026, m, 1), v) for m, v in ((1, 0), (2, 500), (3, 2_000), (4, 1_000))]
    chart = charts.line_chart(series, height=200)
    assert [p.x for p in chart.points] == [0, 1 / 3, 2 / 3, 1]
    assert chart.points[0].y == chart.bottom  # zero sits on the axis
    assert chart.points[2].y == chart.top  # 2,000 is the top tick
    assert len(chart.polyline.split()) == 4
    assert chart.area.startswith("M0.0,") and chart.area.endswith("Z")
    assert [t.label for t in chart.x_ticks] == ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026"]
    assert chart.x_ticks[0].anchor == "start" and chart.x_ticks[-1].anchor == "end"
    assert not chart.x_ticks[-1].minor


def test_a_long_series_labels_a_few_dates_counted_back_from_the_last():
    series = [(date(2020 + i // 12, i % 12 + 1, 28), i * 100) for i in range(83)]
    chart = charts.line_chart(series, x_ticks=8)
    assert len(chart.x_ticks) <= 8
    assert chart.x_ticks[-1].label == "Nov 2026"
    assert not chart.show_markers


def test_a_single_point_is_drawn_in_the_middle():
    chart = charts.line_chart([(date(2026, 5, 1), 100)])
    assert chart.points[0].x == 0.5 and chart.area == ""


# --- The page -------------------------------------------------------------------------------


def chart_svg(html: str, chart_id: str) -> ET.Element:
    """The chart's SVG parsed as XML (it must be well-formed to parse)."""
    match = re.search(
        rf'<div class="chart" id="{chart_id}">.*?'
        r'(<svg class="chart-svg[^"]*" .*?</svg>)(?=\s*</div>)',
        html,
        re.S,
    )
    assert match, f"no chart {chart_id}"
    return ET.fromstring(match.group(1))  # noqa: S314 (our own page)


def test_staff_see_the_register_with_totals_and_a_chart(staff, holders):
    response = staff.get("/staff/register?as_of=2026-07-15")
    assert response.status_code == 200 and is_page(response)
    page = response.get_data(as_text=True)
    assert "As of the end of 15 July 2026" in page
    for name in ("Ann Artist", "Bob Listener", "Cy Worker"):
        assert name in page
    assert "€88" in page and "Supporter share" in page
    svg = chart_svg(page, "register-chart")
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text.startswith("Capital on the register")
    polyline = svg.find(f".//{SVG}polyline")
    assert len(polyline.get("points").split()) == 7  # January to 15 July
    assert len(svg.findall(f".//{SVG}circle")) == 7
    assert "The figures as a table" in page and "<td>15 July 2026</td>" in page
    # The exports keep the filters.
    assert 'href="/staff/register.csv?as_of=2026-07-15"' in page
    assert 'href="/staff/register.pdf?as_of=2026-07-15"' in page


def test_the_date_defaults_to_today_in_the_coops_zone(staff, holders):
    page = staff.get("/staff/register").get_data(as_text=True)
    today = DUBLIN.today()
    assert f'value="{today.isoformat()}"' in page
    assert f"As of the end of {today.strftime('%-d %B %Y')}" in page


def test_htmx_gets_only_the_results_for_the_filters(staff, holders):
    response = staff.get(
        "/staff/register?as_of=2026-07-01&type=supporter&class=listener", headers=HTMX
    )
    assert response.status_code == 200 and is_partial(response)
    text = response.get_data(as_text=True)
    assert 'id="share-register-results"' in text
    assert "Bob Listener" in text and "Ann Artist" not in text
    assert "/staff/register.csv?as_of=2026-07-01&amp;type=supporter&amp;class=listener" in text


def test_the_form_works_as_a_plain_get_with_the_filters_kept(staff, holders):
    page = staff.get("/staff/register?as_of=2026-07-01&type=membership&class=artist").get_data(
        as_text=True
    )
    assert 'value="2026-07-01"' in page
    assert '<option value="membership" selected>' in page
    assert '<option value="artist" selected>' in page
    assert "Ann Artist" in page and "Bob Listener" not in page
    assert 'data-hx-push-url="true"' in page


def test_the_holders_are_paged_by_member_number_never_splitting_a_member(
    staff, holders, monkeypatch
):
    monkeypatch.setattr(share_register_views, "PAGE_SIZE", 2)
    first = staff.get("/staff/register?as_of=2026-07-15").get_data(as_text=True)
    assert "Showing members no. 1–1 of 3 holders" in first  # Ann's two holdings fill it
    assert "Bob Listener" not in first and 'rel="prev"' not in first
    assert 'href="/staff/register?after=1&amp;as_of=2026-07-15"' in first
    second = staff.get("/staff/register?after=1&as_of=2026-07-15", headers=HTMX)
    text = second.get_data(as_text=True)
    assert is_partial(second) and "Showing members no. 2–2 of 3 holders" in text
    assert 'href="/staff/register?before=2&amp;as_of=2026-07-15"' in text
    last = staff.get("/staff/register?after=2&as_of=2026-07-15").get_data(as_text=True)
    assert "Cy Worker" in last and 'rel="next"' not in last
    back = staff.get("/staff/register?before=2&as_of=2026-07-15").get_data(as_text=True)
    assert "Ann Artist" in back and "Bob Listener" not in back and 'rel="prev"' not in back
    # A cursor that is no member number is read as none: the first page.
    assert "Ann Artist" in staff.get("/staff/register?after=x&before=-1").get_data(as_text=True)


def test_an_empty_register_says_so(staff, coop):
    page = staff.get("/staff/register").get_data(as_text=True)
    assert "No shares had been issued by" in page
    assert "No one held shares" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=not-a-date", "That is not a date"),
        ("as_of=2026-13-01", "That is not a date"),
        ("as_of=2999-01-01", "future date"),
        ("type=golden", "There is no share type “golden”"),
        ("class=alien", "There is no member class “alien”"),
    ],
)
def test_bad_filters_are_refused_with_a_message(staff, holders, query, message):
    plain = staff.get(f"/staff/register?{query}")
    assert plain.status_code == 422 and is_page(plain)
    assert message in plain.get_data(as_text=True)
    swapped = staff.get(f"/staff/register?{query}", headers=HTMX)
    assert swapped.status_code == 422 and is_partial(swapped)
    assert 'role="alert"' in swapped.get_data(as_text=True)
    assert message in swapped.get_data(as_text=True)
    for export in ("csv", "pdf"):
        refused = staff.get(f"/staff/register.{export}?{query}")
        assert refused.status_code == 422
        assert message in refused.get_data(as_text=True)


def test_a_bad_date_marks_the_date_field(staff, holders):
    page = staff.get("/staff/register?as_of=tomorrow").get_data(as_text=True)
    assert 'id="filter-as-of-error"' in page and 'aria-invalid="true"' in page
    assert 'value="tomorrow"' not in page  # not a valid value for a date input


# --- The exports ------------------------------------------------------------------------------


@pytest.fixture
def download(staff):
    """Fetch a CSV as staff; the streamed session is collected afterwards (see the members CSV)."""

    def fetch(url: str):
        response = staff.get(url)
        streamed = response.is_streamed
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        response.close()
        return response, streamed, rows

    yield fetch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


def test_the_csv_is_streamed_with_the_pages_filters(download, holders):
    response, streamed, rows = download("/staff/register.csv?as_of=2026-07-01&type=supporter")
    assert response.status_code == 200 and streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="register-of-shares-2026-07-01.csv"'
    )
    assert rows[0] == list(share_register.CSV_COLUMNS)
    assert [r[1:] for r in rows[1:]] == [
        ["Ann Artist", "Artist*", "Supporter share", "60", "1.00", "60.00", "EUR"],
        ["Bob Listener", "Listener*", "Supporter share", "25", "1.00", "25.00", "EUR"],
    ]


def test_the_csv_defuses_a_name_a_spreadsheet_would_run(download, make_member):
    make_member(name='=HYPERLINK("https://evil.example")', shares={"supporter": 5})
    _response, _streamed, rows = download("/staff/register.csv")
    names = {r[1] for r in rows[1:]}
    assert '\'=HYPERLINK("https://evil.example")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


@pytest.mark.pdf
def test_the_pdf_lists_the_holders_and_totals_with_page_numbers(staff, holders):
    response = staff.get("/staff/register.pdf?as_of=2026-07-15")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert 'filename="register-of-shares-2026-07-15.pdf"' in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    assert "Reverb Music Co-operative Society Ltd" in flat
    assert "Register of shares as of the end of 15 July 2026" in flat
    for name in ("Ann Artist", "Bob Listener", "Cy Worker"):
        assert name in flat
    assert "€88" in flat and "Total (3 holders)" in flat
    assert f"Page 1 of {len(reader.pages)}" in flat


@pytest.mark.usefixtures("without_weasyprint")
def test_without_weasyprint_the_pdf_answers_503_and_the_csv_still_works(download, holders):
    refused, _streamed, _rows = download("/staff/register.pdf?as_of=2026-07-15")
    assert refused.status_code == 503
    assert "PDFs cannot be made on this server just now" in refused.get_data(as_text=True)
    response, _streamed, rows = download("/staff/register.csv?as_of=2026-07-15")
    assert response.status_code == 200 and "Ann Artist" in {row[1] for row in rows}


@pytest.mark.pdf
def test_a_long_register_runs_over_pages_with_numbers(app, staff, make_member, make_ledger_row):
    people = [make_member(name=f"Holder {n:03d}", classes=("listener",)) for n in range(70)]
    for person in people:
        make_ledger_row(person, "supporter", 5, at("2026-03-02T12:00"))
    response = staff.get("/staff/register.pdf?as_of=2026-07-15")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) > 1
    last = re.sub(r"\s+", " ", reader.pages[-1].extract_text())
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last
    assert "Holder 069" in last and "Total (70 holders)" in last


# --- Who may see it -------------------------------------------------------------------------------

URLS = ("/staff/register", "/staff/register.csv", "/staff/register.pdf")


@pytest.mark.parametrize("url", URLS)
def test_signed_out_visitors_are_sent_to_sign_in(client, coop, url):
    response = client.get(url)
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]
    assert client.get(url, headers=HTMX).status_code == 401


@pytest.mark.parametrize("url", URLS)
def test_members_cannot_see_the_register(make_member, sign_in, url):
    ann = make_member()
    assert sign_in(ann.email).get(url).status_code == 403


# --- The member's chart on /shares ---------------------------------------------------------------


def test_a_member_sees_their_capital_over_time(sign_in, holders):
    page = sign_in(holders[0].email).get("/shares").get_data(as_text=True)
    assert "Your capital over time" in page
    svg = chart_svg(page, "holding-chart")
    points = svg.find(f".//{SVG}polyline").get("points").split()
    today = DUBLIN.today()
    assert len(points) == (today.year - 2026) * 12 + today.month  # January to this month
    assert page.index("Your capital over time") > page.index('id="holdings-heading"')


def test_a_member_without_shares_sees_no_chart(app, make_member, sign_in, coop, reviewer):
    # Every member holds the membership share they paid to join, unless their class asks
    # for none: then approval admits them at once, holding nothing.
    with app.test_request_context("/"), write_session(app) as db:
        artist = classes.find_class(db, "artist")
        classes.update_class(db, artist, {"required_shares": "0"}, actor=reviewer)
    dee = make_member(name="Dee New")
    page = sign_in(dee.email).get("/shares").get_data(as_text=True)
    assert "Your capital over time" not in page and "<svg" not in page


def test_a_new_member_sees_the_membership_share_they_paid_to_join(make_member, sign_in):
    dee = make_member(name="Dee New")
    page = sign_in(dee.email).get("/shares").get_data(as_text=True)
    assert "Your capital over time" in page
    assert "Membership share" in page and "Certificate no. 1" in page


def test_an_approved_applicant_is_on_no_register_until_the_share_is_paid(
    app, staff, make_applicant, pay, sign_in
):
    ann = make_applicant(name="Ann Approved", state="awaiting_share")
    today = DUBLIN.today()
    assert the_register(app, today).holders == 0
    for url in ("/staff/register", "/staff/members", "/staff/members?q=Ann"):
        assert "Ann Approved" not in staff.get(url).get_data(as_text=True), url
    shares = sign_in(ann.email).get("/shares").get_data(as_text=True)
    assert "Your capital over time" not in shares and "Certificate no." not in shares
    with reading(app) as db:
        order = db.scalar(select(ShareOrder).where(ShareOrder.application_id == ann.application_id))
    pay(order)
    assert held(the_register(app, today)) == [("Ann Approved", "membership", 1)]
    for url in ("/staff/register", "/staff/members"):
        assert "Ann Approved" in staff.get(url).get_data(as_text=True), url


def test_the_register_lists_a_member_once_among_holders_even_in_two_classes(
    app, make_member, make_ledger_row
):
    eve = make_member(name="Eve Both", classes=("artist", "worker"), admitted_on=date(2026, 1, 5))
    make_ledger_row(eve, "supporter", 10, at("2026-03-02T12:00"))
    register = the_register(app, date(2026, 7, 1))
    assert register.holders == 1
    assert register.rows[0].classes == "Artist*, Worker"
    assert the_register(app, date(2026, 7, 1), class_code="artist").holders == 1
    assert the_register(app, date(2026, 7, 1), class_code="worker").holders == 1
