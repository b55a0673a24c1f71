"""Sentence-level ranking (assistant.answer.evidence) with the fake bag-of-words embedder."""

from __future__ import annotations

from assistant.answer.evidence import SentenceRanker, passage_sentences
from conftest import FakeEmbedder

PASSAGES = [
    "The H200 is a chip. The H200 ships to China. Bloomberg first reported the H200 plan.",
    "Officials met on Monday. The H200 tax is 25%.",
]


def test_sentences_are_numbered_by_passage() -> None:
    found = passage_sentences(PASSAGES)
    assert [n for n, _ in found] == [1, 1, 1, 2, 2]
    assert found[2] == (1, "Bloomberg first reported the H200 plan.")


def test_rare_question_words_decide_the_ranking() -> None:
    ranker = SentenceRanker(PASSAGES, FakeEmbedder())
    assert len(ranker) == 5
    ranked = ranker.rank("Which outlet first reported the H200 plan?")
    best = ranked[0]
    assert best.text == "Bloomberg first reported the H200 plan." and best.n == 1
    assert best.matched == 3  # report, H200, plan ("outlet" is in no sentence)
    assert 0.4 < best.coverage < 0.7
    # "H200" is in most sentences, so a sentence sharing only it covers little
    only_h200 = next(r for r in ranked if r.text == "The H200 is a chip.")
    assert only_h200.matched == 1 and only_h200.coverage < 0.2
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_no_passages_rank_nothing() -> None:
    ranker = SentenceRanker([], FakeEmbedder())
    assert len(ranker) == 0 and ranker.rank("anything?") == []


def test_a_question_is_embedded_once_for_repeated_rankings() -> None:
    embedder = FakeEmbedder()
    ranker = SentenceRanker(PASSAGES, embedder)
    calls = len(embedder.calls)
    first = ranker.rank("Which outlet first reported the H200 plan?")
    again = ranker.rank("Which outlet first reported the H200 plan?")
    assert again == first and again is not first
    assert len(embedder.calls) == calls + 1
    ranker.rank("Where do officials meet?")
    assert len(embedder.calls) == calls + 2
