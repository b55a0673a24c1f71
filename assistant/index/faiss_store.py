"""The persisted index: FAISS vectors, the chunk table and a manifest, written atomically.

Layout of ``index/``::

    manifest.json          written last, by rename; names the live generation
    gen-<id>/vectors.faiss FAISS index (inner product over unit vectors; exact or IVF by
                           size, see assistant.index.ann; its parameters are in the manifest)
    gen-<id>/chunks.jsonl  one chunk a line, in vector order (with its page, or null, and
                           its heading path)
    .lock                  held while building

A crash at any moment leaves the previous manifest and its generation intact.
No pickle anywhere: FAISS's own format and JSON only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import StoreError
from assistant.index import ann
from assistant.models.embedding import Vectors
from assistant.records import Chunk, doc_positions

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"


@dataclass(frozen=True)
class IndexLayout:
    """Where the index files live, and a cheap structural validity check."""

    root: Path

    @property
    def manifest(self) -> Path:
        """The manifest file."""
        return self.root / MANIFEST

    def generation(self, name: str) -> Path:
        """The folder of generation ``name``."""
        return self.root / name

    def is_valid(self) -> bool:
        """True when a manifest exists and names a generation with both files present."""
        try:
            manifest = json.loads(self.manifest.read_text(encoding="utf-8"))
            gen = self.generation(str(manifest["generation"]))
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return (gen / VECTORS).is_file() and (gen / CHUNKS).is_file()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class VectorIndex:
    """Chunks and their vectors in memory, searchable by cosine similarity."""

    def __init__(self, chunks: list[Chunk], index: Any, manifest: dict[str, Any]) -> None:
        if len(chunks) != index.ntotal:
            raise StoreError("the index holds a different number of vectors and passages")
        self.chunks = chunks
        self.manifest = manifest
        self.dimension = int(index.d)
        self.params = ann.IndexParams.from_dict(manifest.get("index"))
        self._index = index

    def __len__(self) -> int:
        return len(self.chunks)

    def vectors(self) -> Vectors:
        """All vectors, in chunk order."""
        if not len(self.chunks):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_n(0, len(self.chunks)), dtype=np.float32)

    def search(self, query: Vectors, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest chunks to one query vector, as (position, score), best first."""
        if not len(self.chunks) or k <= 0:
            return []
        wider = ann.search_params(self.params, k)
        extra = {"params": wider} if wider is not None else {}
        with ann.single_thread():
            scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, **extra)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def doc_chunks(self) -> dict[str, list[int]]:
        """Positions of each document's chunks."""
        return doc_positions(self.chunks)


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index folder while building (other builders wait)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(layout: IndexLayout) -> dict[str, Any] | None:
    """The manifest, or ``None`` when there is none; a damaged one raises StoreError."""
    if not layout.manifest.exists():
        return None
    try:
        data = json.loads(layout.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise StoreError("the index manifest is damaged") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise StoreError("the index manifest has an unknown format")
    return data


def load(layout: IndexLayout) -> VectorIndex | None:
    """Load the live generation, checking every file against the manifest.

    Returns ``None`` when no index exists; raises StoreError when one exists but is
    damaged (wrong hash, truncated, inconsistent counts).
    """
    import faiss

    manifest = read_manifest(layout)
    if manifest is None:
        return None
    try:
        gen = layout.generation(str(manifest["generation"]))
        files = manifest["files"]
        count = int(manifest["count"])
        dimension = int(manifest["dimension"])
        params = ann.IndexParams.from_dict(manifest.get("index"))
    except (KeyError, TypeError, ValueError):
        raise StoreError("the index manifest is incomplete") from None
    for name in (VECTORS, CHUNKS):
        path = gen / name
        if not path.is_file():
            raise StoreError(f"the index file {name} is missing")
        if _sha256(path) != files.get(name):
            raise StoreError(f"the index file {name} is damaged (its checksum does not match)")
    try:
        index = faiss.read_index(str(gen / VECTORS))
        chunks = [_chunk(json.loads(line)) for line in
                  (gen / CHUNKS).read_text(encoding="utf-8").splitlines() if line]
    except (RuntimeError, ValueError, TypeError):
        raise StoreError("the index files could not be read") from None
    if index.ntotal != count or len(chunks) != count or (count and index.d != dimension):
        raise StoreError("the index files do not agree with the manifest")
    try:
        ann.configure(index, params)  # efSearch is set here: FAISS may not have kept it
    except ValueError as exc:
        raise StoreError(f"the index files do not agree with the manifest ({exc})") from None
    return VectorIndex(chunks, index, manifest)


def _chunk(data: Any) -> Chunk:
    """A chunk from its JSON line, refusing fields of the wrong type or inconsistent spans.

    A line without ``page`` (an index written before pages were kept) gives ``None``;
    one without ``heading``, no heading path.
    """
    heading = data.get("heading", []) if isinstance(data, dict) else None
    if not isinstance(heading, list) or not all(isinstance(h, str) for h in heading):
        raise ValueError("malformed chunk")
    chunk = Chunk(**dict(data, heading=tuple(heading)))
    ints = (chunk.start, chunk.end, chunk.tokens)
    if (not isinstance(chunk.doc_id, str) or not isinstance(chunk.text, str)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in ints)
            or not 0 <= chunk.start <= chunk.end or chunk.end - chunk.start != len(chunk.text)
            or not (chunk.page is None or (isinstance(chunk.page, int)
                                           and not isinstance(chunk.page, bool)
                                           and chunk.page >= 1))):
        raise ValueError("malformed chunk")
    return chunk


