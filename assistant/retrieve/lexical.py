"""Lexical retrieval: Okapi BM25 over the passages, with the verifier's tokenizer.

Built in memory from the chunk table when the index is opened (no extra files),
so it can never disagree with the dense index. A passage is searched together with
the headings it sits under (:func:`searched_texts`): a question naming a function or a
section finds the passage under that heading, even when the passage's own text does
not repeat it. Each term's postings are kept as
NumPy arrays of passage positions and their precomputed BM25 weights (the weight
of a term in a passage does not depend on the query), so a search adds a few
arrays instead of looping over postings in Python: tens of thousands of passages
are searched in about a millisecond. Tokens of each distinct word are computed
once (words repeat a lot), which keeps the build fast too.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from assistant.records import Chunk, doc_positions
from assistant.text import terms


def searched_texts(chunks: Sequence[Chunk]) -> list[str]:
    """What BM25 indexes for each of ``chunks`` (an index's passages): headings, then text.

    A passage's headings are its heading path (:attr:`Chunk.heading`) without the part
    that every passage of its report shares (the report's title, or a heading over the
    whole report): those words do not tell its passages apart, and adding the title's
    words to every passage ranked the news questions of ``tests/data/questions.jsonl``
    worse (lexical MRR@5 0.840 to 0.804). The headings are
    context for the search only; a passage's text, offsets and quotes never include them.
    """
    shared = {doc_id: _shared_length([chunks[p].heading for p in positions])
              for doc_id, positions in doc_positions(chunks).items()}
    return ["\n".join((*c.heading[shared[c.doc_id]:], c.text)) for c in chunks]


def _shared_length(paths: Sequence[tuple[str, ...]]) -> int:
    """How many headings, from the first, all of ``paths`` have in common."""
    n = min(map(len, paths), default=0)
    for i in range(n):
        if any(path[i] != paths[0][i] for path in paths):
            return i
    return n


class BM25:
    """Okapi BM25 (k1 = 1.2, b = 0.75) over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._k1, self._b = k1, b
        term_ids: dict[str, int] = {}
        rows: list[int] = []  # term id of each posting, in passage order
        positions: list[int] = []
        freqs: list[int] = []
        lengths: list[int] = []
        for pos, text in enumerate(texts):
            counts = Counter(_tokens(text))
            lengths.append(sum(counts.values()))
            for term, freq in counts.items():
                rows.append(term_ids.setdefault(term, len(term_ids)))
                positions.append(pos)
                freqs.append(freq)
        self._lengths = np.asarray(lengths, dtype=np.float64)
        self._avg = float(sum(lengths) / len(lengths)) if lengths else 0.0
        n = len(lengths)
        term_of = np.asarray(rows, dtype=np.int64)
        order = np.argsort(term_of, kind="stable")  # group by term, passages ascending
        self._positions = np.asarray(positions, dtype=np.int64)[order]
        tf = np.asarray(freqs, dtype=np.float64)[order]
        counts_per_term = np.bincount(term_of, minlength=len(term_ids))
        self._starts = np.concatenate([[0], np.cumsum(counts_per_term)]).astype(np.int64)
        idf = np.array([math.log(1 + (n - df + 0.5) / (df + 0.5))
                        for df in counts_per_term.tolist()], dtype=np.float64)
        if len(tf):
            # Same operations in the same order as the textbook loop, so scores are identical.
            norm = tf + k1 * (1 - b + b * self._lengths[self._positions] / self._avg)
            self._weights = np.repeat(idf, counts_per_term) * tf * (k1 + 1) / norm
        else:
            self._weights = np.zeros(0, dtype=np.float64)
        self._term_ids = term_ids

    def __len__(self) -> int:
        return len(self._lengths)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best texts for ``query`` as (position, score), best first.

        Texts sharing no word with the query are left out; equal scores are ranked
        by position.
        """
        if k <= 0 or not len(self._lengths):
            return []
        scores = np.zeros(len(self._lengths), dtype=np.float64)
        matched = False
        for term in set(_tokens(query)):
            tid = self._term_ids.get(term)
            if tid is None:
                continue
            start, stop = self._starts[tid], self._starts[tid + 1]
            scores[self._positions[start:stop]] += self._weights[start:stop]
            matched = True
        if not matched:
            return []
        candidates = np.flatnonzero(scores)
        values = scores[candidates]
        if len(candidates) > k:
            kth = np.partition(values, len(values) - k)[len(values) - k]
            keep = values >= kth
            candidates, values = candidates[keep], values[keep]
        order: npt.NDArray[np.intp] = np.lexsort((candidates, -values))[:k]
        return [(int(candidates[i]), float(values[i])) for i in order]


@lru_cache(maxsize=200_000)
def _word_tokens(word: str) -> tuple[str, ...]:
    """The stemmed content words of one whitespace-separated word."""
    return tuple(terms(word))


def _tokens(text: str) -> list[str]:
    """Stemmed content words, one per occurrence."""
    return [t for word in text.split() for t in _word_tokens(word)]
