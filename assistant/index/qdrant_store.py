"""The passages in a Qdrant collection: local mode (a folder) or a Qdrant server.

One point per passage. Its id is derived from the document id and the passage's
offsets (a UUID5), its vector is the passage embedding (dot product over unit
vectors, the same scores FAISS gives) and its payload is the passage itself
(``doc_id``, ``start``, ``end``, ``text``, ``tokens``, ``page``, ``heading``) with the
SHA-256 of the document version it came from and that version's passage count.

The collection's name carries a fingerprint of the embedding model and chunker
settings (:func:`assistant.index.refresh_plan.settings_fingerprint`), so changing either
starts a new collection (the old ones of the same base name are dropped once the
new one is complete). Which documents are stored, and in which version, is read
from the points themselves: a document counts as stored when all its points carry
the same SHA-256 and there are as many as its passage count. Points are written
document batch by document batch, so an update interrupted half-way leaves
documents stored in part, which the next refresh embeds again.

This module stores and loads; what to keep, embed or delete is decided by
:mod:`assistant.index.refresh_plan` and carried out by :mod:`assistant.index.indexing`.

Local mode allows one process at a time per folder (Qdrant's own lock); use a
Qdrant server to share a collection between processes or machines.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import StoreError
from assistant.index.refresh_plan import settings_fingerprint
from assistant.index.vectorstore import StoreConfig
from assistant.models.embedding import Vectors
from assistant.records import Chunk, doc_positions

logger = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1f7c2e-2b1a-4d8e-9a57-0c7e3c1d5a10")
_PAGE = 1024  # points per scroll page and per delete/retrieve request
_META_FIELDS = ["doc_id", "doc_sha256", "doc_chunks"]
_FINGERPRINT_DIGITS = "0123456789abcdef"


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
    """The collection for one embedding model and chunker setting, with batch writes.

    Opening it creates it when missing (``created`` then says so).
    """

    def __init__(self, config: StoreConfig, wanted: dict[str, Any], dimension: int) -> None:
        from qdrant_client import models

        self.config = config
        self.wanted = wanted
        self.dimension = dimension
        self._models = models
        self._conn = connect(config)
        self.fingerprint = settings_fingerprint(wanted)
        self.name = f"{config.collection}-{self.fingerprint}"
        with self._call("open the collection"):
            self.created = not bool(self._conn.client.collection_exists(self.name))
            if self.created:
                self._create()

    def _create(self) -> None:
        """Create the (missing) collection; the caller holds the client's lock."""
        models = self._models
        client = self._conn.client
        client.create_collection(self.name, vectors_config=models.VectorParams(
            size=self.dimension, distance=models.Distance.DOT))
        if self.config.url:  # deletes filter by document; local mode has no indexes
            client.create_payload_index(self.name, "doc_id",
                                        field_schema=models.PayloadSchemaType.KEYWORD)

    def clear(self) -> None:
        """Remove every point: the collection is dropped and made again, empty."""
        with self._call("be emptied"):
            self.client.delete_collection(self.name)
            self._create()

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
                page = data.get("page")
                heading = data.get("heading") or ()
                if not isinstance(heading, list | tuple):
                    raise TypeError("heading")
                chunk = Chunk(str(data["doc_id"]), int(data["start"]), int(data["end"]),
                              str(data["text"]), int(data["tokens"]),
                              None if page is None else int(page),
                              tuple(str(h) for h in heading))
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

    def other_settings(self) -> dict[str, str]:
        """The collections of the same base name made for other settings: name -> fingerprint."""
        prefix = f"{self.config.collection}-"
        with self._call("list its collections"):
            names = [c.name for c in self.client.get_collections().collections]
        out: dict[str, str] = {}
        for name in sorted(names):
            rest = name[len(prefix):]
            if name != self.name and name.startswith(prefix) and len(rest) == len(
                    self.fingerprint) and all(ch in _FINGERPRINT_DIGITS for ch in rest):
                out[name] = rest
        return out

    def drop_other_collections(self) -> None:
        """Drop the collections of the same base name made for other settings."""
        for name in self.other_settings():
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
        return doc_positions(self.chunks)

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
