"""The readable diff between two versions of a document, and the partial that shows it."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, render_template
from hypothesis import given
from hypothesis import strategies as st

from portal.text_diff import (
    CELL_BREAK,
    BlockKind,
    DiffBlock,
    Segment,
    SegmentKind,
    VersionDiff,
    diff_versions,
    diff_words,
    paragraphs,
)

SEED_DOCUMENTS = Path(__file__).parents[1] / "portal" / "seed_documents" / "resonate"

EQUAL, DELETED, INSERTED = SegmentKind.EQUAL, SegmentKind.DELETED, SegmentKind.INSERTED
UNCHANGED, ADDED, REMOVED, CHANGED, SKIPPED = (
    BlockKind.UNCHANGED,
    BlockKind.ADDED,
    BlockKind.REMOVED,
    BlockKind.CHANGED,
    BlockKind.SKIPPED,
)

RULES = """\
## Part 1 — Shares

### 15. Supporter shares

15.1 Any member may buy supporter shares.

15.2 Supporter shares are issued in multiples of five.

15.3 No member may hold shares worth more than €50,000.
"""


def rulebook(version: int) -> str:
    return (SEED_DOCUMENTS / f"rulebook-v{version}.md").read_text(encoding="utf-8")


def unchanged(text: str, section: str = "15. Supporter shares") -> DiffBlock:
    return DiffBlock(UNCHANGED, old=text, new=text, section=section)


def marked(block: DiffBlock) -> str:
    """A changed paragraph written out as [-deleted-]{+inserted+}, to compare at a glance;
    a table row's cells between " | "."""
    marks = {EQUAL: "{}", DELETED: "[-{}-]", INSERTED: "{{+{}+}}"}

    def spell(segments: tuple[Segment, ...]) -> str:
        return "".join(marks[segment.kind].format(segment.text) for segment in segments)

    if block.is_row:
        return " | ".join(spell(cell) for cell in block.cells)
    return spell(block.segments)


def read(block: DiffBlock) -> str:
    """A block as a reader reads it: changed words marked, a row's cells between " | "."""
    if block.kind is CHANGED:
        return marked(block)
    return block.text.replace(CELL_BREAK, " | ")


def render_diff(app: Flask, diff: VersionDiff, old: int = 1, new: int = 2) -> str:
    with app.app_context():
        return render_template(
            "documents/_diff.html",
            diff=diff,
            old=SimpleNamespace(number=old),
            new=SimpleNamespace(number=new),
        )


# -- small inputs ----------------------------------------------------------------------------


def test_added_clause_is_one_added_paragraph_with_its_neighbour_for_context() -> None:
    diff = diff_versions(RULES, RULES + "\n15.4 The Board may stop new issues.\n")

    assert (diff.added, diff.removed, diff.changed) == (1, 0, 0)
    assert diff.blocks == [
        DiffBlock(SKIPPED, skipped=4, section="15. Supporter shares"),
        unchanged("15.3 No member may hold shares worth more than €50,000."),
        DiffBlock(ADDED, new="15.4 The Board may stop new issues.", section="15. Supporter shares"),
    ]


def test_removed_clause_is_one_removed_paragraph() -> None:
    new = RULES.replace("15.2 Supporter shares are issued in multiples of five.\n\n", "")

    diff = diff_versions(RULES, new)

    assert (diff.added, diff.removed, diff.changed) == (0, 1, 0)
    assert diff.blocks == [
        DiffBlock(SKIPPED, skipped=2, section="15. Supporter shares"),
        unchanged("15.1 Any member may buy supporter shares."),
        DiffBlock(
            REMOVED,
            old="15.2 Supporter shares are issued in multiples of five.",
            section="15. Supporter shares",
        ),
        unchanged("15.3 No member may hold shares worth more than €50,000."),
    ]


