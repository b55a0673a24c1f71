"""The Qdrant vector store (local mode) behind the same API as FAISS, with the fake embedder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.core import Assistant
from assistant.errors import StoreError
from assistant.index import qdrant_store
from assistant.index.vectorstore import store_config
from assistant.settings import Settings
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder, ScriptedGenerator


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    qdrant_store.close_all()


def open_qdrant(corpus: Path, tmp_path: Path, embedder: FakeEmbedder, **overrides: object
                ) -> Assistant:
    settings = Settings.from_env(vector_store="qdrant", index_dir=tmp_path / "index",
                                 **overrides)  # type: ignore[arg-type]
    return Assistant.open(corpus_dir=corpus, settings=settings, embedder=embedder,
                          generator=ScriptedGenerator(["The reports do not say."]))


def embedded_docs(embedder: FakeEmbedder) -> int:
    return len(embedder.calls)


def test_settings_pick_local_mode_in_the_index_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASSISTANT_VECTOR_STORE": "qdrant"}, index_dir=tmp_path)
    config = store_config(settings)
    assert config is not None and config.path == tmp_path / "qdrant" and not config.url
    server = Settings.from_env({"ASSISTANT_VECTOR_STORE": "qdrant",
                                "ASSISTANT_QDRANT_URL": "http://127.0.0.1:6333",
                                "ASSISTANT_QDRANT_API_KEY": "k"})
    remote = store_config(server)
    assert remote is not None and remote.path is None and remote.url == "http://127.0.0.1:6333"
    assert "'k'" not in repr(remote) and store_config(Settings()) is None


def test_same_passages_and_search_as_faiss(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    q = open_qdrant(CORPUS, tmp_path, fake_embedder)
    f = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "faiss", embedder=fake_embedder,
                       generator=ScriptedGenerator(["x"]))
    qi, fi = q._retriever.index, f._retriever.index
    assert q.build_report.status == "built" and qi.chunks == fi.chunks
    assert qi.manifest["store"] == "qdrant" and qi.manifest["documents"].keys() == {SCMP, TOMS}
    np.testing.assert_allclose(qi.vectors(), fi.vectors(), atol=1e-6)
    for query in ("H200 tax re-export", "window guidance emergency meetings", "ByteDance"):
        assert [h.chunk for h in q.search(query)] == [h.chunk for h in f.search(query)]
        dense_q = qi.search(fake_embedder.embed([query])[0], 5)
        dense_f = fi.search(fake_embedder.embed([query])[0], 5)
        assert [p for p, _ in dense_q] == [p for p, _ in dense_f]
        np.testing.assert_allclose([s for _, s in dense_q], [s for _, s in dense_f], atol=1e-5)
    assert q.documents() == f.documents()


def test_refresh_is_incremental(tmp_path: Path, corpus_copy: Path,
                                fake_embedder: FakeEmbedder) -> None:
    a = open_qdrant(corpus_copy, tmp_path, fake_embedder)
    assert a.build_report.status == "built"
    calls = embedded_docs(fake_embedder)

    again = open_qdrant(corpus_copy, tmp_path, fake_embedder)
    assert again.build_report.status == "up to date"
    assert embedded_docs(fake_embedder) == calls  # nothing embedded
    qdrant_store.close_all()

    path = corpus_copy / f"{SCMP}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA new closing paragraph about "
                    "quotas.\n", encoding="utf-8")
    (corpus_copy / "extra-report.txt").write_text("Extra report\n\nThe quota was raised to "
                                                  "twelve units in March.\n", encoding="utf-8")
    report = a.reindex()
    assert report.status == "updated"
    assert set(report.embedded_documents) == {SCMP, "extra-report"}
    assert report.reused_documents == (TOMS,)
    embedded = sum(len(call) for call in fake_embedder.calls[calls:])
    assert embedded == sum(c.doc_id != TOMS for c in a._retriever.index.chunks)
    assert "closing paragraph" in " ".join(
        c.text for c in a._retriever.index.chunks if c.doc_id == SCMP)
    assert a.search("quota raised twelve units March", k=1)[0].chunk.doc_id == "extra-report"

    (corpus_copy / f"{TOMS}.txt").unlink()
    report = a.reindex()
    assert report.removed_documents == (TOMS,) and report.embedded_documents == ()
    assert {c.doc_id for c in a._retriever.index.chunks} == {SCMP, "extra-report"}
    stored = _collection(a).documents()
    assert set(stored) == {SCMP, "extra-report"} and all(d.complete for d in stored.values())
    assert sum(d.points for d in stored.values()) == len(a._retriever.index.chunks)


def _collection(a: Assistant) -> qdrant_store.QdrantCollection:
    from assistant.index.refresh_plan import expected_settings

    config = store_config(a.settings)
    assert config is not None
    expected = expected_settings(a._embedder, a.settings.chunker())
    return qdrant_store.QdrantCollection(config, expected, a._embedder.dimension)


def test_an_interrupted_update_is_finished_next_time(tmp_path: Path, corpus_copy: Path,
                                                     fake_embedder: FakeEmbedder) -> None:
    a = open_qdrant(corpus_copy, tmp_path, fake_embedder)
    collection = _collection(a)
    # As if a crash hit while SCMP's points were being written: one of them is missing.
    first = next(c for c in a._retriever.index.chunks if c.doc_id == SCMP)
    collection.client.delete(collection.name, points_selector=[
        qdrant_store.point_id(first.doc_id, first.start, first.end)], wait=True)
    assert not collection.documents()[SCMP].complete
    report = a.reindex()
    assert report.status == "updated" and report.embedded_documents == (SCMP,)
    assert collection.documents()[SCMP].complete
    assert a._retriever.index.chunks == open_qdrant(corpus_copy, tmp_path,
                                                    fake_embedder)._retriever.index.chunks


def test_stored_passages_that_are_not_the_text_rebuild(tmp_path: Path, corpus_copy: Path,
                                                      fake_embedder: FakeEmbedder) -> None:
    """The rule FAISS follows: a kept passage must be its report's text, else all is rebuilt."""
    a = open_qdrant(corpus_copy, tmp_path, fake_embedder)
    collection = _collection(a)
    first = next(c for c in a._retriever.index.chunks if c.doc_id == TOMS)
    collection.client.set_payload(collection.name, payload={"text": "tampered"}, points=[
        qdrant_store.point_id(first.doc_id, first.start, first.end)], wait=True)
    report = a.reindex()
    assert report.status == "rebuilt" and TOMS in report.reason
    assert set(report.embedded_documents) == {SCMP, TOMS}
    assert "tampered" not in {c.text for c in a._retriever.index.chunks}
    assert a.reindex().status == "up to date"


