"""The UI in a real browser (Debian chromium via Playwright) with the real assistant and model.

Types a question, waits for the streamed answer, clicks its first citation and
checks that the passage is shown highlighted; then the same for a quote of another
report under an answer. Marked ``real``; skipped when
chromium or Playwright is missing (never runs ``playwright install``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.real

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "Which tax applies to the H200 chips re-exported to China?"
SCREENSHOT_COPY = Path("/tmp/ui-screenshot.png")

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _asked(url: str, question: str) -> Iterator[Any]:
    """A chromium page of the UI at ``url`` where ``question`` has just been sent."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 960})
            page.goto(url)
            box = page.locator("#q textarea")
            sync_api.expect(box).to_be_visible(timeout=30_000)
            box.fill(question)
            box.press("Enter")
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def served(real_assistant: Any) -> Iterator[tuple[str, Any]]:
    """The URL of the UI of conftest's real assistant, and the assistant."""
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    from ui.app import launch

    assistant = real_assistant
    port = _free_port()
    demo = launch(assistant, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", assistant
    finally:
        demo.close()


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
        expect(mark).to_be_visible(timeout=30_000)
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
        expect(mark).to_be_visible(timeout=30_000)
        assert " ".join(mark.inner_text().split()) == " ".join(expected.text.split())
