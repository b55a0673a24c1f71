"""Which vector store holds the passages, and what retrieval needs from it.

Two stores satisfy :class:`SearchIndex`: FAISS files in the index folder
(:class:`assistant.index.faiss_store.VectorIndex`, the default) and a Qdrant collection
(:class:`assistant.index.qdrant_store.QdrantIndex`), in local mode (a folder) or on a
Qdrant server. Both give the passages (for BM25 and citations) and a dense
search that answers with positions into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.models.embedding import Vectors
from assistant.records import Chunk
from assistant.settings import Settings

QDRANT = "qdrant"


class SearchIndex(Protocol):
    """The passages of a corpus and a nearest-neighbour search over their vectors."""

    chunks: list[Chunk]
    manifest: dict[str, Any]

    def __len__(self) -> int:
        """Number of passages."""
        ...

    def search(self, query: Vectors, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passages to one query vector, as (position, score), best first."""
        ...

    def doc_chunks(self) -> dict[str, list[int]]:
        """Positions of each document's passages."""
        ...

    def vectors(self) -> Vectors:
        """All vectors, in passage order."""
        ...


@dataclass(frozen=True)
class StoreConfig:
    """A Qdrant store (FAISS, the default, needs no configuration: it is the index folder).

    ``url`` names a server (with ``api_key`` if it wants one); without it the
    collection is kept in local mode in the folder ``path``.
    ``collection`` is the base name: the collection actually used carries a
    fingerprint of the embedding model and chunker settings.
    """

    path: Path | None = None
    url: str = ""
    api_key: str = field(default="", repr=False)
    collection: str = "reports"
    timeout: float = 60.0

    @property
    def location(self) -> str:
        """The Qdrant server URL or local folder, for messages (no API key)."""
        return self.url or str(self.path)


def store_config(settings: Settings) -> StoreConfig | None:
    """The store of ``settings``: ``None`` for FAISS (the default), else a Qdrant config.

    Local mode uses ``settings.qdrant_path``, or ``index_dir/qdrant`` when neither a
    path nor a URL is set.
    """
    if settings.vector_store != QDRANT:
        return None
    path = None if settings.qdrant_url else (settings.qdrant_path
                                             or settings.index_dir / "qdrant")
    return StoreConfig(path=path, url=settings.qdrant_url,
                       api_key=settings.qdrant_api_key, collection=settings.qdrant_collection)
