"""Keep the index in step with the corpus: the one insert pipeline, for both stores.

A refresh reads what the store holds, asks :func:`assistant.index.refresh_plan.plan_refresh`
what to keep, embed and delete, and carries the plan out with the writer of the
store: :class:`FaissWriter` (FAISS files in the index folder, written as a new
checksummed generation that replaces the last one atomically, see
:mod:`assistant.index.faiss_store`) or :class:`QdrantWriter` (a Qdrant collection, written
document batch by document batch). The embeddings come from an
:data:`EmbedStream`: in this process (:func:`embed_in_process`, used by
:func:`refresh`) or in worker processes (:mod:`assistant.index.batch`).

Unchanged documents (same SHA-256, same embedding model and chunker settings)
keep their chunks and vectors; only new or changed documents are chunked and
embedded; deleted documents drop out. A damaged index is rebuilt from scratch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import StoreError
from assistant.index import ann
from assistant.index.faiss_store import IndexLayout, VectorIndex, build_lock, load, save
from assistant.index.qdrant_store import QdrantCollection, QdrantIndex
from assistant.index.refresh_plan import (
    NOT_READ,
    REQUESTED,
    CorpusDoc,
    RefreshPlan,
    StoredDoc,
    StoredIndex,
    chunk_table,
    corpus_doc,
    damage,
    embedding_text,
    expected_settings,
    faiss_stored,
    plan_refresh,
    settings_fingerprint,
    stored_digest,
)
from assistant.index.vectorstore import SearchIndex, StoreConfig
from assistant.ingest.chunking import chunk_document
from assistant.models.embedding import Embedder, Vectors
from assistant.records import BuildReport, Chunk, Document, Progress
from assistant.settings import ChunkerSettings

logger = logging.getLogger(__name__)

# The label of the progress reports while vectors are added to the FAISS index (counts
# are vectors, not documents); only large (IVF, HNSW) indexes report.
VECTOR_INDEX_STAGE = "vector index"
# Passages embedded in one call (whole documents, so a batch may hold more); in Qdrant
# each batch is one write.
EMBED_BATCH = 256


@dataclass(frozen=True)
class Embedded:
    """One document's passages and their vectors, from the version of it that was read."""

    doc_id: str
    sha256: str
    title: str | None
    chunks: list[Chunk]
    vectors: Vectors


# Given the documents to embed (in index order), their passages and vectors in batches.
EmbedStream = Callable[[tuple[str, ...]], Iterator[list[Embedded]]]


def embed_documents(embedder: Embedder,
                    docs: Sequence[tuple[Document, list[Chunk]]]) -> list[Embedded]:
    """Embed the passages of ``docs`` (each document with its chunks) in one call."""
    texts = [embedding_text(doc, c) for doc, chunks in docs for c in chunks]
    vectors = (embedder.embed(texts) if texts
               else np.zeros((0, embedder.dimension), dtype=np.float32))
    out: list[Embedded] = []
    start = 0
    for doc, chunks in docs:
        out.append(Embedded(doc.doc_id, doc.sha256, doc.title, chunks,
                            vectors[start : start + len(chunks)]))
        start += len(chunks)
    return out


def embed_in_process(documents: Sequence[Document], embedder: Embedder,
                     chunker: ChunkerSettings, progress: Progress | None) -> EmbedStream:
    """An :data:`EmbedStream` that chunks and embeds ``documents`` here, a batch at a time.

    ``progress(doc_id, i, n)`` follows every document of ``documents`` (kept ones
    included), then ``progress("", n, n)``.
    """
    def stream(todo: tuple[str, ...]) -> Iterator[list[Embedded]]:
        wanted = set(todo)
        pending: list[tuple[Document, list[Chunk]]] = []
        passages = 0
        total = len(documents)
        for i, doc in enumerate(documents):
            if progress:
                progress(doc.doc_id, i, total)
            _log_progress("documents", i, total)
            if doc.doc_id not in wanted:
                continue
            chunks = chunk_document(doc, chunker)
            pending.append((doc, chunks))
            passages += len(chunks)
            if passages >= EMBED_BATCH:
                yield embed_documents(embedder, pending)
                pending, passages = [], 0
        if pending:
            yield embed_documents(embedder, pending)
        if progress:
            progress("", total, total)

    return stream


