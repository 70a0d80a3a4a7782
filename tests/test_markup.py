"""Markdown for documents renders inert: no script, no active links, no remote images."""

from __future__ import annotations

import re

import pytest

from portal.markup import render_markdown, render_plain, without_title


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("[click](JaVaScRiPt:alert(1))", "href="),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", 'href="data'),
        ('<a href="#" onclick="alert(1)">x</a>', "<a href"),
        ('<img src="x" onerror="alert(1)">', "<img"),
        ("![pixel](https://tracker.example/p.png)", "tracker.example"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ("<style>body{display:none}</style>", "<style"),
        ('<div style="position:fixed">x</div>', "<div style"),
        ("[x](https://ok.example 'title\" onmouseover=\"alert(1)')", 'onmouseover="'),
    ],
)
def test_hostile_markdown_renders_inert(source, forbidden):
    assert forbidden not in str(render_markdown(source))


def test_ordinary_markdown_keeps_its_structure():
    html = str(render_markdown("## Part 1\n\n1. One\n2. **Two**\n\n[site](https://reverb.example)"))
    assert "<h2>Part 1</h2>" in html and "<ol>" in html and "<strong>Two</strong>" in html
    assert 'href="https://reverb.example"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_clause_letters_are_not_turned_into_symbols():
    assert "(c) to support music" in str(render_markdown("(c) to support music"))


def test_a_wide_table_scrolls_in_a_region_keyboard_users_can_reach():
    html = str(render_markdown("| a | b |\n|---|---|\n| 1 | 2 |"))
    assert '<div class="prose-table" tabindex="0" role="region" aria-label="Table"><table>' in html
    assert html.count("</table></div>") == 1


def region_names(html):
    return re.findall(r'role="region" aria-label="([^"]*)"><table>', html)


def test_each_tables_region_is_named_by_the_heading_it_falls_under():
    table = "| a |\n|---|\n| 1 |\n\n"
    source = f"{table}## 7. Classes\n\n{table}{table}## Schedule & *notes*\n\n{table}"
    html = str(render_markdown(source))
    assert region_names(html) == [
        "Table",
        "Table: 7. Classes (1)",
        "Table: 7. Classes (2)",
        "Table: Schedule &amp; notes",
    ]
    assert html.count("</table></div>") == 4


def test_a_heading_cannot_break_out_of_a_tables_name():
    html = str(render_markdown('## `" onfocus="x`\n\n| a |\n|---|\n| 1 |'))
    assert region_names(html) == ["Table: &#34; onfocus=&#34;x"]


def test_a_first_heading_repeating_the_title_is_left_out():
    assert without_title("# The Rules\n\nText", "The  rules") == "\nText"
    assert without_title("# Other\n\nText", "The Rules").startswith("# Other")


def test_plain_text_keeps_the_words_and_link_addresses_and_drops_the_markup():
    text = render_plain(
        "# Why\n\nI will **publish** [the rates](https://rates.example/q).\n\n"
        "- fair pay\n- open books\n\n<b>bold</b>"
    )
    assert text == (
        "Why\n\nI will publish the rates (https://rates.example/q).\n\n"
        "- fair pay\n- open books\n\n<b>bold</b>"
    )
