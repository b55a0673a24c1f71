"""The Reports tab's remove control and the chat's report choice, in a real browser.

Debian chromium via Playwright, the fake embedder and a scripted model over a copy of
the project corpus. Asks with one report chosen (every citation is to it), then removes
the other report (gone from the table, its passages from the index). Skipped when
chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder, ScriptedGenerator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "What is happening with Nvidia H200 chips and Chinese companies?"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def first_sentence_of_first_passage(messages: list[dict[str, str]]) -> str:
    block = messages[-1]["content"].split("<passage n=")[1]
    body = block.split(">", 1)[1].split("</passage>")[0].strip()
    return f"{body.split(chr(10))[-1].split('. ')[0].rstrip('.')} [1]."


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Assistant]]:
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    from ui.app import launch

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index",
                                 cache_dir=tmp_path / "cache", min_relevance=0.1,
                                 context_mode="retrieved")
    assistant = Assistant.open(settings=settings, embedder=FakeEmbedder(),
                               generator=ScriptedGenerator(first_sentence_of_first_passage))
    port = _free_port()
    demo = launch(assistant, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", assistant
    finally:
        demo.close()


def test_ask_about_one_report_then_remove_the_other(served: tuple[str, Assistant]) -> None:
    url, assistant = served
    expect = sync_api.expect
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 960})
            page.goto(url)
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
        finally:
            browser.close()
    assert {c.doc_id for c in assistant.retriever().index.chunks} == {TOMS}
