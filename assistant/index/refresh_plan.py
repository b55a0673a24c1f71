"""What a refresh of the index must do, decided in one place, without I/O.

Both stores (FAISS files, a Qdrant collection) and both ways of filling them (an
in-process refresh, the parallel ``assistant index --workers``) read what the store
holds into a :class:`StoredIndex`, describe the corpus as :class:`CorpusDoc` records
and ask :func:`plan_refresh` what to do. The rules, in order:

1. A rebuild asked for (``force``) discards everything stored: ``rebuilt``.
2. No index found: every document is embedded: ``built``.
3. The store could not be read (damaged files, bad manifest): ``rebuilt``.
4. The stored index was made for another embedding model or other chunker
   settings (its settings fingerprint differs): ``rebuilt``.
5. The stored index is damaged although readable (:func:`damage`): ``rebuilt``.
   A store written in one atomic step (a FAISS generation) must list every
   document it holds with its true passage count, because a crash cannot leave
   it half written; and in every store the passages of a document kept as it is
   must still be that document's text at their offsets.
6. Otherwise, document by document: one stored whole (all its passages present),
   in its current version (same SHA-256), is kept; the others are embedded; the
   stored passages of documents not kept are deleted; documents no longer in the
   corpus are reported removed. In a store written document by document (Qdrant),
   a document stored in part (an interrupted update) is simply embedded again.
7. Nothing to embed or delete, but the FAISS index kind chosen for this many
   passages changed (:func:`assistant.index.ann.choose`): the index is written again from
   the kept vectors, nothing embedded: ``updated``.

Also here, shared by the stores and the insert pipeline: what is embedded for a
passage, the settings an index must match, the chunk table a refresh writes and
the report it returns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.index import ann
from assistant.records import BuildReport, Chunk, Document, page_of
from assistant.settings import ChunkerSettings

if TYPE_CHECKING:
    from assistant.models.embedding import Embedder

BUILT = "built"
REBUILT = "rebuilt"
UPDATED = "updated"
UP_TO_DATE = "up to date"
REQUESTED = "rebuilt on request"
SETTINGS_CHANGED = "the embedding model or chunker settings changed"
UNLISTED_DOCUMENTS = "the index manifest does not list its documents"
UNLISTED_PASSAGES = "the index holds passages of documents its manifest does not list"
COUNTS_DIFFER = "the index manifest does not match the index (passage counts differ)"


def embedding_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: its heading path and outlet, then the passage.

    The heading path (title › section › definition term, :attr:`Chunk.heading`) says
    what the passage is about when its own text does not name it; a passage without
    one has the report's title there.
    """
    path = " › ".join(chunk.heading) or doc.title
    head = " — ".join(p for p in (path, doc.outlet) if p)
    return f"{head}\n{chunk.text}" if head else chunk.text