def save(layout: IndexLayout, chunks: list[Chunk], vectors: Vectors,
         manifest: dict[str, Any], progress: ann.BuildProgress | None = None) -> VectorIndex:
    """Write a new generation, then switch the manifest to it atomically; old ones are removed.

    The kind of FAISS index is chosen by the number of vectors (:func:`ann.choose`)
    and recorded in the manifest under ``index``; ``progress(added, total)`` follows
    the vectors being added to it. A failure to write (disk full, no permission) is
    a :class:`StoreError`; the manifest still names the last complete generation.
    """
    try:
        return _save(layout, chunks, vectors, manifest, progress)
    except OSError as exc:
        raise StoreError(f"the index could not be written ({exc.strerror or 'I/O error'})"
                         ) from None
    except RuntimeError:  # FAISS reports its I/O errors this way
        raise StoreError("the index could not be written (FAISS could not save it)") from None


def _save(layout: IndexLayout, chunks: list[Chunk], vectors: Vectors,
          manifest: dict[str, Any], progress: ann.BuildProgress | None) -> VectorIndex:
    import faiss

    layout.root.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    tmp_gen = layout.root / f".tmp-{name}"
    tmp_gen.mkdir()
    try:
        dimension = int(manifest["dimension"])
        params = ann.choose(len(chunks))
        if len(chunks):
            index = ann.build(vectors, params, progress)
        else:
            index = ann.empty(dimension, params)
        faiss.write_index(index, str(tmp_gen / VECTORS))
        with (tmp_gen / VECTORS).open("rb+") as handle:
            os.fsync(handle.fileno())
        lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in chunks)
        _fsync_write(tmp_gen / CHUNKS, lines.encode("utf-8"))
        full = dict(manifest, format=FORMAT_VERSION, generation=name, count=len(chunks),
                    index=params.to_dict(),
                    files={VECTORS: _sha256(tmp_gen / VECTORS), CHUNKS: _sha256(tmp_gen / CHUNKS)})
        os.replace(tmp_gen, layout.generation(name))
        tmp_manifest = layout.root / f".{MANIFEST}.{secrets.token_hex(4)}.tmp"
        _fsync_write(tmp_manifest, json.dumps(full, indent=2, ensure_ascii=False).encode())
        os.replace(tmp_manifest, layout.manifest)
        dir_fd = os.open(layout.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp_gen.exists():
            shutil.rmtree(tmp_gen, ignore_errors=True)
    _remove_other_generations(layout, keep=name)
    return VectorIndex(chunks, index, full)


def _remove_other_generations(layout: IndexLayout, keep: str) -> None:
    for path in layout.root.iterdir():
        if path.name == keep or not path.is_dir():
            continue
        if path.name.startswith(("gen-", ".tmp-gen-")):
            shutil.rmtree(path, ignore_errors=True)
    for path in layout.root.glob(f".{MANIFEST}.*.tmp"):
        path.unlink(missing_ok=True)
