"""Retrieval: BM25 and dense search combined, the off-topic gate, follow-ups searched alone."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from assistant.core import Assistant
from assistant.retrieve.lexical import BM25
from assistant.retrieve.retriever import Retriever
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


def test_a_name_written_in_a_passage_always_reaches_the_model(make_assistant: Make) -> None:
    # A relevance bar no sentence reaches: only the lexical evidence can open the gate.
    a = make_assistant(["Passage: 1\nAnswer: A reporter [1]."], min_relevance=1.5)
    answer = a.ask("Who is Wency Chen?")
    assert a.generator.prompts  # type: ignore[attr-defined]
    assert "written in a passage: Wency Chen" in answer.trace["gate"]
    refused = make_assistant(["Passage: 1\nAnswer: Canberra [1]."], min_relevance=1.5)
    off = refused.ask("Who is Bartholomew Quigley?")
    assert off.refused and refused.generator.prompts == []  # type: ignore[attr-defined]
    assert "no name or figure" in off.trace["gate"]


def test_a_follow_up_is_searched_and_asked_standing_alone(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: He said so [1].",
                        "Passage: 1\nAnswer: In Taiwan [1]."])
    first = a.ask("Who is Randy Abrams?")
    history = [{"role": "user", "content": "Who is Randy Abrams?"},
               {"role": "assistant", "content": first.text}]
    answer = a.ask("Where does he work?", history=history)
    assert answer.question == "Where does he work?"
    assert answer.trace["standalone"] == "Where does Randy Abrams work?"
    last_prompt = a.generator.prompts[-1]  # type: ignore[attr-defined]
    assert "Question: Where does Randy Abrams work?" in last_prompt[-1]["content"]
