"""Shared helpers of the served-UI tests: free port, scripted assistant, server, chromium.

Imports nothing optional at import time: a browser test module calls
``require_chromium()`` at its top, which skips the module when chromium or Playwright
is missing (never runs ``playwright install``) and returns ``playwright.sync_api``.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from conftest import CORPUS, FakeEmbedder, ScriptedGenerator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_chromium() -> Any:
    """``playwright.sync_api``; skips the calling test module without chromium or Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(assistant: Any, **launch_kwargs: Any) -> Iterator[str]:
    """The UI of ``assistant`` served on a free loopback port (Gradio's background thread).

    Yields its URL; the server is closed on exit. ``launch_kwargs`` go to ``ui.app.launch``
    (e.g. ``mcp=True``).
    """
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    from ui.app import launch

    port = free_port()
    demo = launch(assistant, host="127.0.0.1", port=port, block=False, **launch_kwargs)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian chromium, headless, launched through Playwright; closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(url: str, width: int = 1360, height: int = 960) -> Iterator[Any]:
    """A page of a fresh chromium at ``url``, ``width`` x ``height`` px."""
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        yield page


def scripted_assistant(root: Path, reply: Callable[[list[dict[str, str]]], str],
                       corpus: Path | None = None) -> Assistant:
    """The fake embedder and a model replying ``reply(messages)``, index and cache in ``root``.

    Over ``corpus``, by default a copy of the project corpus at ``root / "corpus"``;
    passages from relevance 0.1, the retrieved ones in the prompt.
    """
    if corpus is None:
        corpus = root / "corpus"
        shutil.copytree(CORPUS, corpus)
    settings = Settings.from_env(corpus_dir=corpus, index_dir=root / "index",
                                 cache_dir=root / "cache", min_relevance=0.1,
                                 context_mode="retrieved")
    return Assistant.open(settings=settings, embedder=FakeEmbedder(),
                          generator=ScriptedGenerator(reply))


def first_sentence_of_first_passage(messages: list[dict[str, str]]) -> str:
    """The scripted model's reply: passage 1's first sentence, cited to it."""
    block = messages[-1]["content"].split("<passage n=")[1]
    body = block.split(">", 1)[1].split("</passage>")[0].strip()
    return f"{body.split(chr(10))[-1].split('. ')[0].rstrip('.')} [1]."
