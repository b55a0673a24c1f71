from __future__ import annotations

import itertools
from collections.abc import Callable

from assistant.core import Assistant
from assistant.lexical import BM25
from assistant.retrieval import Retriever
from conftest import TOMS

Make = Callable[..., Assistant]


def test_bm25_ranks_by_rare_shared_words() -> None:
    bm25 = BM25(["the cat sat on the mat", "dogs chase cats in parks", "window guidance was used"])
    assert [pos for pos, _ in bm25.search("cats and dogs", 3)] == [1, 0]
    assert bm25.search("guidance", 3)[0][0] == 2
    assert bm25.search("unrelated words", 3) == []


def test_hybrid_finds_lexical_matches_dense_misses(make_assistant: Make) -> None:
    a = make_assistant()
    index, embedder = a._retriever.index, a._retriever.embedder
    lexical = Retriever(index, embedder, mode="lexical").search("Bloomberg first reported", 1)
    assert "Bloomberg first reported" in lexical[0].chunk.text
    hybrid = Retriever(index, embedder).search("Which outlet first reported it? Bloomberg", 3)
    assert any("Bloomberg" in h.chunk.text for h in hybrid)
    assert [h.rank for h in hybrid] == [1, 2, 3]
    assert all(a.score >= b.score for a, b in itertools.pairwise(hybrid))


def test_off_topic_question_is_refused_without_the_model(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: Canberra is the capital [1]."], min_relevance=0.3)
    answer = a.ask("zebra xylophone quokka")
    assert answer.refused and answer.timings["relevance"] < a.settings.min_relevance
    assert a.generator.prompts == []  # type: ignore[attr-defined]
    on_topic = a.ask("How would the restrictions be communicated through window guidance?")
    assert on_topic.timings["relevance"] >= a.settings.min_relevance
    assert a.generator.prompts  # type: ignore[attr-defined]
    assert TOMS in {h.chunk.doc_id for h in on_topic.hits}