def test_a_changed_word_is_deleted_and_inserted_alone() -> None:
    diff = diff_versions(RULES, RULES.replace("multiples of five", "multiples of ten"))

    assert (diff.added, diff.removed, diff.changed) == (0, 0, 1)
    [change] = diff.changes
    assert change.segments == (
        Segment(EQUAL, "15.2 Supporter shares are issued in multiples of "),
        Segment(DELETED, "five"),
        Segment(INSERTED, "ten"),
        Segment(EQUAL, "."),
    )
    assert change.old == "15.2 Supporter shares are issued in multiples of five."
    assert change.new == "15.2 Supporter shares are issued in multiples of ten."


def test_an_amount_changes_as_one_word() -> None:
    segments = list(diff_words("more than €50,000, or less", "more than €150,000, or less"))

    assert segments == [
        Segment(EQUAL, "more than "),
        Segment(DELETED, "€50,000"),
        Segment(INSERTED, "€150,000"),
        Segment(EQUAL, ", or less"),
    ]


def test_words_changed_side_by_side_read_as_one_change() -> None:
    segments = list(diff_words("hold three proxies each", "hold five votes each"))

    assert segments == [
        Segment(EQUAL, "hold "),
        Segment(DELETED, "three proxies"),
        Segment(INSERTED, "five votes"),
        Segment(EQUAL, " each"),
    ]


def test_an_added_sentence_starts_on_its_first_word() -> None:
    segments = list(
        diff_words("Weights apply. Fees change.", "Weights apply. Add to 100. Fees change.")
    )

    assert segments == [
        Segment(EQUAL, "Weights apply. "),
        Segment(INSERTED, "Add to 100. "),
        Segment(EQUAL, "Fees change."),
    ]


def test_unchanged_text_is_collapsed_around_a_change_with_context() -> None:
    old = "\n\n".join(f"{n}.1 Clause {n} says what it says." for n in range(1, 11))
    new = old.replace("Clause 6 says", "Clause 6 now says")

    diff = diff_versions(old, new)

    assert [(block.kind, block.skipped, block.text[:4]) for block in diff.blocks] == [
        (SKIPPED, 4, ""),
        (UNCHANGED, 0, "5.1 "),
        (CHANGED, 0, "6.1 "),
        (UNCHANGED, 0, "7.1 "),
        (SKIPPED, 3, ""),
    ]
    assert marked(diff.blocks[2]) == "6.1 Clause 6 {+now +}says what it says."


def test_a_fold_of_one_paragraph_shows_the_paragraph_instead() -> None:
    old = "\n\n".join(f"Paragraph {n}." for n in range(1, 6))
    new = old.replace("Paragraph 1.", "Paragraph one.").replace("Paragraph 5.", "Paragraph five.")

    diff = diff_versions(old, new)

    assert [block.kind for block in diff.blocks] == [
        CHANGED,
        UNCHANGED,
        UNCHANGED,
        UNCHANGED,
        CHANGED,
    ]


def test_more_context_shows_more_paragraphs() -> None:
    old = "\n\n".join(f"Paragraph {n}." for n in range(1, 11))
    new = old.replace("Paragraph 6.", "Paragraph six.")

    diff = diff_versions(old, new, context=2)

    assert [block.kind for block in diff.blocks] == [
        SKIPPED, UNCHANGED, UNCHANGED, CHANGED, UNCHANGED, UNCHANGED, SKIPPED
    ]  # fmt: skip


def test_identical_versions_have_no_changes_and_no_blocks() -> None:
    diff = diff_versions(RULES, RULES)

    assert diff == VersionDiff(blocks=[], added=0, removed=0, changed=0)
    assert not diff.has_changes


def test_rewrapping_a_paragraph_changes_nothing() -> None:
    wrapped = RULES.replace("worth more\nthan", "worth more than").replace(
        "15.3 No member may hold shares", "15.3 No member\nmay hold   shares"
    )

    assert not diff_versions(RULES, wrapped).has_changes


def test_a_rewritten_paragraph_is_removed_and_another_added() -> None:
    old = "Intro.\n\nThe Board meets monthly in Dublin.\n\nEnd."
    new = "Intro.\n\nDirectors may attend online from anywhere.\n\nEnd."

    diff = diff_versions(old, new)

    assert [(block.kind, block.text) for block in diff.changes] == [
        (REMOVED, "The Board meets monthly in Dublin."),
        (ADDED, "Directors may attend online from anywhere."),
    ]


