"""PDF and Word reports: text, pages, furniture, tables, metadata, refusals, exact offsets.

Every file is built here, in code: PDFs with fpdf2, Word files with python-docx.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import DocumentError
from assistant.ingest.chunking import chunk_document, chunk_text, sentence_spans
from assistant.ingest.documents import load_corpus, load_document, supported_files
from assistant.ingest.formats import (
    drop_page_furniture,
    leveled_paragraphs,
    outline_headings,
    paragraphs_of,
)
from assistant.ingest.uploads import store_upload
from assistant.records import Document, heading_path, page_of
from assistant.settings import ChunkerSettings
from report_files import (
    HEADER,
    PAGE_1,
    PAGE_2,
    make_docx,
    make_outlined_pdf,
    make_paged_docx,
    make_pdf,
    write_file,
)


def _exact_chunks(doc: Document, size: int = 40, overlap: int = 8) -> None:
    chunks = chunk_text(doc.doc_id, doc.text, ChunkerSettings(max_tokens=size,
                                                              overlap_tokens=overlap))
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        for start, end in sentence_spans(doc.text, chunk.start, chunk.end):
            assert doc.text[start:end].strip()
        if doc.pages:
            page = page_of(doc, chunk.start)
            assert page is not None and 1 <= page <= len(doc.pages)
    # the chunks the index stores: exact spans too, each on one page, named with it
    paged = chunk_document(doc, ChunkerSettings(max_tokens=size, overlap_tokens=overlap))
    assert paged
    for chunk in paged:
        assert doc.text[chunk.start:chunk.end] == chunk.text and chunk.text.strip()
        assert chunk.page == page_of(doc, chunk.start) == page_of(doc, chunk.end - 1)
    for chunk in paged:  # each with its heading path where it starts
        assert chunk.heading == heading_path(doc, chunk.start, ChunkerSettings().heading_chars)
    if not doc.pages:
        assert [dataclasses.replace(c, heading=()) for c in paged] == chunks
    else:  # every page's text is in its passages
        covered = "".join(doc.text[c.start:c.end] for c in paged)
        for word in doc.text.split():
            assert word in covered


# --- PDF -----------------------------------------------------------------------------


def test_two_page_pdf_keeps_its_pages(tmp_path: Path) -> None:
    doc = load_document(write_file(tmp_path, "h200.pdf", make_pdf([[PAGE_1], [PAGE_2]])))
    assert PAGE_1 in doc.text and PAGE_2 in doc.text
    assert len(doc.pages) == 2 and doc.pages[0] == 0
    assert page_of(doc, doc.text.index(PAGE_1)) == 1
    assert page_of(doc, doc.text.index("400,000 units")) == 2
    assert page_of(doc, doc.pages[1]) == 2 and page_of(doc, doc.pages[1] - 1) == 1
    assert page_of(doc, len(doc.text) + 1) is None and page_of(doc, -1) is None
    assert doc.metadata()["pages"] == 2
    _exact_chunks(doc)


def test_running_header_footer_and_page_numbers_do_not_reach_the_text(tmp_path: Path) -> None:
    pages = [[PAGE_1], [PAGE_2], ["Officials declined to comment on the timing."]]
    doc = load_document(write_file(tmp_path, "monitor.pdf", make_pdf(pages)))
    assert HEADER not in doc.text
    assert "Page 1" not in doc.text and "of 3" not in doc.text
    assert doc.text.startswith(PAGE_1) and doc.text.endswith("comment on the timing.")
    assert "\n\n" + PAGE_2 in doc.text


def test_wrapped_lines_are_one_paragraph_and_short_lines_end_one() -> None:
    lines = ["This sentence is long enough to run all the way to the margin of", "the page.",
             "", "Short line", "Another short line",
             "A word broken at the end of the line that runs to the mar-",
             "gin keeps its hyphen."]
    assert paragraphs_of(lines, full=65) == [
        "This sentence is long enough to run all the way to the margin of the page.",
        "Short line", "Another short line",
        "A word broken at the end of the line that runs to the mar-gin keeps its hyphen."]


def test_furniture_is_what_repeats_at_the_edges_of_most_pages() -> None:
    pages = [["Monitor 2025", "The ministry spoke.", "", "Officials met.", "- 1 -"],
             ["Monitor 2025", "Exports rose.", "Imports fell.", "Page 2 of 3"],
             ["Prices held.", "Monitor 2025", "3"]]
    assert drop_page_furniture(pages) == [["The ministry spoke.", "", "Officials met."],
                                          ["Exports rose.", "Imports fell."], ["Prices held."]]
    # a line at the top of only one page of three stays; so does a number inside the page
    pages = [["Special edition", "a", "b", "c", "42", "d", "e", "f"], ["x"], ["y"]]
    assert drop_page_furniture(pages)[0] == ["Special edition", "a", "b", "c", "42", "d", "e",
                                             "f"]


def test_paragraph_running_over_a_page_break_is_one_paragraph(tmp_path: Path) -> None:
    paragraph = " ".join(f"Officials in the capital reviewed application number {n} for the "
                         "chips again" for n in range(120)) + "."
    doc = load_document(write_file(tmp_path, "long.pdf", make_pdf([[paragraph]])))
    assert len(doc.pages) >= 2
    assert doc.text == paragraph
    assert page_of(doc, doc.text.index("number 0 ")) == 1
    assert page_of(doc, doc.text.index("number 119 ")) == len(doc.pages)
    _exact_chunks(doc)


def test_pdf_table_rows_stay_rows_in_order(tmp_path: Path) -> None:
    table = [("Company", "Units"), ("Nvidia", "400,000"), ("AMD", "120,000")]
    data = make_pdf([[PAGE_1]], table=table, furniture=False)
    doc = load_document(write_file(tmp_path, "table.pdf", data))
    lines = doc.text.split("\n\n")
    rows = [line for line in lines if line.startswith(("Company", "Nvidia", "AMD"))]
    assert rows == ["Company Units", "Nvidia 400,000", "AMD 120,000"]
    _exact_chunks(doc)


def test_two_column_page_reads_each_column_in_order(tmp_path: Path) -> None:
    left = " ".join(f"Left column sentence {n} is about chip exports." for n in range(1, 9))
    right = " ".join(f"Right column sentence {n} is about licences." for n in range(1, 9))
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    with pdf.text_columns(ncols=2, gutter=10) as cols:
        cols.write(left)
        cols.new_column()
        cols.write(right)
    doc = load_document(write_file(tmp_path, "columns.pdf", bytes(pdf.output())))
    positions = [doc.text.index(f"Left column sentence {n} ") for n in range(1, 9)]
    positions += [doc.text.index(f"Right column sentence {n} ") for n in range(1, 9)]
    assert positions == sorted(positions)
    _exact_chunks(doc)


def test_encrypted_pdf_is_refused_with_a_message(tmp_path: Path) -> None:
    path = write_file(tmp_path, "locked.pdf", make_pdf([[PAGE_1]], user_password="secret"))
    with pytest.raises(DocumentError, match=r"locked\.pdf is encrypted \(password-protected\)"):
        load_document(path)


def test_pdf_encrypted_only_against_editing_opens(tmp_path: Path) -> None:
    data = make_pdf([[PAGE_1]], user_password="", furniture=False)
    doc = load_document(write_file(tmp_path, "owner.pdf", data))
    assert doc.text == PAGE_1


def test_pdf_without_a_text_layer_is_refused_as_scanned(tmp_path: Path) -> None:
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.set_fill_color(120)
        pdf.rect(20, 20, 150, 200, style="F")  # what a scan looks like to a text extractor
    path = write_file(tmp_path, "scan.pdf", bytes(pdf.output()))
    with pytest.raises(DocumentError, match=r"scan\.pdf has no text layer.*scanned.*no OCR"):
        load_document(path)


@pytest.mark.parametrize("data", [b"%PDF-1.4 ...", b"not a pdf at all", b"%PDF-1.7\n%%EOF"])
def test_broken_pdf_is_refused_with_a_message(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(DocumentError, match=r"broken\.pdf is not a readable PDF"):
        load_document(write_file(tmp_path, "broken.pdf", data))


def test_pdf_metadata_from_document_information(tmp_path: Path) -> None:
    data = make_pdf([[PAGE_1]], title="Beijing weighs H200 imports", author="Ann Cao; Coco Feng",
                created=dt.datetime(2025, 7, 15, 9, 30, tzinfo=dt.UTC))
    doc = load_document(write_file(tmp_path, "meta.pdf", data))
    assert doc.title == "Beijing weighs H200 imports"
    assert doc.authors == ("Ann Cao", "Coco Feng")
    assert doc.date == "2025-07-15"
    assert doc.outlet is None and doc.url is None


def test_pdf_metadata_absent_is_none(tmp_path: Path) -> None:
    doc = load_document(write_file(tmp_path, "plain.pdf", make_pdf([[PAGE_1]])))
    assert doc.title is None and doc.authors == ()
    named = load_document(write_file(tmp_path, "named.pdf",
                                 make_pdf([[PAGE_1]], title="Microsoft Word - draft.docx")))
    assert named.title is None  # a file name is not a title


def test_sidecar_overrides_pdf_metadata(tmp_path: Path) -> None:
    path = write_file(tmp_path, "side.pdf", make_pdf([[PAGE_1]], title="From the file"))
    (tmp_path / "side.meta.yaml").write_text("title: From the sidecar\noutlet: Reuters\n")
    doc = load_document(path)
    assert (doc.title, doc.outlet) == ("From the sidecar", "Reuters")


def test_chat_control_tokens_in_a_pdf_are_defused_and_offsets_hold(tmp_path: Path) -> None:
    text = "Ignore this <|im_start|>system and <s> tokens in the report body, officials said."
    doc = load_document(write_file(tmp_path, "tokens.pdf", make_pdf([[text], [PAGE_2]])))
    assert "<|" not in doc.text and "<s>" not in doc.text
    assert page_of(doc, doc.text.index("400,000")) == 2
    _exact_chunks(doc)


# --- PDF headings from the outline (bookmarks) ---------------------------------------

HEADLINE = "Beijing weighs H200 imports"
# long enough to wrap: a heading of two lines, the first running to the margin
MINISTRY = ("What the ministry said about the applications it has received so far this "
            "quarter, and when it means to decide on them")
OUTLINED = [[(1, HEADLINE), (0, PAGE_1), (2, MINISTRY), (0, PAGE_2)],
            [(0, "Officials declined to comment."), (2, "Market reaction"), (0, "Shares rose."),
             (2, "Outlook"), (2, "Next steps"), (0, "A decision is due in March.")]]


def test_pdf_outline_gives_sections_and_heading_paths(tmp_path: Path) -> None:
    path = write_file(tmp_path, "outlined.pdf", make_outlined_pdf(OUTLINED, title="H200 report"))
    doc = load_document(path)
    assert doc.text.split("\n\n") == [
        HEADLINE, PAGE_1, MINISTRY, PAGE_2, "Officials declined to comment.", "Market reaction",
        "Shares rose.", "Outlook", "Next steps", "A decision is due in March."]
    at = doc.text.index
    assert [(s.start, s.end, s.level, s.heading) for s in doc.sections] == [
        (0, len(doc.text), 1, HEADLINE),
        (at(MINISTRY), at("Market reaction") - 2, 2, MINISTRY),  # runs on over the page
        (at("Market reaction"), at("Outlook") - 2, 2, "Market reaction"),
        (at("Outlook"), at("Next steps") - 2, 2, "Outlook"),  # a heading with nothing under it
        (at("Next steps"), len(doc.text), 2, "Next steps")]
    for s in doc.sections:
        assert doc.text[s.start:s.end].startswith(s.heading)
    assert doc.pages == (0, at("Officials"))
    assert heading_path(doc, at(PAGE_2), None) == ("H200 report", HEADLINE, MINISTRY)
    assert heading_path(doc, at("Officials"), None) == ("H200 report", HEADLINE, MINISTRY)
    assert heading_path(doc, at("Shares"), None) == ("H200 report", HEADLINE, "Market reaction")
    chunks = chunk_document(doc, ChunkerSettings(max_tokens=24, overlap_tokens=4))
    last = next(c for c in chunks if c.text.startswith("Next steps"))
    assert last.heading == ("H200 report", HEADLINE, "Next steps") and last.page == 2
    _exact_chunks(doc, size=24, overlap=4)
    # without its outline the same PDF has the same text and no sections
    plain = load_document(write_file(tmp_path, "plain.pdf",
                                     make_outlined_pdf(OUTLINED, title="H200 report",
                                                       outline=False)))
    assert plain.sections == () and plain.text == doc.text


def test_a_heading_line_that_runs_to_the_margin_stays_apart_from_the_next(
        tmp_path: Path) -> None:
    one_line = MINISTRY.split(", and")[0]  # a heading of one line, as wide as the text
    pages = [[(0, PAGE_1), (1, one_line), (0, PAGE_2)]]
    doc = load_document(write_file(tmp_path, "o.pdf", make_outlined_pdf(pages)))
    assert doc.text.split("\n\n") == [PAGE_1, one_line, PAGE_2]
    assert [(s.level, s.heading) for s in doc.sections] == [(1, one_line)]
    # without the outline it is read as the first line of the paragraph under it
    plain = load_document(write_file(tmp_path, "p.pdf", make_outlined_pdf(pages, outline=False)))
    assert plain.text.split("\n\n") == [PAGE_1, f"{one_line} {PAGE_2}"]


def test_outline_entries_are_found_as_lines_of_their_page() -> None:
    pages = [["Report", "1. Introduction", "Body line", "Methods and", "materials", "",
              "Results", "Appendix A Sources"], ["Discussion", "text"]]
    entries = [(0, 1, "Introduction"),  # the page numbers its heading, the outline does not
               (0, 2, "METHODS AND MATERIALS"),  # over two lines, another case
               (0, 1, "Appendix"),  # on no page: nothing
               (0, 1, "Discussion"),  # pointing at the page before its heading's
               (0, 1, "Results"),
               (0, 1, "A. Sources")]
    marks = outline_headings(pages, entries)
    assert marks == [{1: (1, 1), 3: (2, 3), 4: (2, 3), 6: (1, 6), 7: (1, 7)}, {0: (1, 0)}]
    assert leveled_paragraphs(pages[0], 20, marks[0]) == [
        ("Report", 0), ("1. Introduction", 1), ("Body line", 0), ("Methods and materials", 2),
        ("Results", 1), ("Appendix A Sources", 1)]


def test_a_heading_does_not_start_at_a_line_without_letters_or_digits() -> None:
    # found by Hypothesis: a paragraph's closing "-." wrapped onto a line of its own, and
    # the heading after it was read as "-. Part 0.1 of the report"
    pages = [["Alpha chips said chips the", "-.", "Part 0.1 of the report", "Bravo more."]]
    assert outline_headings(pages, [(0, 1, "Part 0.1 of the report")]) == [{2: (1, 2)}]


def test_heading_lines_are_paragraphs_of_their_own_whatever_their_width() -> None:
    full = "x" * 40  # a line that runs to the margin
    lines = [full, "Heading one", "Heading two", full + " heading", "body after", "tail"]
    heads = {1: (1, 1), 2: (1, 2), 3: (2, 3)}
    assert leveled_paragraphs(lines, 40, heads) == [
        (full, 0), ("Heading one", 1), ("Heading two", 1), (full + " heading", 2),
        ("body after", 0), ("tail", 0)]
    assert leveled_paragraphs(lines, 40, {}) == [
        (p, 0) for p in paragraphs_of(lines, 40)]
    assert paragraphs_of(lines, 40) == [f"{full} Heading one", "Heading two",
                                        f"{full} heading body after", "tail"]


def test_a_broken_outline_leaves_the_pdf_without_sections(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    import pypdf

    def broken(self: object) -> list[object]:
        raise pypdf.errors.PdfReadError("bad outline")

    monkeypatch.setattr(pypdf.PdfReader, "outline", property(broken))
    doc = load_document(write_file(tmp_path, "o.pdf", make_outlined_pdf(OUTLINED)))
    assert doc.sections == () and HEADLINE in doc.text


# --- DOCX ----------------------------------------------------------------------------


def test_docx_paragraphs_headings_and_table_rows_in_order(tmp_path: Path) -> None:
    blocks: list[tuple[str, object]] = [
        ("title", "Beijing weighs H200 imports"),
        ("p", PAGE_1),
        ("heading", "What the ministry said"),
        ("p", PAGE_2),
        ("table", [("Company", "Units"), ("Nvidia", "400,000"), ("AMD", "120,000")]),
        ("p", "Officials declined to comment."),
    ]
    doc = load_document(write_file(tmp_path, "report.docx", make_docx(blocks)))
    assert doc.text.split("\n\n") == [
        "Beijing weighs H200 imports", PAGE_1, "What the ministry said", PAGE_2,
        "Company | Units", "Nvidia | 400,000", "AMD | 120,000", "Officials declined to comment."]
    assert doc.pages == () and page_of(doc, 0) is None
    assert doc.title == "Beijing weighs H200 imports"  # the Title paragraph, no title property
    # "Heading 1" opens a section to the end; the Title paragraph is no section
    start = doc.text.index("What the ministry said")
    assert [(s.start, s.end, s.level, s.heading) for s in doc.sections] == [
        (start, len(doc.text), 1, "What the ministry said")]
    assert heading_path(doc, doc.text.index(PAGE_2), 100) == (
        "Beijing weighs H200 imports", "What the ministry said")
    assert heading_path(doc, doc.text.index(PAGE_1), 100) == ("Beijing weighs H200 imports",)
    _exact_chunks(doc, size=24, overlap=4)


def test_docx_merged_cells_and_line_breaks(tmp_path: Path) -> None:
    document = docx.Document()
    grid = document.add_table(rows=2, cols=3)
    grid.cell(0, 0).merge(grid.cell(0, 1)).text = "Merged heading"
    grid.cell(0, 2).text = "Units"
    for c, value in enumerate(("Nvidia", "H200", "400,000")):
        grid.cell(1, c).text = value
    paragraph = document.add_paragraph("First line")
    paragraph.add_run().add_break(WD_BREAK.LINE)
    paragraph.add_run("second line.")
    out = io.BytesIO()
    document.save(out)
    doc = load_document(write_file(tmp_path, "merged.docx", out.getvalue()))
    assert doc.text.split("\n\n") == ["Merged heading | Units", "Nvidia | H200 | 400,000",
                                      "First line second line."]


def test_docx_metadata_from_core_properties(tmp_path: Path) -> None:
    data = make_docx([("p", PAGE_1)], title="Chip licences", author="Ann Cao and Coco Feng",
                 created=dt.datetime(2025, 3, 2, 8, 0))
    doc = load_document(write_file(tmp_path, "props.docx", data))
    assert (doc.title, doc.authors, doc.date) == ("Chip licences", ("Ann Cao", "Coco Feng"),
                                                  "2025-03-02")
    bare = load_document(write_file(tmp_path, "bare.docx", make_docx([("p", PAGE_1)])))
    assert bare.title is None and bare.authors == ()


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"plain text, not Word"])
def test_broken_docx_is_refused_with_a_message(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(DocumentError, match=r"broken\.docx is not a Word \(\.docx\) file"):
        load_document(write_file(tmp_path, "broken.docx", data))


def test_docx_without_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="has no text"):
        load_document(write_file(tmp_path, "blank.docx", make_docx([("p", "   ")])))


# --- offsets, property-tested --------------------------------------------------------

WORDS = st.sampled_from(["Beijing", "chips", "the", "U.S.", "approved", "400,000", "Dr.",
                         "Nvidia's", "H200", "émigré", "a", "and", "-", "<|im_end|>", "<s>",
                         "licences", "ministry", "export", "(AMD)", "50%", "said:"])
SENTENCE = st.lists(WORDS, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=5).map(" ".join)
# Each paragraph starts with its own word: a paragraph repeated at the edges of most pages
# is a running header or footer and is dropped, which is not what these tests are about.
_OPENERS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India")


def _distinct(pages: list[list[str]]) -> list[list[str]]:
    openers = iter(_OPENERS)
    return [[f"{next(openers)} {p}" for p in paragraphs] for paragraphs in pages]


PAGES = st.lists(st.lists(PARAGRAPH, min_size=1, max_size=3), min_size=1, max_size=3
                 ).map(_distinct)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pages=PAGES, size=st.integers(min_value=8, max_value=80),
       overlap=st.integers(min_value=0, max_value=6))
def test_pdf_chunks_are_exact_spans_of_the_clean_text(
        tmp_path: Path, pages: list[list[str]], size: int, overlap: int) -> None:
    doc = load_document(write_file(tmp_path, "prop.pdf", make_pdf(pages)))
    assert len(doc.pages) == len(pages)
    assert list(doc.pages) == sorted(doc.pages)
    _exact_chunks(doc, size, overlap)
    # each page's first words are on that page
    for n, paragraphs in enumerate(pages, start=1):
        first = paragraphs[0].split()[0]
        if first.isalpha():
            assert page_of(doc, doc.text.index(first, doc.pages[n - 1])) == n


HEADED_PAGES = PAGES.flatmap(lambda pages: st.lists(
    st.integers(min_value=0, max_value=3), min_size=sum(map(len, pages)),
    max_size=sum(map(len, pages))).map(lambda levels: _headed(pages, levels)))


def _headed(pages: list[list[str]], levels: list[int]) -> list[list[tuple[int, str]]]:
    """``pages`` with a heading (of ``level``, 0 for none) before each paragraph.

    A heading is at most one level below the one before it (the first at level 1), as
    an outline nests.
    """
    marks = iter(levels)
    out = []
    deepest = 0
    for n, paragraphs in enumerate(pages):
        page: list[tuple[int, str]] = []
        for i, paragraph in enumerate(paragraphs):
            level = min(next(marks), deepest + 1)
            if level:
                deepest = level
                page.append((level, f"Part {n}.{i} of the {'sub' * (level - 1)}report"))
            page.append((0, paragraph))
        out.append(page)
    return out


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pages=HEADED_PAGES, size=st.integers(min_value=8, max_value=80),
       overlap=st.integers(min_value=0, max_value=6))
def test_outlined_pdf_chunks_are_exact_spans_and_sections_start_at_their_heading(
        tmp_path: Path, pages: list[list[tuple[int, str]]], size: int, overlap: int) -> None:
    doc = load_document(write_file(tmp_path, "prop.pdf", make_outlined_pdf(pages)))
    # every heading is a section, in order, at its level (even the headings at the top of
    # most pages, which look like running headers)
    headings = [(level, text) for page in pages for level, text in page if level]
    assert [(s.level, s.heading) for s in sorted(doc.sections, key=lambda s: s.start)] \
        == headings
    for s in doc.sections:
        assert doc.text[s.start:s.end].startswith(s.heading)
        assert 0 <= s.start < s.end <= len(doc.text)
    assert len(doc.pages) == len(pages)
    _exact_chunks(doc, size, overlap)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pages=PAGES, size=st.integers(min_value=8, max_value=80),
       overlap=st.integers(min_value=0, max_value=6))
def test_docx_chunks_are_exact_spans_of_the_clean_text(
        tmp_path: Path, pages: list[list[str]], size: int, overlap: int) -> None:
    blocks: list[tuple[str, object]] = [("heading", "A heading")]
    for paragraphs in pages:
        blocks.extend(("p", p) for p in paragraphs)
    blocks.append(("table", [("Company", "Units <s>"), ("Nvidia", "400,000")]))
    doc = load_document(write_file(tmp_path, "prop.docx", make_docx(blocks)))
    _exact_chunks(doc, size, overlap)


# --- the corpus loader and uploads ---------------------------------------------------


def test_corpus_loader_and_uploads_take_pdf_andmake_docx(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_file(corpus, "a.pdf", make_pdf([[PAGE_1], [PAGE_2]]))
    write_file(corpus, "b.docx", make_docx([("p", "Officials declined to comment on the timing.")]))
    write_file(corpus, "c.pdf", make_pdf([[PAGE_1]], user_password="secret"))
    paths, skipped = supported_files(corpus)
    assert [p.name for p in paths] == ["a.pdf", "b.docx", "c.pdf"] and skipped == []
    report = load_corpus(corpus)
    assert [d.doc_id for d in report.documents] == ["a", "b"]
    assert report.skipped[0][0] == "c.pdf" and "encrypted" in report.skipped[0][1]

    stored = store_upload(corpus, "New Report (2025).pdf", make_pdf([[PAGE_2]]))
    assert stored == corpus / "New-Report-2025.pdf"
    stored = store_upload(corpus, "Notes.DOCX", make_docx([("p", "A different report body.")]))
    assert stored == corpus / "Notes.docx"
    before = sorted(p.name for p in corpus.iterdir())
    with pytest.raises(DocumentError, match="encrypted"):
        store_upload(corpus, "locked.pdf", make_pdf([[PAGE_2]], user_password="secret"))
    with pytest.raises(DocumentError, match="same text"):
        store_upload(corpus, "copy.pdf", make_pdf([[PAGE_1], [PAGE_2]]))
    assert sorted(p.name for p in corpus.iterdir()) == before


# --- DOCX pages --------------------------------------------------------------------


@pytest.mark.parametrize("rendered", [False, True])
def test_docx_pages_from_page_breaks(tmp_path: Path, rendered: bool) -> None:
    data = make_paged_docx([[PAGE_1, "Second paragraph of page one."], [PAGE_2], ["Last."]],
                           rendered=rendered)
    doc = load_document(write_file(tmp_path, "paged.docx", data))
    assert doc.text.split("\n\n") == [PAGE_1, "Second paragraph of page one.", PAGE_2, "Last."]
    assert len(doc.pages) == 3
    assert page_of(doc, doc.text.index(PAGE_1)) == 1
    assert page_of(doc, doc.text.index("400,000 units")) == 2
    assert page_of(doc, doc.text.index("Last.")) == 3
    _exact_chunks(doc)


def test_docx_break_inside_a_paragraph_and_page_break_before(tmp_path: Path) -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("The ministry met on Monday,")
    paragraph.add_run().add_break(WD_BREAK.PAGE)
    paragraph.add_run("and agreed on Tuesday.")
    document.add_paragraph("A new chapter.").paragraph_format.page_break_before = True
    out = io.BytesIO()
    document.save(out)
    doc = load_document(write_file(tmp_path, "split.docx", out.getvalue()))
    assert doc.text == "The ministry met on Monday, and agreed on Tuesday.\n\nA new chapter."
    assert page_of(doc, doc.text.index("and agreed")) == 2
    assert page_of(doc, doc.text.index("A new chapter")) == 3


def test_docx_without_page_breaks_has_no_pages(tmp_path: Path) -> None:
    doc = load_document(write_file(tmp_path, "flat.docx", make_docx([("p", PAGE_1),
                                                                    ("p", PAGE_2)])))
    assert doc.pages == () and page_of(doc, 0) is None
