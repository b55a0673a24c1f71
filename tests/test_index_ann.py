"""The FAISS index chosen by size: exact below the threshold, IVF (or HNSW) above, restored.

Fast tests on fake and small clustered vectors; timings are measured by bench/scale.py,
never asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import StoreError
from assistant.index import ann
from assistant.index.faiss_store import MANIFEST, IndexLayout, load, save
from assistant.index.indexing import VECTOR_INDEX_STAGE, refresh
from assistant.ingest.documents import load_corpus
from assistant.records import Chunk
from assistant.settings import ChunkerSettings
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder


def _clustered(n: int, dim: int = 64, clusters: int = 20, seed: int = 0,
               noise: float = 0.6) -> np.ndarray:
    """Unit vectors around random centroids (ANN recall means something on these)."""
    rng = np.random.default_rng(seed)
    centroids = rng.standard_normal((clusters, dim)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    labels = rng.integers(0, clusters, n)
    points = centroids[labels] + noise * rng.standard_normal((n, dim)).astype(
        np.float32) / np.sqrt(dim)
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def _chunks(n: int) -> list[Chunk]:
    return [Chunk(doc_id=f"doc{i // 10}", start=(i % 10) * 5, end=(i % 10) * 5 + 4,
                  text="abcd", tokens=1) for i in range(n)]


def _manifest(dim: int) -> dict[str, object]:
    return {"embedding_model": "fake", "dimension": dim, "documents": {}}


def test_index_kind_is_chosen_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ann.choose(0).kind == ann.FLAT
    assert ann.choose(ann.FLAT_MAX_VECTORS).kind == ann.FLAT
    assert ann.choose(ann.FLAT_MAX_VECTORS + 1).kind == ann.LARGE_KIND
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 100)
    assert ann.choose(100).kind == ann.FLAT and ann.choose(101).kind == ann.LARGE_KIND
    hnsw = ann.choose(101, kind=ann.HNSW)
    assert hnsw.graph() == (ann.HNSW_M, ann.HNSW_EF_CONSTRUCTION, ann.HNSW_EF_SEARCH)
    # IVF: lists grow with the square root of the size, at least IVF_TRAIN_PER_LIST
    # vectors a list; a share of them probed.
    assert ann.choose(1_000_000, kind=ann.IVF).lists() == (4096, 128)
    assert ann.choose(50_000, kind=ann.IVF).lists() == (1024, 32)
    assert ann.choose(30_000, kind=ann.IVF).lists() == (512, 16)
    assert ann.choose(9, flat_max=0, kind=ann.IVF).lists() == (1, 1)


@pytest.mark.parametrize("kind", [ann.IVF, ann.HNSW])
def test_small_saved_index_is_flat_and_large_one_approximate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 100)
    monkeypatch.setattr(ann, "LARGE_KIND", kind)
    vectors = _clustered(300)
    small = save(IndexLayout(tmp_path / "small"), _chunks(80), vectors[:80], _manifest(64))
    large = save(IndexLayout(tmp_path / "large"), _chunks(300), vectors, _manifest(64))
    assert small.params.kind == ann.FLAT and small.manifest["index"] == {"kind": "flat"}
    assert large.params.kind == kind and large.manifest["index"]["kind"] == kind
    assert ann.kind_of(large._index) == kind
    # Both keep the exact vectors: they come back for reuse, and scores are exact cosines.
    np.testing.assert_allclose(large.vectors(), vectors, atol=1e-6)
    pos, score = large.search(vectors[7], 1)[0]
    assert pos == 7 and score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("params", [
    ann.IndexParams(ann.HNSW, m=16, ef_construction=40, ef_search=64),
    ann.IndexParams(ann.IVF, nlist=64, nprobe=8),
    ann.choose(3000, flat_max=0, kind=ann.IVF),
])
def test_ann_recall_against_exact_search(params: ann.IndexParams) -> None:
    points = _clustered(3200, seed=1)
    base, queries = points[:3000], points[3000:]  # queries: same clusters, not in the index
    truth = ann.exact_neighbours(base, queries, 10)
    index = ann.build(base, params)
    assert ann.recall_at_k(index, queries, truth, 10) >= 0.95
    flat = ann.build(base, ann.IndexParams())
    assert ann.recall_at_k(flat, queries, truth, 10) == 1.0


@pytest.mark.parametrize("params", [ann.IndexParams(ann.HNSW, m=8, ef_construction=20,
                                                    ef_search=20),
                                    ann.IndexParams(ann.IVF, nlist=4, nprobe=2)])
def test_build_reports_progress_in_batches(params: ann.IndexParams) -> None:
    seen: list[tuple[int, int]] = []
    index = ann.build(_clustered(250), params, progress=lambda a, t: seen.append((a, t)),
                      batch=100)
    assert index.ntotal == 250
    assert seen == [(0, 250), (100, 250), (200, 250), (250, 250)]


def test_round_trip_keeps_kind_and_ef_search(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 100)
    monkeypatch.setattr(ann, "LARGE_KIND", ann.HNSW)
    monkeypatch.setattr(ann, "HNSW_EF_SEARCH", 48)
    layout = IndexLayout(tmp_path / "index")
    vectors = _clustered(300)
    save(layout, _chunks(300), vectors, _manifest(64))
    loaded = load(layout)
    assert loaded is not None
    assert loaded.params == ann.IndexParams(ann.HNSW, m=ann.HNSW_M,
                                            ef_construction=ann.HNSW_EF_CONSTRUCTION,
                                            ef_search=48)
    assert ann.kind_of(loaded._index) == ann.HNSW and loaded._index.hnsw.efSearch == 48
    # efSearch comes from the manifest on every load, whatever FAISS kept in its file.
    manifest = json.loads((layout.root / MANIFEST).read_text())
    manifest["index"]["ef_search"] = 77
    (layout.root / MANIFEST).write_text(json.dumps(manifest))
    reloaded = load(layout)
    assert reloaded is not None and reloaded._index.hnsw.efSearch == 77
    # A search deeper than efSearch still returns k neighbours.
    assert len(reloaded.search(vectors[0], 120)) == 120


def test_round_trip_keeps_ivf_lists_and_nprobe(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 100)
    monkeypatch.setattr(ann, "LARGE_KIND", ann.IVF)
    layout = IndexLayout(tmp_path / "index")
    vectors = _clustered(400)
    saved = save(layout, _chunks(400), vectors, _manifest(64))
    assert saved.params == ann.choose(400)
    manifest = json.loads((layout.root / MANIFEST).read_text())
    assert manifest["index"] == {"kind": "ivf", "nlist": saved.params.nlist,
                                 "nprobe": saved.params.nprobe}
    manifest["index"]["nprobe"] = 3
    (layout.root / MANIFEST).write_text(json.dumps(manifest))
    loaded = load(layout)
    assert loaded is not None and ann.kind_of(loaded._index) == ann.IVF
    assert loaded._index.nprobe == 3 and loaded._index.nlist == saved.params.nlist
    np.testing.assert_array_equal(loaded.vectors(), vectors)


@pytest.mark.parametrize("entry", [
    {"kind": "flat"}, {"kind": "ivf"}, {"kind": "hnsw"}, {"kind": "pq"}, "hnsw",
    {"kind": "hnsw", "m": 16, "ef_construction": 40, "ef_search": 64},
    {"kind": "hnsw", "m": 32, "ef_construction": 40, "ef_search": 64, "nlist": 4},
    {"kind": "ivf", "nlist": 3, "nprobe": 2}, {"kind": "ivf", "nlist": 4, "nprobe": True},
    {"kind": "hnsw", "x": 1}])
@pytest.mark.parametrize("kind", [ann.IVF, ann.HNSW])
def test_manifest_that_misnames_the_index_is_refused(tmp_path: Path, entry: object, kind: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 100)
    monkeypatch.setattr(ann, "LARGE_KIND", kind)
    monkeypatch.setattr(ann, "HNSW_M", 32)
    layout = IndexLayout(tmp_path / "index")
    save(layout, _chunks(300), _clustered(300), _manifest(64))  # HNSW (M=32) or IVF (7 lists)
    if entry == ann.choose(300).to_dict():
        pytest.skip("the entry names the index correctly")
    manifest = json.loads((layout.root / MANIFEST).read_text())
    manifest["index"] = entry
    (layout.root / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(StoreError):
        load(layout)


def test_manifest_without_index_entry_is_a_flat_index(tmp_path: Path) -> None:
    """Indexes written before the entry existed were all exact; they still load."""
    layout = IndexLayout(tmp_path / "index")
    save(layout, _chunks(20), _clustered(20), _manifest(64))
    manifest = json.loads((layout.root / MANIFEST).read_text())
    del manifest["index"]
    (layout.root / MANIFEST).write_text(json.dumps(manifest))
    loaded = load(layout)
    assert loaded is not None and loaded.params.kind == ann.FLAT


@pytest.mark.parametrize("kind", [ann.IVF, ann.HNSW])
def test_incremental_refresh_reuses_vectors_of_an_approximate_index(
        tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 4)  # the 9 passages of the corpus
    monkeypatch.setattr(ann, "LARGE_KIND", kind)
    index_dir = tmp_path / "index"
    events: list[tuple[str, int, int]] = []
    first, report = refresh(load_corpus(corpus_copy).documents, index_dir, FakeEmbedder(),
                            ChunkerSettings(), progress=lambda *e: events.append(e))
    assert report.status == "built" and first.params.kind == kind
    stage = [e for e in events if e[0] == VECTOR_INDEX_STAGE]
    assert stage[0] == (VECTOR_INDEX_STAGE, 0, len(first)) and stage[-1] == (
        VECTOR_INDEX_STAGE, len(first), len(first))
    kept = first.vectors()[first.doc_chunks()[SCMP]]

    path = corpus_copy / f"{TOMS}.txt"
    path.write_text(path.read_text() + "\nA new closing paragraph says talks resume soon.\n")
    embedder = FakeEmbedder()
    index, report = refresh(load_corpus(corpus_copy).documents, index_dir, embedder,
                            ChunkerSettings())
    assert report.status == "updated" and report.reused_documents == (SCMP,)
    assert report.embedded_documents == (TOMS,)
    assert sum(len(b) for b in embedder.calls) == len(index.doc_chunks()[TOMS])
    assert index.params.kind == kind
    np.testing.assert_array_equal(index.vectors()[index.doc_chunks()[SCMP]], kept)
    reloaded = load(IndexLayout(index_dir))
    assert reloaded is not None and reloaded.params == index.params


def test_new_threshold_rebuilds_the_vector_index_without_embedding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    docs = load_corpus(CORPUS).documents
    flat, _ = refresh(docs, index_dir, FakeEmbedder(), ChunkerSettings())
    assert flat.params.kind == ann.FLAT
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 4)
    embedder = FakeEmbedder()
    hnsw, report = refresh(docs, index_dir, embedder, ChunkerSettings())
    assert report.status == "updated" and "kind changed" in report.reason
    assert embedder.calls == [] and hnsw.params.kind == ann.LARGE_KIND
    assert [c.key for c in hnsw.chunks] == [c.key for c in flat.chunks]
    np.testing.assert_array_equal(hnsw.vectors(), flat.vectors())
    _, again = refresh(docs, index_dir, FakeEmbedder(), ChunkerSettings())
    assert again.status == "up to date"


def test_index_params_validation() -> None:
    with pytest.raises(ValueError):
        ann.IndexParams("ivf")
    with pytest.raises(ValueError):
        ann.IndexParams(ann.HNSW, m=0, ef_construction=40, ef_search=64)
    with pytest.raises(ValueError):
        ann.IndexParams(ann.FLAT, m=16)
    with pytest.raises(ValueError):
        ann.IndexParams(ann.IVF, nlist=16)
    with pytest.raises(ValueError):
        ann.IndexParams(ann.IVF, nlist=16, nprobe=4, m=8)
    for params in (ann.IndexParams(ann.HNSW, m=16, ef_construction=40, ef_search=64),
                   ann.IndexParams(ann.IVF, nlist=16, nprobe=4)):
        assert ann.IndexParams.from_dict(params.to_dict()) == params
    with pytest.raises(ValueError):
        ann.IndexParams(ann.HNSW, m=16, ef_construction=40, ef_search=64).lists()
    with pytest.raises(ValueError):
        ann.IndexParams(ann.IVF, nlist=16, nprobe=4).graph()
    with pytest.raises(ValueError, match="needs at least"):
        ann.build(_clustered(10), ann.IndexParams(ann.IVF, nlist=16, nprobe=4))
    assert ann.IndexParams.from_dict(None) == ann.IndexParams()


def test_building_an_approximate_index_logs_progress(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 4)
    monkeypatch.setattr(ann, "BUILD_BATCH", 4)
    caplog.set_level("INFO", logger="assistant.index.indexing")
    index, _ = refresh(load_corpus(CORPUS).documents, tmp_path / "index", FakeEmbedder(),
                       ChunkerSettings())  # no progress callback: the log still tells
    lines = [r.getMessage() for r in caplog.records if VECTOR_INDEX_STAGE in r.getMessage()]
    assert lines[0].endswith(f"0/{len(index)} vectors")
    assert lines[-1].endswith(f"{len(index)}/{len(index)} vectors") and len(lines) >= 3


def test_sigkill_while_building_an_ivf_index_keeps_a_loadable_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kill test of test_index_kill, with the corpora indexed as IVF (a few kills)."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    import test_index_kill as kill

    monkeypatch.setattr(ann, "FLAT_MAX_VECTORS", 4)
    monkeypatch.setattr(ann, "LARGE_KIND", ann.IVF)
    corpus_dirs = kill._corpora(tmp_path)
    corpora = [load_corpus(p).documents for p in corpus_dirs]
    index_dir = tmp_path / "index"
    first, _ = refresh(corpora[0], index_dir, FakeEmbedder(), ChunkerSettings())
    assert first.params.kind == ann.IVF and kill._problem(index_dir, corpora) == ""
    script = kill.CHILD.format(project=str(kill.PROJECT), tests=str(kill.PROJECT / "tests"))
    script = script.replace("from conftest import FakeEmbedder\n",
                            "from conftest import FakeEmbedder\nfrom assistant.index import ann\n"
                            "ann.FLAT_MAX_VECTORS = 4\nann.LARGE_KIND = 'ivf'\n")
    assert "ann.FLAT_MAX_VECTORS = 4" in script
    rng = random.Random(7)
    log = tmp_path / "child.log"
    for _ in range(4):
        with log.open("w") as err:
            child = subprocess.Popen(
                [sys.executable, "-c", script, str(index_dir), *map(str, corpus_dirs)],
                stdout=subprocess.PIPE, stderr=err, text=True,
                env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        kill._wait_ready(child, log)
        time.sleep(rng.uniform(0, kill.MAX_DELAY_S))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
        assert kill._problem(index_dir, corpora) == ""
        loaded = load(IndexLayout(index_dir))
        assert loaded is not None and loaded.params.kind == ann.IVF


def test_search_runs_on_one_thread_and_restores_the_count(tmp_path: Path) -> None:
    import faiss

    index = save(IndexLayout(tmp_path / "index"), _chunks(50), _clustered(50), _manifest(64))
    faiss.omp_set_num_threads(2)
    seen: list[int] = []
    real_search = index._index.search

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(faiss.omp_get_max_threads())
        return real_search(*args, **kwargs)

    index._index.search = spy  # type: ignore[method-assign]
    assert index.search(_clustered(50)[3], 1)[0][0] == 3
    assert seen == [1] and faiss.omp_get_max_threads() == 2