def test_an_item_relettered_pairs_with_its_new_self_not_its_new_neighbour() -> None:
    old = "- (a) votes are counted;\n- (b) the motion passes on a majority."
    new = (
        "- (a) votes are counted;\n- (b) abstentions are left out;\n"
        "- (c) the motion passes on a majority."
    )

    diff = diff_versions(old, new)

    assert [(block.kind, block.text) for block in diff.changes] == [
        (ADDED, "(b) abstentions are left out;"),
        (CHANGED, "(c) the motion passes on a majority."),
    ]
    assert marked(diff.changes[1]) == "([-b-]{+c+}) the motion passes on a majority."


def test_markdown_splits_into_headings_items_rows_and_paragraphs() -> None:
    source = (
        "# Title\n\nA paragraph\nwrapped.\n\n- item one\n  continued\n- item two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode  kept\n```\n"
    )

    assert [(p.text, p.section) for p in paragraphs(source)] == [
        ("Title", "Title"),
        ("A paragraph wrapped.", "Title"),
        ("item one continued", "Title"),
        ("item two", "Title"),
        (f"a{CELL_BREAK}b", "Title"),
        (f"1{CELL_BREAK}2", "Title"),
        ("code  kept", "Title"),
    ]


def test_paragraphs_read_without_markdown_syntax_and_keep_their_form() -> None:
    source = (
        "# Rules\n\n## 7. *Classes*\n\nSome **bold** and `code` and [a link](https://x.example)"
        " and 1 \\* 2.\n\n- (a) first\n  - (i) nested\n3. numbered\n\n> Quoted\n> on.\n\n"
        "---\n\nSetext\n===\n\n| Class | Fee \\| a year |\n|:---|---:|\n| Artist | *None* |\n"
    )

    found = [(p.text, p.form.kind.value, p.form.level, p.form.bullet) for p in paragraphs(source)]

    assert found == [
        ("Rules", "heading", 1, False),
        ("7. Classes", "heading", 2, False),
        ("Some bold and code and a link and 1 * 2.", "text", 0, False),
        ("(a) first", "item", 0, True),
        ("(i) nested", "item", 1, True),
        ("3. numbered", "item", 0, False),  # a number is cited, so it is kept
        ("Quoted on.", "quote", 0, False),
        ("Setext", "heading", 1, False),
        (f"Class{CELL_BREAK}Fee | a year", "row", 0, False),
        (f"Artist{CELL_BREAK}None", "row", 0, False),
    ]
    header, row = paragraphs(source)[-2:]
    assert header.form.header and not row.form.header
    assert row.form.columns == ("Class", "Fee | a year")


WORDS = st.lists(
    st.sampled_from(["the", "Board", "€50,000", "7.2", "shall", ",", "."]), max_size=12
)


@given(old=WORDS, new=WORDS)
def test_segments_spell_both_versions(old: list[str], new: list[str]) -> None:
    old_text, new_text = " ".join(old), " ".join(new)

    segments = list(diff_words(old_text, new_text))

    assert "".join(s.text for s in segments if s.kind is not INSERTED) == old_text
    assert "".join(s.text for s in segments if s.kind is not DELETED) == new_text
    assert all(s.text for s in segments)


# -- the real rulebook --------------------------------------------------------------------------


