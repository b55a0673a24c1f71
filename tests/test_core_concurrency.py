"""One Assistant used from several threads: search while the model writes, reindex mid-answer."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant import citations
from assistant.core import Assistant
from assistant.errors import CitationError
from assistant.index.faiss_store import IndexLayout, load
from conftest import CORPUS, SCMP, TOMS

Make = Callable[..., Assistant]


def test_search_is_not_blocked_while_the_model_writes(make_assistant: Make) -> None:
    writing = threading.Event()
    release = threading.Event()

    def slow(messages: list[dict[str, str]]) -> str:
        writing.set()
        assert release.wait(10)
        return "The reports do not say."

    a = make_assistant(slow)
    worker = threading.Thread(target=a.ask, args=("Which tax applies to the H200 chips?",))
    worker.start()
    try:
        assert writing.wait(10)
        assert a.generator.lock.locked()  # the model is busy answering
        started = time.perf_counter()
        hits = a.search("window guidance", k=3)
        assert hits and time.perf_counter() - started < 1.0
        assert a.lookup(citations.make_id(hits[0].chunk.doc_id, hits[0].chunk.start,
                                          hits[0].chunk.end, hits[0].chunk.text))
    finally:
        release.set()
        worker.join(10)
    assert not worker.is_alive()


def test_reindex_while_answering_loses_nothing(tmp_path: Path, make_assistant: Make) -> None:
    """A report deleted and re-indexed mid-answer: the answer completes, its citation then
    says clearly that the report is gone; two concurrent re-indexes end consistent."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    writing = threading.Event()
    release = threading.Event()

    def reply(messages: list[dict[str, str]]) -> str:
        writing.set()
        assert release.wait(10)
        user = messages[-1]["content"]
        n = next(i for i, b in enumerate(user.split("<passage n=")[1:], 1) if "400,000" in b)
        return f"Passage: {n}\nAnswer: More than 400,000 units were approved [{n}]."

    a = make_assistant(reply, corpus=corpus)
    out: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: out.update(answer=a.ask(
        "How many H200 units were approved?")))
    worker.start()
    assert writing.wait(10)
    (corpus / f"{SCMP}.txt").unlink()
    reindexers = [threading.Thread(target=a.reindex) for _ in range(2)]
    for thread in reindexers:
        thread.start()
    for thread in reindexers:
        thread.join(30)
    release.set()
    worker.join(30)
    answer = out["answer"]
    assert not answer.refused and answer.citations[0].doc_id == SCMP, answer.trace
    with pytest.raises(CitationError, match="no report"):
        a.lookup(answer.citations[0].id)
    index = load(IndexLayout(tmp_path / "index"))
    assert index is not None and {c.doc_id for c in index.chunks} == {TOMS}
    assert set(index.manifest["documents"]) == {TOMS}