class IndexWriter(Protocol):
    """What the insert pipeline needs of a store: read its state, then carry out a plan."""

    def read(self, force: bool) -> StoredIndex:
        """What the store holds (nothing is read when ``force``: it will be discarded)."""
        ...

    def stored_passages(self) -> Mapping[str, Sequence[Chunk]]:
        """The passages :meth:`read` found, by document, in stored order."""
        ...

    def start(self, plan: RefreshPlan) -> None:
        """Make room for the plan: forget or delete what it does not keep."""
        ...

    def add(self, batch: Sequence[Embedded]) -> None:
        """Take a batch of embedded documents."""
        ...

    def finish(self, corpus: Sequence[CorpusDoc]) -> SearchIndex:
        """Complete the index of ``corpus`` (kept and added documents) and return it."""
        ...

    def unchanged(self, corpus: Sequence[CorpusDoc]) -> SearchIndex:
        """The stored index of ``corpus``, when the plan changes nothing."""
        ...


class FaissWriter:
    """FAISS files in the index folder: a refresh writes one new generation at the end.

    The new generation is written to a temporary folder and made live by renaming
    the manifest over the old one (:func:`assistant.index.faiss_store.save`), so a crash at any
    moment leaves the last complete index.
    """

    def __init__(self, index_dir: Path, wanted: dict[str, Any],
                 progress: Progress | None = None) -> None:
        self.layout = IndexLayout(index_dir)
        self.wanted = wanted
        self.progress = progress
        self.previous: VectorIndex | None = None
        self._keep: tuple[str, ...] = ()
        self._fresh: dict[str, Embedded] = {}

    def read(self, force: bool) -> StoredIndex:
        """The live generation's manifest and passages (checksums verified)."""
        if force:
            return NOT_READ
        try:
            previous = load(self.layout)
        except StoreError as exc:
            return StoredIndex(True, problem=str(exc))
        if previous is None:
            return NOT_READ
        self.previous = previous
        return faiss_stored(previous.manifest, previous.chunks, self.wanted,
                            previous.params.kind)

    def stored_passages(self) -> Mapping[str, Sequence[Chunk]]:
        """The passages of the live generation, by document."""
        if self.previous is None:
            return {}
        chunks = self.previous.chunks
        return {d: [chunks[p] for p in pos] for d, pos in self.previous.doc_chunks().items()}

    def start(self, plan: RefreshPlan) -> None:
        """Remember what to keep from the live generation (nothing on a rebuild)."""
        if plan.rebuild:
            self.previous = None
        self._keep = plan.keep
        self._fresh = {}

    def add(self, batch: Sequence[Embedded]) -> None:
        """Hold the vectors until :meth:`finish` writes the generation."""
        self._fresh.update((e.doc_id, e) for e in batch)

    def finish(self, corpus: Sequence[CorpusDoc]) -> SearchIndex:
        """Write the new generation: kept passages and vectors, then fresh ones, in corpus order."""
        previous = self.previous
        keep = set(self._keep)
        positions = previous.doc_chunks() if previous is not None else {}
        old_vectors = previous.vectors() if previous is not None and keep else None
        rows: list[tuple[CorpusDoc, Sequence[Chunk]]] = []
        parts: list[Vectors] = []
        for doc in corpus:
            if previous is not None and old_vectors is not None and doc.doc_id in keep:
                pos = positions.get(doc.doc_id, [])
                rows.append((doc, [previous.chunks[p] for p in pos]))
                parts.append(old_vectors[pos])
            else:
                fresh = self._fresh[doc.doc_id]
                rows.append((replace(doc, sha256=fresh.sha256, title=fresh.title), fresh.chunks))
                parts.append(fresh.vectors)
        table = chunk_table(rows)
        vectors = (np.concatenate(parts) if parts
                   else np.zeros((0, int(self.wanted["dimension"])), dtype=np.float32))
        manifest = dict(self.wanted, documents=table.documents)
        vector_progress: ann.BuildProgress | None = None
        if ann.choose(len(table.chunks)).kind != ann.FLAT:
            vector_progress = partial(_vector_progress, self.progress)
        return save(self.layout, table.chunks, vectors, manifest, progress=vector_progress)

    def unchanged(self, corpus: Sequence[CorpusDoc]) -> SearchIndex:
        """The live generation as loaded."""
        if self.previous is None:  # pragma: no cover - a plan without writes has an index
            raise StoreError("the index is missing")
        return self.previous


