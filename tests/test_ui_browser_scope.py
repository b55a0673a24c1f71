"""The Reports tab's remove control and the chat's report choice, in a real browser.

Debian chromium via Playwright, the fake embedder and a scripted model over a copy of
the project corpus. Asks with one report chosen (every citation is to it), then removes
the other report (gone from the table, its passages from the index). Skipped when
chromium or Playwright is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core import Assistant
from browser import (
    browser_page,
    first_sentence_of_first_passage,
    require_chromium,
    scripted_assistant,
)
from browser import served as serving
from conftest import SCMP, TOMS

QUESTION = "What is happening with Nvidia H200 chips and Chinese companies?"

sync_api = require_chromium()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Assistant]]:
    assistant = scripted_assistant(tmp_path, first_sentence_of_first_passage)
    with serving(assistant) as url:
        yield url, assistant


def test_ask_about_one_report_then_remove_the_other(served: tuple[str, Assistant]) -> None:
    url, assistant = served
    expect = sync_api.expect
    with browser_page(url) as page:
        page.locator("#scope").get_by_text("Ask about some reports only").click()
        page.locator("#scope-reports input").click()
        page.get_by_role("option", name=re.compile(TOMS)).click()
        expect(page.locator("#scope-reports")).to_contain_text(TOMS)
        page.keyboard.press("Escape")
        box = page.locator("#q textarea")
        box.fill(QUESTION)
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text(
            re.compile("answered|do not answer|Error"), timeout=120_000)
        expect(page.locator("#status")).to_contain_text("answered")
        links = page.locator('#chat [data-testid="bot"]').last.locator("a.cite")
        expect(links.first).to_be_visible()
        ids = [links.nth(i).get_attribute("title") or "" for i in range(links.count())]
        assert ids and all(cid.startswith(f"{TOMS}:") for cid in ids), ids

        page.get_by_role("tab", name="Reports").click()
        table = page.locator("#reports")
        expect(table).to_contain_text(SCMP)
        expect(table).to_contain_text("indexed")
        page.locator("#remove-choice input").click()
        page.get_by_role("option", name=re.compile(SCMP)).click()
        page.locator("#remove").click()
        expect(page.locator("#remove-status")).to_contain_text(f"removed {SCMP}",
                                                               timeout=60_000)
        expect(table).not_to_contain_text(SCMP)
        expect(table).to_contain_text(TOMS)
    assert {c.doc_id for c in assistant.retriever().index.chunks} == {TOMS}
