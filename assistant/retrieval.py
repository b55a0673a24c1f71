"""Find the passages that best match a question (dense search over the FAISS index).

Follow-up questions are searched together with the conversation's earlier user
turns, so "Since when have they done that?" still finds the right passage.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.embedding import Embedder
from assistant.records import Hit
from assistant.store import VectorIndex


class Retriever:
    """Dense retrieval over a loaded index."""

    def __init__(self, index: VectorIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def search(self, query: str, k: int, context: Sequence[str] = ()) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first.

        ``context`` holds earlier user questions of the conversation (oldest
        first). The question is searched alone and with the last of them; each
        passage keeps its best score.
        """
        if k <= 0 or not len(self.index):
            return []
        queries = [query]
        if context:
            queries.append(f"{context[-1]} {query}")
        vectors = self.embedder.embed(queries)
        best: dict[int, float] = {}
        for vector in vectors:
            for pos, score in self.index.search(vector, min(k * 2, len(self.index))):
                best[pos] = max(score, best.get(pos, float("-inf")))
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [Hit(self.index.chunks[pos], score, rank)
                for rank, (pos, score) in enumerate(ranked, start=1)]
