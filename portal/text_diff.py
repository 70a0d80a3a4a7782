"""What changed between two versions of a Markdown document, as a reader would want to see it.

The unit of comparison is the paragraph — a paragraph, a heading, a list item or a table
row of the Markdown source — because a rule changes a clause at a time, and a clause
re-wrapped over other lines has not changed. Paragraphs that were edited, rather than
replaced, show which words went and which came. Long runs of unchanged paragraphs are
collapsed, keeping ``context`` paragraphs either side of each change, as on GitHub.

Paragraphs are compared as a reader sees them, not as they are typed: a heading's ``#``,
a bullet, a table's pipes and Markdown's emphasis are gone, and each paragraph keeps its
form (a heading of a level, a list item, a table row of cells, code, a quotation) for the
page to show it as such. Everything here is plain text: the template escapes it
(templates/documents/_diff.html).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from markdown_it import MarkdownIt

# Two paragraphs at least this alike (by their words) are one paragraph edited; below it,
# one paragraph removed and another added. "15.3 No member may hold … €50,000" against
# "… €150,000" is 0.97; the proxy clause reworded in version 3 of the Rules, 0.71; two
# sentences of seven words that share only their full stop, 0.14.
EDITED_PARAGRAPH_SIMILARITY = 0.5
# Above this many candidate pairs in one replaced run, pair paragraphs in order instead of
# searching for the best pairing (a rewrite of a whole document is rare, and quadratic).
MAX_PAIRINGS_SEARCHED = 10_000

HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)(.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")  # under a paragraph: it is a heading
THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
LIST_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*)|$)")
TABLE_ROW = re.compile(r"^\s*\|")
TABLE_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
CELL_EDGE = re.compile(r"^\s*\||(?<!\\)\|\s*$")
CELL_BORDER = re.compile(r"(?<!\\)\|")
QUOTE_MARKER = re.compile(r"^\s*(?:>[ \t]?)+")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Between the cells of a table row in a paragraph's text: no cell can hold it.
CELL_BREAK = "\x1f"
# Markdown's inline syntax (emphasis, code spans, links, escapes) read as the page reads it:
# with the document page's parser settings (portal/markup.py), smart quotes and all.
INLINE = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
    ["strikethrough", "smartquotes"]
)
# A word, with what holds it together (€1,500.00, 7.2, Society's, class-weighted, 10%),
# a run of spaces, or any other single character (punctuation, a Markdown marker).
TOKEN = re.compile(r"[€£$]?\w+(?:[.,'’:/-]\w+)*%?|\s+|[^\w\s]")


class BlockKind(enum.StrEnum):
    UNCHANGED = "unchanged"
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    SKIPPED = "skipped"  # a run of unchanged paragraphs not shown


class SegmentKind(enum.StrEnum):
    EQUAL = "equal"
    DELETED = "deleted"
    INSERTED = "inserted"


class ParagraphKind(enum.StrEnum):
    TEXT = "text"
    HEADING = "heading"
    ITEM = "item"  # of a list
    ROW = "row"  # of a table
    CODE = "code"
    QUOTE = "quote"


@dataclass(frozen=True)
class Form:
    """How a paragraph is shown: as text, a heading of ``level`` (1 to 6), a list item at
    depth ``level`` (0 at the margin; ``bullet``ed, or numbered in its text), a table row
    (``header`` for the table's first; ``columns`` are the header's cells, to name a row
    shown alone), a code block or a quotation."""

    kind: ParagraphKind = ParagraphKind.TEXT
    level: int = 0
    bullet: bool = False
    header: bool = False
    columns: tuple[str, ...] = ()


TEXT = Form()


@dataclass(frozen=True)
class Segment:
    """A run of words in a changed paragraph: kept, deleted or inserted."""

    kind: SegmentKind
    text: str


@dataclass(frozen=True)
class DiffBlock:
    """One paragraph of the diff, or a collapsed run of unchanged ones.

    ``old`` is the paragraph as it was (unchanged, removed, changed), ``new`` as it is
    (unchanged, added, changed); ``segments`` say word by word how a changed paragraph
    changed; ``skipped`` counts the paragraphs a skipped block hides. ``section`` is the
    heading the paragraph falls under (for a skipped block, the heading of the paragraph
    shown after it), so a reader knows which rule they are looking at. ``form`` is how the
    paragraph is shown (as it is now, or was before it was removed); a table row's ``old``
    and ``new`` hold its cells with :data:`CELL_BREAK` between them (read them as
    :attr:`cells`).
    """

    kind: BlockKind
    old: str = ""
    new: str = ""
    segments: tuple[Segment, ...] = ()
    skipped: int = 0
    section: str = ""
    form: Form = TEXT

    @property
    def text(self) -> str:
        """The paragraph as it reads now, or as it read before it was removed."""
        return self.new or self.old

    @property
    def is_heading(self) -> bool:
        return self.form.kind is ParagraphKind.HEADING

    @property
    def is_item(self) -> bool:
        return self.form.kind is ParagraphKind.ITEM

    @property
    def is_row(self) -> bool:
        return self.form.kind is ParagraphKind.ROW

    @property
    def is_code(self) -> bool:
        return self.form.kind is ParagraphKind.CODE

    @property
    def is_quote(self) -> bool:
        return self.form.kind is ParagraphKind.QUOTE

    @property
    def words(self) -> tuple[Segment, ...]:
        """The paragraph as segments, whatever its kind: kept, deleted or inserted words."""
        return _segments(self.kind, self.old, self.new) if not self.segments else self.segments

    @property
    def cells(self) -> list[tuple[Segment, ...]]:
        """A table row's cells, each as segments; a changed row changes cell by cell."""
        old = self.old.split(CELL_BREAK) if self.old else []
        new = self.new.split(CELL_BREAK) if self.new else []
        width = max(len(old), len(new))
        old += [""] * (width - len(old))
        new += [""] * (width - len(new))
        return [_segments(self.kind, a, b) for a, b in zip(old, new, strict=True)]


