"""Sentence-level ranking: which sentence of the passages best matches a question.

The model reads whole passages and may answer from the wrong sentence of them.
This ranks the passages' sentences on their own, with two signals that do not
depend on the model:

* lexical coverage: the share of the question's content words (weighted by
  inverse document frequency over the candidate sentences) that the sentence
  contains, so rare words such as "Bloomberg" or "market share" count most;
* dense similarity: the cosine between the question's and the sentence's
  embeddings, for paraphrases.

The score is their sum (each lies in [0, 1]). :mod:`assistant.answer.decide`
uses the best sentence when the model finds no answer.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answer import comparison
from assistant.answer.claims import Evidence, referent
from assistant.models.embedding import Embedder
from assistant.records import Document, Hit, heading_path
from assistant.text import terms

_CACHED_RANKINGS = 8  # a memo of the last rankings: it changes no answer


@dataclass(frozen=True)
class RankedSentence:
    """One sentence of passage ``n`` (1-based, as numbered in the prompt) with its scores."""

    n: int
    text: str
    coverage: float
    similarity: float
    matched: int = 0  # how many of the question's content words the sentence contains

    @property
    def score(self) -> float:
        """Coverage plus similarity."""
        return self.coverage + self.similarity


def passage_sentences(passages: Sequence[str]) -> list[tuple[int, str]]:
    """Every sentence of ``passages`` as (passage number, sentence)."""
    return [(n, unit) for n, text in enumerate(passages, start=1)
            for unit in Evidence(text).units()]


def sentence_terms(passages: Sequence[str], sentences: Sequence[tuple[int, str]],
                   outlets: Sequence[str | None] = ()) -> list[set[str]]:
    """Each sentence's content words, with the names its "he", "she" or "the Post" stand for.

    "..., he told journalists upon arrival in Taiwan" matches a question about Huang
    as the sentence before it, which names him, does (:func:`claims.referent`).
    ``outlets`` are the passages' outlets (by position; ``None`` when unknown): a
    sentence of the South China Morning Post that calls it "the Post"
    (:func:`comparison.self_reference`) matches a question that names the outlet.
    """
    # per passage: how its report calls its own outlet, and the outlet's names
    own = [(comparison.self_reference(outlet), " ".join(comparison.outlet_aliases(outlet)))
           if outlet else (None, "") for outlet in outlets]
    found = []
    for n, text in sentences:
        pattern, names = own[n - 1] if n <= len(own) else (None, "")
        named = names if pattern is not None and pattern.search(text) else ""
        found.append(terms(f"{referent(passages[n - 1], text)} {named} {text}"))
    return found


class SentenceRanker:
    """Ranks the sentences of a fixed list of passages against questions.

    Sentence embeddings are computed once per passage list (in corpus mode the
    list is the whole corpus and stays the same for every question). ``outlets`` are
    the passages' outlets, for the names a report calls itself by (:func:`sentence_terms`).
    """

    def __init__(self, passages: Sequence[str], embedder: Embedder,
                 outlets: Sequence[str | None] = ()) -> None:
        self._recent: dict[str, list[RankedSentence]] = {}  # the last questions' rankings
        self._lock = threading.Lock()
        self._sentences = passage_sentences(passages)
        self._embedder = embedder
        self._terms = sentence_terms(passages, self._sentences, outlets)
        df: dict[str, int] = {}
        for words in self._terms:
            for word in words:
                df[word] = df.get(word, 0) + 1
        self._df = df
        texts = [text for _, text in self._sentences]
        self._vectors = (np.asarray(embedder.embed(texts), dtype=np.float32) if texts
                         else np.zeros((0, embedder.dimension), dtype=np.float32))

    def __len__(self) -> int:
        return len(self._sentences)

    def idf(self, word: str) -> float:
        """How rare ``word`` (a term, :func:`assistant.text.terms`) is among the sentences."""
        total = len(self._sentences)
        return math.log((total + 1) / (self._df.get(word, 0) + 0.5))

    def rank(self, question: str) -> list[RankedSentence]:
        """The sentences, best match for ``question`` first.

        An answer ranks for the same question several times (chosen passage, second
        opinion, other reports); the last few rankings are kept.
        """
        with self._lock:
            cached = self._recent.get(question)
        if cached is not None:
            return list(cached)
        ranked = self._rank(question)
        with self._lock:
            if len(self._recent) >= _CACHED_RANKINGS:
                self._recent.pop(next(iter(self._recent)))
            self._recent[question] = ranked
        return list(ranked)

    def _rank(self, question: str) -> list[RankedSentence]:
        if not self._sentences:
            return []
        asked = terms(question)
        weight = sum(self.idf(w) for w in asked)
        query = np.asarray(self._embedder.embed([question]), dtype=np.float32)[0]
        cosines = self._vectors @ query
        ranked = [
            RankedSentence(n, text,
                           (sum(self.idf(w) for w in asked & words) / weight) if weight else 0.0,
                           float(cosines[i]), len(asked & words))
            for i, ((n, text), words) in enumerate(zip(self._sentences, self._terms, strict=True))
        ]
        ranked.sort(key=lambda r: r.score, reverse=True)
        return ranked


def sentence_windows(hits: Sequence[Hit], ranked: Sequence[RankedSentence],
                     documents: Mapping[str, Document], keep: int, around: int) -> list[Hit]:
    """The passages cut down to the sentences that bear on the question.

    The ``keep`` best-ranked sentences, each with ``around`` sentences either side in
    its own passage, make one window per passage: from its first kept sentence to its
    last, with exact offsets (a window is a passage of its own, quoted and cited as
    such), under the headings its start sits below. Passages with no kept sentence are
    left out; the rest keep their retrieval order.
    """
    spans = [_sentence_offsets(hit.chunk.text) for hit in hits]
    kept: dict[int, set[int]] = {}
    for sentence in ranked[:keep]:
        offsets = spans[sentence.n - 1]
        found = next((i for i, (a, b) in enumerate(offsets)
                      if hits[sentence.n - 1].chunk.text[a:b] == sentence.text), None)
        if found is None:
            continue
        lo, hi = max(0, found - around), min(len(offsets) - 1, found + around)
        kept.setdefault(sentence.n - 1, set()).update(range(lo, hi + 1))
    windows = []
    for i, hit in enumerate(hits):
        if i not in kept:
            continue
        chunk = hit.chunk
        first, last = spans[i][min(kept[i])][0], spans[i][max(kept[i])][1]
        doc = documents.get(chunk.doc_id)
        start = chunk.start + first
        heading = heading_path(doc, start) if doc is not None else chunk.heading
        windows.append(dataclasses.replace(hit, chunk=dataclasses.replace(
            chunk, start=start, end=chunk.start + last, text=chunk.text[first:last],
            tokens=max(1, round(chunk.tokens * (last - first) / max(1, len(chunk.text)))),
            heading=heading)))
    return windows


def _sentence_offsets(text: str) -> list[tuple[int, int]]:
    """Where each sentence of ``text`` (as :class:`Evidence` splits it) starts and ends."""
    offsets, pos = [], 0
    for unit in Evidence(text).units():
        at = text.find(unit, pos)
        if at < 0:
            continue
        offsets.append((at, at + len(unit)))
        pos = at + len(unit)
    return offsets