def test_rulebook_v1_to_v2_names_the_reweighting_and_nothing_else() -> None:
    diff = diff_versions(rulebook(1), rulebook(2))

    assert (diff.added, diff.removed, diff.changed) == (2, 0, 6)
    assert [(block.kind, block.section, read(block)) for block in diff.changes] == [
        (
            CHANGED,
            "Rules of Reverb Music Co-operative Society Ltd",
            "Version [-1-]{+2+}. [-Adopted by the founding members-]{+Amended by special "
            "resolution at the annual general meeting+} on [-28 January 2023-]{+22 June 2024+}. "
            "Registered and in force from [-14 March 2023-]{+20 August 2024+}.",
        ),
        (
            CHANGED,
            "7. Classes of membership",
            "Listener | €10 | On payment, then ratified by the Board | 2 | [-40-]{+35+}",
        ),
        (
            CHANGED,
            "7. Classes of membership",
            "Worker | None | After a check of contributions by the Society’s staff | 2 "
            "| [-15-]{+20+}",
        ),
        (
            CHANGED,
            "7. Classes of membership",
            "7.4 The voting weights apply only where Rule 27.3 provides for class-weighted voting. "
            "{+They must add up to 100, and no class may have a weight below 10 or above 50. +}"
            "The annual fee may be changed by the Board, but a change takes effect only when "
            "confirmed by ordinary resolution at the next general meeting.",
        ),
        (
            CHANGED,
            "27. Voting",
            "(b) that share is multiplied by the class’s voting weight under Rule 7.2;[- and-]",
        ),
        (
            ADDED,
            "27. Voting",
            "(c) if no votes for or against are cast in a class, that class’s weight is left "
            "out of the total weight; and",
        ),
        (
            CHANGED,
            "27. Voting",
            "([-c-]{+d+}) the resolution passes if the weighted results added together exceed "
            "half of the total weight.",
        ),
        (
            ADDED,
            "Schedule — Versions of these Rules",
            "2 | 22 June 2024, AGM, special resolution 4 | 20 August 2024 | Worker voting weight "
            "raised from 15 to 20 and Listener weight reduced from 40 to 35 (Rule 7.2), which also "
            "sets the split of any patronage returns (Rule 40.3); limits on weights (Rule 7.4); a "
            "class casting no votes is left out of a weighted count (Rule 27.3)",
        ),
    ]


def test_rulebook_v2_to_v3_names_the_cap_and_the_proxy_rules_and_nothing_else() -> None:
    diff = diff_versions(rulebook(2), rulebook(3))

    assert (diff.added, diff.removed, diff.changed) == (3, 0, 5)
    summary = [(block.kind, block.section, block.text.split(" ", 1)[0]) for block in diff.changes]
    assert summary == [
        (CHANGED, "Rules of Reverb Music Co-operative Society Ltd", "Version"),
        (ADDED, "5. Interpretation", "“proxy"),
        (CHANGED, "15. Supporter shares", "15.3"),
        (CHANGED, "28. Proxies", "28.2"),
        (CHANGED, "28. Proxies", "28.3"),
        (CHANGED, "28. Proxies", "28.4"),
        (ADDED, "28. Proxies", "28.5"),
        (ADDED, "Schedule — Versions of these Rules", f"3{CELL_BREAK}27"),
    ]
    cap, proxies = diff.changes[2], diff.changes[4]
    assert [s for s in cap.segments if s.kind is not EQUAL] == [
        Segment(DELETED, "€50,000"),
        Segment(INSERTED, "€150,000"),
    ]
    assert [s for s in proxies.segments if s.kind is not EQUAL] == [
        Segment(DELETED, "three"),
        Segment(INSERTED, "five"),
    ]
    assert diff.changes[1].new == (
        "“proxy deadline” means 48 hours before the time a general meeting is due to start;"
    )


def test_rulebook_diff_folds_the_unchanged_rules() -> None:
    diff = diff_versions(rulebook(2), rulebook(3))

    folds = [block for block in diff.blocks if block.kind is SKIPPED]
    shown = [block for block in diff.blocks if block.kind is not SKIPPED]
    assert [fold.section for fold in folds] == [
        "5. Interpretation",
        "15. Supporter shares",
        "28. Proxies",
        "Schedule — Versions of these Rules",
    ]
    assert len(shown) < 25
    assert sum(fold.skipped for fold in folds) + len(shown) == len(paragraphs(rulebook(3)))


# -- the partial ---------------------------------------------------------------------------


