"""Names of files people upload and download: safe to show, to store and to send in a
``Content-Disposition`` header (RFC 6266), whatever characters they began with."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from .errors import InvalidInput

MAX_NAME_CHARS = 150  # DocumentVersion.file_name holds 200


# Kept out of display names: quoting, shell, Windows and percent-decoding trouble.
UNSAFE_NAME_CHARS = re.compile(r"[\"<>:|?*;%`$\\/]")
# The kinds of file the portal sends; anything else is sent under the default name.
SUFFIXES = (".pdf", ".csv", ".json")
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def safe_file_name(raw: str) -> str:
    """The uploaded name fit to show and to download as, or InvalidInput if it is not a PDF's."""
    name = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in name):
        raise _refuse(
            "The file name contains control or invisible characters. Rename the file and try again."
        )
    if "/" in name or "\\" in name:
        raise _refuse(
            "The file name must not contain folder names (/ or \\). Rename the file and try again."
        )
    if not name.lower().endswith(".pdf"):
        raise _refuse("Only PDF files can be uploaded: the file name must end in .pdf.")
    if len(name) > MAX_NAME_CHARS:
        raise _refuse(
            f"The file name is too long (at most {MAX_NAME_CHARS} characters). "
            "Shorten it and try again."
        )
    cleaned = _clean_name(name)
    if cleaned is None:
        raise _refuse("The file needs a name before .pdf. Rename the file and try again.")
    return cleaned


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, for other names, ``filename*`` (RFC 6266)."""
    suffix = next((s for s in SUFFIXES if file_name.lower().endswith(s)), ".pdf")
    fallback = f"download{suffix}"
    name = _clean_name(file_name, suffix) or fallback
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _clean_name(ascii_name, suffix) or fallback
    if ascii_name == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _clean_name(name: str, suffix: str = ".pdf") -> str | None:
    """Drop what is unsafe in a download name; None when no name is left before ``suffix``."""
    name = "".join(char for char in name if unicodedata.category(char) not in INVISIBLE_CATEGORIES)
    stem = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    stem = stem.replace("'", "\u2019")  # keep "Members' handbook" readable, without a quote
    stem = UNSAFE_NAME_CHARS.sub("_", stem)
    stem = " ".join(stem.split()).strip(" .-_")[: MAX_NAME_CHARS - len(suffix)].rstrip(" .")
    if not any(char.isalnum() for char in stem):
        return None
    return f"{stem}{suffix}"
