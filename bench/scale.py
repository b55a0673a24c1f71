"""Scale benchmark: a large real corpus, and 1M synthetic vectors through the FAISS index.

``python bench/scale.py`` (``--help`` for the flags) runs three parts and prints a
table; the figures go to ``bench/results/scale.json`` with the machine they ran on:

* **real**: the HTML documentation of Debian's ``python3-doc`` (``apt-get install
  python3-doc``), loaded through the project's own loaders into a flat corpus of
  symlinks under ``--work`` (never the project's corpus/ or index/), indexed with
  all-MiniLM-L6-v2 through ``indexing.refresh``; build throughput, retrieval
  latency p50/p95 (embedding, dense search, BM25, the whole dense and hybrid
  search), hit@5 on a few questions with known answer pages, and the HNSW recall
  on these real vectors. A second run finds the index up to date and reuses the
  recorded build figures (``--rebuild`` embeds again).
* **flat sweep**: single-query latency of exact search (``IndexFlatIP``, with 2
  threads and with 1) and of the approximate index by index size, which sets
  ``assistant.index.ann.FLAT_MAX_VECTORS``.
* **synthetic**: ``--vectors`` (1,000,000) clustered 384-d unit vectors saved and
  loaded through ``assistant.index.faiss_store`` (so the index is the one the product chooses,
  ``--kind`` forces IVF or HNSW); build time, memory, file size, load time, recall@10
  against exact search on ``--queries`` held-out queries, single-query latency
  p50/p95 for a range of nprobe (IVF) or efSearch (HNSW) values.

Timings depend on what else runs on the machine: the load average before and after
each part is recorded next to its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info, percentile  # noqa: E402

from assistant.index import ann  # noqa: E402
from assistant.index.faiss_store import IndexLayout, load, save  # noqa: E402
from assistant.records import Chunk  # noqa: E402

Array = npt.NDArray[np.float32]
DIM = 384
PYDOC = Path("/usr/share/doc/python3-doc/html")

# Questions about the Python documentation, with the pages (doc id prefixes) that answer them.
QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("What does functools.lru_cache do?", ("library-functools",)),
    ("How do I parse command line arguments with subcommands?",
     ("library-argparse", "howto-argparse")),
    ("Sort a list of dictionaries by a key", ("howto-sorting", "library-operator",
                                              "library-functions", "tutorial-datastructures")),
    ("Create a temporary directory that is removed automatically", ("library-tempfile",)),
    ("Run a subprocess and capture its output", ("library-subprocess",)),
    ("What is the global interpreter lock?", ("glossary", "c-api-init", "faq-library",
                                              "library-threading")),
    ("Match a regular expression at the start of a string", ("library-re", "howto-regex")),
    ("How does the with statement call __enter__ and __exit__?",
     ("reference-compound_stmts", "reference-datamodel", "library-contextlib")),
    ("Decimal floating point arithmetic with exact rounding",
     ("library-decimal", "tutorial-floatingpoint")),
    ("Send an email message over SMTP", ("library-smtplib", "library-email")),
    ("Serialize an object to JSON with indentation", ("library-json",)),
    ("Define a dataclass with default field values", ("library-dataclasses",)),
    ("Coroutines and the asyncio event loop", ("library-asyncio",)),
    ("Compute the SHA-256 hash of some bytes", ("library-hashlib",)),
    ("Structural pattern matching with match and case", ("whatsnew-3.10",
                                                        "reference-compound_stmts",
                                                        "tutorial-controlflow")),
    ("Walk a directory tree recursively", ("library-os", "library-pathlib", "library-glob")),
    ("Format a date with strftime", ("library-datetime", "library-time")),
    ("Read and write CSV files", ("library-csv",)),
    ("Unit tests with assertions and setUp fixtures", ("library-unittest",)),
    ("Log to a file with a rotating handler", ("library-logging", "howto-logging")),
    ("Run tasks concurrently in a thread pool", ("library-concurrent.futures",
                                                 "library-multiprocessing",
                                                 "library-threading")),
    ("Reference counting with Py_INCREF in C extensions", ("c-api-refcounting",
                                                          "extending-extending",
                                                          "c-api-intro")),
    ("When are default argument values evaluated?", ("tutorial-controlflow",
                                                     "reference-compound_stmts",
                                                     "faq-programming")),
    ("Exception groups and except*", ("whatsnew-3.11", "library-exceptions",
                                      "tutorial-errors", "reference-compound_stmts")),
    ("Create a virtual environment with venv", ("library-venv", "tutorial-venv")),
    ("Random sampling without replacement", ("library-random",)),
    ("Compress data with gzip", ("library-gzip", "library-zlib")),
    ("Count occurrences of items with Counter", ("library-collections",)),
    ("Generic functions with TypeVar type hints", ("library-typing",)),
    ("Open a TCP socket connection to a server", ("library-socket", "howto-sockets")),
    ("Descriptors and the __get__ method", ("howto-descriptor", "reference-datamodel")),
    ("Priority queue with the heap algorithm", ("library-heapq", "library-queue")),
    ("Binary search in a sorted list", ("library-bisect",)),
    ("Group consecutive items with itertools", ("library-itertools",)),
    ("Read configuration from an INI file", ("library-configparser",)),
    ("Copy a file and keep its metadata", ("library-shutil",)),
    ("Fetch a URL over HTTP", ("library-urllib.request", "howto-urllib2",
                               "library-http.client")),
    ("Profile a program to see where the time goes", ("library-profile", "library-timeit")),
    ("Enumerations with the Enum class", ("library-enum", "howto-enum")),
    ("Format specifications in f-strings", ("tutorial-inputoutput", "library-string",
                                            "reference-lexical_analysis")),
]


# ------------------------------------------------------------------------------ helpers
def summary(values_ms: list[float]) -> dict[str, float]:
    """p50, p95, mean and max of millisecond timings."""
    return {"p50_ms": round(percentile(values_ms, 0.5), 3),
            "p95_ms": round(percentile(values_ms, 0.95), 3),
            "mean_ms": round(statistics.fmean(values_ms), 3) if values_ms else float("nan"),
            "max_ms": round(max(values_ms), 3) if values_ms else float("nan"),
            "n": len(values_ms)}


def timed_ms(fn: Callable[[], object], cpu: list[float] | None = None) -> float:
    """Milliseconds one call of ``fn`` takes; its CPU milliseconds are appended to ``cpu``."""
    started, proc = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append((time.process_time() - proc) * 1000.0)
    return (time.perf_counter() - started) * 1000.0


def latencies_ms(index: Any, queries: Array, k: int,
                 cpu: list[float] | None = None) -> list[float]:
    """Wall-clock milliseconds of single-query searches; CPU milliseconds go to ``cpu``.

    The CPU time of the process (all threads) shows the work itself when other
    programs compete for the cores and stretch the wall-clock times.
    """
    data = np.ascontiguousarray(queries, dtype=np.float32)
    out: list[float] = []
    for i in range(len(data)):
        wall, proc = time.perf_counter(), time.process_time()
        index.search(data[i : i + 1], k)
        out.append((time.perf_counter() - wall) * 1000.0)
        if cpu is not None:
            cpu.append((time.process_time() - proc) * 1000.0)
    return out


def timings(index: Any, queries: Array, k: int) -> dict[str, Any]:
    """Wall-clock summary of single-query searches, with the CPU-time p50/p95."""
    cpu: list[float] = []
    wall = latencies_ms(index, queries, k, cpu)
    cpu_summary = summary(cpu)
    return {**summary(wall), "cpu_p50_ms": cpu_summary["p50_ms"],
            "cpu_p95_ms": cpu_summary["p95_ms"]}


def proc_status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(v, 2) for v in os.getloadavg()]


def log(message: str) -> None:
    """Progress on stderr."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def set_threads(threads: int) -> None:
    """Use ``threads`` threads in FAISS (OpenMP) and torch."""
    import faiss

    faiss.omp_set_num_threads(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover
        pass


# ------------------------------------------------------------------- synthetic vectors
class Mixture:
    """Clustered 384-d unit vectors: random centroids, per-cluster spread, uneven sizes.

    A point is ``normalize(c + s * g / sqrt(d))`` for a centroid ``c`` (random on the
    sphere), a cluster spread ``s`` drawn once per cluster from ``spread`` and Gaussian
    ``g``. With ``s`` in 0.6..1.2 a point's cosine to its centroid is 0.64..0.86, and
    two points of one cluster have cosines 0.4..0.75: neighbours are close but many
    are about equally close, which is what makes ANN recall measurable. Cluster sizes
    follow a log-normal law (some topics are much larger than others).
    """

    def __init__(self, clusters: int, dim: int = DIM, seed: int = 0,
                 spread: tuple[float, float] = (0.6, 1.2)) -> None:
        rng = np.random.default_rng(seed)
        centroids = rng.standard_normal((clusters, dim), dtype=np.float32)
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        self.spread = rng.uniform(*spread, clusters).astype(np.float32)
        weights = rng.lognormal(0.0, 1.0, clusters)
        self.weights = weights / weights.sum()
        self.dim = dim

    def sample(self, n: int, seed: int, block: int = 100_000) -> Array:
        """``n`` points, generated in blocks so that memory stays near the output's size."""
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.dim), dtype=np.float32)
        for start in range(0, n, block):
            stop = min(n, start + block)
            labels = rng.choice(len(self.centroids), stop - start, p=self.weights)
            noise = rng.standard_normal((stop - start, self.dim), dtype=np.float32)
            points = self.centroids[labels] + (self.spread[labels, None] / np.sqrt(self.dim)
                                               ) * noise
            points /= np.linalg.norm(points, axis=1, keepdims=True)
            out[start:stop] = points
        return out