def _segments(kind: BlockKind, old: str, new: str) -> tuple[Segment, ...]:
    """The words of a paragraph (or a cell) of a block of ``kind``."""
    if kind is BlockKind.CHANGED:
        return tuple(diff_words(old, new))
    if kind is BlockKind.REMOVED:
        return (Segment(SegmentKind.DELETED, old),) if old else ()
    if kind is BlockKind.ADDED:
        return (Segment(SegmentKind.INSERTED, new),) if new else ()
    return (Segment(SegmentKind.EQUAL, new),) if new else ()


@dataclass(frozen=True)
class VersionDiff:
    """The blocks of a diff between two versions and how many paragraphs changed."""

    blocks: list[DiffBlock] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def changes(self) -> list[DiffBlock]:
        """The blocks that added, removed or changed a paragraph."""
        return [block for block in self.blocks if block.kind in CHANGE_KINDS]


CHANGE_KINDS = frozenset({BlockKind.ADDED, BlockKind.REMOVED, BlockKind.CHANGED})


@dataclass(frozen=True)
class Paragraph:
    """A unit of comparison: a paragraph, heading, list item, table row or code block, in
    the words a reader sees (a row's cells joined by :data:`CELL_BREAK`)."""

    text: str
    section: str  # the heading it falls under ("" before the first heading)
    form: Form = TEXT


def diff_versions(old: str, new: str, *, context: int = 1) -> VersionDiff:
    """The readable diff from Markdown source ``old`` to ``new``."""
    before, after = paragraphs(old), paragraphs(new)
    matcher = SequenceMatcher(None, [p.text for p in before], [p.text for p in after], False)
    full: list[DiffBlock] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            full += [
                DiffBlock(BlockKind.UNCHANGED, p.text, p.text, section=p.section, form=p.form)
                for p in after[j1:j2]
            ]
        else:
            full += _replaced(before[i1:i2], after[j1:j2])
    if not any(block.kind in CHANGE_KINDS for block in full):
        return VersionDiff()
    return VersionDiff(
        blocks=_collapse(full, context),
        added=sum(block.kind is BlockKind.ADDED for block in full),
        removed=sum(block.kind is BlockKind.REMOVED for block in full),
        changed=sum(block.kind is BlockKind.CHANGED for block in full),
    )


