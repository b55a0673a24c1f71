"""Batch ingestion of a large corpus: documents streamed, embedded in parallel, written in batches.

``assistant index --workers N --batch-size B`` (or :func:`ingest`) builds the same index
that opening the assistant builds, without holding the corpus in memory:

1. *Scan*: worker processes read and clean the reports, ``B`` files a task, and send
   back only their id, SHA-256 and title (duplicates are resolved by the same rules as
   :func:`assistant.ingest.documents.load_corpus`).
   The scan also checks the stored passages of each report against its text
   (a digest of the text at their offsets), as a refresh in one process does.
2. *Plan*: the same plan as :func:`assistant.index.indexing.refresh`
   (:func:`assistant.index.refresh_plan.plan_refresh`): documents stored whole in their
   current version are kept; the others are embedded; documents no longer in the
   folder are removed; a changed model or damaged index is rebuilt.
3. *Embed*: each worker process has its own embedding model; a task reads ``B``
   reports again, chunks them and embeds their passages in one call. At most
   ``2 × N`` tasks are in flight, so memory holds a few batches, not the corpus.
4. *Write*: by the same writers as a refresh (:mod:`assistant.index.indexing`): Qdrant
   gets every finished batch at once (upsert); FAISS, whose index is one file,
   collects the vectors (1.5 kB a passage) and writes the generation at the end.

The embedding model is made in each worker by ``embedder_factory`` (a picklable
callable, such as a class); workers are started with ``spawn``, so nothing is
shared with the parent but the arguments.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.errors import DocumentError
from assistant.index.faiss_store import build_lock
from assistant.index.indexing import Embedded, EmbedStream, carry_out, embed_documents, open_writer
from assistant.index.refresh_plan import (
    CorpusDoc,
    expected_settings,
    plan_refresh,
    settings_fingerprint,
    text_digest,
)
from assistant.index.vectorstore import StoreConfig
from assistant.ingest.chunking import chunk_document
from assistant.ingest.documents import (
    distinct_reports,
    doc_id_for,
    load_document,
    supported_files,
    text_sha256,
)
from assistant.models.embedding import Embedder
from assistant.records import BuildReport, Progress
from assistant.settings import ChunkerSettings, Settings

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]
DEFAULT_BATCH = 64  # documents per task
_STATE: dict[str, Embedder] = {}  # the embedding model of a worker process
Spans = dict[str, list[tuple[int, int]]]  # doc id -> offsets of its stored passages


@dataclass(frozen=True)
class Entry:
    """A report as the scan saw it: no text, only what planning needs."""

    doc_id: str
    path: str
    sha256: str
    text_sha256: str
    title: str | None
    mtime_ns: int
    stored_text_digest: str = ""  # passages_digest of its text at its stored passages' offsets


# ------------------------------------------------------------ worker side
def _init_worker(factory: EmbedderFactory) -> None:
    _STATE["embedder"] = factory()


def _run_in_worker(task: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return task(_STATE["embedder"], *args)


def _settings_task(embedder: Embedder, chunker: ChunkerSettings) -> dict[str, Any]:
    return expected_settings(embedder, chunker)


def _scan_task(embedder: Embedder, paths: list[str],
               spans: Spans | None = None) -> list[Entry | tuple[str, str]]:
    """Read and clean ``paths``; an :class:`Entry` each, or ``(file name, reason)``.

    ``spans`` holds the offsets of the stored passages of these reports, whose text
    there is digested for the plan's check that kept passages are still the text.
    """
    del embedder
    stored = spans or {}
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
        out.append(Entry(doc.doc_id, name, doc.sha256, text_sha256(doc.text), doc.title, mtime,
                         text_digest(doc, stored.get(doc.doc_id, ()))))
    return out


def _embed_task(embedder: Embedder, paths: list[str],
                chunker: ChunkerSettings) -> list[Embedded]:
    """Chunk ``paths`` and embed all their passages in one call."""
    docs = [load_document(Path(p)) for p in paths]
    return embed_documents(embedder, [(d, chunk_document(d, chunker)) for d in docs])


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
         progress: Progress | None = None,
         stored: Mapping[str, Sequence[tuple[int, int]]] | None = None,
         ) -> tuple[list[Entry], list[tuple[str, str]]]:
    """The reports of ``corpus_dir`` (in name order) and the files skipped, with reasons.

    The same rules as :func:`assistant.ingest.documents.load_corpus`: a second file with
    the same document id is skipped; of reports with the same clean text the older
    file (by modification time, then name) is kept. ``stored`` gives the offsets of
    each document's stored passages (see :func:`_scan_task`).
    """
    files, skipped = supported_files(corpus_dir)
    paths = [str(p) for p in files]
    found: list[Entry] = []
    done = 0
    tasks = ((batch, _spans_of(batch, stored or {})) for (batch,) in _batches(paths, batch_size))
    for results in workers.map(_scan_task, tasks):
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


def _spans_of(paths: list[str], stored: Mapping[str, Sequence[tuple[int, int]]]) -> Spans:
    """The stored passage offsets of the documents of ``paths`` (by their file names)."""
    out: Spans = {}
    for name in paths:
        try:
            doc_id = doc_id_for(Path(name))
        except DocumentError:
            continue  # the scan reports the file
        if doc_id in stored:
            out[doc_id] = list(stored[doc_id])
    return out


def ingest(corpus_dir: Path, index_dir: Path, embedder_factory: EmbedderFactory,
           chunker: ChunkerSettings, *, store: StoreConfig | None = None, workers: int = 1,
           batch_size: int = DEFAULT_BATCH, force: bool = False,
           progress: Progress | None = None) -> tuple[BuildReport, list[tuple[str, str]]]:
    """Bring the index of ``corpus_dir`` up to date with ``workers`` embedding processes.

    Returns what was done and the files skipped with their reason. The index is the
    one :meth:`assistant.core.Assistant.open` uses (FAISS in ``index_dir``, or the
    Qdrant collection of ``store``), planned and written by the same code, so
    opening the assistant afterwards finds it up to date.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch size must be at least 1")
    started = time.perf_counter()
    with build_lock(index_dir), _Workers(embedder_factory, workers) as pool:
        wanted: dict[str, Any] = pool.run(_settings_task, (chunker,))
        writer = open_writer(index_dir, store, wanted, progress)
        stored = writer.read(force)
        spans = {d: [(c.start, c.end) for c in chunks]
                 for d, chunks in writer.stored_passages().items()}
        entries, skipped = scan(corpus_dir, pool, batch_size, progress, spans)
        corpus = [CorpusDoc(e.doc_id, e.sha256, e.title, e.stored_text_digest)
                  for e in entries]
        plan = plan_refresh(corpus, stored, settings_fingerprint(wanted), force)
        paths = {e.doc_id: e.path for e in entries}
        _, report = carry_out(plan, corpus, writer,
                              _embed_in_workers(paths, chunker, pool, batch_size, progress))
    report = replace(report, seconds=time.perf_counter() - started)
    logger.info("ingest %s: %d documents embedded, %d kept, %d removed in %.1f s",
                report.status, len(report.embedded_documents), len(report.reused_documents),
                len(report.removed_documents), report.seconds)
    return report, skipped


def _embed_in_workers(paths: Mapping[str, str], chunker: ChunkerSettings, pool: _Workers,
                      batch_size: int, progress: Progress | None) -> EmbedStream:
    """An :data:`EmbedStream` whose batches (``batch_size`` reports) are embedded by ``pool``."""
    def stream(todo: tuple[str, ...]) -> Iterator[list[Embedded]]:
        done = 0
        batches = _batches((paths[d] for d in todo), batch_size)
        for results in pool.map(_embed_task, ((batch, chunker) for (batch,) in batches)):
            done += len(results)
            if progress:
                progress("embedding", done, len(todo))
            yield results

    return stream


def default_factory(settings: Settings, workers: int) -> EmbedderFactory:
    """The embedding model of ``settings`` (its backend) for each of ``workers`` processes.

    Each worker gets its share of the CPU threads. An ONNX backend's export is made
    here, once, so the workers find it instead of each exporting the model at once.
    """
    from functools import partial

    from assistant.models.embedding import make_embedder

    if settings.embed_backend != "torch":
        from assistant.models.onnx_export import ensure_export

        ensure_export(settings.cache_dir)
    return partial(make_embedder, settings.embed_backend, settings.cache_dir,
                   threads=max(1, settings.threads // workers))
