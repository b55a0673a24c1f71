"""The refresh plan: what to keep, embed and delete, decided without I/O from small fakes."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.index import ann
from assistant.index.refresh_plan import (
    BUILT,
    COUNTS_DIFFER,
    NOT_READ,
    REBUILT,
    REQUESTED,
    SETTINGS_CHANGED,
    UNLISTED_DOCUMENTS,
    UNLISTED_PASSAGES,
    UP_TO_DATE,
    UPDATED,
    CorpusDoc,
    StoredDoc,
    StoredIndex,
    chunk_table,
    corpus_doc,
    faiss_stored,
    passages_digest,
    plan_refresh,
    settings_fingerprint,
)
from assistant.records import Chunk, Document

SETTINGS = {"embedding_model": "m", "embedding_fingerprint": "f", "dimension": 4,
            "chunker": {"max_tokens": 180, "overlap_tokens": 40, "encoding": "e"}}
FP = settings_fingerprint(SETTINGS)


def _doc(doc_id: str, text: str) -> Document:
    return Document(doc_id, f"{doc_id}.txt", text, f"sha-{doc_id}-{len(text)}", title=doc_id)


def _chunks(doc: Document, size: int = 5) -> list[Chunk]:
    return [Chunk(doc.doc_id, i, min(i + size, len(doc.text)), doc.text[i : i + size], 1)
            for i in range(0, len(doc.text), size)]


def _stored(docs: list[Document], *, atomic: bool = True, kind: str = "",
            **overrides: StoredDoc) -> StoredIndex:
    """A store holding ``docs`` whole, with per-document ``overrides``."""
    held = {d.doc_id: StoredDoc(d.sha256, len(_chunks(d)), len(_chunks(d)),
                                passages_digest(c.text for c in _chunks(d))) for d in docs}
    held.update(overrides)
    return StoredIndex(True, FP, held, atomic=atomic, index_kind=kind)


def _corpus(docs: list[Document], stored: list[Document] | None = None) -> list[CorpusDoc]:
    """The planning records of ``docs``, checked against ``stored`` versions' passages."""
    before = {d.doc_id: _chunks(d) for d in (stored if stored is not None else docs)}
    return [corpus_doc(d, before.get(d.doc_id, [])) for d in docs]


A, B, C = _doc("a", "alpha text here"), _doc("b", "bravo text"), _doc("c", "charlie")


def test_no_index_builds_everything() -> None:
    plan = plan_refresh(_corpus([A, B]), NOT_READ, FP)
    assert (plan.status, plan.reason, plan.rebuild) == (BUILT, "", True)
    assert plan.embed == ("a", "b") and plan.keep == plan.delete == plan.removed == ()


@pytest.mark.parametrize("atomic", [True, False])
def test_a_requested_rebuild_discards_what_is_stored(atomic: bool) -> None:
    for stored in (NOT_READ, _stored([A, B], atomic=atomic)):
        plan = plan_refresh(_corpus([A, B]), stored, FP, force=True)
        assert (plan.status, plan.reason, plan.rebuild) == (REBUILT, REQUESTED, True)
        assert plan.embed == ("a", "b") and plan.keep == ()


def test_an_unreadable_store_or_other_settings_rebuild_with_the_reason() -> None:
    damaged = StoredIndex(True, problem="the index file vectors.faiss is damaged")
    plan = plan_refresh(_corpus([A]), damaged, FP)
    assert (plan.status, plan.reason, plan.embed) == (REBUILT, damaged.problem, ("a",))
    other = dataclasses.replace(_stored([A]), fingerprint=settings_fingerprint(
        dict(SETTINGS, embedding_fingerprint="g")))
    plan = plan_refresh(_corpus([A]), other, FP)
    assert (plan.status, plan.reason, plan.rebuild) == (REBUILT, SETTINGS_CHANGED, True)
    assert plan.removed == ()  # nothing stored is trusted, not even its listing


@pytest.mark.parametrize("atomic", [True, False])
def test_incremental_keeps_unchanged_embeds_new_and_changed_deletes_gone(atomic: bool) -> None:
    changed = _doc("b", "bravo text, edited")
    plan = plan_refresh(_corpus([A, changed, C], stored=[A, B]), _stored([A, B], atomic=atomic),
                        FP)
    assert (plan.status, plan.reason, plan.rebuild) == (UPDATED, "", False)
    assert plan.keep == ("a",) and plan.embed == ("b", "c")
    assert plan.delete == ("b",) and plan.removed == ()
    plan = plan_refresh(_corpus([C, A], stored=[A, B]), _stored([A, B], atomic=atomic), FP)
    assert plan.keep == ("a",) and plan.embed == ("c",)  # corpus order
    assert plan.delete == ("b",) and plan.removed == ("b",)
    report = plan.report(chunks=9, embedded_chunks=2, seconds=0.5)
    assert (report.status, report.documents, report.chunks) == (UPDATED, 2, 9)
    assert (report.embedded_documents, report.reused_documents, report.removed_documents) == (
        ("c",), ("a",), ("b",))


