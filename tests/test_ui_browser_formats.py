"""PDF and Word uploads in a real browser (Debian chromium via Playwright), end to end.

Uploads a generated two-page PDF through the Reports tab, asks a question answered
on its page 2, and checks that the citation names page 2 (sources table and passage
panel) and that the highlighted text is ``lookup(id).text``; the same for a DOCX file
with a page break. Two variants: the fake embedder with a scripted model (fast suite)
and the real models (marked ``real``). Skipped when chromium or Playwright is missing
(never runs ``playwright install``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from browser import browser_page, require_chromium, scripted_assistant, served
from conftest import REPORT, passage_number
from report_files import PAGE_1, make_paged_docx, make_pdf

sync_api = require_chromium()

PDF_FACT = ("The harbour authority recorded 7,300 container arrivals at the eastern terminal "
            "in March, a record for the port.")
PDF_QUESTION = "How many container arrivals did the harbour authority record in March?"
DOCX_FACT = ("The review counted 1,250 wind turbines installed along the northern coast "
             "last year.")
DOCX_QUESTION = "How many wind turbines were installed along the northern coast last year?"
FILLER = ("Officials in the port city said the figures would be published in full once the "
          "quarterly audit had been completed by the finance department.")
# The answer's words for each question, as the scripted model writes them.
FACTS = {PDF_QUESTION: ("7,300 container arrivals", PDF_FACT),
         DOCX_QUESTION: ("1,250 wind turbines", DOCX_FACT)}


def scripted_reply(messages: list[dict[str, str]]) -> str:
    """Restate the fact that answers the question, cited to its passage."""
    question = messages[-1]["content"].rsplit("Question:", 1)[-1]
    for asked, (needle, fact) in FACTS.items():
        if asked in question:
            return f"{fact[:-1]} [{passage_number(messages, needle)}]."
    return "The reports do not say."


def report_files(folder: Path) -> dict[str, Path]:
    """The two uploads: a two-page PDF and a DOCX with a page break, page 2 answering."""
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "Harbour report.pdf"
    pdf.write_bytes(make_pdf([[PAGE_1, FILLER], [PDF_FACT]], title="Harbour report"))
    docx = folder / "Energy review.docx"
    docx.write_bytes(make_paged_docx(
        [["The regional energy office published its annual review on Friday.", FILLER],
         [DOCX_FACT]], title="Energy review"))
    return {"pdf": pdf, "docx": docx}


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "rules.txt").write_text(REPORT, encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def fake_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant,
                                                                            Path]]:
    root = tmp_path_factory.mktemp("browser-formats")
    assistant = scripted_assistant(root, scripted_reply, corpus=_corpus(root))
    with served(assistant) as url:
        yield url, assistant, root / "uploads"


def _upload_ask_and_check(url: str, assistant: Assistant, upload: Path, question: str,
                          needle: str) -> None:
    expect = sync_api.expect
    with browser_page(url) as page:
        page.get_by_role("tab", name="Reports").click()
        page.locator("#upload input[type=file]").set_input_files(str(upload))
        expect(page.locator("#upload")).to_contain_text(upload.stem, timeout=30_000)
        page.get_by_role("button", name="Add to corpus and re-index").click()
        expect(page.locator("#upload-status")).to_contain_text("added", timeout=300_000)
        stem = re.sub(r"[^A-Za-z0-9]+", "-", upload.stem)
        expect(page.locator("#reports")).to_contain_text(stem)

        page.get_by_role("tab", name="Chat").click()
        box = page.locator("#q textarea")
        expect(box).to_be_visible(timeout=30_000)
        box.fill(question)
        box.press("Enter")
        status = page.locator("#status")
        expect(status).to_contain_text(re.compile("answered|do not answer|Error"),
                                       timeout=600_000)
        expect(status).to_contain_text("answered")
        links = page.locator('#chat [data-testid="bot"]').last.locator("a.cite")
        expect(links.first).to_be_visible()
        ids = [links.nth(i).get_attribute("title") or "" for i in range(links.count())]
        on_upload = [i for i, cid in enumerate(ids) if cid.startswith(f"{stem}:")]
        assert on_upload, ids
        citation_id = ids[on_upload[0]]
        expected = assistant.lookup(citation_id)
        assert expected.page == 2 and needle in expected.text
        expect(page.locator("#sources")).to_contain_text(", p. 2")
        links.nth(on_upload[0]).click()
        mark = page.locator("#passage mark")
        expect(mark).to_be_visible(timeout=30_000)
        assert " ".join(mark.inner_text().split()) == " ".join(expected.text.split())
        expect(page.locator("#passage .passage-meta")).to_contain_text("page 2")


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_upload_then_a_citation_names_page_2(fake_served: tuple[str, Assistant, Path],
                                             kind: str) -> None:
    url, assistant, uploads = fake_served
    upload = report_files(uploads)[kind]
    question = PDF_QUESTION if kind == "pdf" else DOCX_QUESTION
    _upload_ask_and_check(url, assistant, upload, question, FACTS[question][0])


@pytest.fixture(scope="module")
def real_served(tmp_path_factory: pytest.TempPathFactory,
                real_embedder: Any) -> Iterator[tuple[str, Assistant, Path]]:
    root = tmp_path_factory.mktemp("browser-formats-real")
    settings = Settings(corpus_dir=_corpus(root), index_dir=root / "index")
    assistant = Assistant.open(settings=settings, embedder=real_embedder, model="default")
    with served(assistant) as url:
        yield url, assistant, root / "uploads"


@pytest.mark.real
@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_upload_then_a_citation_names_page_2_real_models(
        real_served: tuple[str, Assistant, Path], kind: str) -> None:
    url, assistant, uploads = real_served
    upload = report_files(uploads)[kind]
    question = PDF_QUESTION if kind == "pdf" else DOCX_QUESTION
    _upload_ask_and_check(url, assistant, upload, question, FACTS[question][0])