def test_partial_marks_changes_in_words_not_only_colour(app: Flask) -> None:
    html = render_diff(app, diff_versions(rulebook(2), rulebook(3)), old=2, new=3)

    assert 'aria-label="Changes from Version 2 to Version 3"' in html
    assert "5 paragraphs changed</span>" in html
    assert "3 paragraphs added</span>" in html
    assert "0 paragraphs removed</span>" in html
    assert (
        'more than <del><span class="visually-hidden">removed: </span>€50,000</del>'
        '<ins><span class="visually-hidden">added: </span>€150,000</ins>, or any lower limit'
    ) in html
    assert '<span class="doc-diff-label">Added</span>' in html
    assert '<span class="doc-diff-label">Changed</span>' in html
    assert "unchanged paragraphs not shown</span>" in html
    assert re.search(r'class="visually-hidden">Next, in </span>28\. Proxies</span>', html)
    assert "style=" not in html  # the CSP forbids inline styles


def test_partial_shows_paragraphs_as_the_document_does_not_as_markdown(app: Flask) -> None:
    html = render_diff(app, diff_versions(rulebook(1), rulebook(2)))
    text = re.sub(r"<[^>]+>", "", html)

    for syntax in ("# ", "## ", "- (", "| ", "|---", "**"):
        assert syntax not in text, syntax
    assert '<p class="doc-diff-text doc-diff-title doc-diff-h1">Rules of Reverb' in html
    assert (
        '<p class="doc-diff-text doc-diff-item doc-diff-depth-0 doc-diff-bullet">'
        "(b) that share is multiplied"
    ) in html
    # A changed row is a row of cells, named by its table's columns, the change marked.
    listener = html.split('<td data-column="Class">Listener</td>', 1)[1].split("</tr>", 1)[0]
    assert (
        '<td data-column="Voting weight"><del><span class="visually-hidden">removed: </span>40'
        '</del><ins><span class="visually-hidden">added: </span>35</ins></td>'
    ) in listener
    assert '<th scope="col">Voting weight</th>' in html  # the header row shown for context


def test_a_row_shown_alone_carries_its_tables_column_names(app: Flask) -> None:
    table = "Intro.\n\n| Class | Fee |\n|---|---|\n| Listener | €10 |\n"
    rows = "".join(f"| Class {n} | €{n} |\n" for n in range(8))
    html = render_diff(app, diff_versions(table + rows, table + rows + "| Worker | €0 |\n"))

    context, added = html.split('<span class="doc-diff-label">Added</span>', 1)
    names = '<thead><tr><th scope="col">Class</th><th scope="col">Fee</th></tr></thead>'
    # The row before the added one is shown after a fold: it names the columns, once.
    assert context.split("not shown</span>", 1)[1].count(names) == 1
    assert '<td data-column="Class">Class 7</td>' in context
    assert names not in added
    assert '<td data-column="Class"><ins>Worker</ins></td>' in added


def test_partial_shows_removed_paragraphs_struck_out(app: Flask) -> None:
    html = render_diff(app, diff_versions("One.\n\nTwo.\n\nThree.", "One.\n\nThree."))

    assert '<span class="doc-diff-label">Removed</span>' in html
    assert '<p class="doc-diff-text"><del>Two.</del></p>' in html
    assert "0 paragraphs changed</span>" in html
    assert "1 paragraph removed</span>" in html


def test_partial_escapes_markup_in_a_version(app: Flask) -> None:
    old = "1.1 Members meet.\n\n1.2 Votes count."
    new = (
        '1.1 Members meet <script>alert("x")</script>.\n\n1.2 Votes count.\n\n'
        "<img src=x onerror=alert(1)>"
    )

    html = render_diff(app, diff_versions(old, new))

    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(“x”)&lt;/script&gt;" in html  # text, its quotes typeset
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_partial_escapes_what_a_code_span_or_a_cell_holds(app: Flask) -> None:
    old = "| a |\n|---|\n| 1 |"
    new = '| a |\n|---|\n| `"><script>x</script>` |\n\n`<b onclick="x">`'

    html = render_diff(app, diff_versions(old, new))

    assert "<script" not in html and "<b " not in html
    assert "&#34;&gt;&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b onclick=&#34;x&#34;&gt;" in html


def test_partial_says_when_nothing_changed(app: Flask) -> None:
    html = render_diff(app, diff_versions(RULES, RULES), old=3, new=4)

    assert "Version 4 has the same text as Version 3: nothing changed." in html
    assert "<ol" not in html