def paragraphs(source: str) -> list[Paragraph]:
    """Split Markdown into paragraphs, headings, list items and table rows, as read.

    A paragraph's spaces and line breaks become single spaces, as when it is rendered, so
    re-wrapping one changes nothing; a fenced code block is one paragraph, its lines kept.
    Markdown's own syntax is not part of the text: a heading's ``#``, a bullet, a quote's
    ``>``, a table's pipes and delimiter row, a thematic break, emphasis and link targets.
    A numbered item keeps its number, which readers cite.
    """
    found: list[Paragraph] = []
    section = ""
    lines: list[str] = []  # of the paragraph being read, whose form is ``pending``
    pending = TEXT
    fence = ""
    code: list[str] = []
    depths: list[int] = []  # the indents of the open list levels
    table: list[Paragraph] = []  # the rows of the table being read

    def end() -> None:
        text = _plain(" ".join(lines))
        if text:
            found.append(Paragraph(text, section, pending))
        lines.clear()

    for line in source.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n"):
        if fence:
            if line.strip().startswith(fence):
                found.append(Paragraph("\n".join(code), section, Form(ParagraphKind.CODE)))
                code.clear()
                fence = ""
            else:
                code.append(line)
            continue
        if not TABLE_ROW.match(line):
            table = []
        if opening := FENCE.match(line):
            end()
            fence = opening[1]
        elif not line.strip():
            end()
        elif heading := HEADING.match(line):
            end()
            depths.clear()
            section = _plain(heading[2])
            found.append(Paragraph(section, section, _heading(len(heading[1]))))
        elif (
            lines
            and pending.kind is ParagraphKind.TEXT
            and (underline := SETEXT_UNDERLINE.match(line))
        ):
            section = _plain(" ".join(lines))
            lines.clear()
            found.append(Paragraph(section, section, _heading(1 if "=" in underline[1] else 2)))
        elif THEMATIC_BREAK.match(line):
            end()
        elif TABLE_ROW.match(line):
            end()
            if TABLE_DELIMITER.match(line):
                if len(table) == 1:  # the row above (the last one found) is the header
                    columns = tuple(table[0].text.split(CELL_BREAK))
                    found[-1] = table[0] = replace(
                        table[0], form=Form(ParagraphKind.ROW, header=True, columns=columns)
                    )
                continue
            columns = table[0].form.columns if table else ()
            row = Paragraph(_cells(line), section, Form(ParagraphKind.ROW, columns=columns))
            table.append(row)
            found.append(row)
        elif item := LIST_ITEM.match(line):
            end()
            indent = len(item[1])
            while depths and depths[-1] > indent:
                depths.pop()
            if not depths or depths[-1] < indent:
                depths.append(indent)
            bullet = item[2] in "-*+"
            text = item[3] or ""
            lines.append(text if bullet else f"{item[2]} {text}")  # a number is cited
            pending = Form(ParagraphKind.ITEM, level=len(depths) - 1, bullet=bullet)
        elif QUOTE_MARKER.match(line):
            if pending.kind is not ParagraphKind.QUOTE:
                end()
                pending = Form(ParagraphKind.QUOTE)
            lines.append(QUOTE_MARKER.sub("", line))
        else:
            if not lines:
                pending = TEXT
                if not line.startswith((" ", "\t")):
                    depths.clear()  # a paragraph at the margin ends the list
            lines.append(line)
    if fence:  # an unclosed fence runs to the end, as in Markdown
        found.append(Paragraph("\n".join(code), section, Form(ParagraphKind.CODE)))
    end()
    return found


def _heading(level: int) -> Form:
    return Form(ParagraphKind.HEADING, level=level)


def _plain(markdown: str) -> str:
    """Inline Markdown as the words it shows: emphasis, code spans and links are read for
    their text, escapes and entities resolved, spaces collapsed."""
    if not markdown.strip():
        return ""
    words: list[str] = []
    for block in INLINE.parseInline(markdown):
        for token in block.children or []:
            if token.type in {"text", "code_inline", "html_inline"}:
                words.append(token.content)
            elif token.type in {"softbreak", "hardbreak"}:
                words.append(" ")
            elif token.type == "image":
                words.append(token.content)
    return " ".join("".join(words).split())


def _cells(line: str) -> str:
    """A table row's cells as read, joined by :data:`CELL_BREAK`."""
    inner = CELL_EDGE.sub("", line.strip()).replace(CELL_BREAK, " ")
    return CELL_BREAK.join(_plain(cell) for cell in CELL_BORDER.split(inner))


