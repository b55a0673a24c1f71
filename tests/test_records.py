"""The formats an answer is taken away in: plain text and Markdown with footnotes."""

from __future__ import annotations

from assistant.records import Answer, Citation, Document

TEXT = "Beijing approved 400,000 H200 chips. Imports face a 25% tax."
DOC = Document("reuters-h200", "reuters-h200.txt", TEXT, "0" * 64,
               title="China approves *H200* imports", outlet="Reuters",
               authors=("A. Writer",), url="https://example.com/h200", date="2026-01-28")
OTHER = Document("ft-h200", "ft-h200.md", "The FT says so.", "1" * 64, title="FT view")
C1 = Citation(1, "reuters-h200:0-36:aaaaaaaa", "reuters-h200", DOC.title, 0, 36, TEXT[:36])
C2 = Citation(2, "reuters-h200:37-60:bbbbbbbb", "reuters-h200", DOC.title, 37, 60,
              TEXT[37:])
C3 = Citation(3, "ft-h200:0-15:cccccccc", "ft-h200", "FT view", 0, 15, "The FT says so.")
ANSWER = Answer("q?", "Beijing approved 400,000 chips [1]. They face a 25% tax [1, 2].",
                refused=False, citations=(C1, C2), other_reports=(C3,))
REPORTS = {"reuters-h200": DOC, "ft-h200": OTHER}


def test_markdown_footnotes_carry_quote_report_outlet_date_url_and_id() -> None:
    md = ANSWER.to_markdown(REPORTS)
    body, rest = md.split("\n\n", 1)
    assert body == "Beijing approved 400,000 chips [^1]. They face a 25% tax [^1][^2]."
    notes = rest.splitlines()
    assert notes[0] == "Other reports on this question: FT view: “The FT says so.” [^3]"
    assert notes[-3] == ("[^1]: “Beijing approved 400,000 H200 chips.” — *China approves "
                         "\\*H200\\* imports*, Reuters, 2026-01-28, <https://example.com/h200>. "
                         "Citation id: `reuters-h200:0-36:aaaaaaaa`")
    assert notes[-2].startswith("[^2]: “Imports face a 25% tax.” — *China approves")
    assert notes[-1] == "[^3]: “The FT says so.” — *FT view*. Citation id: `ft-h200:0-15:cccccccc`"


def test_plain_text_keeps_numbered_markers_and_lists_references() -> None:
    text = ANSWER.to_text(REPORTS)
    assert "<" not in text and "&#" not in text  # no markup at all
    body, refs = text.split("\n\nReferences\n")
    assert body == ANSWER.text
    assert refs.splitlines() == [
        "[1] “Beijing approved 400,000 H200 chips.” — China approves *H200* imports, Reuters, "
        "2026-01-28, https://example.com/h200. Citation id: reuters-h200:0-36:aaaaaaaa",
        "[2] “Imports face a 25% tax.” — China approves *H200* imports, Reuters, 2026-01-28, "
        "https://example.com/h200. Citation id: reuters-h200:37-60:bbbbbbbb",
        "[3] “The FT says so.” — FT view. Citation id: ft-h200:0-15:cccccccc",
    ]


def test_a_marker_without_a_citation_stays_text() -> None:
    answer = Answer("q?", "Something [7].", refused=False)
    assert answer.to_markdown({}) == "Something \\[7\\].\n"
    assert answer.to_text({}) == "Something [7].\n"


def test_a_citation_with_a_page_names_it_in_the_text_and_the_markdown() -> None:
    paged = Answer("q?", "Beijing approved 400,000 chips [1].", refused=False,
                   citations=(Citation(1, C1.id, C1.doc_id, C1.title, 0, 36, C1.quote,
                                       page=2),))
    assert "Reuters, 2026-01-28, p. 2, https://example.com/h200. Citation id:" in (
        paged.to_text(REPORTS))
    assert "Reuters, 2026-01-28, p. 2, <https://example.com/h200>. Citation id:" in (
        paged.to_markdown(REPORTS))
    assert "p. " not in ANSWER.to_text(REPORTS) + ANSWER.to_markdown(REPORTS)
