"""Corpus mode steers the reply to one passage: the model's choice, checked by retrieval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from assistant.answering import choose_passage, passage_order
from assistant.core import Assistant
from assistant.records import Chunk, Hit
from assistant.settings import Settings
from conftest import CORPUS, TOMS, FakeEmbedder, ScriptedGenerator


def _hit(doc: str, start: int, end: int, rank: int = 1) -> Hit:
    return Hit(Chunk(doc, start, end, "x" * (end - start), 10), 1.0, rank)


def test_passage_order_maps_chunks_to_the_passages_they_overlap_most() -> None:
    passages = [_hit("a", 0, 100), _hit("a", 100, 200), _hit("b", 0, 100)]
    hits = [_hit("b", 0, 120), _hit("a", 80, 190), _hit("a", 90, 200), _hit("c", 0, 50)]
    assert passage_order(hits, passages) == [3, 2]


def test_the_models_choice_stands_unless_retrieval_ranks_it_low() -> None:
    scores = [-3.0, -0.2, -2.0, -4.0]  # the model prefers passage 2
    assert choose_passage(scores, [2, 4]) == 2
    assert choose_passage(scores, [4, 2, 1]) == 2  # second in retrieval: kept
    assert choose_passage(scores, [4, 1, 2]) == 4  # third: retrieval's first instead
    assert choose_passage(scores, []) == 2


class SteerableGenerator(ScriptedGenerator):
    """A scripted model that also exposes passage probabilities and prefixed replies."""

    def __init__(self, favourite: int, answer: str) -> None:
        super().__init__([answer])
        self.favourite = favourite
        self.prefixes: list[str] = []

    def option_logprobs(self, messages: list[dict[str, str]], prefix: str,
                        options: list[str]) -> list[float]:
        assert prefix == "Passage: "
        return [0.0 if option.strip() == str(self.favourite) else -5.0 for option in options]

    def stream_after(self, messages: list[dict[str, str]], prefix: str,
                     max_tokens: int) -> Iterator[str]:
        self.prefixes.append(prefix)
        yield from self.stream(messages, max_tokens)


def _passage_with(messages: list[dict[str, str]], needle: str) -> int:
    text = "\n".join(m["content"] for m in messages)
    for block in text.split("<passage n=")[1:]:
        if needle in block:
            return int(block.split('"')[1])
    raise AssertionError(needle)


def test_corpus_mode_reply_starts_with_the_chosen_passage(tmp_path: Path) -> None:
    settings = Settings.from_env(context_mode="corpus", min_relevance=0.0,
                                 extractive_threshold=9.0)
    embedder = FakeEmbedder()
    probe = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", settings=settings,
                           embedder=embedder, generator=ScriptedGenerator(["x"]))
    probe.ask("What tax applies to the re-exported chips?")
    prompt = probe.generator.prompts[-1]  # type: ignore[attr-defined]
    tax = _passage_with(prompt, "taxed at 25%")
    question = "What tax applies to H200 chips re-exported to approved Chinese buyers?"
    # the model favours the passage retrieval ranks first: it stands, and the answer is kept
    gen = SteerableGenerator(tax, " Chips would be taxed at 25% and then re-exported.")
    a = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", settings=settings,
                       embedder=embedder, generator=gen)
    answer = a.ask(question)
    assert gen.prefixes == [f"Passage: {tax}\nAnswer:"]
    assert answer.timings["chosen_passage"] == tax
    assert not answer.refused and [c.doc_id for c in answer.citations] == [TOMS]
    assert answer.trace["reply"].startswith(f"Passage: {tax}\nAnswer:")
    assert "taxed at 25%" in answer.trace["reply"]
    # the model favours a passage retrieval does not rank in its first two: retrieval wins
    order = passage_order(a.search(question, k=settings.top_k), a.corpus_prompt(gen) or [])
    low = next(n for n in range(1, 10) if n not in order[:2])
    other = SteerableGenerator(low, " Chips would be taxed at 25%.")
    b = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", settings=settings,
                       embedder=embedder, generator=other)
    b.ask(question)
    assert other.prefixes == [f"Passage: {order[0]}\nAnswer:"]
