"""Which FAISS index to use for how many vectors, how to build it and how to check it.

Small indexes are exact: :class:`faiss.IndexFlatIP` scans every vector, which costs
about ``n × 384`` multiply-adds a query. Past :data:`FLAT_MAX_VECTORS` vectors that
scan takes more than a few milliseconds on two cores (measured by ``bench/scale.py``,
see ``bench/README.md``) and the index becomes an inverted file over the same exact
vectors (:class:`faiss.IndexIVFFlat`, inner product): k-means splits the vectors into
``nlist`` lists, a query scans the ``nprobe`` lists whose centroids are nearest and
ranks their vectors by their exact cosine, so the re-ranking is exact and only *which*
vectors are looked at is approximate; :func:`recall_at_k` measures that against exact
search. An HNSW graph (:class:`faiss.IndexHNSWFlat`) is supported as well
(:data:`LARGE_KIND`); on 1M clustered vectors it needed far more build time for less
recall (bench/README.md).

Both keep the vectors unquantised and give them back with ``reconstruct`` (the IVF
index keeps a direct map from id to list), which the incremental refresh uses to
reuse the vectors of unchanged documents. The parameters (:class:`IndexParams`) are
recorded in the index manifest and applied again after loading (:func:`configure`):
FAISS does not reliably persist search-time settings such as HNSW's ``efSearch``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FLAT = "flat"
HNSW = "hnsw"
IVF = "ivf"
KINDS = (FLAT, HNSW, IVF)

# Largest index searched exactly (a single-query exact scan of 384-d vectors on 2 cores
# passes a few milliseconds here); measured by bench/scale.py, see bench/README.md.
FLAT_MAX_VECTORS = 25_000
# The kind of index above FLAT_MAX_VECTORS.
LARGE_KIND = IVF
# IVF: a power of two near IVF_LISTS_PER_SQRT * sqrt(n) lists, probing a share of them.
# On 1M clustered 384-d unit vectors (bench/scale.py: 4096 lists) recall@10 against exact
# search was 0.95 at 32 probes, 0.96 at 64 and 0.97 at 128 (p95 < 10 ms): 1/32 leaves a
# margin above 0.95.
IVF_LISTS_PER_SQRT = 4
IVF_PROBE_SHARE = 1 / 32
IVF_MIN_PROBES = 16
IVF_TRAIN_PER_LIST = 40  # k-means training sample: this many vectors per list
# HNSW graph degree, build and search beam widths.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
# Vectors added to a graph or inverted file per step (one progress report a step).
BUILD_BATCH = 20_000

BuildProgress = Callable[[int, int], None]
_FIELDS = ("m", "ef_construction", "ef_search", "nlist", "nprobe")
_NEEDS: dict[str, tuple[str, ...]] = {
    FLAT: (), HNSW: ("m", "ef_construction", "ef_search"), IVF: ("nlist", "nprobe")}


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class IndexParams:
    """The kind of FAISS index and its parameters, as recorded in the manifest."""

    kind: str = FLAT
    m: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None
    nlist: int | None = None
    nprobe: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown index kind {self.kind!r}")
        for name in _FIELDS:
            value = getattr(self, name)
            if name in _NEEDS[self.kind]:
                if not _positive_int(value):
                    raise ValueError(f"a {self.kind} index needs a positive {name}")
            elif value is not None:
                raise ValueError(f"a {self.kind} index has no {name}")

    def to_dict(self) -> dict[str, Any]:
        """The manifest entry (only the fields that apply)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def graph(self) -> tuple[int, int, int]:
        """``(m, ef_construction, ef_search)`` of an HNSW index (ValueError otherwise)."""
        if self.m is None or self.ef_construction is None or self.ef_search is None:
            raise ValueError(f"a {self.kind} index has no graph parameters")
        return self.m, self.ef_construction, self.ef_search

    def lists(self) -> tuple[int, int]:
        """``(nlist, nprobe)`` of an IVF index (ValueError otherwise)."""
        if self.nlist is None or self.nprobe is None:
            raise ValueError(f"a {self.kind} index has no inverted lists")
        return self.nlist, self.nprobe

    @classmethod
    def from_dict(cls, data: Any) -> IndexParams:
        """Parameters from a manifest entry; ``None`` (an index written before) is flat.

        Raises ValueError for an entry of the wrong shape.
        """
        if data is None:
            return cls()
        if not isinstance(data, dict) or set(data) - {"kind", *_FIELDS}:
            raise ValueError("malformed index parameters")
        return cls(**data)


