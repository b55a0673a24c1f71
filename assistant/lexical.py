"""Lexical retrieval: Okapi BM25 over the passages, with the verifier's tokenizer.

Built in memory from the chunk table when the index is opened (no extra files),
so it can never disagree with the dense index.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from assistant.grounding import terms


class BM25:
    """Okapi BM25 (k1 = 1.2, b = 0.75) over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._k1, self._b = k1, b
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        for pos, text in enumerate(texts):
            counts = Counter(_tokens(text))
            self._lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((pos, tf))
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0

    def __len__(self) -> int:
        return len(self._lengths)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best texts for ``query`` as (position, score), best first.

        Texts sharing no word with the query are left out.
        """
        n = len(self._lengths)
        scores: dict[int, float] = {}
        for term in set(_tokens(query)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for pos, tf in postings:
                norm = tf + self._k1 * (1 - self._b + self._b * self._lengths[pos] / self._avg)
                scores[pos] = scores.get(pos, 0.0) + idf * tf * (self._k1 + 1) / norm
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:k]


def _tokens(text: str) -> list[str]:
    """Stemmed content words, one per occurrence."""
    return [t for word in text.split() for t in terms(word)]
