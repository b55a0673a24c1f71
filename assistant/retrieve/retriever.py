"""Find the passages that best match a question: dense (FAISS or Qdrant) and BM25, fused.

The two rankings are combined by reciprocal rank fusion. Follow-up questions are
searched together with the conversation's last user turn, so "Since when have
they done that?" still finds the right passage.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from assistant.index.vectorstore import SearchIndex
from assistant.ingest.chunking import sentence_spans
from assistant.models.embedding import Embedder
from assistant.records import Hit
from assistant.retrieve.lexical import BM25, searched_texts

RRF_K = 60
# Reciprocal rank fusion weights (dense, lexical). Measured on tests/data/questions.jsonl
# (54 answerable questions with gold passages): 1:1 gave recall@1/@3/@5 0.65/0.91/0.98,
# MRR 0.79; 1:2 gave 0.70/0.94/0.98, MRR 0.83; dense alone 0.46/0.80/0.89, MRR 0.64.
FUSION_WEIGHTS = (1.0, 2.0)


class Retriever:
    """Hybrid retrieval over a loaded index."""

    def __init__(self, index: SearchIndex, embedder: Embedder, mode: str = "hybrid") -> None:
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self._bm25 = BM25(searched_texts(index.chunks)) if mode != "dense" else None
        self._last: tuple[tuple[str, ...], npt.NDArray[np.float32]] | None = None

    def _embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Query vectors, remembered for the last set of texts (search, then relevance)."""
        last = self._last
        if last is not None and last[0] == tuple(texts):
            return last[1]
        vectors = self.embedder.embed(texts)
        self._last = (tuple(texts), vectors)
        return vectors

    @staticmethod
    def queries(query: str, context: Sequence[str] = ()) -> list[str]:
        """The question, and the question with the previous user turn when there is one."""
        return [query, f"{context[-1]} {query}"] if context else [query]

    def search(self, query: str, k: int, context: Sequence[str] = (),
               reports: Collection[str] | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first (``Hit.score`` is the fused score).

        With ``reports`` (document ids), only passages of those reports are ranked.
        """
        if k <= 0 or not len(self.index):
            return []
        allowed: set[int] | None = None
        if reports is not None:
            by_doc = self.index.doc_chunks()
            allowed = {pos for doc_id in reports for pos in by_doc.get(doc_id, ())}
            if not allowed:
                return []
        depth = min(len(self.index), max(4 * k, 20))
        fused: dict[int, float] = {}
        rankings: list[tuple[float, list[int]]] = []
        dense_weight, lexical_weight = FUSION_WEIGHTS
        texts = self.queries(query, context)
        vectors = self._embed_queries(texts) if self.mode != "lexical" else None
        for i, text in enumerate(texts):
            if vectors is not None:
                rankings.append((dense_weight, _within(
                    partial(self.index.search, vectors[i]), depth, len(self.index), allowed)))
            if self._bm25 is not None:
                rankings.append((lexical_weight, _within(
                    partial(self._bm25.search, text), depth, len(self.index), allowed)))
        for weight, ranking in rankings:
            for rank, pos in enumerate(ranking, start=1):
                fused[pos] = fused.get(pos, 0.0) + weight / (RRF_K + rank)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [Hit(self.index.chunks[pos], score, rank)
                for rank, (pos, score) in enumerate(ranked, start=1)]

    def relevance(self, query: str, hits: Sequence[Hit], context: Sequence[str] = ()) -> float:
        """The highest cosine similarity between the question and any sentence of ``hits``.

        Low values mean that nothing retrieved is even about the question.
        """
        sentences = [h.chunk.text[a:b] for h in hits
                     for a, b in sentence_spans(h.chunk.text, 0, len(h.chunk.text))]
        if not sentences:
            return 0.0
        queries = self._embed_queries(self.queries(query, context))
        return float(np.max(queries @ self.embedder.embed(sentences).T))


def _within(search: Callable[[int], list[tuple[int, float]]], depth: int, total: int,
            allowed: set[int] | None) -> list[int]:
    """The best ``depth`` positions of ``search(n)`` (n best, best first) that are ``allowed``.

    Without a restriction, one search; with one, the search is widened (four times each
    round) until ``depth`` allowed positions are found or every passage was ranked.
    """
    if allowed is None:
        return [pos for pos, _ in search(depth)]
    wanted = min(depth, len(allowed))
    n = depth
    while True:
        found = search(n)
        kept = [pos for pos, _ in found if pos in allowed]
        if len(kept) >= wanted or n >= total or len(found) < n:
            return kept[:depth]
        n = min(total, n * 4)