def synthetic_chunks(n: int, per_doc: int = 100) -> list[Chunk]:
    """Placeholder passages for ``n`` vectors (the store needs one chunk per vector)."""
    return [Chunk(doc_id=f"syn{i // per_doc}", start=(i % per_doc) * 2,
                  end=(i % per_doc) * 2 + 1, text="x", tokens=1) for i in range(n)]


def exact_truth(base: Array, queries: Array, k: int) -> npt.NDArray[np.int64]:
    """Exact neighbours in batches (all threads), logging how long it took."""
    started = time.perf_counter()
    truth = ann.exact_neighbours(base, queries, k)
    log(f"exact neighbours of {len(queries)} queries in {len(base)} vectors: "
        f"{time.perf_counter() - started:.1f} s")
    return truth


def latency_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """Single-query latency of exact and HNSW search by size; sets the flat threshold.

    Each size has its own mixture with as many points per cluster on average as the
    large set (a prefix of the large set would be nearly unclustered at 10k points).
    """
    rows = []
    for size in args.sweep_sizes:
        per_cluster = 100 if not args.vectors else max(1, args.vectors // args.clusters)
        mixture = Mixture(max(10, size // per_cluster), seed=args.seed + size)
        sub = mixture.sample(size, seed=args.seed + 1)
        queries = mixture.sample(args.sweep_queries, seed=99)
        flat = ann.build(sub, ann.IndexParams(ann.FLAT))
        latencies_ms(flat, queries[:20], args.k)  # warm
        row: dict[str, Any] = {"vectors": size,
                               "flat": timings(flat, queries, args.k)}
        set_threads(1)  # one query at a time: a second OpenMP thread may only add waiting
        row["flat_1_thread"] = timings(flat, queries, args.k)
        set_threads(args.threads)
        del flat
        if args.sweep_ann:
            params = ann.choose(size, flat_max=0, kind=args.kind)
            started = time.perf_counter()
            approx = ann.build(sub, params)
            row["ann_params"] = params.to_dict()
            row["ann_build_s"] = round(time.perf_counter() - started, 1)
            truth = ann.exact_neighbours(sub, queries, args.k)
            row["ann"] = timings(approx, queries, args.k)
            row["ann_recall_at_10"] = round(ann.recall_at_k(approx, queries, truth, args.k), 4)
            del approx
        rows.append(row)
        log(f"sweep {size}: flat p95 {row['flat']['p95_ms']} ms"
            + (f", {params.kind} p95 {row['ann']['p95_ms']} ms recall {row['ann_recall_at_10']}"
               if "ann" in row else ""))
    return {"queries": args.sweep_queries, "rows": rows,
            "flat_max_vectors": ann.FLAT_MAX_VECTORS}


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    """1M clustered vectors through store.save/load: build, memory, recall, latency."""
    out: dict[str, Any] = {"load_average_before": load_average(), "vectors": args.vectors,
                           "clusters": args.clusters, "queries": args.queries, "k": args.k}
    if args.sweep_sizes:
        out["sweep"] = latency_sweep(args)
    if not args.vectors:  # the sweep only
        out["load_average_after"] = load_average()
        return out
    mixture = Mixture(args.clusters, seed=args.seed)
    started = time.perf_counter()
    base = mixture.sample(args.vectors, seed=args.seed + 1)
    queries = mixture.sample(args.queries, seed=args.seed + 2)  # held out: not in the index
    out["generate_s"] = round(time.perf_counter() - started, 1)
    log(f"generated {len(base)} vectors in {out['generate_s']} s")
    truth = exact_truth(base, queries, args.k)
    if args.flat_queries:
        flat = ann.build(base, ann.IndexParams(ann.FLAT))
        out["flat_exact"] = timings(flat, queries[: args.flat_queries], args.k)
        del flat
        log(f"exact search of {len(base)}: p95 {out['flat_exact']['p95_ms']} ms")

    work = args.work / "synthetic-index"
    shutil.rmtree(work, ignore_errors=True)
    layout = IndexLayout(work)
    chunks = synthetic_chunks(len(base))
    manifest = {"embedding_model": "synthetic", "dimension": DIM, "documents": {}}
    rss_before = proc_status_mb("VmRSS")
    last = [0.0]

    def progress(added: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or added == total:
            last[0] = now
            log(f"  vector index: {added}/{total} vectors added ({now - started:.0f} s)")

    started = time.perf_counter()
    index = save(layout, chunks, base, manifest, progress=progress)
    out["build_and_save_s"] = round(time.perf_counter() - started, 1)
    out["index"] = index.manifest["index"]
    out["rss_mb_before_build"] = rss_before
    out["rss_mb_after_build"] = proc_status_mb("VmRSS")
    gen = work / index.manifest["generation"]
    out["files_mb"] = {p.name: round(p.stat().st_size / 2**20, 1) for p in gen.iterdir()}
    log(f"built and saved {out['index']} in {out['build_and_save_s']} s")
    del index
    started = time.perf_counter()
    loaded = load(layout)
    out["load_s"] = round(time.perf_counter() - started, 1)
    assert loaded is not None
    out["peak_rss_mb"] = proc_status_mb("VmHWM")
    raw = loaded._index
    knob, default, values = search_knob(loaded.params, args)
    started = time.perf_counter()
    again = loaded.vectors()
    out["reconstruct_all_s"] = round(time.perf_counter() - started, 1)
    out["reconstruct_exact"] = bool(np.array_equal(again, base))
    del again
    sweep = []
    for value in values:
        set_knob(raw, knob, value)
        latencies_ms(raw, queries[:50], args.k)  # warm
        row = {knob: value, "recall_at_10": round(ann.recall_at_k(raw, queries, truth,
                                                                   args.k), 4),
               **timings(raw, queries, args.k)}
        sweep.append(row)
        log(f"{knob} {value}: recall@10 {row['recall_at_10']}, p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms")
    out["knob"] = knob
    out["knob_sweep"] = sweep
    set_knob(raw, knob, default)
    # The product path: VectorIndex.search at the retriever's depth (20), default settings.
    product = [timed_ms(lambda q=q, ix=loaded: ix.search(q, 20)) for q in queries]
    out["product_search_depth20"] = summary(product)
    out["recall_at_10_default"] = next(r["recall_at_10"] for r in sweep if r[knob] == default)
    del loaded, raw
    shutil.rmtree(work, ignore_errors=True)
    out["load_average_after"] = load_average()
    return out


def search_knob(params: ann.IndexParams, args: argparse.Namespace) -> tuple[str, int, list[int]]:
    """The search-time setting of an index kind, its default and the values to sweep."""
    if params.kind == ann.HNSW:
        default = params.graph()[2]
        return "ef_search", default, sorted({*args.ef_search, default})
    if params.kind == ann.IVF:
        nlist, default = params.lists()
        return "nprobe", default, sorted({*(v for v in args.nprobe if v <= nlist), default})
    return "exact", 0, [0]


def set_knob(index: Any, knob: str, value: int) -> None:
    """Set efSearch or nprobe on a FAISS index."""
    if knob == "ef_search":
        index.hnsw.efSearch = value
    elif knob == "nprobe":
        index.nprobe = value


# ------------------------------------------------------------------------ real corpus
def link_corpus(source: Path, target: Path, folders: list[str]) -> int:
    """A flat folder of symlinks to the HTML pages (``library/os.html`` -> ``library-os.html``).

    The loaders read one folder without sub-folders; the file stem is the doc id.
    """
    source = source.resolve()
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.rglob("*.html")):
        rel = path.relative_to(source)
        if rel.parts[0].startswith("_") or (folders and rel.parts[0] not in folders):
            continue
        link = target / "-".join(rel.parts)
        if not link.is_symlink():
            link.symlink_to(path)
        count += 1
    return count


def real_corpus(args: argparse.Namespace) -> dict[str, Any]:
    """Index the python3-doc HTML with the real embedder and measure retrieval."""
    from assistant.index.indexing import refresh
    from assistant.ingest.documents import load_corpus
    from assistant.models.embedding import SentenceTransformerEmbedder
    from assistant.retrieve.retriever import Retriever
    from assistant.settings import ChunkerSettings

    out: dict[str, Any] = {"load_average_before": load_average(), "source": str(args.real)}
    if not args.real.is_dir():
        out["error"] = f"{args.real} not found (apt-get install python3-doc)"
        return out
    corpus_dir = args.work / "pydoc-corpus"
    index_dir = args.work / "pydoc-index"
    record = args.work / "pydoc-build.json"
    if args.rebuild:
        shutil.rmtree(index_dir, ignore_errors=True)
    out["html_files"] = link_corpus(args.real, corpus_dir, args.real_folders)
    started = time.perf_counter()
    report = load_corpus(corpus_dir)
    out["load_s"] = round(time.perf_counter() - started, 1)
    out["documents"] = len(report.documents)
    out["skipped"] = len(report.skipped)
    out["skipped_reasons"] = dict(Counter(
        why.split(": ", 1)[-1] for _, why in report.skipped).most_common(5))
    out["text_mb"] = round(sum(len(d.text) for d in report.documents) / 2**20, 1)
    log(f"loaded {len(report.documents)} documents ({out['skipped']} skipped) "
        f"in {out['load_s']} s")
    embedder = SentenceTransformerEmbedder(threads=args.threads)
    last = [0.0]

    def progress(doc: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            log(f"  indexing {done}/{total} {doc}")

    index, build = refresh(report.documents, index_dir, embedder, ChunkerSettings(),
                           progress=progress)
    out["passages"] = len(index)
    out["index"] = index.params.to_dict()
    if build.embedded_chunks:
        figures = {"status": build.status, "embedded_passages": build.embedded_chunks,
                   "build_s": round(build.seconds, 1),
                   "passages_per_s": round(build.embedded_chunks / build.seconds, 1),
                   "load_average_at_end": load_average(),
                   "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
        record.write_text(json.dumps(figures, indent=2))
    elif record.is_file():
        figures = dict(json.loads(record.read_text()), reused_from=str(record))
    else:
        figures = {"status": build.status, "note": "index found up to date; no build figures"}
    out["build"] = figures
    log(f"index {build.status}: {len(index)} passages; build {figures}")
    # Embedding throughput now, on a sample: wall clock, and per CPU-second of this process
    # (which other programs on the machine stretch less than the wall clock).
    sample = [c.text for c in index.chunks[:: max(1, len(index) // args.embed_sample)]]
    embedder.embed(sample[:32])
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.embed(sample)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out["embed_sample"] = {"passages": len(sample), "seconds": round(wall, 1),
                           "passages_per_s": round(len(sample) / wall, 1),
                           "passages_per_cpu_s": round(len(sample) / cpu, 1),
                           "load_average": load_average()}
    log(f"embedding sample: {out['embed_sample']}")

    started = time.perf_counter()
    hybrid = Retriever(index, embedder, mode="hybrid")
    out["bm25_build_s"] = round(time.perf_counter() - started, 2)
    dense = Retriever(index, embedder, mode="dense")
    lexical = Retriever(index, embedder, mode="lexical")
    bm25 = hybrid._bm25
    assert bm25 is not None
    questions = [q for q, _ in QUESTIONS]
    for q in questions[:5]:  # warm the model and caches
        hybrid.search(q, 5)
    measured: dict[str, list[float]] = {"embed": [], "faiss_search": [], "bm25_search": [],
                                       "dense_total": [], "lexical_total": [],
                                       "hybrid_total": []}
    cpu: dict[str, list[float]] = {name: [] for name in measured}
    hits: dict[str, int] = {"dense": 0, "lexical": 0, "hybrid": 0}
    for round_no in range(args.rounds):
        for question, pages in QUESTIONS:
            vector = embedder.embed([question])[0]
            measured["embed"].append(timed_ms(lambda q=question: embedder.embed([q]),
                                              cpu["embed"]))
            measured["faiss_search"].append(timed_ms(lambda v=vector: index.search(v, 20),
                                                     cpu["faiss_search"]))
            measured["bm25_search"].append(timed_ms(lambda q=question: bm25.search(q, 20),
                                                    cpu["bm25_search"]))
            for name, retriever in (("dense", dense), ("lexical", lexical), ("hybrid", hybrid)):
                found: list[Any] = []
                measured[f"{name}_total"].append(timed_ms(
                    lambda r=retriever, q=question, f=found: f.extend(r.search(q, 5)),
                    cpu[f"{name}_total"]))
                if round_no == 0:
                    hits[name] += any(h.chunk.doc_id.startswith(pages) for h in found)
    out["latency"] = {name: dict(summary(values), cpu_p50_ms=summary(cpu[name])["p50_ms"],
                                 cpu_p95_ms=summary(cpu[name])["p95_ms"])
                      for name, values in measured.items()}
    out["questions"] = len(QUESTIONS)
    out["hit_at_5"] = {name: round(v / len(QUESTIONS), 3) for name, v in hits.items()}
    out["real_vector_recall"] = real_vector_recall(index.vectors(), embedder, questions, args)
    out["load_average_after"] = load_average()
    return out


def real_vector_recall(vectors: Array, embedder: Any, questions: list[str],
                       args: argparse.Namespace) -> dict[str, Any]:
    """HNSW recall@10 on the real MiniLM vectors: 1,000 held-out passages and the questions."""
    rng = np.random.default_rng(3)
    held = rng.choice(len(vectors), min(1000, len(vectors) // 10), replace=False)
    mask = np.ones(len(vectors), dtype=bool)
    mask[held] = False
    base = np.ascontiguousarray(vectors[mask])
    queries = np.concatenate([vectors[held], embedder.embed(questions)]).astype(np.float32)
    truth = ann.exact_neighbours(base, queries, args.k)
    out: dict[str, Any] = {"vectors": len(base), "queries": len(queries), "rows": []}
    for kind in (ann.IVF, ann.HNSW):
        params = ann.choose(len(base), flat_max=0, kind=kind)
        started = time.perf_counter()
        index = ann.build(base, params)
        build_s = round(time.perf_counter() - started, 1)
        knob, default, values = search_knob(params, args)
        for value in values:
            set_knob(index, knob, value)
            out["rows"].append({"kind": kind, "params": params.to_dict(), "build_s": build_s,
                                knob: value, "default": value == default,
                                "recall_at_10": round(ann.recall_at_k(index, queries, truth,
                                                                      args.k), 4),
                                **timings(index, queries[:300], args.k)})
    return out


# ------------------------------------------------------------------------------ report
def table(results: dict[str, Any]) -> str:
    """The figures as a readable table."""
    lines: list[str] = []
    m = results["machine"]
    lines.append(f"machine: {m['cores']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, "
                 f"threads {results['threads']}")
    nan = float("nan")
    real = results.get("real")
    if real and "error" not in real:
        b, e = real["build"], real["embed_sample"]
        lines += ["", f"real corpus: {real['source']}",
                  f"  {real['html_files']} HTML files -> {real['documents']} documents "
                  f"({real['skipped']} skipped), {real['passages']} passages, "
                  f"index {real['index']}",
                  f"  loading {real['load_s']} s; embedding {b.get('embedded_passages')} "
                  f"passages in {b.get('build_s')} s = {b.get('passages_per_s')} passages/s; "
                  f"BM25 build {real['bm25_build_s']} s",
                  f"  embedding a sample of {e['passages']} passages again: "
                  f"{e['passages_per_s']} passages/s ({e['passages_per_cpu_s']} per CPU-second,"
                  f" load average {e['load_average']})",
                  f"  {'latency (ms)':<16}{'p50':>9}{'p95':>9}{'max':>9}{'cpu p50':>9}"
                  f"{'cpu p95':>9}"]
        for name, row in real["latency"].items():
            lines.append(f"  {name:<16}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}"
                         f"{row['max_ms']:>9.2f}{row.get('cpu_p50_ms', nan):>9.2f}"
                         f"{row.get('cpu_p95_ms', nan):>9.2f}")
        lines.append(f"  hit@5 on {real['questions']} questions: {real['hit_at_5']}")
        rv = real["real_vector_recall"]
        lines.append(f"  ANN recall@10 on the real vectors ({rv['vectors']}, {rv['queries']} "
                     "queries): "
                     + ", ".join(f"{r['kind']} {_knob_text(r)}: recall {r['recall_at_10']}"
                                 for r in rv["rows"]))
    elif real:
        lines += ["", f"real corpus: {real['error']}"]
    syn = results.get("synthetic")
    if syn:
        sweep = syn.get("sweep")
        if sweep:
            lines += ["", f"single-query latency by size ({sweep['queries']} queries, ms, wall "
                      f"p50/p95 and CPU p95; FLAT_MAX_VECTORS = {sweep['flat_max_vectors']})",
                      f"  {'vectors':>9}{'flat p50':>10}{'flat p95':>10}{'cpu p95':>9}"
                      f"{'1 thr p95':>10}{'ann p50':>10}{'ann p95':>10}{'cpu p95':>9}"
                      f"{'recall':>8}{'build s':>9}"]
            nan = float("nan")
            for row in sweep["rows"]:
                f, h = row["flat"], row.get("ann") or row.get("hnsw", {})
                recall = row.get("ann_recall_at_10", row.get("hnsw_recall_at_10", nan))
                build_s = row.get("ann_build_s", row.get("hnsw_build_s", nan))
                lines.append(f"  {row['vectors']:>9}{f['p50_ms']:>10.2f}{f['p95_ms']:>10.2f}"
                             f"{f['cpu_p95_ms']:>9.2f}{row['flat_1_thread']['p95_ms']:>10.2f}"
                             f"{h.get('p50_ms', nan):>10.2f}"
                             f"{h.get('p95_ms', nan):>10.2f}{h.get('cpu_p95_ms', nan):>9.2f}"
                             f"{recall:>8.4f}{build_s:>9.1f}")
        if "index" not in syn:  # a sweep-only run
            return "\n".join(lines)
        lines += ["", f"synthetic: {syn['vectors']} x {DIM} clustered unit vectors "
                  f"({syn['clusters']} clusters), {syn['queries']} held-out queries, k={syn['k']}",
                  f"  index {syn['index']}: build+save {syn['build_and_save_s']} s, "
                  f"load {syn['load_s']} s, files {syn['files_mb']} MB",
                  f"  RSS {syn['rss_mb_before_build']} -> {syn['rss_mb_after_build']} MB "
                  f"(build), peak {syn['peak_rss_mb']} MB; reconstruct all "
                  f"{syn['reconstruct_all_s']} s (exact: {syn['reconstruct_exact']})"]
        if "flat_exact" in syn:
            f = syn["flat_exact"]
            lines.append(f"  exact IndexFlatIP: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, "
                         f"CPU p95 {f['cpu_p95_ms']} ms ({f['n']} queries)")
        knob = syn["knob"]
        lines.append(f"  {knob:>9}{'recall@10':>11}{'p50 ms':>9}{'p95 ms':>9}"
                     f"{'max ms':>9}{'cpu p50':>9}{'cpu p95':>9}")
        for row in syn["knob_sweep"]:
            lines.append(f"  {row[knob]:>9}{row['recall_at_10']:>11.4f}"
                         f"{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}{row['max_ms']:>9.2f}"
                         f"{row['cpu_p50_ms']:>9.2f}{row['cpu_p95_ms']:>9.2f}")
        p = syn["product_search_depth20"]
        lines.append(f"  VectorIndex.search(k=20) at the default {knob}: p50 {p['p50_ms']} ms,"
                     f" p95 {p['p95_ms']} ms; recall@10 {syn['recall_at_10_default']}")
        lines.append(f"  load average before {syn['load_average_before']}, "
                     f"after {syn['load_average_after']}")
    return "\n".join(lines)


def _knob_text(row: dict[str, Any]) -> str:
    if "nprobe" in row:
        return f"nprobe {row['nprobe']}"
    return f"efSearch {row.get('ef_search')}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line flags."""
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--parts", default="real,synthetic",
                   help="which parts to run: real, synthetic (comma-separated)")
    p.add_argument("--work", type=Path, default=Path("/tmp/assistant-scale"),
                   help="working folder for the corpus links and indexes")
    p.add_argument("--real", type=Path, default=PYDOC, help="folder of HTML pages")
    p.add_argument("--real-folders", type=lambda s: [x for x in s.split(",") if x],
                   default=[], help="only these top-level folders (e.g. library,tutorial)")
    p.add_argument("--rebuild", action="store_true", help="embed the real corpus again")
    p.add_argument("--embed-sample", type=int, default=512,
                   help="passages embedded again to time the embedder now")
    p.add_argument("--rounds", type=int, default=3, help="timing rounds over the questions")
    p.add_argument("--vectors", type=int, default=1_000_000,
                   help="synthetic vectors (0: only the latency sweep)")
    p.add_argument("--clusters", type=int, default=10_000, help="synthetic clusters")
    p.add_argument("--queries", type=int, default=1000, help="synthetic held-out queries")
    p.add_argument("--flat-queries", type=int, default=100,
                   help="queries timed on exact search of all vectors (0: skip)")
    p.add_argument("--sweep-sizes", type=ints, default=[10_000, 25_000, 50_000, 100_000],
                   help="index sizes for the flat/HNSW latency sweep (empty: skip)")
    p.add_argument("--sweep-queries", type=int, default=300)
    p.add_argument("--no-sweep-ann", dest="sweep_ann", action="store_false",
                   help="time only exact search in the sweep")
    p.add_argument("--kind", choices=[ann.IVF, ann.HNSW], default=None,
                   help=f"approximate index kind (default: ann.LARGE_KIND = {ann.LARGE_KIND})")
    p.add_argument("--ef-search", type=ints, default=[16, 32, 64, 128, 256],
                   help="efSearch values timed on an HNSW index")
    p.add_argument("--nprobe", type=ints, default=[16, 32, 64, 128, 256],
                   help="nprobe values timed on an IVF index")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts, print the table, write the JSON."""
    args = parse_args(argv)
    parts = set(args.parts.split(","))
    set_threads(args.threads)
    if args.kind:
        ann.LARGE_KIND = args.kind
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine_info(), "threads": args.threads,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "note": "timings taken on a shared machine: other work may have been running "
                "(see the load averages)",
        "settings": {"flat_max_vectors": ann.FLAT_MAX_VECTORS, "large_kind": ann.LARGE_KIND,
                     "ivf_lists_per_sqrt": ann.IVF_LISTS_PER_SQRT,
                     "ivf_probe_share": ann.IVF_PROBE_SHARE, "hnsw_m": ann.HNSW_M,
                     "hnsw_ef_construction": ann.HNSW_EF_CONSTRUCTION,
                     "hnsw_ef_search": ann.HNSW_EF_SEARCH},
    }
    if "real" in parts:
        results["real"] = real_corpus(args)
    if "synthetic" in parts:
        results["synthetic"] = synthetic(args)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.is_file():  # keep the parts not run this time
        try:
            previous = json.loads(args.out.read_text())
            for part in ("real", "synthetic"):
                if part not in results and part in previous:
                    results[part] = previous[part]
            syn, old = results.get("synthetic", {}), previous.get("synthetic", {})
            if "sweep" not in syn and "sweep" in old:  # not rerun: keep the last one
                syn["sweep"] = dict(old["sweep"], measured=previous.get("started"))
            if syn and not syn.get("vectors") and old.get("vectors"):  # a sweep-only run
                results["synthetic"] = dict(old, sweep=dict(
                    syn["sweep"], measured=results["started"],
                    load_average_before=syn["load_average_before"],
                    load_average_after=syn["load_average_after"]))
        except ValueError:
            pass
    print(table(results))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
