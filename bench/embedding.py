"""Embedding speed and quality per backend: torch fp32, ONNX Runtime fp32 and int8 (and
OpenVINO fp32 on the same export, when the ``openvino`` package is installed).

    python bench/embedding.py [--passages 2000] [--threads N] [--no-eval]

Speed: passages per second over the corpus' passages and over ~2,000 synthetic passages
(the corpus' sentences recombined into reports, cut by the real chunker, so their length
is what the index sees), measured in slices with the backends interleaved and rotated so
the load of a shared machine falls on all of them alike; batch sizes 1-128; one-question
latency; load time. Quality: cosine of each backend's vectors with torch's; agreement of
dense rankings with torch's for the eval questions over corpus + synthetic passages; and
``assistant eval tests/data/questions.jsonl --retrieval`` run with each backend in its own
index folder. Prints a table and writes bench/results/embedding.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info  # noqa: E402

from assistant.evaluation import load_items  # noqa: E402
from assistant.index.refresh_plan import embedding_text  # noqa: E402
from assistant.ingest.chunking import chunk_text  # noqa: E402
from assistant.ingest.documents import load_corpus  # noqa: E402
from assistant.models.embedding import (  # noqa: E402
    Embedder,
    OnnxEmbedder,
    make_embedder,
)
from assistant.models.onnx_export import ensure_export, export_dir  # noqa: E402
from assistant.records import Document  # noqa: E402
from assistant.settings import EMBED_BACKENDS, Settings  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
# A faster backend "holds" retrieval quality when, in the eval with its own index, every
# retriever mode's recall@1/3/5 and MRR@5 are at most this far below torch's (one of the
# 54 questions), and torch's best passage of the large pool stays in its top 3 for at
# least HOLD_TOP1_IN_TOP3 of the questions.
HOLD_MARGIN = 1 / 54 + 1e-9
HOLD_TOP1_IN_TOP3 = 0.95


def corpus_passages(settings: Settings) -> list[str]:
    """The texts the index embeds for the project's corpus."""
    chunker = settings.chunker()
    docs = load_corpus(settings.corpus_dir).documents
    return [embedding_text(d, c) for d in docs for c in chunk_text(d.doc_id, d.text, chunker)]


def synthetic_passages(settings: Settings, count: int, seed: int = 5) -> list[str]:
    """About ``count`` passages from reports made of the corpus' sentences recombined."""
    docs = load_corpus(settings.corpus_dir).documents
    sentences = [s.strip() for d in docs for s in re.split(r"(?<=[.!?])\s+|\n+", d.text)
                 if len(s.strip()) > 25]
    heads = [(d.title, d.outlet) for d in docs]
    chunker = settings.chunker()
    rng = random.Random(seed)
    out: list[str] = []
    n = 0
    while len(out) < count:
        n += 1
        paragraphs = [" ".join(rng.sample(sentences, rng.randint(2, 5)))
                      for _ in range(rng.randint(3, 12))]
        text = "\n\n".join(paragraphs)
        title, outlet = rng.choice(heads)
        doc = Document(doc_id=f"synthetic-{n}", path=f"synthetic-{n}.txt", text=text,
                       sha256="", title=title, outlet=outlet)
        out.extend(embedding_text(doc, c) for c in chunk_text(doc.doc_id, text, chunker))
    return out[:count]


class _OpenVinoSession:
    """An OpenVINO compiled model behind the one ``run`` call OnnxEmbedder makes."""

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def run(self, _outputs: Any, feed: dict[str, Any]) -> list[Any]:
        return [self._compiled(feed)[0]]


