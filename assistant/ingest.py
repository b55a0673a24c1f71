"""Batch ingestion of a large corpus: documents streamed, embedded in parallel, written in batches.

``assistant index --workers N --batch-size B`` (or :func:`ingest`) builds the same index
that opening the assistant builds, without holding the corpus in memory:

1. *Scan*: worker processes read and clean the reports, ``B`` files a task, and send
   back only their id, SHA-256 and title (duplicates are resolved by the same rules as
   :func:`assistant.documents.load_corpus`).
2. *Plan*: documents already stored in their current version are kept; the others
   are embedded; documents no longer in the folder are removed.
3. *Embed*: each worker process has its own embedding model; a task reads ``B``
   reports again, chunks them and embeds their passages in one call. At most
   ``2 × N`` tasks are in flight, so memory holds a few batches, not the corpus.
4. *Write*: Qdrant gets every finished batch at once (upsert); FAISS, whose index is
   one file, collects the vectors (1.5 kB a passage) and writes the generation at the
   end, as a normal refresh does.

The embedding model is made in each worker by ``embedder_factory`` (a picklable
callable, such as a class); workers are started with ``spawn``, so nothing is
shared with the parent but the arguments.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunking import ChunkerSettings, chunk_text
from assistant.documents import distinct_reports, load_document, supported_files, text_sha256
from assistant.embedding import Embedder, Vectors
from assistant.errors import DocumentError
from assistant.indexing import (
    BuildReport,
    Progress,
    build_status,
    embedding_text,
    expected_settings,
    open_previous,
    write_faiss,
)
from assistant.records import Chunk
from assistant.settings import Settings
from assistant.store import IndexLayout, build_lock
from assistant.vectorstore import StoreConfig

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]
DEFAULT_BATCH = 64  # documents per task
_STATE: dict[str, Embedder] = {}  # the embedding model of a worker process


@dataclass(frozen=True)
class Entry:
    """A report as the scan saw it: no text, only what planning needs."""

    doc_id: str
    path: str
    sha256: str
    text_sha256: str
    title: str | None
    mtime_ns: int


@dataclass(frozen=True)
class Embedded:
    """One report's passages and their vectors."""

    doc_id: str
    sha256: str
    title: str | None
    chunks: list[Chunk]
    vectors: Vectors


# ------------------------------------------------------------ worker side
def _init_worker(factory: EmbedderFactory) -> None:
    _STATE["embedder"] = factory()


