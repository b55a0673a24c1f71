"""PDF and Word reports built in code for tests: fpdf2 PDFs and python-docx files."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import docx
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

PAGE_1 = ("Beijing is weighing whether to let domestic firms import Nvidia's H200 chips, "
          "according to people familiar with the matter, as officials balance the needs of "
          "local developers against a push for self-reliance in semiconductors.")
PAGE_2 = ("The commerce ministry said on Tuesday that it had received applications for "
          "400,000 units and would decide on the licences before the end of the quarter.")
HEADER = "Global Trade Monitor - Confidential"


class _Report(FPDF):
    """A PDF whose every page has a running header and a "Page n of m" footer."""

    furniture = True

    def header(self) -> None:
        if self.furniture:
            self.set_font("helvetica", size=9)
            self.cell(0, 8, HEADER, new_x="LMARGIN", new_y="NEXT", align="C")
            self.ln(4)

    def footer(self) -> None:
        if self.furniture:
            self.set_y(-15)
            self.set_font("helvetica", size=9)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def make_pdf(pages: Sequence[Sequence[str]], *, furniture: bool = True, title: str | None = None,
         author: str | None = None, created: dt.datetime | None = None,
         table: Sequence[Sequence[str]] = (), user_password: str | None = None) -> bytes:
    """A PDF with one page a list of paragraphs (the table, if any, after page 1's)."""
    pdf = _Report()
    pdf.furniture = furniture
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_creation_date(created or dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    for n, paragraphs in enumerate(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        if n == 0 and table:
            with pdf.table() as grid:
                for row in table:
                    cells = grid.row()
                    for value in row:
                        cells.cell(value)
    if user_password is not None:
        pdf.set_encryption(owner_password="owner", user_password=user_password,
                           encryption_method=EncryptionMethod.AES_256)
    return bytes(pdf.output())


def make_outlined_pdf(pages: Sequence[Sequence[tuple[int, str]]], *, title: str | None = None,
                      outline: bool = True, furniture: bool = False,
                      bookmarks: Sequence[tuple[int, int, str]] = ()) -> bytes:
    """A PDF of (level, text) paragraphs a page: level 0 is body text, 1 and on a heading.

    A heading is set larger and bold and, with ``outline``, bookmarked at its level
    (fpdf2's sections: the outline entry points at its page). ``bookmarks`` adds entries
    of its own, (page index, level, title), that point at the top of a page.
    """
    pdf = _Report()
    pdf.furniture = furniture
    if title:
        pdf.set_title(title)
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    for n, paragraphs in enumerate(pages):
        pdf.add_page()
        for mark_page, mark_level, mark_title in bookmarks:
            if mark_page == n:
                pdf.start_section(mark_title, level=mark_level - 1)
        for level, text in paragraphs:
            if level:
                pdf.set_font("helvetica", style="B", size=13 - level)
                if outline:
                    pdf.start_section(text, level=level - 1)
            else:
                pdf.set_font("helvetica", size=11)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


def write_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def make_docx(blocks: Sequence[tuple[str, object]], *, title: str | None = None,
          author: str | None = None, created: dt.datetime | None = None) -> bytes:
    """A Word file of ("heading", text), ("p", text) and ("table", rows) blocks."""
    document = docx.Document()
    for kind, value in blocks:
        if kind == "heading":
            document.add_heading(str(value), level=1)
        elif kind == "title":
            document.add_heading(str(value), level=0)
        elif kind == "table":
            rows = list(value)  # type: ignore[call-overload]
            grid = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    grid.cell(r, c).text = cell
        else:
            document.add_paragraph(str(value))
    props = document.core_properties
    props.title = title or ""
    props.author = author or ""
    if created is not None:
        props.created = created
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_paged_docx(pages: Sequence[Sequence[str]], *, title: str | None = None,
                    rendered: bool = False) -> bytes:
    """A Word file with one page a list of paragraphs, pages split by hard page breaks.

    With ``rendered`` the pages are instead marked the way Word records its last layout
    (``w:lastRenderedPageBreak`` at the start of each page's first run), with no hard breaks.
    """
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement

    document = docx.Document()
    for n, paragraphs in enumerate(pages):
        for i, text in enumerate(paragraphs):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(text)
            if rendered and n and not i:
                run._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
        if not rendered and n < len(pages) - 1:
            paragraph.add_run().add_break(WD_BREAK.PAGE)
    document.core_properties.title = title or ""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
