"""Keep the index in step with the corpus: build, check and refresh incrementally.

Unchanged documents (same SHA-256, same embedding model and chunker settings)
keep their chunks and vectors; only new or changed documents are chunked and
embedded; deleted documents drop out. A damaged index is rebuilt from scratch.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from assistant import ann
from assistant.chunking import ChunkerSettings, chunk_text
from assistant.embedding import Embedder, Vectors
from assistant.errors import StoreError
from assistant.records import Chunk, Document
from assistant.store import IndexLayout, VectorIndex, build_lock, load, save
from assistant.vectorstore import SearchIndex, StoreConfig

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
# The label of the progress reports while vectors are added to the FAISS index (counts
# are vectors, not documents); only large (IVF, HNSW) indexes report.
VECTOR_INDEX_STAGE = "vector index"


@dataclass(frozen=True)
class BuildReport:
    """What a refresh did."""

    status: str  # "up to date", "updated", "built", "rebuilt"
    documents: int
    chunks: int
    embedded_documents: tuple[str, ...]
    reused_documents: tuple[str, ...]
    removed_documents: tuple[str, ...]
    embedded_chunks: int
    seconds: float
    reason: str = ""


def embedding_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: the report's title and outlet, then the passage."""
    head = " — ".join(p for p in (doc.title, doc.outlet) if p)
    return f"{head}\n{chunk.text}" if head else chunk.text


def expected_settings(embedder: Embedder, chunker: ChunkerSettings) -> dict[str, Any]:
    """The manifest fields an index must match to be reused."""
    return {
        "embedding_model": embedder.name,
        "embedding_fingerprint": embedder.fingerprint,
        "dimension": embedder.dimension,
        "chunker": {"max_tokens": chunker.max_tokens, "overlap_tokens": chunker.overlap_tokens,
                    "encoding": chunker.encoding},
    }


def inconsistency(index: SearchIndex, documents: tuple[Document, ...]) -> str:
    """Why ``index`` cannot be reused for ``documents`` although its files are intact, or "".

    The manifest must list exactly the documents whose passages the index holds,
    with their passage counts, and every passage of an unchanged document must
    still be the text at its offsets (so a reused passage is never wrong).
    """
    listed = index.manifest.get("documents")
    if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
        return "the index manifest does not list its documents"
    positions = index.doc_chunks()
    if set(positions) - set(listed):
        return "the index holds passages of documents its manifest does not list"
    for doc_id, entry in listed.items():
        if entry.get("chunks") != len(positions.get(doc_id, ())):
            return "the index manifest does not match the index (passage counts differ)"
    for doc in documents:
        entry = listed.get(doc.doc_id)
        if entry is None or entry.get("sha256") != doc.sha256:
            continue
        for pos in positions.get(doc.doc_id, ()):
            chunk = index.chunks[pos]
            if doc.text[chunk.start : chunk.end] != chunk.text:
                return f"the index passages of {doc.doc_id} do not match the report's text"
    return ""


def refresh(
    documents: tuple[Document, ...],
    index_dir: Path,
    embedder: Embedder,
    chunker: ChunkerSettings,
    force: bool = False,
    progress: Progress | None = None,
    store: StoreConfig | None = None,
) -> tuple[SearchIndex, BuildReport]:
    """Bring the index up to date with ``documents`` and return the loaded index.

    The index is FAISS files in ``index_dir``, or the Qdrant collection that
    ``store`` names (``index_dir`` then only holds the lock that serialises builds).
    """
    if store is not None:
        from assistant import qdrant_store

        with build_lock(index_dir):
            return qdrant_store.refresh(documents, embedder, chunker, store, force, progress)
    return _refresh_faiss(documents, index_dir, embedder, chunker, force, progress)


def open_previous(layout: IndexLayout, wanted: dict[str, Any],
                  force: bool) -> tuple[VectorIndex | None, str]:
    """The stored FAISS index if its passages can be reused, else ``None`` and why not."""
    if force:
        return None, ""
    try:
        previous = load(layout)
    except StoreError as exc:
        logger.warning("rebuilding the index: %s", exc)
        return None, str(exc)
    if previous is not None and any(previous.manifest.get(k) != v for k, v in wanted.items()):
        reason = "the embedding model or chunker settings changed"
        logger.warning("rebuilding the index: %s", reason)
        return None, reason
    return previous, ""