def openvino_embedder(cache_dir: Path, threads: int) -> Embedder | None:
    """The fp32 export run by OpenVINO's CPU plugin, or None without the package."""
    try:
        import openvino
    except ImportError:
        return None
    embedder = OnnxEmbedder(cache_dir, quantized=False, threads=threads)
    export = ensure_export(cache_dir)
    compiled = openvino.Core().compile_model(
        str(export.path("model.onnx")), "CPU",
        {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"})
    embedder._session = _OpenVinoSession(compiled)  # type: ignore[assignment]
    embedder.name = "all-MiniLM-L6-v2 (openvino)"
    return embedder


def make(backend: str, cache_dir: Path, threads: int) -> Embedder | None:
    """The embedder of one benchmarked backend (OpenVINO is the benchmark's own)."""
    if backend == "openvino":
        return openvino_embedder(cache_dir, threads)
    return make_embedder(backend, cache_dir, threads=threads)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``fn()`` and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def interleaved_rate(embedders: dict[str, Embedder], texts: list[str], slices: int,
                     ) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Passages/s of each backend over ``texts`` cut in slices, backends rotated per slice."""
    names = list(embedders)
    seconds = {n: 0.0 for n in names}
    rates: dict[str, list[float]] = {n: [] for n in names}
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    bounds = np.linspace(0, len(texts), slices + 1).astype(int)
    for s in range(slices):
        piece = texts[bounds[s]:bounds[s + 1]]
        order = names[s % len(names):] + names[:s % len(names)]
        for name in order:
            dt, vectors = timed(lambda name=name, piece=piece: embedders[name].embed(piece))
            seconds[name] += dt
            rates[name].append(len(piece) / dt)
            parts[name].append(vectors)
        print(f"  slice {s + 1}/{slices}: "
              + ", ".join(f"{n} {rates[n][-1]:.1f}/s" for n in names)
              + f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    stats = {n: {"passages_per_s": len(texts) / seconds[n], "seconds": seconds[n],
                 "slice_median_per_s": statistics.median(rates[n]),
                 "slice_min_per_s": min(rates[n]), "slice_max_per_s": max(rates[n])}
             for n in names}
    return stats, {n: np.concatenate(parts[n]) for n in names}


def cosine_stats(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Cosine of matching unit vectors: min, 1st percentile, mean."""
    cos = np.sum(reference * other, axis=1)
    return {"min": float(cos.min()), "p1": float(np.percentile(cos, 1)),
            "mean": float(cos.mean())}


def ranking_agreement(ref_q: np.ndarray, ref_p: np.ndarray, q: np.ndarray, p: np.ndarray,
                      ) -> dict[str, float]:
    """How closely a backend's dense rankings over the pool follow torch's."""
    ref_rank = np.argsort(-(ref_q @ ref_p.T), axis=1)
    rank = np.argsort(-(q @ p.T), axis=1)
    top10 = [len(set(a[:10]) & set(b[:10])) / 10 for a, b in zip(ref_rank, rank, strict=True)]
    top1_same = [a[0] == b[0] for a, b in zip(ref_rank, rank, strict=True)]
    top1_in3 = [a[0] in b[:3] for a, b in zip(ref_rank, rank, strict=True)]
    return {"overlap_at_10": float(np.mean(top10)), "top1_same": float(np.mean(top1_same)),
            "torch_top1_in_top3": float(np.mean(top1_in3))}


def batch_size_rates(embedders: dict[str, Embedder], texts: list[str], rounds: int = 2,
                     ) -> dict[str, dict[str, float]]:
    """Passages/s of each backend at each batch size over ``texts``, interleaved, median."""
    runs = [(n, b) for n in embedders for b in BATCH_SIZES]
    times: dict[tuple[str, int], list[float]] = {r: [] for r in runs}
    for round_ in range(rounds):
        shift = round_ * len(runs) // rounds
        for name, size in runs[shift:] + runs[:shift]:
            embedder = embedders[name]
            keep = embedder._batch_size  # type: ignore[attr-defined]
            embedder._batch_size = size  # type: ignore[attr-defined]
            times[(name, size)].append(timed(lambda e=embedder: e.embed(texts))[0])
            embedder._batch_size = keep  # type: ignore[attr-defined]
    return {n: {str(b): len(texts) / statistics.median(times[(n, b)]) for b in BATCH_SIZES}
            for n in embedders}


def retrieval_eval(backend: str, threads: int) -> dict[str, Any]:
    """``assistant eval --retrieval --json`` with this backend in its own index folder."""
    index_dir = Path(f"/tmp/idx-{backend}")
    cmd = [sys.executable, "-m", "assistant.cli", "eval", str(QUESTIONS), "--retrieval",
           "--json", "--index-dir", str(index_dir), "--embed-backend", backend,
           "--threads", str(threads)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    data = json.loads(done.stdout)
    return {m["mode"]: {"recall": m["recall"], "mrr": m["mrr"]} for m in data["modes"]}


def holds(evals: dict[str, Any], agreement: dict[str, Any], backend: str) -> bool:
    """Whether ``backend`` keeps torch's retrieval quality (see HOLD_MARGIN)."""
    ref, got = evals.get("torch"), evals.get(backend)
    if not ref or not got:
        return False
    for mode, scores in ref.items():
        for k, value in scores["recall"].items():
            if got[mode]["recall"][k] < value - HOLD_MARGIN:
                return False
        if got[mode]["mrr"] < scores["mrr"] - HOLD_MARGIN:
            return False
    return bool(agreement[backend]["torch_top1_in_top3"] >= HOLD_TOP1_IN_TOP3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-eval", action="store_true", help="skip assistant eval runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "embedding.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    settings = Settings.from_env(threads=args.threads)
    cache = settings.cache_dir

    export_fresh = not export_dir(cache).exists()
    export_s, _ = timed(lambda: ensure_export(cache))
    print(f"ONNX export: {export_s:.1f} s ({'made now' if export_fresh else 'reused'})")

    import onnxruntime  # noqa: F401  (imports first: load times are the models' own)
    import sentence_transformers  # noqa: F401
    import transformers  # noqa: F401

    embedders: dict[str, Embedder] = {}
    load_s: dict[str, float] = {}
    for backend in (*EMBED_BACKENDS, "openvino"):
        dt, emb = timed(lambda backend=backend: make(backend, cache, args.threads))
        if emb is not None:
            embedders[backend], load_s[backend] = emb, dt
    names = list(embedders)

    corpus = corpus_passages(settings)
    synthetic = synthetic_passages(settings, args.passages)
    questions = [i.question for i in load_items(QUESTIONS)]
    for emb in embedders.values():  # warm up each runtime
        emb.embed(synthetic[:16])
    print(f"{len(corpus)} corpus passages, {len(synthetic)} synthetic passages "
          f"(mean {statistics.mean(len(t) for t in synthetic):.0f} characters), "
          f"{len(questions)} questions; threads {args.threads}")

    print("corpus passages (5 rounds):")
    corpus_speed, _ = interleaved_rate(embedders, corpus * 5, 5)
    print(f"synthetic passages ({args.slices} slices):")
    synth_speed, vectors = interleaved_rate(embedders, synthetic, args.slices)

    times: dict[str, list[float]] = {n: [] for n in names}
    for i, question in enumerate(questions * 2):  # one question at a time, backends rotated
        for name in names[i % len(names):] + names[:i % len(names)]:
            times[name].append(timed(lambda q=question, n=name: embedders[n].embed([q]))[0])
    latency = {n: 1000 * statistics.median(t) for n, t in times.items()}

    print("batch sizes:")
    batches = batch_size_rates({n: embedders[n] for n in EMBED_BACKENDS}, synthetic[:96])
    for name, rates in batches.items():
        print(f"  {name}: " + ", ".join(f"{b}: {r:.1f}/s" for b, r in rates.items()))

    pool = corpus + synthetic
    pool_vectors = {n: np.concatenate([embedders[n].embed(corpus), vectors[n]]) for n in names}
    question_vectors = {n: embedders[n].embed(questions) for n in names}
    cosine = {n: {"passages": cosine_stats(pool_vectors["torch"], pool_vectors[n]),
                  "questions": cosine_stats(question_vectors["torch"], question_vectors[n])}
              for n in names}
    agreement = {n: ranking_agreement(question_vectors["torch"], pool_vectors["torch"],
                                      question_vectors[n], pool_vectors[n]) for n in names}

    evals: dict[str, Any] = {}
    if not args.no_eval:
        for backend in EMBED_BACKENDS:
            print(f"assistant eval --retrieval --embed-backend {backend} ...", flush=True)
            evals[backend] = retrieval_eval(backend, args.threads)

    verdict = {n: holds(evals, agreement, n) for n in EMBED_BACKENDS if n != "torch"}
    result = {
        "machine": {**machine_info(), "load_average_at_end": os.getloadavg(),
                    "onnxruntime": _version("onnxruntime"), "onnx": _version("onnx"),
                    "openvino": _version("openvino")},
        "threads": args.threads,
        "export_seconds": export_s, "export_made_now": export_fresh,
        "passages": {"corpus": len(corpus), "synthetic": len(synthetic), "pool": len(pool),
                     "synthetic_mean_chars": statistics.mean(len(t) for t in synthetic)},
        "load_seconds": load_s,
        "batch_size_used": {n: getattr(e, "_batch_size", None) for n, e in embedders.items()},
        "corpus_speed": corpus_speed,
        "synthetic_speed": synth_speed,
        "query_latency_ms": latency,
        "batch_sizes": batches,
        "cosine_vs_torch": cosine,
        "pool_ranking_vs_torch": agreement,
        "retrieval_eval": evals,
        "holds_torch_quality": verdict,
        "hold_rule": f"every mode's recall@1/3/5 and MRR@5 within {HOLD_MARGIN:.3f} of torch "
                     f"(1 of 54 questions) and torch's top pool passage in the top 3 for "
                     f">= {HOLD_TOP1_IN_TOP3:.0%} of the questions",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print()
    print(table(result))
    print(f"\nwrote {args.out}")


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def table(r: dict[str, Any]) -> str:
    """The results as a text table, one row per backend."""
    names = list(r["synthetic_speed"])
    speed = r["synthetic_speed"]
    base = speed["torch"]["passages_per_s"]
    lines = [f"{'backend':<10} {'synth p/s':>9} {'x torch':>7} {'corpus p/s':>10} "
             f"{'query ms':>8} {'load s':>6} {'cos min':>7} {'cos mean':>8} "
             f"{'top10 ovl':>9} {'top1 =':>6} {'top1 in 3':>9}"]
    for n in names:
        cos, agree = r["cosine_vs_torch"][n]["passages"], r["pool_ranking_vs_torch"][n]
        lines.append(
            f"{n:<10} {speed[n]['passages_per_s']:>9.1f} {speed[n]['passages_per_s'] / base:>7.2f} "
            f"{r['corpus_speed'][n]['passages_per_s']:>10.1f} {r['query_latency_ms'][n]:>8.1f} "
            f"{r['load_seconds'][n]:>6.1f} {cos['min']:>7.4f} {cos['mean']:>8.4f} "
            f"{agree['overlap_at_10']:>9.2f} {agree['top1_same']:>6.2f} "
            f"{agree['torch_top1_in_top3']:>9.2f}")
    if r["retrieval_eval"]:
        lines.append("")
        lines.append(f"{'backend':<10} {'mode':<8} {'r@1':>5} {'r@3':>5} {'r@5':>5} {'MRR':>5}")
        for backend, modes in r["retrieval_eval"].items():
            for mode, s in modes.items():
                rec = s["recall"]
                lines.append(f"{backend:<10} {mode:<8} {rec['@1']:>5.2f} {rec['@3']:>5.2f} "
                             f"{rec['@5']:>5.2f} {s['mrr']:>5.2f}")
    lines.append("")
    lines.append("holds torch's retrieval quality: " + ", ".join(
        f"{n}: {'yes' if ok else 'no'}" for n, ok in r["holds_torch_quality"].items()))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