def test_changed_settings_start_a_new_collection(tmp_path: Path,
                                                 fake_embedder: FakeEmbedder) -> None:
    a = open_qdrant(CORPUS, tmp_path, fake_embedder)
    old = _collection(a).name
    b = open_qdrant(CORPUS, tmp_path, fake_embedder, chunk_tokens=120)
    # As with FAISS: the index of the old settings was there, so it is rebuilt, with the reason.
    assert b.build_report.status == "rebuilt" and "settings changed" in b.build_report.reason
    names = {c.name for c in _collection(b).client.get_collections().collections}
    assert old not in names and _collection(b).name in names
    assert len(b._retriever.index.chunks) > len(a._retriever.index.chunks)


def test_rebuild_on_request(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    open_qdrant(CORPUS, tmp_path, fake_embedder)
    settings = Settings.from_env(vector_store="qdrant", index_dir=tmp_path / "index")
    a = Assistant.open(corpus_dir=CORPUS, settings=settings, embedder=fake_embedder,
                       generator=ScriptedGenerator(["x"]), rebuild=True)
    assert a.build_report.status == "rebuilt" and a.build_report.embedded_chunks == len(
        a._retriever.index.chunks)


def test_a_folder_in_use_by_another_process_is_a_clear_error(
        tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    open_qdrant(CORPUS, tmp_path, fake_embedder)
    folder = tmp_path / "index" / "qdrant"
    code = ("from pathlib import Path\nfrom assistant.index.vectorstore import StoreConfig\n"
            "from assistant.index.qdrant_store import connect\n"
            "from assistant.errors import StoreError\n"
            f"try:\n    connect(StoreConfig(path=Path({str(folder)!r})))\n"
            "except StoreError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert "in use by another process" in out.stdout


def test_answers_with_qdrant(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        user = messages[-1]["content"]
        n = next(i for i, b in enumerate(user.split("<passage n=")[1:], 1) if "400,000" in b)
        return f"Passage: {n}\nAnswer: More than 400,000 units were approved [{n}]."

    settings = Settings.from_env(vector_store="qdrant", index_dir=tmp_path / "index")
    a = Assistant.open(corpus_dir=CORPUS, settings=settings, embedder=fake_embedder,
                       generator=ScriptedGenerator(reply))
    answer = a.ask("How many H200 units were approved?")
    assert not answer.refused and SCMP in {c.doc_id for c in answer.citations}
    assert a.lookup(answer.citations[0].id).text == answer.citations[0].quote


def test_store_errors_name_the_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = store_config(Settings.from_env(vector_store="qdrant",
                                            qdrant_path=blocker / "qdrant"))
    assert config is not None
    with pytest.raises(StoreError, match="could not be opened"):
        qdrant_store.connect(config)
    shutil.rmtree(tmp_path / "index", ignore_errors=True)