def write_faiss(layout: IndexLayout, order: list[tuple[str, str, str | None]],
                previous: VectorIndex | None, keep: set[str],
                fresh: dict[str, tuple[list[Chunk], Vectors]], wanted: dict[str, Any],
                progress: Progress | None) -> VectorIndex:
    """Write the index of the reports ``order`` (doc id, SHA-256, title), in that order.

    The reports in ``keep`` take their passages and vectors from ``previous``; the
    others from ``fresh``. The manifest records the settings ``wanted`` and every
    report's SHA-256 and passage count.
    """
    positions = previous.doc_chunks() if previous is not None else {}
    old_vectors = previous.vectors() if previous is not None and keep else None
    chunks: list[Chunk] = []
    parts: list[Vectors] = []
    for doc_id, _, _ in order:
        if previous is not None and old_vectors is not None and doc_id in keep:
            pos = positions.get(doc_id, [])
            chunks.extend(previous.chunks[p] for p in pos)
            parts.append(old_vectors[pos])
        else:
            doc_chunks, vectors = fresh[doc_id]
            chunks.extend(doc_chunks)
            parts.append(vectors)
    vectors = (np.concatenate(parts) if parts
               else np.zeros((0, int(wanted["dimension"])), dtype=np.float32))
    per_doc = Counter(c.doc_id for c in chunks)
    manifest = dict(wanted, documents={
        doc_id: {"sha256": sha256, "title": title, "chunks": per_doc[doc_id]}
        for doc_id, sha256, title in order})
    vector_progress: ann.BuildProgress | None = None
    if ann.choose(len(chunks)).kind != ann.FLAT:
        vector_progress = partial(_vector_progress, progress)
    return save(layout, chunks, vectors, manifest, progress=vector_progress)


def build_status(previous: VectorIndex | None, reason: str) -> str:
    """``built`` (no index before), ``rebuilt`` (one that could not be reused) or ``updated``."""
    if previous is None:
        return "rebuilt" if reason else "built"
    return "updated"


def _refresh_faiss(
    documents: tuple[Document, ...],
    index_dir: Path,
    embedder: Embedder,
    chunker: ChunkerSettings,
    force: bool,
    progress: Progress | None,
) -> tuple[VectorIndex, BuildReport]:
    layout = IndexLayout(index_dir)
    started = time.perf_counter()
    with build_lock(index_dir):
        wanted = expected_settings(embedder, chunker)
        previous, reason = open_previous(layout, wanted, force)
        if previous is not None:
            problem = inconsistency(previous, documents)
            if problem:
                reason = problem
                logger.warning("rebuilding the index: %s", problem)
                previous = None
        old_docs: dict[str, Any] = previous.manifest.get("documents", {}) if previous else {}
        current = {d.doc_id: d.sha256 for d in documents}
        same_docs = previous is not None and {
            k: v.get("sha256") for k, v in old_docs.items()} == current
        if (previous is not None and same_docs
                and previous.params.kind != ann.choose(len(previous)).kind):
            # Same documents, but the index kind for this size changed (a new threshold):
            # rebuild the FAISS index from the kept vectors, embedding nothing.
            reason = (f"the vector index kind changed ({previous.params.kind} -> "
                      f"{ann.choose(len(previous)).kind})")
            logger.info("rebuilding the vector index: %s", reason)
        elif previous is not None and same_docs:
            return previous, BuildReport("up to date", len(documents), len(previous), (), tuple(
                current), (), 0, time.perf_counter() - started)

        keep = {d.doc_id for d in documents
                if previous is not None and old_docs.get(d.doc_id, {}).get("sha256") == d.sha256}
        fresh: dict[str, tuple[list[Chunk], Vectors]] = {}
        for i, doc in enumerate(documents):
            if progress:
                progress(doc.doc_id, i, len(documents))
            _log_progress("documents", i, len(documents))
            if doc.doc_id not in keep:
                doc_chunks = chunk_text(doc.doc_id, doc.text, chunker)
                fresh[doc.doc_id] = (doc_chunks, embedder.embed(
                    [embedding_text(doc, c) for c in doc_chunks]))
        if progress:
            progress("", len(documents), len(documents))
        index = write_faiss(layout, [(d.doc_id, d.sha256, d.title) for d in documents],
                            previous, keep, fresh, wanted, progress)
        removed = tuple(sorted(set(old_docs) - set(current)))
        status = build_status(previous, reason)
        embedded = tuple(d.doc_id for d in documents if d.doc_id not in keep)
        report = BuildReport(status, len(documents), len(index), embedded,
                             tuple(d.doc_id for d in documents if d.doc_id in keep), removed,
                             sum(len(c) for c, _ in fresh.values()),
                             time.perf_counter() - started, reason)
        logger.info("index %s: %d documents embedded, %d reused, %d removed", status,
                    len(embedded), len(keep), len(removed))
        return index, report


def _log_progress(stage: str, done: int, total: int) -> None:
    """Log ``done`` of ``total`` at INFO each time another tenth is reached."""
    if total >= 10 and done and done * 10 // total != (done - 1) * 10 // total:
        logger.info("indexing: %s %d/%d", stage, done, total)


def _vector_progress(progress: Progress | None, added: int, total: int) -> None:
    """Report and log the vectors added to an approximate FAISS index."""
    if progress is not None:
        progress(VECTOR_INDEX_STAGE, added, total)
    logger.info("indexing: %s %d/%d vectors", VECTOR_INDEX_STAGE, added, total)
