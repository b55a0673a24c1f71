"""The passages in a Qdrant collection: local mode (a folder) or a Qdrant server.

One point per passage. Its id is derived from the document id and the passage's
offsets (a UUID5), its vector is the passage embedding (dot product over unit
vectors, the same scores FAISS gives) and its payload is the passage itself
(``doc_id``, ``start``, ``end``, ``text``, ``tokens``) with the SHA-256 of the
document version it came from and that version's passage count.

The collection's name carries a fingerprint of the embedding model and chunker
settings, so changing either starts a new collection (the old ones of the same
base name are dropped once the new one is complete). Which documents are stored,
and in which version, is read from the points themselves: a document counts as
stored when all its points carry the current SHA-256 and there are as many as
its passage count. Refreshing therefore deletes the points of deleted and changed
documents and embeds only new and changed ones; an update interrupted half-way
leaves documents that are simply embedded again next time.

Local mode allows one process at a time per folder (Qdrant's own lock); use a
Qdrant server to share a collection between processes or machines.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunking import ChunkerSettings, chunk_text
from assistant.embedding import Embedder, Vectors
from assistant.errors import StoreError
from assistant.indexing import BuildReport, Progress, embedding_text, expected_settings
from assistant.records import Chunk, Document
from assistant.vectorstore import StoreConfig

logger = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1f7c2e-2b1a-4d8e-9a57-0c7e3c1d5a10")
_PAGE = 1024  # points per scroll page and per delete/retrieve request
_META_FIELDS = ["doc_id", "doc_sha256", "doc_chunks"]
UPSERT_BATCH = 256  # passages embedded and written per step by :func:`refresh`


def point_id(doc_id: str, start: int, end: int) -> str:
    """The stable id of a passage's point: a UUID5 of the document id and the offsets."""
    return str(uuid.uuid5(_NAMESPACE, f"{doc_id}:{start}-{end}"))


