"""The array-based BM25 ranks exactly like the textbook loop it replaced."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from assistant.retrieve.lexical import BM25, _tokens


def _reference(texts: list[str], query: str, k: int, k1: float = 1.2,
               b: float = 0.75) -> list[tuple[int, float]]:
    """Okapi BM25 as a plain loop over postings (the former implementation)."""
    postings: dict[str, list[tuple[int, int]]] = {}
    lengths: list[int] = []
    for pos, text in enumerate(texts):
        counts = Counter(_tokens(text))
        lengths.append(sum(counts.values()))
        for term, tf in counts.items():
            postings.setdefault(term, []).append((pos, tf))
    avg = sum(lengths) / len(lengths)
    n = len(lengths)
    scores: dict[int, float] = {}
    for term in set(_tokens(query)):
        plist = postings.get(term)
        if not plist:
            continue
        idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
        for pos, tf in plist:
            norm = tf + k1 * (1 - b + b * lengths[pos] / avg)
            scores[pos] = scores.get(pos, 0.0) + idf * tf * (k1 + 1) / norm
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


WORDS = ("chip export license tariff beijing washington nvidia h200 court ruling market "
         "shares investors quarter revenue growth talks officials ministry customs").split()


@pytest.mark.parametrize("seed", range(5))
def test_same_ranking_and_scores_as_the_textbook_loop(seed: int) -> None:
    rng = random.Random(seed)
    # Few distinct words and repeated texts: many equal scores, so ties are exercised.
    texts = [" ".join(rng.choices(WORDS[: 6 + seed], k=rng.randint(0, 30))) for _ in range(300)]
    texts += texts[:40]
    bm25 = BM25(texts)
    for _ in range(30):
        query = " ".join(rng.choices(WORDS, k=rng.randint(1, 5)))
        for k in (1, 5, 20, 1000):
            expected = _reference(texts, query, k)
            got = bm25.search(query, k)
            assert [p for p, _ in got] == [p for p, _ in expected]
            assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-12)


def test_no_match_empty_and_zero_k() -> None:
    bm25 = BM25(["the cat sat", "dogs run"])
    assert bm25.search("zebra", 5) == []
    assert bm25.search("cat", 0) == []
    assert BM25([]).search("cat", 5) == [] and len(BM25([])) == 0
    assert BM25(["", "the of and"]).search("cat", 5) == []
