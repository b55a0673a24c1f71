"""Read PDF and Word (``.docx``) reports: their paragraphs, page by page, and metadata.

This module only extracts; :mod:`assistant.ingest.documents` neutralises the
paragraphs, joins them into the clean text and records where each page starts.

- PDF (pypdf): text page by page; lines wrapped by the layout are joined back into
  paragraphs; running headers, footers and page numbers (lines repeated at the top
  or bottom of most pages, or a lone page number there) are dropped. A PDF without a
  text layer (scanned) and one that does not open with an empty password are refused.
  Headings come from the PDF's outline (its bookmarks): an entry's title found as a
  line (or up to three lines) of the page it points to is a heading paragraph, its
  level the entry's depth (1 for the top, at most 6). Without an outline a PDF has no
  headings: the text layer does not mark them, and guessing from font sizes is not
  attempted.
- DOCX (python-docx): paragraphs and tables (one line a row, cells joined by
  ``" | "``) in document order; headings are paragraphs of their own, and their
  level (the styles "Heading 1" to "Heading 9") is kept. Pages where the file
  records them (Word's last layout, else its hard page breaks).

Metadata (title, author, date) comes from the PDF's document information or the
DOCX core properties; a field the file does not set is ``None``.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from assistant.errors import DocumentError

logger = logging.getLogger(__name__)

PAGED_SUFFIXES = (".pdf", ".docx")  # formats whose reports may have pages
BINARY_SUFFIXES = (".pdf", ".docx")
# A .docx is a zip archive: refuse one whose parts unpack to more than this (zip bomb).
MAX_DOCX_UNPACKED_BYTES = 200 * 1024 * 1024
_EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be furniture
_FURNITURE_MAX_WORDS = 15
_PAGE_NUMBER_RE = re.compile(
    r"^(?:page|p\.|seite|pág\.?)?\s*[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?"
    r"(?:\s*(?:of|/|von|de)\s*\d{1,4})?$", re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "”", "’", ")")
# A PDF outline (bookmarks) read for headings: at most this many entries (pypdf bounds
# its depth and breaks cycles).
_MAX_OUTLINE_ENTRIES = 5000
_MAX_HEADING_LEVEL = 6  # deeper outline entries are level 6 (7 and on are definition terms)
_HEADING_LINES = 3  # a heading may wrap over this many lines
# A heading's number, as an outline entry or its page may give it and the other not:
# "2.1", "IV.", "A.1", "Appendix A", "Chapter 3" (matched on the case-folded text).
_SECTION_NUMBER_RE = re.compile(r"^(?:(?:chapter|section|appendix|part)\s+)?"
                                r"(?:\d+(?:\.\d+)*\.?|[ivxlc]+\.|[a-z](?:\.\d+)*\.?)\s+")
_FILE_NAME_TITLE_RE = re.compile(r"^(?:microsoft \w+ - )?.*\.(?:docx?|pdf|rtf|odt|txt)$|^untitled"
                                 r"(?: document)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Extracted:
    """Paragraphs of a report, page by page, and its metadata.

    ``pages`` holds one tuple of paragraphs a page (a single "page" for a format
    without pages, ``paged`` false). ``continued[i]`` is true when the first
    paragraph of page ``i`` carries on the last paragraph of the page before.
    ``levels``, when the format marks headings (DOCX, a PDF's outline), holds the heading
    level of each paragraph in the same shape as ``pages`` (0 for a paragraph that is not
    one).
    """

    pages: tuple[tuple[str, ...], ...]
    continued: tuple[bool, ...]
    meta: dict[str, Any]
    paged: bool
    levels: tuple[tuple[int, ...], ...] = ()


def _squash(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def _furniture_key(line: str) -> str | None:
    """What a running header or footer line has in common across pages (digits vary)."""
    if not line or len(line.split()) > _FURNITURE_MAX_WORDS:
        return None
    return re.sub(r"\d+", "#", line.casefold())


def _edges(lines: Sequence[str]) -> set[int]:
    """Positions of the lines at the top and at the bottom of a page (blank lines aside)."""
    filled = [i for i, line in enumerate(lines) if line]
    return set(filled[:_EDGE_LINES]) | set(filled[-_EDGE_LINES:])


def page_furniture(pages: Sequence[Sequence[str]]) -> list[set[int]]:
    """The positions of the running headers, footers and page numbers of each page.

    ``pages`` holds the lines of each page (``""`` for a blank line). A line at the top
    or bottom of a page (the first or last three lines) is furniture when a line like it
    (the same up to its digits) is at the top or bottom of most pages (more than half,
    and at least two), or when it is only a page number ("7", "Page 7 of 12", "- 7 -").
    """
    seen: Counter[str] = Counter()
    for lines in pages:
        keys = {_furniture_key(lines[i]) for i in _edges(lines)}
        seen.update(k for k in keys if k)
    repeated = {k for k, n in seen.items() if n >= 2 and n > len(pages) / 2}
    return [{i for i in _edges(lines)
             if _furniture_key(lines[i]) in repeated or _PAGE_NUMBER_RE.match(lines[i])}
            for lines in pages]


def drop_page_furniture(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Pages without their running headers, footers and page numbers (:func:`page_furniture`).

    Blank lines (``""``) are kept.
    """
    return [[line for i, line in enumerate(lines) if i not in furniture]
            for lines, furniture in zip(pages, page_furniture(pages), strict=True)]


def _full_width(lines: Iterator[str]) -> int:
    """The length of a full line of the document (its longer lines, 90th percentile)."""
    lengths = sorted(len(line) for line in lines)
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0


def _is_wrapped(line: str, full: int) -> bool:
    """True when ``line`` runs to the right margin, so the next line carries it on."""
    return len(line) >= max(30, int(0.7 * full))


def _join(paragraph: str, line: str) -> str:
    if paragraph.endswith("-") and len(paragraph) > 1 and paragraph[-2].isalpha() \
            and line[:1].islower():
        return paragraph + line  # a word broken at the margin keeps its hyphen
    return paragraph + " " + line


def paragraphs_of(lines: Sequence[str], full: int) -> list[str]:
    """Lines of a page (``""`` for a blank line) joined back into paragraphs.

    A line is joined to the one before when that line runs to the right margin;
    a short line (a paragraph's last, a heading, a table row) ends its paragraph.
    """
    return [text for text, _ in leveled_paragraphs(lines, full, {})]


def leveled_paragraphs(lines: Sequence[str], full: int,
                       headings: Mapping[int, tuple[int, int]]) -> list[tuple[str, int]]:
    """:func:`paragraphs_of` with headings: each paragraph and its heading level (0: none).

    ``headings`` maps the position of each line of a heading to (its level, the position
    of the heading's first line). A heading's lines are joined into one paragraph of
    their own, whatever their width.
    """
    paragraphs: list[tuple[str, int]] = []
    current = ""
    level = 0
    previous = ""
    for i, line in enumerate(lines):
        if not line:
            if current:
                paragraphs.append((current, level))
            current = previous = ""
            continue
        at, first = headings.get(i, (0, i))
        if current and (first < i if at else not level and _is_wrapped(previous, full)):
            current = _join(current, line)
        else:
            if current:
                paragraphs.append((current, level))
            current, level = line, at
        previous = line
    if current:
        paragraphs.append((current, level))
    return paragraphs


def _comparable(text: str) -> str:
    """``text`` as outline titles and page lines are compared: letters and digits only."""
    return re.sub(r"\W+", "", text.casefold())


def _unnumbered(text: str) -> str:
    return _SECTION_NUMBER_RE.sub("", text.casefold().strip())


def _same_heading(title: str, text: str) -> bool:
    """True when a page's ``text`` is the outline entry ``title`` (section numbers aside)."""
    whole = _comparable(title)
    if whole and whole == _comparable(text):
        return True
    bare = _comparable(_unnumbered(title))
    return bool(bare) and bare == _comparable(_unnumbered(text))


def _outline_entries(reader: Any) -> list[tuple[int, int, str]]:
    """(page index, level, title) of each entry of a PDF's outline, in outline order.

    Entries without a title or a page are left out; an outline that cannot be read
    gives none (a broken outline is not a broken report).
    """
    out: list[tuple[int, int, str]] = []

    def walk(items: Any, depth: int) -> None:
        for item in items:
            if len(out) >= _MAX_OUTLINE_ENTRIES:
                return
            if isinstance(item, list):  # the entries under the one before
                walk(item, depth + 1)
                continue
            title = _squash(str(getattr(item, "title", "") or ""))
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a destination that names no page
                continue
            if title and isinstance(page, int) and 0 <= page < len(reader.pages):
                out.append((page, min(depth + 1, _MAX_HEADING_LEVEL), title))

    try:
        walk(reader.outline, 0)
    except Exception:
        logger.debug("unreadable PDF outline", exc_info=True)
        return []
    return out


def outline_headings(pages: Sequence[Sequence[str]], entries: Sequence[tuple[int, int, str]]
                     ) -> list[dict[int, tuple[int, int]]]:
    """Which lines of each page are headings, and their level, from a PDF's outline.

    ``pages`` holds the lines of each page (``""`` for a blank line); ``entries`` the
    (page index, level, title) of the outline's entries in order. An entry's heading is
    the first run of one to three lines of its page, after the previous entry's found
    there, that reads as its title (letters and digits compared, case aside; a section
    number on one side only is allowed); else the next page is tried. An entry found
    nowhere marks nothing. Gives, for each page, each heading line's (level, position of
    its heading's first line), as :func:`leveled_paragraphs` takes them.
    """
    marks: list[dict[int, tuple[int, int]]] = [{} for _ in pages]
    after = [0] * len(pages)  # where the next heading of each page may start
    for page, level, title in entries:
        for p in (page, page + 1)[: len(pages) - page]:
            lines = pages[p]
            span = next(((i, j) for i in range(after[p], len(lines)) if lines[i]
                         for j in range(i + 1, min(i + _HEADING_LINES, len(lines)) + 1)
                         # every line holds a letter or digit: not the "-." that ends
                         # the paragraph before, wrapped onto a line of its own
                         if all(map(_comparable, lines[i:j]))
                         and _same_heading(title, " ".join(lines[i:j]))),
                        None)
            if span is not None:
                marks[p].update(dict.fromkeys(range(*span), (level, span[0])))
                after[p] = span[1]
                break
    return marks


def _without_furniture(pages: Sequence[Sequence[str]],
                       headings: Sequence[Mapping[int, tuple[int, int]]]
                       ) -> tuple[list[list[str]], list[dict[int, tuple[int, int]]]]:
    """``pages`` without their furniture, and ``headings`` (:func:`outline_headings`) renumbered.

    A heading's lines are kept even where they look like furniture: a chapter's title
    also printed at the top of its pages is a heading on the page its outline entry
    points at.
    """
    out_pages: list[list[str]] = []
    out_headings: list[dict[int, tuple[int, int]]] = []
    for lines, furniture, marks in zip(pages, page_furniture(pages), headings, strict=True):
        kept = [i for i in range(len(lines)) if i not in furniture or i in marks]
        position = {old: new for new, old in enumerate(kept)}
        out_pages.append([lines[i] for i in kept])
        out_headings.append({position[i]: (level, position[first])
                             for i, (level, first) in marks.items()})
    return out_pages, out_headings


def _pdf_date(info: Any) -> str | None:
    try:
        created = info.creation_date
    except (ValueError, TypeError, AttributeError):
        return None
    return created.date().isoformat() if isinstance(created, datetime) else None


def _title(value: Any) -> str | None:
    """A title from a file's properties; ``None`` for a file name or "Untitled"."""
    if not isinstance(value, str) or not value.strip():
        return None
    title = _squash(value)
    return None if _FILE_NAME_TITLE_RE.match(title) else title


def _pdf_meta(reader: Any) -> dict[str, Any]:
    try:
        info = reader.metadata
    except Exception:  # a broken information dictionary is not a broken report
        logger.debug("unreadable PDF document information", exc_info=True)
        return {}
    if info is None:
        return {}
    meta: dict[str, Any] = {"title": None, "authors": None, "date": _pdf_date(info)}
    for key, attr in (("title", "title"), ("authors", "author")):
        try:
            value = getattr(info, attr)
        except Exception:
            value = None
        meta[key] = _title(value) if key == "title" else value
    return meta


def pdf_report(data: bytes, name: str) -> Extracted:
    """The text of a PDF page by page, without page furniture, and its metadata."""
    from pypdf import PdfReader  # imported here: only PDF reports need it
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    encrypted = DocumentError(
        f"{name} is encrypted (password-protected); save a copy without a password "
        "and add that instead")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise encrypted
        raw_pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise encrypted from None
    except PdfReadError:
        raise DocumentError(f"{name} is not a readable PDF (damaged, or not a PDF)") from None
    except Exception as exc:  # pypdf raises many kinds of error on a malformed file
        logger.debug("pypdf failed on %s", name, exc_info=True)
        raise DocumentError(f"{name} is not a readable PDF ({type(exc).__name__})") from None
    if not raw_pages:
        raise DocumentError(f"{name} has no pages")
    page_lines = [[_squash(line) for line in text.splitlines()] for text in raw_pages]
    if not any(any(lines) for lines in page_lines):
        raise DocumentError(
            f"{name} has no text layer (a scanned PDF?); text in images cannot be read "
            "(no OCR)")
    pages, headings = _without_furniture(page_lines,
                                         outline_headings(page_lines, _outline_entries(reader)))
    # each page's lines that are not blank, with whether each is a heading's
    kept = [[(line, i in marks) for i, line in enumerate(lines) if line]
            for lines, marks in zip(pages, headings, strict=True)]
    full = _full_width(line for lines in kept for line, _ in lines)
    leveled = [leveled_paragraphs(lines, full, marks) for lines, marks in zip(pages, headings,
                                                                                strict=True)]
    continued = [False]
    for before, after in itertools.pairwise(kept):
        continued.append(bool(before and after and _is_wrapped(before[-1][0], full)
                              and not before[-1][0].endswith(_SENTENCE_END)
                              and not before[-1][1] and not after[0][1]))
    return Extracted(tuple(tuple(text for text, _ in page) for page in leveled),
                     tuple(continued), _pdf_meta(reader), paged=True,
                     levels=tuple(tuple(level for _, level in page) for page in leveled))


def _check_zip(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DocumentError(f"{name} is not a Word (.docx) file") from None
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise DocumentError(
            f"{name} unpacks to more than {MAX_DOCX_UNPACKED_BYTES // 2**20} MB")


def _cell_text(cell: Any) -> str:
    from docx.table import Table

    parts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            parts.extend(_table_rows(item))
        else:
            parts.append(_squash(item.text))
    return _squash(" ".join(p for p in parts if p))


def _table_rows(table: Any) -> list[str]:
    """One line a table row, its cells in order joined by ``" | "`` (merged cells once)."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _docx_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else None


_HEADING_STYLE_RE = re.compile(r"^Heading ([1-9])$")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RENDERED_BREAK = _W + "lastRenderedPageBreak"


def _page_pieces(paragraph: Any, rendered: bool) -> list[str]:
    """A paragraph's text cut at its page breaks: one piece on each page it touches.

    With ``rendered``, the breaks are where Word last laid the pages out
    (``w:lastRenderedPageBreak``); else the hard page breaks (``w:br w:type="page"``).
    Text is read as python-docx reads it (text, tabs, line breaks).
    """
    pieces = [""]
    for run in paragraph._p.xpath("./w:r | ./w:hyperlink/w:r"):
        for child in run:
            tag = child.tag
            if tag == _W + "t":
                pieces[-1] += child.text or ""
            elif tag == _W + "tab":
                pieces[-1] += "\t"
            elif tag in (_W + "br", _W + "cr"):
                if child.get(_W + "type") == "page":
                    if not rendered:
                        pieces.append("")
                else:
                    pieces[-1] += "\n"
            elif tag == _RENDERED_BREAK and rendered:
                pieces.append("")
    return pieces


def docx_report(data: bytes, name: str) -> Extracted:
    """The paragraphs and table rows of a Word document in order, page by page, and metadata.

    A document with page breaks keeps its pages: the ones Word recorded when it last
    laid it out, or else its hard page breaks (a page break in the text, or a paragraph
    set to start a new page). Table rows stay on the page their table starts on.
    Without page breaks a document has no pages (like a text report).
    """
    _check_zip(data, name)
    import docx  # imported here: only Word reports need it
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        rendered = bool(body.xpath(".//w:lastRenderedPageBreak"))
        hard = bool(body.xpath('.//w:br[@w:type="page"] | .//w:pageBreakBefore'))
        pages: list[list[str]] = [[]]
        levels: list[list[int]] = [[]]
        continued = [False]
        first_title: str | None = None
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows = _table_rows(item)
                pages[-1].extend(rows)
                levels[-1].extend(0 for _ in rows)
                continue
            if (hard and not rendered and item.paragraph_format.page_break_before
                    and any(pages[-1])):
                pages.append([])
                levels.append([])
                continued.append(False)
            style = (item.style.name if item.style is not None else "") or ""
            heading = _HEADING_STYLE_RE.match(style)
            level = int(heading.group(1)) if heading else 0
            pieces = _page_pieces(item, rendered) if rendered or hard else [item.text]
            for n, piece in enumerate(pieces):
                text = _squash(piece)
                if n:
                    pages.append([])
                    levels.append([])
                    continued.append(bool(text) and any(_squash(p) for p in pieces[:n]))
                if text:
                    pages[-1].append(text)
                    levels[-1].append(level)
            text = _squash(item.text)
            if first_title is None and text and style == "Title":
                first_title = text
        props = document.core_properties
        meta: dict[str, Any] = {"title": _title(props.title) or first_title,
                                "authors": props.author or None,
                                "date": _docx_date(props.created)}
    except DocumentError:
        raise
    except Exception as exc:  # python-docx raises many kinds of error on a malformed file
        logger.debug("python-docx failed on %s", name, exc_info=True)
        raise DocumentError(f"{name} is not a readable Word (.docx) file "
                            f"({type(exc).__name__})") from None
    if not any(pages):
        raise DocumentError(f"{name} has no text")
    if len(pages) == 1:
        return Extracted((tuple(pages[0]),), (False,), meta, paged=False,
                         levels=(tuple(levels[0]),))
    return Extracted(tuple(map(tuple, pages)), tuple(continued), meta, paged=True,
                     levels=tuple(map(tuple, levels)))


def read_binary_report(data: bytes, name: str, suffix: str) -> Extracted:
    """Extract a ``.pdf`` or ``.docx`` report (``suffix`` lower-case, with its dot)."""
    if not data.strip():
        raise DocumentError(f"{name} is empty")
    if suffix == ".pdf":
        return pdf_report(data, name)
    if suffix == ".docx":
        return docx_report(data, name)
    raise DocumentError(f"{name}: unsupported file type")