class _Connection:
    """A client and the lock that serialises its calls (local mode is not thread-safe)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lock = threading.RLock()


_CONNECTIONS: dict[str, _Connection] = {}
_CONNECTIONS_LOCK = threading.Lock()


def connect(config: StoreConfig) -> _Connection:
    """The (shared, per process) connection to the server or local folder of ``config``.

    Local mode allows one client per folder, so a process keeps one and reuses it.
    """
    key = config.url or str(Path(str(config.path)).resolve())
    with _CONNECTIONS_LOCK:
        found = _CONNECTIONS.get(key)
        if found is not None:
            return found
        try:
            from qdrant_client import QdrantClient
        except ImportError as exc:  # pragma: no cover - an install problem
            raise StoreError("qdrant-client is not installed: pip install qdrant-client"
                             ) from exc
        try:
            if config.url:
                client = QdrantClient(url=config.url, api_key=config.api_key or None,
                                      timeout=int(config.timeout))
            else:
                Path(str(config.path)).mkdir(parents=True, exist_ok=True)
                client = QdrantClient(path=str(config.path))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreError(
                    f"the Qdrant folder {config.path} is in use by another process (local "
                    "mode allows one at a time; use a Qdrant server to share it)") from None
            raise StoreError(f"Qdrant at {config.location} could not be opened") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"Qdrant at {config.location} could not be opened ({exc})"
                             ) from None
        connection = _Connection(client)
        if not _CONNECTIONS:
            atexit.register(close_all)
        _CONNECTIONS[key] = connection
        return connection


def close_all() -> None:
    """Close every connection of this process (local folders become free for others)."""
    with _CONNECTIONS_LOCK:
        for connection in _CONNECTIONS.values():
            with connection.lock:
                connection.client.close()
        _CONNECTIONS.clear()


@dataclass(frozen=True)
class StoredDocument:
    """What the points of one document say about it."""

    sha256: str
    points: int
    complete: bool


class QdrantCollection:
    """The collection for one embedding model and chunker setting, with batch writes."""

    def __init__(self, config: StoreConfig, wanted: dict[str, Any], dimension: int,
                 force: bool = False) -> None:
        from qdrant_client import models

        self.config = config
        self.wanted = wanted
        self.dimension = dimension
        self._models = models
        self._conn = connect(config)
        fingerprint = hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()
        self.name = f"{config.collection}-{fingerprint[:12]}"
        with self._call("open the collection"):
            client = self._conn.client
            exists = bool(client.collection_exists(self.name))
            if exists and force:
                client.delete_collection(self.name)
                exists = False
            self.created = not exists
            if not exists:
                client.create_collection(self.name, vectors_config=models.VectorParams(
                    size=dimension, distance=models.Distance.DOT))
                if config.url:  # deletes filter by document; local mode has no indexes
                    client.create_payload_index(self.name, "doc_id",
                                                field_schema=models.PayloadSchemaType.KEYWORD)

    def _call(self, what: str) -> contextlib.AbstractContextManager[None]:
        """A context that holds the client's lock and turns client errors into StoreError."""
        return _guard(self._conn.lock, f"Qdrant at {self.config.location} could not {what}")

    @property
    def client(self) -> Any:
        """The Qdrant client."""
        return self._conn.client

    def _scroll(self, payload: bool | list[str]) -> Iterator[Any]:
        offset = None
        while True:
            with self._call("be read"):
                points, offset = self.client.scroll(self.name, limit=_PAGE, offset=offset,
                                                    with_payload=payload, with_vectors=False)
            yield from points
            if offset is None:
                return

    def documents(self) -> dict[str, StoredDocument]:
        """The stored documents by id (payload metadata only; no texts, no vectors)."""
        return _documents(point.payload or {} for point in self._scroll(_META_FIELDS))

    def contents(self) -> tuple[dict[str, StoredDocument], dict[str, list[Chunk]]]:
        """The stored documents, and every stored passage by document in text order.

        One pass over the points (refresh needs both).
        """
        payloads = [point.payload or {} for point in self._scroll(True)]
        out: dict[str, list[Chunk]] = {}
        for data in payloads:
            try:
                chunk = Chunk(str(data["doc_id"]), int(data["start"]), int(data["end"]),
                              str(data["text"]), int(data["tokens"]))
            except (KeyError, TypeError, ValueError):
                raise StoreError(f"the Qdrant collection {self.name} holds a malformed "
                                 "passage") from None
            out.setdefault(chunk.doc_id, []).append(chunk)
        for chunks in out.values():
            chunks.sort(key=lambda c: (c.start, c.end))
        return _documents(payloads), out

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        """Remove every point of these documents."""
        models = self._models
        ids = sorted(doc_ids)
        for i in range(0, len(ids), _PAGE):
            selector = models.FilterSelector(filter=models.Filter(must=[models.FieldCondition(
                key="doc_id", match=models.MatchAny(any=ids[i : i + _PAGE]))]))
            with self._call("delete passages"):
                self.client.delete(self.name, points_selector=selector, wait=True)

    def upsert(self, chunks: Sequence[Chunk], vectors: Vectors,
               versions: dict[str, tuple[str, int]]) -> None:
        """Write passages with their vectors; ``versions[doc_id]`` = (SHA-256, passage count)."""
        if not len(chunks):
            return
        if vectors.shape != (len(chunks), self.dimension):
            raise StoreError("the passages and their vectors do not match")
        payloads = [dict(c.to_dict(), doc_sha256=versions[c.doc_id][0],
                         doc_chunks=versions[c.doc_id][1]) for c in chunks]
        batch = self._models.Batch(ids=[point_id(c.doc_id, c.start, c.end) for c in chunks],
                                   vectors=np.asarray(vectors, dtype=np.float32).tolist(),
                                   payloads=payloads)
        with self._call("write passages"):
            self.client.upsert(self.name, points=batch, wait=True)

    def drop_other_collections(self) -> None:
        """Drop the collections of the same base name made for other settings."""
        prefix = f"{self.config.collection}-"
        with self._call("list its collections"):
            names = [c.name for c in self.client.get_collections().collections]
        for name in names:
            rest = name[len(prefix):]
            if name != self.name and name.startswith(prefix) and len(rest) == 12 and all(
                    ch in "0123456789abcdef" for ch in rest):
                logger.info("dropping the Qdrant collection %s (other settings)", name)
                with self._call("drop an old collection"):
                    self.client.delete_collection(name)

    def index(self, chunks: list[Chunk], manifest: dict[str, Any]) -> QdrantIndex:
        """A searchable view of the collection holding exactly ``chunks``."""
        return QdrantIndex(self, chunks, manifest)


@contextlib.contextmanager
def _guard(lock: threading.RLock, message: str) -> Iterator[None]:
    """Hold ``lock``; a client error inside becomes a StoreError with ``message``."""
    with lock:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            logger.warning("%s: %s", message, exc)
            raise StoreError(message) from None


