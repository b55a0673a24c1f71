"""The UI in a real browser (Debian chromium via Playwright) with the real assistant and model.

Types a question, waits for the streamed answer, clicks its first citation and
checks that the passage is shown highlighted; then the same for a quote of another
report under an answer. Marked ``real``; skipped when
chromium or Playwright is missing (never runs ``playwright install``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from browser import browser_page, require_chromium
from browser import served as serving

pytestmark = pytest.mark.real

QUESTION = "Which tax applies to the H200 chips re-exported to China?"
SCREENSHOT_COPY = Path("/tmp/ui-screenshot.png")

sync_api = require_chromium()


@contextmanager
def _asked(url: str, question: str) -> Iterator[Any]:
    """A chromium page of the UI at ``url`` where ``question`` has just been sent."""
    with browser_page(url) as page:
        box = page.locator("#q textarea")
        sync_api.expect(box).to_be_visible(timeout=30_000)
        box.fill(question)
        box.press("Enter")
        yield page


@pytest.fixture(scope="module")
def served(real_assistant: Any) -> Iterator[tuple[str, Any]]:
    """The URL of the UI of conftest's real assistant, and the assistant."""
    with serving(real_assistant) as url:
        yield url, real_assistant


def test_ask_click_citation_shows_highlighted_passage(served: tuple[str, Any],
                                                      tmp_path: Path) -> None:
    url, assistant = served
    expect = sync_api.expect
    with _asked(url, QUESTION) as page:
        status = page.locator("#status")
        expect(status).to_contain_text(re.compile("searching|reading|writing"),
                                       timeout=60_000)
        expect(status).to_contain_text(re.compile("answered|do not answer|Error"),
                                       timeout=300_000)
        expect(status).to_contain_text("answered")
        link = page.locator('#chat [data-testid="bot"]').last.locator("a.cite").first
        expect(link).to_be_visible()
        expect(page.locator("#sources")).to_contain_text(re.compile(r"\[\d+\]"))

        citation_id = link.get_attribute("title") or ""
        expected = assistant.lookup(citation_id)
        link.click()
        mark = page.locator("#passage mark")
        # the panel may still show the answer's first citation: wait for the clicked one
        expect(mark).to_contain_text(" ".join(expected.text.split()[:8]), timeout=30_000)
        assert " ".join(mark.inner_text().split()) == " ".join(expected.text.split())
        expect(page.locator("#passage")).to_contain_text(expected.title or expected.doc_id)
        if expected.outlet:
            expect(page.locator("#passage")).to_contain_text(expected.outlet)
        assert page.url.rstrip("/") == url.rstrip("/")  # the link did not navigate

        page.wait_for_timeout(800)  # let the passage scroll into view
        shot = tmp_path / "ui-screenshot.png"
        page.screenshot(path=str(shot), full_page=True)
        shutil.copyfile(shot, SCREENSHOT_COPY)
        assert shot.stat().st_size > 10_000


def test_other_report_quote_links_to_its_passage(served: tuple[str, Any]) -> None:
    url, assistant = served
    expect = sync_api.expect
    with _asked(url, "Has Beijing approved H200 imports?") as page:
        expect(page.locator("#status")).to_contain_text(
            re.compile("answered|do not answer|Error"), timeout=300_000)
        other = page.locator('#chat [data-testid="bot"]').last.locator(".other-reports")
        expect(other).to_contain_text("Other reports on this question")
        link = other.locator("a.cite").first
        citation_id = link.get_attribute("title") or ""
        expected = assistant.lookup(citation_id)
        answered = {c.doc_id for c in assistant.ask("Has Beijing approved H200 imports?")
                    .citations}
        assert expected.doc_id not in answered  # a report the answer does not cite
        link.click()
        mark = page.locator("#passage mark")
        # the panel may still show the answer's first citation: wait for the clicked one
        expect(mark).to_contain_text(" ".join(expected.text.split()[:8]), timeout=30_000)
        assert " ".join(mark.inner_text().split()) == " ".join(expected.text.split())
