"""Which FAISS index to use for how many vectors, how to build it and how to check it.

Small indexes are exact: :class:`faiss.IndexFlatIP` scans every vector, which costs
about ``n × 384`` multiply-adds a query. Past :data:`FLAT_MAX_VECTORS` vectors
that scan gets slower than a few milliseconds on two cores (measured by
``bench/scale.py``, see ``bench/README.md``), and the index becomes an HNSW graph
over the same exact vectors (:class:`faiss.IndexHNSWFlat`, inner product). HNSW
stores the vectors unquantised, so ``reconstruct`` gives them back exactly (the
incremental refresh reuses the vectors of unchanged documents that way) and the
scores it returns are exact cosines; only *which* neighbours are found is
approximate, and :func:`recall_at_k` measures that against exact search.

The parameters (:class:`IndexParams`) are recorded in the index manifest and
applied again after loading: FAISS does not reliably persist ``efSearch`` (older
versions drop it), so :func:`configure` sets it on every load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Largest index searched exactly (a single-query exact scan of 384-d vectors on 2 cores
# passes a few milliseconds here); measured by bench/scale.py, see bench/README.md.
FLAT_MAX_VECTORS = 50_000
# HNSW graph degree, build and search beam widths, measured by bench/scale.py on 1M
# clustered 384-d unit vectors for recall@10 >= 0.95 against exact search.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
# Vectors added to an HNSW graph per step (one progress report a step).
BUILD_BATCH = 20_000

FLAT = "flat"
HNSW = "hnsw"
KINDS = (FLAT, HNSW)

BuildProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexParams:
    """The kind of FAISS index and its parameters, as recorded in the manifest."""

    kind: str = FLAT
    m: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown index kind {self.kind!r}")
        if self.kind == HNSW:
            values = (self.m, self.ef_construction, self.ef_search)
            if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                       for v in values):
                raise ValueError("an HNSW index needs positive m, ef_construction, ef_search")
        elif any(v is not None for v in (self.m, self.ef_construction, self.ef_search)):
            raise ValueError("a flat index has no graph parameters")

    def to_dict(self) -> dict[str, Any]:
        """The manifest entry (only the fields that apply)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def graph(self) -> tuple[int, int, int]:
        """``(m, ef_construction, ef_search)`` of an HNSW index (ValueError for a flat one)."""
        if self.m is None or self.ef_construction is None or self.ef_search is None:
            raise ValueError("a flat index has no graph parameters")
        return self.m, self.ef_construction, self.ef_search

    @classmethod
    def from_dict(cls, data: Any) -> IndexParams:
        """Parameters from a manifest entry; ``None`` (an index written before) is flat.

        Raises ValueError for an entry of the wrong shape.
        """
        if data is None:
            return cls()
        if not isinstance(data, dict) or set(data) - {"kind", "m", "ef_construction",
                                                      "ef_search"}:
            raise ValueError("malformed index parameters")
        return cls(**data)


def choose(count: int, flat_max: int | None = None) -> IndexParams:
    """The index for ``count`` vectors: exact up to ``flat_max`` vectors, HNSW above."""
    limit = FLAT_MAX_VECTORS if flat_max is None else flat_max
    if count <= limit:
        return IndexParams(FLAT)
    return IndexParams(HNSW, m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION,
                       ef_search=HNSW_EF_SEARCH)


def empty(dimension: int, params: IndexParams) -> Any:
    """A new, empty FAISS index of the kind ``params`` names (inner product)."""
    import faiss

    if params.kind == FLAT:
        return faiss.IndexFlatIP(dimension)
    m, ef_construction, ef_search = params.graph()
    index = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.hnsw.efSearch = ef_search
    return index


def build(vectors: npt.NDArray[np.float32], params: IndexParams,
          progress: BuildProgress | None = None, batch: int = BUILD_BATCH) -> Any:
    """An index of ``params``'s kind holding ``vectors`` (rows in order, ids 0..n-1).

    ``progress(added, total)`` is called before the first and after every batch.
    """
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError("vectors must be a 2-d array")
    index = empty(int(data.shape[1]), params)
    total = int(data.shape[0])
    step = total if params.kind == FLAT else max(1, batch)
    if progress:
        progress(0, total)
    for start in range(0, total, max(step, 1)):
        index.add(data[start : start + step])
        if progress:
            progress(min(start + step, total), total)
    return index


def kind_of(index: Any) -> str:
    """The kind of a FAISS index object (``flat``, ``hnsw``), or its class name if neither."""
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        return HNSW
    if isinstance(index, faiss.IndexFlatIP):
        return FLAT
    return type(index).__name__


def search_params(params: IndexParams, k: int) -> Any:
    """FAISS search parameters that let an HNSW search return ``k`` neighbours, or None.

    The graph search keeps ``efSearch`` candidates; a larger ``k`` needs a wider beam.
    """
    if params.ef_search is None or k <= params.ef_search:
        return None
    import faiss

    faiss_any: Any = faiss  # the bundled type stubs do not list the HNSW parameters
    return faiss_any.SearchParametersHNSW(efSearch=k)


def configure(index: Any, params: IndexParams) -> None:
    """Check that ``index`` is of ``params``'s kind and apply its search settings.

    Raises ValueError when the index is of another kind or metric.
    """
    import faiss

    if kind_of(index) != params.kind or index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise ValueError(f"the index is a {kind_of(index)}, the manifest says {params.kind}")
    if params.kind == HNSW:
        m, _, ef_search = params.graph()
        if index.hnsw.nb_neighbors(0) != 2 * m:
            raise ValueError("the HNSW graph does not have the recorded M")
        index.hnsw.efSearch = ef_search


def exact_neighbours(base: npt.NDArray[np.float32], queries: npt.NDArray[np.float32],
                     k: int) -> npt.NDArray[np.int64]:
    """Ids of the exact ``k`` nearest rows of ``base`` (inner product) for each query."""
    import faiss

    flat = faiss.IndexFlatIP(int(base.shape[1]))
    flat.add(np.ascontiguousarray(base, dtype=np.float32))
    _, ids = flat.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return np.asarray(ids, dtype=np.int64)


def recall_at_k(index: Any, queries: npt.NDArray[np.float32], truth: npt.NDArray[np.int64],
                k: int = 10) -> float:
    """Mean fraction of the exact ``k`` nearest neighbours (``truth``) that ``index`` finds."""
    if not len(queries):
        return 1.0
    _, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    found = sum(len(set(row[:k].tolist()) & set(exact[:k].tolist()))
                for row, exact in zip(ids, truth, strict=True))
    return found / (k * len(queries))