class QdrantWriter:
    """A Qdrant collection: stale documents deleted first, then each batch written at once.

    A document counts as stored only when all its points are there (see
    :mod:`assistant.index.qdrant_store`), so an interrupted refresh leaves documents that
    the next one embeds again.
    """

    def __init__(self, config: StoreConfig, wanted: dict[str, Any]) -> None:
        self.collection = QdrantCollection(config, wanted, int(wanted["dimension"]))
        self.wanted = wanted
        self._stored: dict[str, list[Chunk]] = {}
        self._keep: tuple[str, ...] = ()
        self._fresh: dict[str, Embedded] = {}

    def read(self, force: bool) -> StoredIndex:
        """The documents the points describe; another setting's collection counts as found."""
        collection = self.collection
        if force:
            return NOT_READ
        others = collection.other_settings()
        if collection.created:
            if not others:
                return NOT_READ
            return StoredIndex(True, next(iter(others.values())), {}, atomic=False)
        stored, self._stored = collection.contents()
        docs = {doc_id: StoredDoc(s.sha256, s.points, s.points if s.complete else None,
                                  stored_digest(self._stored.get(doc_id, ())))
                for doc_id, s in stored.items()}
        return StoredIndex(True, collection.fingerprint, docs, atomic=False)

    def stored_passages(self) -> Mapping[str, Sequence[Chunk]]:
        """The stored passages by document, in text order."""
        return self._stored

    def start(self, plan: RefreshPlan) -> None:
        """Empty the collection on a rebuild, else delete the points of documents not kept."""
        if plan.rebuild:
            if not self.collection.created:
                self.collection.clear()
            self._stored = {}
        elif plan.delete:
            self.collection.delete_documents(plan.delete)
        self._keep = plan.keep
        self._fresh = {}

    def add(self, batch: Sequence[Embedded]) -> None:
        """Write the batch's points, each marked with its document's version and count."""
        chunks = [c for e in batch for c in e.chunks]
        vectors = (np.concatenate([e.vectors for e in batch]) if chunks
                   else np.zeros((0, self.collection.dimension), dtype=np.float32))
        self.collection.upsert(chunks, vectors, {e.doc_id: (e.sha256, len(e.chunks))
                                                 for e in batch})
        # The vectors are in the collection now; only the passages are needed for the view.
        none = np.zeros((0, self.collection.dimension), dtype=np.float32)
        self._fresh.update((e.doc_id, replace(e, vectors=none)) for e in batch)

    def finish(self, corpus: Sequence[CorpusDoc]) -> SearchIndex:
        """Drop the collections of other settings; the view of the collection's passages."""
        keep = set(self._keep)
        rows: list[tuple[CorpusDoc, Sequence[Chunk]]] = []
        for doc in corpus:
            if doc.doc_id in keep:
                rows.append((doc, self._stored.get(doc.doc_id, [])))
            else:
                fresh = self._fresh[doc.doc_id]
                rows.append((replace(doc, sha256=fresh.sha256, title=fresh.title), fresh.chunks))
        table = chunk_table(rows)
        collection = self.collection
        collection.drop_other_collections()
        manifest = dict(self.wanted, store="qdrant", collection=collection.name,
                        location=collection.config.location, documents=table.documents)
        index: QdrantIndex = collection.index(table.chunks, manifest)
        return index

    def unchanged(self, corpus: Sequence[CorpusDoc]) -> SearchIndex:
        """The view of the collection as stored (every document kept)."""
        self._keep = tuple(d.doc_id for d in corpus)
        return self.finish(corpus)