def test_nothing_changed_is_up_to_date() -> None:
    plan = plan_refresh(_corpus([A, B]), _stored([A, B]), FP)
    assert (plan.status, plan.writes) == (UP_TO_DATE, False)
    assert plan.keep == ("a", "b") and plan.embed == plan.delete == ()


def test_an_atomic_store_that_disagrees_with_its_listing_is_rebuilt() -> None:
    short = dataclasses.replace(_stored([A]).documents["a"], listed_passages=1)
    plan = plan_refresh(_corpus([A]), _stored([A], a=short), FP)
    assert (plan.status, plan.reason) == (REBUILT, COUNTS_DIFFER)
    unlisted = dataclasses.replace(_stored([A]).documents["a"], sha256="", listed_passages=None)
    plan = plan_refresh(_corpus([A, B]), _stored([B], a=unlisted), FP)
    assert (plan.status, plan.reason) == (REBUILT, UNLISTED_PASSAGES)
    bad_table = dataclasses.replace(_stored([A]), listed=False)
    assert plan_refresh(_corpus([A]), bad_table, FP).reason == UNLISTED_DOCUMENTS


def test_a_document_stored_in_part_is_embedded_again_in_a_batched_store() -> None:
    part = dataclasses.replace(_stored([A]).documents["a"], passages=1, listed_passages=None)
    plan = plan_refresh(_corpus([A, B]), _stored([B], atomic=False, a=part), FP)
    assert (plan.status, plan.reason, plan.rebuild) == (UPDATED, "", False)
    assert plan.keep == ("b",) and plan.embed == ("a",) and plan.delete == ("a",)


@pytest.mark.parametrize("atomic", [True, False])
def test_kept_passages_must_still_be_the_text(atomic: bool) -> None:
    moved = Document("a", "a.txt", "Xalpha text her", A.sha256, title="a")  # same SHA, claimed
    plan = plan_refresh([corpus_doc(moved, _chunks(A))], _stored([A], atomic=atomic), FP)
    assert plan.status == REBUILT and plan.reason == (
        "the index passages of a do not match the report's text or pages")
    # A changed document is embedded anyway: its old passages are not checked.
    plan = plan_refresh(_corpus([_doc("a", "new text")], stored=[A]),
                        _stored([A], atomic=atomic), FP)
    assert plan.status == UPDATED and plan.embed == ("a",)


def test_a_new_index_kind_rewrites_the_index_without_embedding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _stored([A, B], kind=ann.FLAT)
    assert plan_refresh(_corpus([A, B]), stored, FP).status == UP_TO_DATE
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 2)
    plan = plan_refresh(_corpus([A, B]), stored, FP)
    assert (plan.status, plan.rewrite, plan.embed) == (UPDATED, True, ())
    assert plan.reason == f"the vector index kind changed (flat -> {ann.LARGE_KIND})"
    assert plan_refresh(_corpus([A, B]), _stored([A, B]), FP).status == UP_TO_DATE  # no kind


def test_the_plan_is_frozen() -> None:
    plan = plan_refresh(_corpus([A]), NOT_READ, FP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.status = UP_TO_DATE  # type: ignore[misc]


def test_faiss_stored_reads_the_manifest_table_against_the_passages() -> None:
    chunks = _chunks(A) + _chunks(C)
    manifest = dict(SETTINGS, generation="gen-x", documents={
        "a": {"sha256": A.sha256, "title": "a", "chunks": len(_chunks(A))},
        "b": {"sha256": B.sha256, "title": "b", "chunks": 0},
        "bad": {"sha256": 7, "chunks": True}})
    stored = faiss_stored(manifest, chunks, SETTINGS, ann.FLAT)
    assert stored.fingerprint == FP and stored.index_kind == ann.FLAT and stored.listed
    docs = stored.documents
    assert docs["a"].whole and docs["a"].text_digest == passages_digest(
        c.text for c in _chunks(A))
    assert docs["b"] == StoredDoc(B.sha256, 0, 0, passages_digest([]))
    assert docs["bad"].sha256 == "" and docs["bad"].listed_passages == -1
    assert docs["c"].listed_passages is None and docs["c"].passages == len(_chunks(C))
    assert not faiss_stored(dict(manifest, documents=["a"]), chunks, (), "").listed


def test_the_chunk_table_follows_the_given_order() -> None:
    table = chunk_table([(CorpusDoc("c", "s-c", None), _chunks(C)),
                         (CorpusDoc("a", "s-a", "A"), _chunks(A))])
    assert [c.doc_id for c in table.chunks] == ["c"] * len(_chunks(C)) + ["a"] * len(_chunks(A))
    assert table.documents == {"c": {"sha256": "s-c", "title": None, "chunks": len(_chunks(C))},
                               "a": {"sha256": "s-a", "title": "A", "chunks": len(_chunks(A))}}
    assert list(table.documents) == ["c", "a"]


def test_the_digest_sees_passage_boundaries() -> None:
    assert passages_digest(["ab", "c"]) != passages_digest(["a", "bc"])
    assert passages_digest(["ab", "c"]) == passages_digest(iter(["ab", "c"]))
    assert passages_digest([]) == corpus_doc(A, []).stored_text_digest
