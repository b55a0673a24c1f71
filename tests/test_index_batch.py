"""Batch ingestion: documents streamed, embedded in worker processes, written in batches."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import cli
from assistant.core import Assistant
from assistant.index import batch, qdrant_store
from assistant.index.vectorstore import StoreConfig
from assistant.settings import ChunkerSettings, Settings
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder, ScriptedGenerator, shift_passages

CHUNKER = ChunkerSettings(180, 40)


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    qdrant_store.close_all()


@pytest.fixture
def big_corpus(tmp_path: Path) -> Path:
    """The two reports, plus 30 small generated ones, a duplicate and a bad file."""
    corpus = tmp_path / "big"
    shutil.copytree(CORPUS, corpus)
    for i in range(30):
        (corpus / f"gen-{i:02d}.txt").write_text(
            f"Generated report {i}\n\nPlant {i} produced {i * 7} units in week {i}. "
            f"Its manager, engineer number {i}, expects more.\n\nSecond paragraph {i} about "
            f"quotas and shipping lanes and port number {i + 100}.\n", encoding="utf-8")
    shutil.copy(corpus / "gen-03.txt", corpus / "zz-copy-of-3.txt")
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    return corpus


def open_assistant(corpus: Path, index_dir: Path, embedder: FakeEmbedder,
                   **overrides: object) -> Assistant:
    settings = Settings.from_env(index_dir=index_dir, **overrides)  # type: ignore[arg-type]
    return Assistant.open(corpus_dir=corpus, settings=settings, embedder=embedder,
                          generator=ScriptedGenerator(["x"]))


def test_parallel_ingest_builds_the_index_the_assistant_builds(
        tmp_path: Path, big_corpus: Path) -> None:
    report, skipped = batch.ingest(big_corpus, tmp_path / "ingested", FakeEmbedder, CHUNKER,
                                    workers=2, batch_size=4)
    assert report.status == "built" and report.documents == 32
    assert dict(skipped) == {
        "empty.txt": "empty.txt is empty",
        "zz-copy-of-3.txt": "duplicate of gen-03.txt (same text); not indexed twice"}
    direct = open_assistant(big_corpus, tmp_path / "direct", FakeEmbedder())
    fake = FakeEmbedder()
    after = open_assistant(big_corpus, tmp_path / "ingested", fake)
    assert after.build_report.status == "up to date" and fake.calls == []
    assert after._retriever.index.chunks == direct._retriever.index.chunks
    np.testing.assert_allclose(after._retriever.index.vectors(),
                               direct._retriever.index.vectors(), atol=1e-6)
    assert after._retriever.index.manifest["documents"] == (
        direct._retriever.index.manifest["documents"])
    assert report.chunks == len(direct._retriever.index.chunks) == report.embedded_chunks
    assert sorted(direct.skipped()) == sorted(skipped)


def test_ingest_is_incremental(tmp_path: Path, big_corpus: Path) -> None:
    index = tmp_path / "index"
    batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1, batch_size=5)
    again, _ = batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    assert again.status == "up to date" and again.embedded_documents == ()
    (big_corpus / "gen-05.txt").write_text("Changed report\n\nNow it says 99 units.\n",
                                           encoding="utf-8")
    (big_corpus / f"{TOMS}.txt").unlink()
    report, _ = batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=2, batch_size=3)
    assert report.status == "updated" and report.embedded_documents == ("gen-05",)
    assert report.removed_documents == (TOMS,) and len(report.reused_documents) == 30
    fake = FakeEmbedder()
    a = open_assistant(big_corpus, index, fake)
    assert a.build_report.status == "up to date" and fake.calls == []
    assert a.search("99 units changed", k=1)[0].chunk.doc_id == "gen-05"


def test_ingest_into_qdrant_writes_batches(tmp_path: Path, big_corpus: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[int] = []
    original = qdrant_store.QdrantCollection.upsert

    def counting(self: qdrant_store.QdrantCollection, chunks: list[object], *args: object
                 ) -> None:
        writes.append(len(chunks))
        original(self, chunks, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(qdrant_store.QdrantCollection, "upsert", counting)
    store = StoreConfig(path=tmp_path / "index" / "qdrant")
    report, _ = batch.ingest(big_corpus, tmp_path / "index", FakeEmbedder, CHUNKER,
                              store=store, workers=2, batch_size=4)
    assert report.status == "built" and len(writes) == 8  # 32 documents, 4 a batch
    assert sum(writes) == report.chunks == report.embedded_chunks
    qdrant_store.close_all()
    fake = FakeEmbedder()
    a = open_assistant(big_corpus, tmp_path / "index", fake, vector_store="qdrant")
    assert a.build_report.status == "up to date" and fake.calls == []
    assert len(a._retriever.index.chunks) == report.chunks
    qdrant_store.close_all()
    (big_corpus / f"{SCMP}.txt").unlink()
    again, _ = batch.ingest(big_corpus, tmp_path / "index", FakeEmbedder, CHUNKER,
                             store=store, workers=1)
    assert again.status == "updated" and again.removed_documents == (SCMP,)
    assert again.embedded_documents == ()


def test_the_task_window_is_bounded() -> None:
    """Tasks are submitted lazily: a huge task stream is never read ahead of the workers."""
    pulled: list[int] = []

    def tasks() -> Iterator[tuple[list[str]]]:
        for i in range(1000):
            pulled.append(i)
            yield ([],)

    with batch._Workers(FakeEmbedder, 2) as pool:
        results = pool.map(batch._scan_task, tasks())
        for _ in range(3):
            next(results)
        assert len(pulled) <= 3 + 2 * 2


def test_cli_index_with_workers(tmp_path: Path, big_corpus: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(batch, "default_factory", lambda settings, workers: FakeEmbedder)
    code = cli.main(["index", "--corpus-dir", str(big_corpus), "--index-dir",
                     str(tmp_path / "index"), "--workers", "2", "--batch-size", "8"])
    out = capsys.readouterr().out
    assert code == 0 and "index built: 32 documents" in out and "with 2 workers" in out
    assert "skipped zz-copy-of-3.txt: duplicate of gen-03.txt" in out
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["index", "--workers", "0"])


def test_the_onnx_export_is_made_once_before_the_workers_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.models import onnx_export

    made: list[Path] = []
    monkeypatch.setattr(onnx_export, "ensure_export", lambda cache_dir: made.append(cache_dir))
    for backend, exports in (("onnx", 1), ("onnx-int8", 1), ("torch", 0)):
        made.clear()
        settings = Settings.from_env(embed_backend=backend, cache_dir=tmp_path, threads=4)
        factory = batch.default_factory(settings, workers=2)
        assert made == [tmp_path] * exports
        assert factory.keywords["threads"] == 2  # type: ignore[attr-defined]




@pytest.mark.parametrize("workers", [1, 2])
def test_ingest_checks_kept_passages_against_the_text(tmp_path: Path, big_corpus: Path,
                                                      workers: int) -> None:
    """The same plan as a refresh: passages no longer at their offsets rebuild the index."""
    index = tmp_path / "index"
    batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    shift_passages(index, TOMS)
    report, _ = batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=workers)
    assert report.status == "rebuilt" and TOMS in report.reason and "text" in report.reason
    fake = FakeEmbedder()
    assert open_assistant(big_corpus, index, fake).build_report.status == "up to date"


def test_ingest_rebuilds_a_manifest_that_miscounts_passages(tmp_path: Path,
                                                           big_corpus: Path) -> None:
    import json

    index = tmp_path / "index"
    batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["documents"]["gen-04"]["chunks"] += 1
    (index / "manifest.json").write_text(json.dumps(manifest))
    report, _ = batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    assert report.status == "rebuilt" and "passage counts differ" in report.reason


def test_ingest_rewrites_the_vector_index_when_its_kind_changes(
        tmp_path: Path, big_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.index import ann

    index = tmp_path / "index"
    batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 4)
    report, _ = batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    assert report.status == "updated" and "kind changed" in report.reason
    assert report.embedded_documents == () and report.embedded_chunks == 0
    again, _ = batch.ingest(big_corpus, index, FakeEmbedder, CHUNKER, workers=1)
    assert again.status == "up to date"


def test_ingest_into_qdrant_checks_kept_passages_against_the_text(
        tmp_path: Path, big_corpus: Path) -> None:
    from assistant.index.refresh_plan import expected_settings

    store = StoreConfig(path=tmp_path / "index" / "qdrant")
    batch.ingest(big_corpus, tmp_path / "index", FakeEmbedder, CHUNKER, store=store)
    collection = qdrant_store.QdrantCollection(
        store, expected_settings(FakeEmbedder(), CHUNKER), FakeEmbedder.dimension)
    _, chunks = collection.contents()
    first = chunks[SCMP][0]
    collection.client.set_payload(collection.name, payload={"text": "tampered"}, points=[
        qdrant_store.point_id(first.doc_id, first.start, first.end)], wait=True)
    report, _ = batch.ingest(big_corpus, tmp_path / "index", FakeEmbedder, CHUNKER,
                              store=store)
    assert report.status == "rebuilt" and SCMP in report.reason
    assert report.embedded_chunks == report.chunks
    _, chunks = collection.contents()
    assert chunks[SCMP][0].text != "tampered"


def test_ingest_keeps_the_pages_of_pdf_and_docx(tmp_path: Path) -> None:
    """Worker processes store the pages as the in-process refresh does, and agree on them."""
    from report_files import PAGE_1, PAGE_2, make_paged_docx, make_pdf

    corpus = tmp_path / "paged"
    shutil.copytree(CORPUS, corpus)
    (corpus / "brief.pdf").write_bytes(make_pdf([[PAGE_1], [PAGE_2]]))
    (corpus / "memo.docx").write_bytes(make_paged_docx([["A first page of the memo."],
                                                         ["A second page of the memo."]]))
    report, _ = batch.ingest(corpus, tmp_path / "index", FakeEmbedder, CHUNKER, workers=2,
                             batch_size=2)
    assert report.status == "built" and report.documents == 4
    fake = FakeEmbedder()
    after = open_assistant(corpus, tmp_path / "index", fake)
    assert after.build_report.status == "up to date" and fake.calls == []
    pages = {(c.doc_id, c.page) for c in after._retriever.index.chunks}
    assert {("brief", 1), ("brief", 2), ("memo", 1), ("memo", 2)} <= pages
    assert (SCMP, None) in pages and (TOMS, None) in pages
    again, _ = batch.ingest(corpus, tmp_path / "index", FakeEmbedder, CHUNKER, workers=1)
    assert again.status == "up to date"