def open_writer(index_dir: Path, store: StoreConfig | None, wanted: dict[str, Any],
                progress: Progress | None = None) -> IndexWriter:
    """The writer of the index: FAISS files in ``index_dir``, or the Qdrant store ``store``."""
    if store is not None:
        return QdrantWriter(store, wanted)
    return FaissWriter(index_dir, wanted, progress)


def carry_out(plan: RefreshPlan, corpus: Sequence[CorpusDoc], writer: IndexWriter,
              embed: EmbedStream) -> tuple[SearchIndex, BuildReport]:
    """Carry ``plan`` out with ``writer``, embedding with ``embed``; the index and the report."""
    started = time.perf_counter()
    if plan.rebuild and plan.reason and plan.reason != REQUESTED:
        logger.warning("rebuilding the index: %s", plan.reason)
    elif plan.rewrite:
        logger.info("rebuilding the vector index: %s", plan.reason)
    embedded_chunks = 0
    if not plan.writes:
        index = writer.unchanged(corpus)
    else:
        writer.start(plan)
        for batch in embed(plan.embed):
            writer.add(batch)
            embedded_chunks += sum(len(e.chunks) for e in batch)
        index = writer.finish(corpus)
    report = plan.report(len(index), embedded_chunks, time.perf_counter() - started)
    logger.info("index %s: %d documents embedded, %d reused, %d removed", report.status,
                len(report.embedded_documents), len(report.reused_documents),
                len(report.removed_documents))
    return index, report


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
    started = time.perf_counter()
    with build_lock(index_dir):
        wanted = expected_settings(embedder, chunker)
        writer = open_writer(index_dir, store, wanted, progress)
        stored = writer.read(force)
        passages = writer.stored_passages()
        corpus = [corpus_doc(d, passages.get(d.doc_id, ())) for d in documents]
        plan = plan_refresh(corpus, stored, settings_fingerprint(wanted), force)
        index, report = carry_out(plan, corpus, writer,
                                  embed_in_process(documents, embedder, chunker, progress))
    return index, replace(report, seconds=time.perf_counter() - started)


def inconsistency(index: VectorIndex, documents: tuple[Document, ...]) -> str:
    """Why the FAISS ``index`` cannot be reused for ``documents`` although its files are intact.

    "" when it can (:func:`assistant.index.refresh_plan.damage` on what the index holds).
    """
    stored = faiss_stored(index.manifest, index.chunks, (), index.params.kind)
    held = {d: [index.chunks[p] for p in pos] for d, pos in index.doc_chunks().items()}
    return damage([corpus_doc(d, held.get(d.doc_id, ())) for d in documents], stored)


def _log_progress(stage: str, done: int, total: int) -> None:
    """Log ``done`` of ``total`` at INFO each time another tenth is reached."""
    if total >= 10 and done and done * 10 // total != (done - 1) * 10 // total:
        logger.info("indexing: %s %d/%d", stage, done, total)


def _vector_progress(progress: Progress | None, added: int, total: int) -> None:
    """Report and log the vectors added to an approximate FAISS index."""
    if progress is not None:
        progress(VECTOR_INDEX_STAGE, added, total)
    logger.info("indexing: %s %d/%d vectors", VECTOR_INDEX_STAGE, added, total)