def _replaced(before: Sequence[Paragraph], after: Sequence[Paragraph]) -> list[DiffBlock]:
    """Blocks for a run of paragraphs replaced by another: edits where they pair up."""
    blocks: list[DiffBlock] = []
    i = j = 0
    for pi, pj in [*_pairs(before, after), (len(before), len(after))]:
        blocks += [
            DiffBlock(BlockKind.REMOVED, old=p.text, section=p.section, form=p.form)
            for p in before[i:pi]
        ]
        blocks += [
            DiffBlock(BlockKind.ADDED, new=p.text, section=p.section, form=p.form)
            for p in after[j:pj]
        ]
        if pi < len(before):
            old, new = before[pi], after[pj]
            row = new.form.kind is ParagraphKind.ROW  # its words change cell by cell
            blocks.append(
                DiffBlock(
                    BlockKind.CHANGED,
                    old=old.text,
                    new=new.text,
                    segments=() if row else tuple(diff_words(old.text, new.text)),
                    section=new.section,
                    form=new.form,
                )
            )
        i, j = pi + 1, pj + 1
    return blocks


def _pairs(before: Sequence[Paragraph], after: Sequence[Paragraph]) -> list[tuple[int, int]]:
    """Which old paragraph became which new one: in order, alike enough, most alike in all.

    The best pairing is found by dynamic programming over the two runs (each pair scores
    its similarity; leaving a paragraph unpaired scores nothing), so "(c) the resolution
    passes…" pairs with the new "(d) the resolution passes…", not with a new "(c)".
    """
    tokens_before = [_words(p.text) for p in before]
    tokens_after = [_words(p.text) for p in after]
    if len(before) * len(after) > MAX_PAIRINGS_SEARCHED:
        return _pairs_in_order(tokens_before, tokens_after)
    n, m = len(before), len(after)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            similarity = _similarity(tokens_before[i], tokens_after[j])
            if similarity >= EDITED_PARAGRAPH_SIMILARITY:
                best = max(best, similarity + score[i + 1][j + 1])
            score[i][j] = best
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        similarity = _similarity(tokens_before[i], tokens_after[j])
        if (
            similarity >= EDITED_PARAGRAPH_SIMILARITY
            and score[i][j] == similarity + score[i + 1][j + 1]
        ):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _pairs_in_order(before: list[list[str]], after: list[list[str]]) -> list[tuple[int, int]]:
    """Pair each old paragraph with the first later new one alike enough (the cheap way)."""
    pairs: list[tuple[int, int]] = []
    start = 0
    for i, tokens in enumerate(before):
        for j in range(start, len(after)):
            if _similarity(tokens, after[j]) >= EDITED_PARAGRAPH_SIMILARITY:
                pairs.append((i, j))
                start = j + 1
                break
    return pairs


def _similarity(a: list[str], b: list[str]) -> float:
    matcher = SequenceMatcher(None, a, b, False)
    if matcher.real_quick_ratio() < EDITED_PARAGRAPH_SIMILARITY:
        return 0.0
    if matcher.quick_ratio() < EDITED_PARAGRAPH_SIMILARITY:
        return 0.0
    return matcher.ratio()


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def _words(text: str) -> list[str]:
    """The tokens without the spaces, which every paragraph shares (for likeness)."""
    return [token for token in TOKEN.findall(text) if not token.isspace()]


def diff_words(old: str, new: str) -> Iterator[Segment]:
    """The words kept, deleted and inserted from one version of a paragraph to the next.

    The kept and deleted segments spell ``old``; the kept and inserted ones spell ``new``.
    """
    a, b = _tokens(old), _tokens(new)
    runs = [
        _Run(tag == "equal", a[i1:i2], b[j1:j2])
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, False).get_opcodes()
    ]
    for run in _readable(runs):
        old_text, new_text = "".join(run.old), "".join(run.new)
        if run.equal:
            yield Segment(SegmentKind.EQUAL, old_text)
            continue
        # Spaces both versions share at either end stay outside the highlight.
        lead = _common_prefix(_leading_space(old_text), _leading_space(new_text))
        old_text, new_text = old_text[len(lead) :], new_text[len(lead) :]
        trail = _common_prefix(_leading_space(old_text[::-1]), _leading_space(new_text[::-1]))
        old_text = old_text[: len(old_text) - len(trail)]
        new_text = new_text[: len(new_text) - len(trail)]
        if lead:
            yield Segment(SegmentKind.EQUAL, lead)
        if old_text:
            yield Segment(SegmentKind.DELETED, old_text)
        if new_text:
            yield Segment(SegmentKind.INSERTED, new_text)
        if trail:
            yield Segment(SegmentKind.EQUAL, trail)


