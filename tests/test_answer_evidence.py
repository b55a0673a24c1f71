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


def test_a_report_calling_its_outlet_the_post_names_the_outlet() -> None:
    """"Alibaba owns the Post." in the South China Morning Post's report matches a
    question naming the outlet; the same words in another outlet's report do not."""
    passages = ["Alibaba owns the Post.", "Alibaba owns the Post."]
    question = "Who owns the South China Morning Post?"
    own = SentenceRanker(passages, FakeEmbedder(), ["South China Morning Post", "Reuters"])
    by_passage = {r.n: r.matched for r in own.rank(question)}
    assert by_passage == {1: 4, 2: 1}  # south, china, morning, post; post alone
    assert SentenceRanker(passages[:1], FakeEmbedder()).rank(question)[0].matched == 1


def test_only_a_name_of_two_words_or_more_is_shortened() -> None:
    from assistant.answer.comparison import self_reference

    post = self_reference("South China Morning Post")
    assert post is not None and post.search("Alibaba owns the Post.")
    assert not post.search("Alibaba owns the post office.")  # a capital, as names are written
    assert self_reference("Reuters") is None
    assert self_reference("The BBC") is None  # initials are not shortened


def test_sentence_windows_cut_passages_to_the_best_sentences_with_exact_offsets() -> None:
    from assistant.answer.evidence import RankedSentence, sentence_windows
    from assistant.records import Chunk, Hit

    text = "Alpha one. Beta two. Gamma three. Delta four. Epsilon five."
    other = "Zeta six. Eta seven."
    document = "x" * 100 + text
    hits = [Hit(Chunk("d", 100, 100 + len(text), text, 20, heading=("H",)), 0.9, 1),
            Hit(Chunk("e", 0, len(other), other, 6), 0.5, 2)]
    ranked = [RankedSentence(1, "Gamma three.", 1.0, 1.0),
              RankedSentence(2, "Eta seven.", 0.5, 0.5)]
    (window,) = sentence_windows(hits, ranked, {}, keep=1, around=1)
    assert window.chunk.text == "Beta two. Gamma three. Delta four."
    assert document[window.chunk.start:window.chunk.end] == window.chunk.text
    assert window.chunk.heading == ("H",) and window.rank == 1
    assert 0 < window.chunk.tokens < 20
    both = sentence_windows(hits, ranked, {}, keep=2, around=0)
    assert [w.chunk.text for w in both] == ["Gamma three.", "Eta seven."]
    # two kept sentences of one passage make one window from the first to the last
    spread = sentence_windows(hits, [ranked[0], RankedSentence(1, "Alpha one.", 1, 1)], {},
                              keep=2, around=0)
    assert [w.chunk.text for w in spread] == ["Alpha one. Beta two. Gamma three."]
