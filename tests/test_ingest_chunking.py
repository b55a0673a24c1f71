"""Chunking: token-sized passages on sentence and paragraph boundaries, with exact offsets."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.chunking import chunk_text, count_tokens, sentence_spans
from assistant.ingest.documents import load_corpus
from assistant.settings import ChunkerSettings
from conftest import CORPUS

WORDS = st.sampled_from(["Beijing", "chips", "the", "U.S.", "approved", "400,000", "Dr.",
                         "Nvidia’s", "H200", "émigré", "数据", "😀", "a", "and", "—"])
SENTENCE = st.lists(WORDS, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)
DOCUMENT = st.lists(PARAGRAPH, min_size=1, max_size=8).map("\n\n".join)


def _check(text: str, cfg: ChunkerSettings) -> None:
    chunks = chunk_text("doc", text, cfg)
    covered = [False] * len(text)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.tokens == count_tokens(chunk.text) <= cfg.max_tokens
        assert chunk.text == chunk.text.strip()
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    for i, ch in enumerate(text):
        assert covered[i] or ch.isspace(), f"character {i} ({ch!r}) is in no chunk"
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT, st.integers(min_value=8, max_value=120), st.integers(min_value=0, max_value=7))
def test_chunks_are_exact_spans_within_budget(text: str, size: int, overlap: int) -> None:
    _check(text, ChunkerSettings(max_tokens=size, overlap_tokens=overlap))


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=0, max_size=600))
def test_arbitrary_text_never_breaks_offsets(text: str) -> None:
    _check(text, ChunkerSettings(max_tokens=16, overlap_tokens=4))


def test_long_sentence_is_cut_at_token_boundaries() -> None:
    text = "word " * 500
    chunks = chunk_text("d", text.strip(), ChunkerSettings(max_tokens=50, overlap_tokens=0))
    assert len(chunks) >= 10
    assert all(c.tokens <= 50 for c in chunks)


def test_overlap_repeats_the_previous_sentence_inside_a_paragraph() -> None:
    sentences = [f"Sentence number {i} talks about chips and exports." for i in range(12)]
    text = " ".join(sentences)
    chunks = chunk_text("d", text, ChunkerSettings(max_tokens=40, overlap_tokens=12))
    assert len(chunks) > 2
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "consecutive chunks inside one paragraph should overlap"


def test_chunks_prefer_paragraph_boundaries() -> None:
    para = "This paragraph has a few words about chips. It has two sentences."
    text = "\n\n".join([para] * 6)
    for chunk in chunk_text("d", text, ChunkerSettings(max_tokens=40, overlap_tokens=10)):
        assert chunk.text.startswith("This paragraph")
        assert chunk.text.endswith("two sentences.")


def test_abbreviations_do_not_end_sentences() -> None:
    text = "U.S. officials met Dr. Smith on Monday. They talked."
    spans = [text[a:b] for a, b in sentence_spans(text, 0, len(text))]
    assert spans == ["U.S. officials met Dr. Smith on Monday.", "They talked."]


def test_seed_chunks_fit_the_default_budget() -> None:
    for doc in load_corpus(CORPUS).documents:
        chunks = chunk_text(doc.doc_id, doc.text, ChunkerSettings())
        assert chunks
        assert all(doc.text[c.start : c.end] == c.text for c in chunks)
        assert all(c.tokens <= 180 for c in chunks)