class QdrantIndex:
    """The passages of a Qdrant collection, searchable by dot product (satisfies SearchIndex)."""

    def __init__(self, collection: QdrantCollection, chunks: list[Chunk],
                 manifest: dict[str, Any]) -> None:
        self.chunks = chunks
        self.manifest = manifest
        self.dimension = collection.dimension
        self._collection = collection
        self._ids = [point_id(c.doc_id, c.start, c.end) for c in chunks]
        self._positions = {pid: pos for pos, pid in enumerate(self._ids)}

    def __len__(self) -> int:
        return len(self.chunks)

    def search(self, query: Vectors, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passages to one query vector, as (position, score), best first.

        Points this view does not hold (written by another process since) are skipped.
        """
        if not self.chunks or k <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        col = self._collection
        with col._call("be searched"):
            points = col.client.query_points(col.name, query=vector, limit=k,
                                             with_payload=False).points
        out = []
        for point in points:
            pos = self._positions.get(str(point.id))
            if pos is not None:
                out.append((pos, float(point.score)))
        return out

    def doc_chunks(self) -> dict[str, list[int]]:
        """Positions of each document's passages."""
        out: dict[str, list[int]] = {}
        for pos, chunk in enumerate(self.chunks):
            out.setdefault(chunk.doc_id, []).append(pos)
        return out

    def vectors(self) -> Vectors:
        """All vectors, in passage order (read back from the collection)."""
        out = np.zeros((len(self.chunks), self.dimension), dtype=np.float32)
        col = self._collection
        for i in range(0, len(self._ids), _PAGE):
            with col._call("be read"):
                records = col.client.retrieve(col.name, ids=self._ids[i : i + _PAGE],
                                              with_vectors=True, with_payload=False)
            for record in records:
                out[self._positions[str(record.id)]] = np.asarray(record.vector,
                                                                  dtype=np.float32)
        return out


def manifest_for(wanted: dict[str, Any], collection: QdrantCollection,
                 documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest of a Qdrant index: settings, store, collection and documents."""
    return dict(wanted, store="qdrant", collection=collection.name,
                location=collection.config.location, documents=documents)


def refresh(documents: tuple[Document, ...], embedder: Embedder, chunker: ChunkerSettings,
            config: StoreConfig, force: bool = False, progress: Progress | None = None,
            batch: int = UPSERT_BATCH) -> tuple[QdrantIndex, BuildReport]:
    """Bring the Qdrant collection up to date with ``documents``; the loaded index.

    Documents stored in their current version, whose passages are still their text
    at the stored offsets, are kept; the others are deleted and embedded again (in
    batches of ``batch`` passages); documents no longer in the corpus are deleted.
    """
    started = time.perf_counter()
    wanted = expected_settings(embedder, chunker)
    collection = QdrantCollection(config, wanted, embedder.dimension, force=force)
    stored, kept_chunks = collection.contents()
    keep: set[str] = set()
    reason = "rebuilt on request" if force else ""
    for doc in documents:
        entry = stored.get(doc.doc_id)
        if entry is None or not entry.complete or entry.sha256 != doc.sha256:
            continue
        if any(doc.text[c.start : c.end] != c.text for c in kept_chunks.get(doc.doc_id, ())):
            reason = f"the stored passages of {doc.doc_id} do not match the report's text"
            logger.warning("re-embedding %s: %s", doc.doc_id, reason)
            continue
        keep.add(doc.doc_id)
    current = {d.doc_id for d in documents}
    removed = sorted(set(stored) - current)
    stale = sorted(set(stored) - keep)
    if stale:
        collection.delete_documents(stale)
    chunks: list[Chunk] = []
    pending: list[Chunk] = []
    pending_texts: list[str] = []
    versions: dict[str, tuple[str, int]] = {}
    embedded: list[str] = []
    embedded_chunks = 0

    def flush() -> None:
        collection.upsert(pending, embedder.embed(pending_texts), versions)
        pending.clear()
        pending_texts.clear()

    for i, doc in enumerate(documents):
        if progress:
            progress(doc.doc_id, i, len(documents))
        if doc.doc_id in keep:
            chunks.extend(kept_chunks[doc.doc_id])
            continue
        doc_chunks = chunk_text(doc.doc_id, doc.text, chunker)
        versions[doc.doc_id] = (doc.sha256, len(doc_chunks))
        for chunk in doc_chunks:
            pending.append(chunk)
            pending_texts.append(embedding_text(doc, chunk))
            if len(pending) >= batch:
                flush()
        chunks.extend(doc_chunks)
        embedded.append(doc.doc_id)
        embedded_chunks += len(doc_chunks)
    if pending:
        flush()
    if progress:
        progress("", len(documents), len(documents))
    collection.drop_other_collections()
    per_doc = {d: len(c) for d, c in _group(chunks).items()}
    manifest = manifest_for(wanted, collection, {
        d.doc_id: {"sha256": d.sha256, "title": d.title, "chunks": per_doc.get(d.doc_id, 0)}
        for d in documents})
    if collection.created and not force:
        status = "built"
    elif force:
        status = "rebuilt"
    elif embedded or removed or stale:
        status = "updated"
    else:
        status = "up to date"
    report = BuildReport(status, len(documents), len(chunks), tuple(embedded),
                         tuple(d.doc_id for d in documents if d.doc_id in keep),
                         tuple(removed), embedded_chunks, time.perf_counter() - started,
                         reason)
    logger.info("Qdrant index %s: %d documents embedded, %d kept, %d removed", status,
                len(embedded), len(keep), len(removed))
    return collection.index(chunks, manifest), report


def _group(chunks: Iterable[Chunk]) -> dict[str, list[Chunk]]:
    out: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        out.setdefault(chunk.doc_id, []).append(chunk)
    return out


def _documents(payloads: Iterable[dict[str, Any]]) -> dict[str, StoredDocument]:
    """Per document: its SHA-256 (empty if points disagree), point count, completeness."""
    seen: dict[str, tuple[set[str], int, set[int]]] = {}
    for data in payloads:
        shas, count, expected = seen.setdefault(str(data.get("doc_id")), (set(), 0, set()))
        shas.add(str(data.get("doc_sha256")))
        expected.add(int(data.get("doc_chunks", -1)))
        seen[str(data.get("doc_id"))] = (shas, count + 1, expected)
    return {doc_id: StoredDocument(next(iter(shas)) if len(shas) == 1 else "", count,
                                   len(shas) == 1 and expected == {count})
            for doc_id, (shas, count, expected) in seen.items()}
