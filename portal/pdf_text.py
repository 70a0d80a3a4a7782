"""The text of an uploaded PDF's first pages, extracted once, at upload, within a budget.

Extracting text parses every operator of a page's content streams: a 179 KB file whose one
stream inflates to 70 MB of text operators cost 12 to 17 s of CPU (issue 12, item 9). So the
work runs in a child process that the kernel stops after ``CPU_SECONDS`` of CPU or
``MEMORY_BYTES`` of memory, and the parent after ``WALL_SECONDS``; the child refuses at
once pages whose content streams inflate to more than ``MAX_CONTENT_BYTES``. A file over
the budget raises :class:`PreviewOverBudget`, which the upload turns into a refusal.

The child runs this file as a script (``python -I portal/pdf_text.py``), which imports
pypdf and nothing of the portal, so it starts in a fifth of a second.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PAGES = 3  # the preview shows the first pages only
MAX_CHARS = 12_000
MAX_CONTENT_BYTES = 2 * 1024 * 1024  # inflated content streams of those pages, together
CPU_SECONDS = 3
MEMORY_BYTES = 768 * 1024 * 1024
WALL_SECONDS = 15

# How the child says why it stopped (any other failure means: no text to preview).
TOO_LARGE = 3
OUT_OF_MEMORY = 4


class PreviewOverBudget(ValueError):
    """The PDF's first pages cost more to read than a preview may."""


@dataclass(frozen=True)
class Budget:
    """What extracting one preview may cost."""

    cpu_seconds: int = CPU_SECONDS
    wall_seconds: float = WALL_SECONDS
    max_content_bytes: int = MAX_CONTENT_BYTES
    memory_bytes: int = MEMORY_BYTES


def preview_text(data: bytes, budget: Budget | None = None) -> str:
    """The text of the PDF's first pages, tidied and cut to ``MAX_CHARS``.

    Returns "" when the PDF has no text layer (a scan) or its text cannot be read; raises
    :class:`PreviewOverBudget` when reading it would cost more than ``budget``.
    """
    budget = budget or Budget()
    command = [
        sys.executable,
        "-I",  # no user site, no environment, not the working folder: pypdf and the stdlib
        str(Path(__file__).resolve()),
        str(budget.cpu_seconds),
        str(budget.memory_bytes),
        str(budget.max_content_bytes),
    ]
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and script, no shell)
            command, input=data, capture_output=True, timeout=budget.wall_seconds, check=False
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise PreviewOverBudget(f"took over {budget.wall_seconds:g} s") from exc
    if done.returncode == TOO_LARGE:
        raise PreviewOverBudget(done.stderr.decode(errors="replace").strip())
    if done.returncode < 0 or done.returncode == OUT_OF_MEMORY:
        # Killed by a signal: SIGXCPU or SIGKILL at the CPU limit; or out of memory.
        raise PreviewOverBudget(f"stopped at the budget (code {done.returncode})")
    if done.returncode != 0:
        log.info("no text preview: %s", done.stderr.decode(errors="replace")[-500:])
        return ""
    text = re.sub(r"[ \t]+\n", "\n", done.stdout.decode(errors="replace")).strip()
    return text[:MAX_CHARS] + ("…" if len(text) > MAX_CHARS else "")


def _child(cpu_seconds: int, memory_bytes: int, max_content_bytes: int) -> int:
    """Read a PDF from stdin and write its first pages' text to stdout, within the limits."""
    import io
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    data = sys.stdin.buffer.read()
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = reader.pages[:PAGES]
        inflated = 0
        for page in pages:
            contents = page.get_contents()
            inflated += len(contents.get_data()) if contents is not None else 0
            if inflated > max_content_bytes:
                sys.stderr.write(f"its first pages hold over {max_content_bytes:,} bytes of text")
                return TOO_LARGE
        text = "\n\n".join((page.extract_text() or "") for page in pages)
    except MemoryError:
        return OUT_OF_MEMORY
    except Exception as exc:  # hostile or damaged: no preview, the download still works
        sys.stderr.write(repr(exc))
        return 1
    sys.stdout.write(text[: MAX_CHARS * 2])
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    raise SystemExit(_child(*(int(arg) for arg in sys.argv[1:4])))
