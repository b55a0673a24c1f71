"""The chat in a real browser (Debian chromium via Playwright), with the fake models.

The real app is served with the fake embedder and a scripted model, so these run in the
fast suite: the empty-question message, the hover preview of a citation, the copy
buttons (plain text, Markdown with footnotes, a citation id), the passage panel that
follows the latest answer, a closed page's question being cancelled, the model's state
in the chat tab, and the Reports table fitting a 1280 px wide page. Skipped when
chromium or Playwright is missing (never runs ``playwright install``).
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from browser import chromium_browser, require_chromium
from browser import served as serving
from conftest import CORPUS, SCMP, FakeEmbedder, ScriptedGenerator

REPLY = "More than 400,000 units were approved for ByteDance, Alibaba and Tencent."
QUESTION = "How many units were approved?"
SLOW = "SLOWLY"  # a question with this word is answered one word every half second
SHOTS = Path("/tmp")

sync_api = require_chromium()
expect = sync_api.expect


class PacedGenerator(ScriptedGenerator):
    """The scripted model; a question with ``SLOW`` in it gets a long reply, slowly."""

    def __init__(self) -> None:
        super().__init__(self._reply)
        self.slow_words = 0  # words of slow replies handed out so far
        self.slow_closed = threading.Event()  # a slow reply's stream was closed early

    def _reply(self, messages: list[dict[str, str]]) -> str:
        if SLOW in messages[-1]["content"]:
            return " ".join(["Units"] * 400) + "."
        return REPLY

    def stream(self, messages: list[dict[str, str]], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        slow = SLOW in messages[-1]["content"]
        finished = False
        try:
            for piece in super().stream(messages, max_tokens, prefix):
                if slow:
                    time.sleep(0.5)
                    self.slow_words += 1
                yield piece
            finished = True
        finally:
            if slow and not finished:
                self.slow_closed.set()


@dataclass
class Served:
    url: str
    assistant: Assistant
    generator: PacedGenerator


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("chat")
    shutil.copytree(CORPUS, root / "corpus")
    cfg = Settings(corpus_dir=root / "corpus", index_dir=root / "index", cache_dir=root / "cache",
                   min_relevance=0.1, context_mode="retrieved", max_answer_tokens=1000,
                   context_tokens=8192)
    generator = PacedGenerator()
    assistant = Assistant.open(settings=cfg, embedder=FakeEmbedder(), generator=generator)
    assistant.warm()
    with serving(assistant) as url:
        yield Served(url, assistant, generator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def _page(browser: Any, url: str, width: int = 1360) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 960},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#q textarea")).to_be_visible(timeout=30_000)
    return page


def _ask(page: Any, question: str) -> None:
    box = page.locator("#q textarea")
    box.fill(question)
    box.press("Enter")


def _clipboard(page: Any) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def test_empty_question_gets_a_message(served: Served, browser: Any) -> None:
    page = _page(browser, served.url)
    try:
        page.locator("#q textarea").fill("   ")
        page.locator("#ask").click()
        expect(page.locator("#status")).to_contain_text("Type a question first")
        expect(page.locator('#chat [data-testid="user"]')).to_have_count(0)
    finally:
        page.context.close()


def test_answer_hover_preview_copy_and_passage_panel(served: Served, browser: Any) -> None:
    page = _page(browser, served.url)
    try:
        expect(page.locator("#model-state")).to_contain_text("Model: ready")
        _ask(page, QUESTION)
        expect(page.locator("#status")).to_contain_text("answered", timeout=60_000)
        link = page.locator('#chat [data-testid="bot"]').last.locator("a.cite").first
        expect(link).to_be_visible()
        citation_id = link.get_attribute("title") or ""
        quoted = served.assistant.lookup(citation_id)

        # The passage panel follows the latest answer: its first citation, highlighted.
        expect(page.locator("#passage mark")).to_be_visible()

        # Hovering [n] shows the quoted sentence and its report.
        link.hover()
        preview = page.locator("#cite-preview")
        expect(preview).to_be_visible(timeout=10_000)
        expect(preview).to_contain_text(" ".join(quoted.text.split())[:60])
        expect(preview).to_contain_text(quoted.title or quoted.doc_id)
        page.mouse.move(5, 5)
        expect(preview).to_be_hidden()
        page.screenshot(path=str(SHOTS / "ui-chat-answer.png"), full_page=True)

        # Clicking keeps today's behaviour: the passage opens, highlighted, in its article.
        link.click()
        expect(page.locator("#passage mark")).to_have_text(re.compile(r"\S"))
        assert (" ".join(page.locator("#passage mark").inner_text().split())
                == " ".join(quoted.text.split()))

        # Copy as Markdown: each claim with its footnote.
        page.locator("#answer-tools button", has_text="Copy as Markdown").click()
        expect(page.locator("#answer-tools .copy-done")).to_contain_text("Markdown copied")
        markdown = _clipboard(page)
        assert "More than 400,000 units" in markdown and "[^" in markdown
        note = next(line for line in markdown.splitlines() if line.startswith("[^"))
        assert "*Beijing weighs H200 imports amid uncertainty for China tech giants*" in note
        assert "South China Morning Post" in note and f"Citation id: `{SCMP}:" in note
        assert "<a " not in markdown and "&#91;" not in markdown

        # Copy answer: plain text with numbered references, no markup.
        page.locator("#answer-tools button", has_text="Copy answer").click()
        expect(page.locator("#answer-tools .copy-done")).to_contain_text("Answer copied")
        text = _clipboard(page)
        assert "\n\nReferences\n[" in text and "<" not in text and "&#" not in text

        # One click copies the citation id of the passage shown.
        page.locator("#passage button.copy-id").click()
        expect(page.locator("#passage button.copy-id")).to_have_text("Copied")
        assert _clipboard(page) == citation_id

        # A new question clears the panel until its own answer is there.
        _ask(page, "Which companies were the units approved for?")
        expect(page.locator('#chat [data-testid="bot"]')).to_have_count(2, timeout=30_000)
        expect(page.locator("#status")).to_contain_text("answered", timeout=60_000)
        second = page.locator('#chat [data-testid="bot"]').last.locator("a.cite").first
        expect(second).to_be_visible()
        expect(page.locator("#passage mark")).to_be_visible()
    finally:
        page.context.close()


def test_a_closed_pages_question_is_cancelled(served: Served, browser: Any) -> None:
    generator = served.generator
    first = _page(browser, served.url)
    _ask(first, f"How many units were approved, {SLOW}?")
    expect(first.locator("#status")).to_contain_text("writing", timeout=60_000)
    while generator.slow_words < 3:  # words are being written
        time.sleep(0.2)
    first.context.close()  # the page goes away while its answer is being written
    closed_at = time.monotonic()
    assert generator.slow_closed.wait(timeout=60), "the closed page's answer kept running"
    words = generator.slow_words
    second = _page(browser, served.url)
    try:
        _ask(second, QUESTION)
        # the next question starts at once (the slow reply had 200 s of words left)
        expect(second.locator("#status")).to_contain_text("answered", timeout=60_000)
        assert time.monotonic() - closed_at < 90
        assert generator.slow_words == words  # and nothing more of the closed one was written
    finally:
        second.context.close()


def test_reports_table_fits_a_1280_px_page(served: Served, browser: Any) -> None:
    page = _page(browser, served.url, width=1280)
    try:
        page.get_by_role("tab", name="Reports").click()
        table = page.locator("#reports")
        expect(table).to_contain_text("South China Morning Post", timeout=30_000)
        headers = table.locator("thead th")
        names = [" ".join(h.split()) for h in headers.all_inner_texts()]
        for name in ("state", "title", "outlet", "date", "pages", "passages"):
            assert any(name in n for n in names), names
        for i in range(headers.count()):
            box = headers.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280, (
                names[i], box)
        page.screenshot(path=str(SHOTS / "ui-reports-1280.png"), full_page=True)
    finally:
        page.context.close()