def ivf_lists(count: int) -> int:
    """Number of inverted lists for ``count`` vectors: a power of two near 4·√count.

    At most one list per :data:`IVF_TRAIN_PER_LIST` vectors, so that k-means has
    enough points for every centroid.
    """
    target = max(1.0, IVF_LISTS_PER_SQRT * math.sqrt(max(count, 1)))
    return max(1, min(int(2 ** round(math.log2(target))), count // IVF_TRAIN_PER_LIST))


def choose(count: int, flat_max: int | None = None, kind: str | None = None) -> IndexParams:
    """The index for ``count`` vectors: exact up to ``flat_max`` vectors, ``kind`` above.

    ``flat_max`` defaults to :data:`FLAT_MAX_VECTORS`, ``kind`` to :data:`LARGE_KIND`.
    """
    limit = FLAT_MAX_VECTORS if flat_max is None else flat_max
    if count <= limit:
        return IndexParams(FLAT)
    if (kind or LARGE_KIND) == HNSW:
        return IndexParams(HNSW, m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION,
                           ef_search=HNSW_EF_SEARCH)
    nlist = ivf_lists(count)
    nprobe = min(nlist, max(IVF_MIN_PROBES, round(nlist * IVF_PROBE_SHARE)))
    return IndexParams(IVF, nlist=nlist, nprobe=nprobe)


def empty(dimension: int, params: IndexParams) -> Any:
    """A new, empty FAISS index of the kind ``params`` names (inner product).

    An IVF index still needs training (:func:`build` does it).
    """
    import faiss

    if params.kind == FLAT:
        return faiss.IndexFlatIP(dimension)
    if params.kind == IVF:
        nlist, nprobe = params.lists()
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.nprobe = nprobe  # (FAISS's wrapper keeps the quantizer alive with the index)
        return ivf
    m, ef_construction, ef_search = params.graph()
    index = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.hnsw.efSearch = ef_search
    return index


def build(vectors: npt.NDArray[np.float32], params: IndexParams,
          progress: BuildProgress | None = None, batch: int | None = None,
          seed: int = 1234) -> Any:
    """An index of ``params``'s kind holding ``vectors`` (rows in order, ids 0..n-1).

    An IVF index is first trained (k-means) on a sample of the vectors drawn with
    ``seed``. ``progress(added, total)`` is called before the first and after every
    batch of ``batch`` (default :data:`BUILD_BATCH`) vectors.
    """
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError("vectors must be a 2-d array")
    index = empty(int(data.shape[1]), params)
    total = int(data.shape[0])
    step = total if params.kind == FLAT else max(1, batch or BUILD_BATCH)
    if progress:
        progress(0, total)
    if params.kind == IVF:
        nlist, _ = params.lists()
        if total < nlist:
            raise ValueError(f"an IVF index of {nlist} lists needs at least {nlist} vectors")
        sample = min(total, IVF_TRAIN_PER_LIST * nlist)
        rows = np.sort(np.random.default_rng(seed).choice(total, sample, replace=False))
        index.train(data[rows])
    for start in range(0, total, max(step, 1)):
        index.add(data[start : start + step])
        if progress:
            progress(min(start + step, total), total)
    if params.kind == IVF:
        index.make_direct_map()  # reconstruct(id), for the incremental refresh
    return index


def kind_of(index: Any) -> str:
    """The kind of a FAISS index object (``flat``, ``hnsw``, ``ivf``), else its class name."""
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        return HNSW
    if isinstance(index, faiss.IndexIVFFlat):
        return IVF
    if isinstance(index, faiss.IndexFlatIP):
        return FLAT
    return type(index).__name__


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run FAISS on one OpenMP thread in the calling thread (restored afterwards).

    One query gains nothing from a second thread, and while other work holds the cores
    the two threads wait for each other: an exact scan of 10,000 vectors took 16 ms
    with two threads and 0.6 ms with one on the busy 2-core machine (bench/README.md).
    OpenMP keeps the thread count per calling thread, so builds elsewhere are unaffected.
    """
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


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

    Raises ValueError when the index is of another kind, metric or shape.
    """
    import faiss

    if kind_of(index) != params.kind or index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise ValueError(f"the index is a {kind_of(index)}, the manifest says {params.kind}")
    if params.kind == HNSW:
        m, _, ef_search = params.graph()
        if index.hnsw.nb_neighbors(0) != 2 * m:
            raise ValueError("the HNSW graph does not have the recorded M")
        index.hnsw.efSearch = ef_search
    elif params.kind == IVF:
        nlist, nprobe = params.lists()
        if index.nlist != nlist:
            raise ValueError("the inverted file does not have the recorded number of lists")
        if index.ntotal and index.direct_map.type == 0:
            raise ValueError("the inverted file cannot give its vectors back (no direct map)")
        index.nprobe = nprobe


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