def _run_in_worker(task: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return task(_STATE["embedder"], *args)


def _settings_task(embedder: Embedder, chunker: ChunkerSettings) -> dict[str, Any]:
    return expected_settings(embedder, chunker)


def _scan_task(embedder: Embedder, paths: list[str]) -> list[Entry | tuple[str, str]]:
    """Read and clean ``paths``; an :class:`Entry` each, or ``(file name, reason)``."""
    del embedder
    out: list[Entry | tuple[str, str]] = []
    for name in paths:
        path = Path(name)
        try:
            doc = load_document(path)
            mtime = path.stat().st_mtime_ns
        except DocumentError as exc:
            out.append((path.name, str(exc)))
            continue
        except OSError as exc:
            out.append((path.name, f"{path.name} could not be read ({exc.strerror})"))
            continue
        out.append(Entry(doc.doc_id, name, doc.sha256, text_sha256(doc.text), doc.title, mtime))
    return out


def _embed_task(embedder: Embedder, paths: list[str],
                chunker: ChunkerSettings) -> list[Embedded]:
    """Chunk ``paths`` and embed all their passages in one call."""
    docs = [load_document(Path(p)) for p in paths]
    per_doc = [chunk_text(d.doc_id, d.text, chunker) for d in docs]
    texts = [embedding_text(d, c) for d, chunks in zip(docs, per_doc, strict=True)
             for c in chunks]
    vectors = embedder.embed(texts)
    out: list[Embedded] = []
    start = 0
    for doc, chunks in zip(docs, per_doc, strict=True):
        out.append(Embedded(doc.doc_id, doc.sha256, doc.title, chunks,
                            vectors[start : start + len(chunks)]))
        start += len(chunks)
    return out


class _Workers:
    """Tasks run in order, in ``workers`` processes (or in this one when ``workers`` is 1)."""

    def __init__(self, factory: EmbedderFactory, workers: int) -> None:
        self.workers = workers
        self._pool: Any = None
        self._embedder: Embedder | None = None
        if workers > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(workers, initializer=_init_worker, initargs=(factory,))
        else:
            self._embedder = factory()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def run(self, task: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Run one task and return its result."""
        return next(self.map(task, [args]))

    def map(self, task: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """Results of ``task(embedder, *args)`` for each ``args``, in order.

        At most ``2 × workers`` tasks are queued at a time, so ``tasks`` is consumed
        lazily (``multiprocessing.Pool.imap`` would read it all at once).
        """
        if self._pool is None:
            assert self._embedder is not None
            for args in tasks:
                yield task(self._embedder, *args)
            return
        window: deque[Any] = deque()
        for args in tasks:
            window.append(self._pool.apply_async(_run_in_worker, (task, args)))
            if len(window) >= 2 * self.workers:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()


def _batches(items: Iterable[str], size: int) -> Iterator[tuple[list[str]]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield (batch,)
            batch = []
    if batch:
        yield (batch,)


# ------------------------------------------------------------ parent side
def scan(corpus_dir: Path, workers: _Workers, batch_size: int,
         progress: Progress | None = None) -> tuple[list[Entry], list[tuple[str, str]]]:
    """The reports of ``corpus_dir`` (in name order) and the files skipped, with reasons.

    The same rules as :func:`assistant.documents.load_corpus`: a second file with
    the same document id is skipped; of reports with the same clean text the older
    file (by modification time, then name) is kept.
    """
    files, skipped = supported_files(corpus_dir)
    paths = [str(p) for p in files]
    found: list[Entry] = []
    done = 0
    for results in workers.map(_scan_task, _batches(paths, batch_size)):
        for item in results:
            if isinstance(item, tuple):
                skipped.append(item)
            else:
                found.append(item)
        done += len(results)
        if progress:
            progress("scanning", done, len(paths))
    keep, dropped = distinct_reports([(Path(e.path).name, e.doc_id, e.text_sha256, e.mtime_ns)
                                      for e in found])
    skipped.extend(dropped)
    skipped.sort()
    return [found[i] for i in keep], skipped


def ingest(corpus_dir: Path, index_dir: Path, embedder_factory: EmbedderFactory,
           chunker: ChunkerSettings, *, store: StoreConfig | None = None, workers: int = 1,
           batch_size: int = DEFAULT_BATCH, force: bool = False,
           progress: Progress | None = None) -> tuple[BuildReport, list[tuple[str, str]]]:
    """Bring the index of ``corpus_dir`` up to date with ``workers`` embedding processes.

    Returns what was done and the files skipped with their reason. The index is the
    one :meth:`assistant.core.Assistant.open` uses (FAISS in ``index_dir``, or the
    Qdrant collection of ``store``), so opening the assistant afterwards finds it
    up to date.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch size must be at least 1")
    started = time.perf_counter()
    with build_lock(index_dir), _Workers(embedder_factory, workers) as pool:
        wanted: dict[str, Any] = pool.run(_settings_task, (chunker,))
        entries, skipped = scan(corpus_dir, pool, batch_size, progress)
        if store is not None:
            report = _ingest_qdrant(entries, wanted, chunker, store, pool, batch_size, force,
                                    progress)
        else:
            report = _ingest_faiss(entries, wanted, chunker, index_dir, pool, batch_size,
                                   force, progress)
    report = BuildReport(report.status, report.documents, report.chunks,
                         report.embedded_documents, report.reused_documents,
                         report.removed_documents, report.embedded_chunks,
                         time.perf_counter() - started, report.reason)
    logger.info("ingest %s: %d documents embedded, %d kept, %d removed in %.1f s",
                report.status, len(report.embedded_documents), len(report.reused_documents),
                len(report.removed_documents), report.seconds)
    return report, skipped


def _embedded(entries: list[Entry], chunker: ChunkerSettings, pool: _Workers,
              batch_size: int, progress: Progress | None) -> Iterator[list[Embedded]]:
    done = 0
    for results in pool.map(_embed_task, ((batch, chunker) for (batch,) in
                                          _batches((e.path for e in entries), batch_size))):
        done += len(results)
        if progress:
            progress("embedding", done, len(entries))
        yield results


def _ingest_faiss(entries: list[Entry], wanted: dict[str, Any], chunker: ChunkerSettings,
                  index_dir: Path, pool: _Workers, batch_size: int, force: bool,
                  progress: Progress | None) -> BuildReport:
    layout = IndexLayout(index_dir)
    previous, reason = open_previous(layout, wanted, force)
    old_docs: dict[str, Any] = previous.manifest.get("documents", {}) if previous else {}
    positions = previous.doc_chunks() if previous else {}
    keep = {e.doc_id for e in entries
            if (old := old_docs.get(e.doc_id)) and old.get("sha256") == e.sha256
            and old.get("chunks") == len(positions.get(e.doc_id, ()))}
    todo = [e for e in entries if e.doc_id not in keep]
    removed = tuple(sorted(set(old_docs) - {e.doc_id for e in entries}))
    if previous is not None and not todo and not removed:  # before reading any vector back
        return BuildReport("up to date", len(entries), len(previous.chunks), (),
                           tuple(e.doc_id for e in entries), (), 0, 0.0, reason)
    fresh: dict[str, tuple[list[Chunk], Vectors]] = {}
    for results in _embedded(todo, chunker, pool, batch_size, progress):
        fresh.update((r.doc_id, (r.chunks, r.vectors)) for r in results)
    index = write_faiss(layout, [(e.doc_id, e.sha256, e.title) for e in entries], previous,
                        keep, fresh, wanted, progress)
    return BuildReport(build_status(previous, reason), len(entries), len(index),
                       tuple(e.doc_id for e in todo),
                       tuple(e.doc_id for e in entries if e.doc_id in keep), removed,
                       sum(len(c) for c, _ in fresh.values()), 0.0, reason)


def _ingest_qdrant(entries: list[Entry], wanted: dict[str, Any], chunker: ChunkerSettings,
                   store: StoreConfig, pool: _Workers, batch_size: int, force: bool,
                   progress: Progress | None) -> BuildReport:
    from assistant.qdrant_store import QdrantCollection

    collection = QdrantCollection(store, wanted, int(wanted["dimension"]), force=force)
    stored = collection.documents()
    keep = {e.doc_id for e in entries
            if (s := stored.get(e.doc_id)) is not None and s.complete and s.sha256 == e.sha256}
    stale = sorted(set(stored) - keep)
    if stale:
        collection.delete_documents(stale)
    todo = [e for e in entries if e.doc_id not in keep]
    embedded_chunks = 0
    total = sum(stored[d].points for d in keep)
    for results in _embedded(todo, chunker, pool, batch_size, progress):
        chunks = [c for r in results for c in r.chunks]
        vectors = (np.concatenate([r.vectors for r in results]) if chunks
                   else np.zeros((0, collection.dimension), dtype=np.float32))
        collection.upsert(chunks, vectors, {r.doc_id: (r.sha256, len(r.chunks))
                                            for r in results})
        embedded_chunks += len(chunks)
    total += embedded_chunks
    collection.drop_other_collections()
    removed = tuple(sorted(set(stored) - {e.doc_id for e in entries}))
    if force:
        status = "rebuilt"
    elif collection.created:
        status = "built"
    else:
        status = "updated" if todo or stale else "up to date"
    return BuildReport(status, len(entries), total, tuple(e.doc_id for e in todo),
                       tuple(e.doc_id for e in entries if e.doc_id in keep), removed,
                       embedded_chunks, 0.0, "")


def default_factory(settings: Settings, workers: int) -> EmbedderFactory:
    """The embedding model of ``settings`` (its backend) for each of ``workers`` processes.

    Each worker gets its share of the CPU threads. An ONNX backend's export is made
    here, once, so the workers find it instead of each exporting the model at once.
    """
    from functools import partial

    from assistant.embedding import make_embedder

    if settings.embed_backend != "torch":
        from assistant.onnx_export import ensure_export

        ensure_export(settings.cache_dir)
    return partial(make_embedder, settings.embed_backend, settings.cache_dir,
                   threads=max(1, settings.threads // workers))