@dataclass
class _Run:
    equal: bool
    old: list[str]  # tokens
    new: list[str]

    @property
    def size(self) -> int:
        """Characters on the longer side."""
        return max(len("".join(self.old)), len("".join(self.new)))


def _readable(runs: list[_Run]) -> list[_Run]:
    """Runs of words as a person would mark the change, after difflib's shortest one.

    An added or removed phrase slides to start on a word, after a sentence if it can
    ("voting. [They must … 50. ]The", not "voting[. They must … 50]. The"). Then a short
    kept run between two changes joins them, as diff-match-patch's semantic clean-up does
    ("[three proxies → five votes]", not "[three → five] [proxies → votes]").
    """
    for index, run in enumerate(runs):
        if not run.equal and not (run.old and run.new):
            _slide(runs, index)
    runs = [run for run in runs if run.old or run.new]
    merged: list[_Run] = []
    for run in runs:
        if merged and not run.equal and not merged[-1].equal:
            merged[-1] = _Run(False, merged[-1].old + run.old, merged[-1].new + run.new)
        elif (
            not run.equal
            and len(merged) >= 2
            and not merged[-2].equal
            and merged[-1].size <= min(merged[-2].size, run.size)
        ):
            kept = merged.pop()
            before = merged.pop()
            merged.append(
                _Run(False, before.old + kept.old + run.old, before.new + kept.new + run.new)
            )
        else:
            merged.append(run)
    return merged


def _slide(runs: list[_Run], index: int) -> None:
    """Move a pure insertion or deletion between its kept neighbours to the best place."""
    if not (0 < index < len(runs) - 1):
        return  # a change at either end has nowhere to go
    before, run, after = runs[index - 1], runs[index], runs[index + 1]
    side = "old" if run.old else "new"
    moved: list[str] = getattr(run, side)
    # Slide as far left as the text allows, then try every place to the right.
    while before.old and before.old[-1] == moved[-1]:
        moved = [before.old[-1], *moved[:-1]]
        after = _Run(True, [before.old[-1], *after.old], [before.old[-1], *after.new])
        before = _Run(True, before.old[:-1], before.new[:-1])
    best, best_score = None, -1
    while True:
        score = _boundary_score(before.old, moved, after.old)
        if score > best_score:
            best, best_score = (before, list(moved), after), score
        if not (after.old and after.old[0] == moved[0]):
            break
        before = _Run(True, [*before.old, moved[0]], [*before.new, moved[0]])
        moved = [*moved[1:], after.old[0]]
        after = _Run(True, after.old[1:], after.new[1:])
    assert best is not None
    runs[index - 1], moved_run, runs[index + 1] = best
    runs[index] = _Run(
        False, moved_run if side == "old" else [], moved_run if side == "new" else []
    )


def _boundary_score(before: list[str], moved: list[str], after: list[str]) -> int:
    """How well a change starts and ends: on a word, best after a sentence or clause."""
    score = 0
    if not before or before[-1].isspace():
        score += 2
        if len(before) < 2 or before[-2] in ".;:":
            score += 1
    if not after or after[0].isspace() or moved[-1].isspace():
        score += 1
    return score


def _leading_space(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _common_prefix(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


def _collapse(blocks: list[DiffBlock], context: int) -> list[DiffBlock]:
    """Keep ``context`` unchanged paragraphs either side of each change; fold the rest."""
    shown = set()
    for i, block in enumerate(blocks):
        if block.kind in CHANGE_KINDS:
            shown.update(range(max(0, i - context), min(len(blocks), i + context + 1)))
    collapsed: list[DiffBlock] = []
    hidden: list[DiffBlock] = []
    for i, block in enumerate([*blocks, None]):
        if block is not None and i not in shown:
            hidden.append(block)
            continue
        if len(hidden) == 1:  # a fold hiding one paragraph saves nothing: show it
            collapsed.append(hidden[0])
        elif hidden:
            collapsed.append(_fold(block, len(hidden)))
        hidden = []
        if block is not None:
            collapsed.append(block)
    return collapsed


def _fold(following: DiffBlock | None, hidden: int) -> DiffBlock:
    """The block standing for ``hidden`` unchanged paragraphs before ``following``."""
    section = "" if following is None or following.is_heading else following.section
    return DiffBlock(BlockKind.SKIPPED, skipped=hidden, section=section)