def expected_settings(embedder: Embedder, chunker: ChunkerSettings) -> dict[str, Any]:
    """The manifest fields an index must match to be reused."""
    return {
        "embedding_model": embedder.name,
        "embedding_fingerprint": embedder.fingerprint,
        "dimension": embedder.dimension,
        "chunker": {"max_tokens": chunker.max_tokens, "overlap_tokens": chunker.overlap_tokens,
                    "encoding": chunker.encoding, "heading_chars": chunker.heading_chars},
    }


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    """Twelve hex digits that change whenever ``settings`` (see :func:`expected_settings`) do.

    A Qdrant collection carries it in its name; a FAISS manifest's settings give it too.
    """
    text = json.dumps(dict(settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def passages_digest(texts: Iterable[str]) -> str:
    """A digest of passage texts in order; equal digests mean equal texts.

    Each text is length-prefixed, so moving a boundary between two passages changes it.
    Computed once over the stored passages and once over the document's text at their
    offsets, it tells whether a kept passage is still the text it claims to be, even
    where the two are compared in different processes (``assistant index --workers``).
    """
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def text_at(text: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    """The pieces of ``text`` at ``spans`` (start, end), in order."""
    return [text[start:end] for start, end in spans]


def _on_page(text: str, page: int | None) -> str:
    """A passage's text for the digest, with its page when it has one.

    Without a page the text alone: an index of reports without pages digests as before.
    """
    return text if page is None else f"{text}\0page {page}"


def stored_digest(chunks: Iterable[Chunk]) -> str:
    """The :func:`passages_digest` of stored passages: their texts and pages, in order."""
    return passages_digest(_on_page(c.text, c.page) for c in chunks)


def text_digest(doc: Document, spans: Iterable[tuple[int, int]]) -> str:
    """The :func:`passages_digest` of ``doc`` at ``spans``: its text there and the pages.

    Equal to :func:`stored_digest` of passages that are still the text and page they
    claim to be; a report's passages stored without their page (an index from before
    pages were kept) differ, so such an index is rebuilt.
    """
    return passages_digest(_on_page(doc.text[start:end], page_of(doc, start))
                           for start, end in spans)


@dataclass(frozen=True)
class StoredDoc:
    """What the store holds of one document."""

    sha256: str  # the version its passages came from; "" when unknown or they disagree
    passages: int  # the passages held
    listed_passages: int | None  # the passage count recorded with it; None when not recorded
    text_digest: str  # passages_digest of the held passages' texts, in stored order

    @property
    def whole(self) -> bool:
        """Every passage of the recorded version is present."""
        return bool(self.sha256) and self.listed_passages == self.passages


@dataclass(frozen=True)
class StoredIndex:
    """What a store holds, as read: the input of :func:`plan_refresh` for one side."""

    found: bool  # an index (of any settings) exists
    fingerprint: str = ""  # settings_fingerprint of the settings it was built with
    documents: Mapping[str, StoredDoc] = field(default_factory=dict)  # by document id
    problem: str = ""  # why it could not be read at all; "" when it was
    atomic: bool = True  # written in one step (FAISS) rather than document by document
    listed: bool = True  # it lists its documents (a FAISS manifest's table is well formed)
    index_kind: str = ""  # the FAISS index kind; "" for a store without one


NOT_READ = StoredIndex(found=False)  # nothing read: none exists, or a rebuild was asked for


@dataclass(frozen=True)
class CorpusDoc:
    """A current document as planning sees it: no text, only its identity and version."""

    doc_id: str
    sha256: str
    title: str | None
    stored_text_digest: str = ""  # passages_digest of its text at its stored passages' offsets


def corpus_doc(doc: Document, stored: Sequence[Chunk]) -> CorpusDoc:
    """The planning record of ``doc``, checked against its ``stored`` passages."""
    return CorpusDoc(doc.doc_id, doc.sha256, doc.title,
                     text_digest(doc, ((c.start, c.end) for c in stored)))


@dataclass(frozen=True)
class RefreshPlan:
    """What a refresh does: per document keep, embed or delete, and what it will report."""

    status: str  # built, rebuilt, updated or up to date
    reason: str  # why a rebuild (or a rewrite of the vector index); "" when none
    rebuild: bool  # discard everything stored and start empty
    keep: tuple[str, ...]  # documents whose stored passages and vectors are reused (corpus order)
    embed: tuple[str, ...]  # documents chunked and embedded (corpus order)
    delete: tuple[str, ...]  # stored documents whose passages are deleted (sorted)
    removed: tuple[str, ...]  # stored documents no longer in the corpus (sorted)
    rewrite: bool = False  # write the index again although nothing is embedded or deleted

    @property
    def writes(self) -> bool:
        """Whether the store changes at all."""
        return self.status != UP_TO_DATE

    def report(self, chunks: int, embedded_chunks: int, seconds: float) -> BuildReport:
        """The report of this plan carried out: ``chunks`` passages in the index after it."""
        return BuildReport(self.status, len(self.keep) + len(self.embed), chunks, self.embed,
                           self.keep, self.removed, embedded_chunks, seconds, self.reason)


def damage(corpus: Sequence[CorpusDoc], stored: StoredIndex) -> str:
    """Why a readable stored index cannot be reused at all, or "" (rule 5 of the module)."""
    if not stored.listed:
        return UNLISTED_DOCUMENTS
    docs = stored.documents
    if stored.atomic:
        if any(d.listed_passages is None for d in docs.values()):
            return UNLISTED_PASSAGES
        if any(d.listed_passages != d.passages for d in docs.values()):
            return COUNTS_DIFFER
    for doc in corpus:
        held = docs.get(doc.doc_id)
        if (held is not None and held.whole and held.sha256 == doc.sha256
                and held.text_digest != doc.stored_text_digest):
            return f"the index passages of {doc.doc_id} do not match the report's text or pages"
    return ""


def plan_refresh(corpus: Sequence[CorpusDoc], stored: StoredIndex, fingerprint: str,
                 force: bool = False) -> RefreshPlan:
    """Decide what a refresh does (the rules of the module docstring, in order).

    ``corpus`` is the current documents in index order; ``fingerprint`` the
    :func:`settings_fingerprint` of the current embedding model and chunker settings.
    """
    ids = tuple(d.doc_id for d in corpus)
    if force:
        return _rebuild(ids, REBUILT, REQUESTED)
    if not stored.found:
        return _rebuild(ids, BUILT, "")
    reason = (stored.problem or (SETTINGS_CHANGED if stored.fingerprint != fingerprint else "")
              or damage(corpus, stored))
    if reason:
        return _rebuild(ids, REBUILT, reason)
    docs = stored.documents
    keep = tuple(d.doc_id for d in corpus
                 if (held := docs.get(d.doc_id)) is not None and held.whole
                 and held.sha256 == d.sha256)
    kept = set(keep)
    embed = tuple(i for i in ids if i not in kept)
    delete = tuple(sorted(set(docs) - kept))
    removed = tuple(sorted(set(docs) - set(ids)))
    if embed or delete:
        return RefreshPlan(UPDATED, "", False, keep, embed, delete, removed)
    if stored.index_kind:
        kind = ann.choose(sum(docs[k].passages for k in keep)).kind
        if kind != stored.index_kind:
            return RefreshPlan(UPDATED, f"the vector index kind changed ({stored.index_kind} -> "
                               f"{kind})", False, keep, (), (), (), rewrite=True)
    return RefreshPlan(UP_TO_DATE, "", False, keep, (), (), ())


def _rebuild(ids: tuple[str, ...], status: str, reason: str) -> RefreshPlan:
    """Every document embedded into an empty store."""
    return RefreshPlan(status, reason, True, (), ids, (), ())


def faiss_stored(manifest: Mapping[str, Any], chunks: Sequence[Chunk], settings_keys: Iterable[str],
                 index_kind: str) -> StoredIndex:
    """What a loaded FAISS generation holds: its manifest's settings and table, and its passages.

    A document the manifest lists gets its recorded SHA-256 and passage count; a
    document whose passages the index holds but the manifest does not list gets
    neither (which :func:`damage` reports).
    """
    fingerprint = settings_fingerprint({k: manifest.get(k) for k in settings_keys})
    listed = manifest.get("documents")
    if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
        return StoredIndex(True, fingerprint, {}, listed=False, index_kind=index_kind)
    held = group_by_doc(chunks)
    docs: dict[str, StoredDoc] = {}
    for doc_id, entry in listed.items():
        sha = entry.get("sha256")
        count = entry.get("chunks")
        passages = held.get(str(doc_id), [])
        docs[str(doc_id)] = StoredDoc(
            sha if isinstance(sha, str) else "", len(passages),
            count if isinstance(count, int) and not isinstance(count, bool) else -1,
            stored_digest(passages))
    for doc_id, passages in held.items():
        if doc_id not in docs:
            docs[doc_id] = StoredDoc("", len(passages), None, stored_digest(passages))
    return StoredIndex(True, fingerprint, docs, index_kind=index_kind)


def group_by_doc(chunks: Iterable[Chunk]) -> dict[str, list[Chunk]]:
    """The passages of each document, in the order given."""
    out: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        out.setdefault(chunk.doc_id, []).append(chunk)
    return out


@dataclass(frozen=True)
class ChunkTable:
    """The passages of an index in index order, and its manifest's table of documents."""

    chunks: list[Chunk]
    documents: dict[str, dict[str, Any]]  # doc id -> sha256, title, chunks (passage count)


def chunk_table(rows: Iterable[tuple[CorpusDoc, Sequence[Chunk]]]) -> ChunkTable:
    """The chunk table of an index holding each document's passages, in the order given.

    The one writer of the table both stores record (FAISS in its manifest and
    chunks file, Qdrant in its manifest), so the two describe an index alike.
    """
    chunks: list[Chunk] = []
    documents: dict[str, dict[str, Any]] = {}
    for doc, passages in rows:
        chunks.extend(passages)
        documents[doc.doc_id] = {"sha256": doc.sha256, "title": doc.title,
                                 "chunks": len(passages)}
    return ChunkTable(chunks, documents)
