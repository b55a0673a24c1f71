"""A process killed (SIGKILL) at any moment while indexing leaves the last good index loadable.

A child process rebuilds the index over and over (forced, alternating between two
corpora, with a fake embedder that sleeps a little per batch); the test kills it
after a random delay and then checks that the index on disk loads and is complete
and consistent with one of the two corpora, down to every passage and vector.

``ASSISTANT_KILL_RUNS`` sets the number of kills (default 12, to keep CI fast).
"""

from __future__ import annotations

import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import StoreError
from assistant.index.faiss_store import IndexLayout, load
from assistant.index.indexing import inconsistency, refresh
from assistant.index.refresh_plan import embedding_text
from assistant.ingest.chunking import chunk_text
from assistant.ingest.documents import load_corpus
from assistant.records import Document
from assistant.settings import ChunkerSettings
from conftest import CORPUS, PROJECT, FakeEmbedder

RUNS = int(os.environ.get("ASSISTANT_KILL_RUNS", "12"))
MAX_DELAY_S = 0.5

CHILD = """
import sys, time
from pathlib import Path
sys.path[:0] = [{project!r}, {tests!r}]
import faiss  # noqa: F401  (imported before 'ready' so kills land in the work)
from assistant.ingest.chunking import chunk_text
from assistant.settings import ChunkerSettings
from assistant.ingest.documents import load_corpus
from assistant.index.indexing import refresh
from conftest import FakeEmbedder

class SlowEmbedder(FakeEmbedder):
    def embed(self, texts):
        time.sleep(0.002)
        return super().embed(texts)

index_dir = Path(sys.argv[1])
corpora = [load_corpus(Path(p)).documents for p in sys.argv[2:]]
chunk_text("warm-up", "Load the tokenizer before the kills start.")
print("ready", flush=True)
i = 0
while True:
    refresh(corpora[i % len(corpora)], index_dir, SlowEmbedder(), ChunkerSettings(), force=True)
    i += 1
"""


def _corpora(tmp_path: Path) -> list[Path]:
    """Two corpora: the project's, and the project's plus three more reports."""
    small = tmp_path / "corpus-a"
    large = tmp_path / "corpus-b"
    shutil.copytree(CORPUS, small)
    shutil.copytree(CORPUS, large)
    base = (CORPUS / "tomshardware-h200-emergency-meetings.txt").read_text()
    for i in range(3):
        (large / f"extra-{i}.txt").write_text(
            f"Extra report number {i} on the chip talks\n\n"
            + base.replace("H200", f"H2{i}0").replace("Beijing", f"Region {i}"))
    return [small, large]


def _problem(index_dir: Path, corpora: list[tuple[Document, ...]]) -> str:
    """Why the index on disk is not a complete, consistent index of one corpus; "" if it is."""
    try:
        index = load(IndexLayout(index_dir))
    except StoreError as exc:
        return f"the index does not load: {exc}"
    if index is None:
        return "there is no index"
    listed = index.manifest.get("documents", {})
    matches = [docs for docs in corpora
               if {d.doc_id: d.sha256 for d in docs}
               == {k: v.get("sha256") for k, v in listed.items()}]
    if not matches:
        return "the manifest lists neither corpus"
    docs = matches[0]
    problem = inconsistency(index, docs)
    if problem:
        return problem
    expected = [c for d in docs for c in chunk_text(d.doc_id, d.text, ChunkerSettings())]
    if [c.key for c in index.chunks] != [c.key for c in expected]:
        return "the passages are not those of the corpus"
    by_id = {d.doc_id: d for d in docs}
    vectors = FakeEmbedder().embed([embedding_text(by_id[c.doc_id], c) for c in expected])
    if not np.allclose(index.vectors(), vectors, atol=1e-5):
        return "the vectors are not those of the passages"
    _, report = refresh(docs, index_dir, FakeEmbedder(), ChunkerSettings())
    if report.status != "up to date":
        return f"reopening the index needed a rebuild ({report.reason})"
    return ""


def _leftovers(index_dir: Path) -> set[str]:
    """Files and folders of unfinished or superseded generations (cleaned by the next build)."""
    names = {p.name for p in index_dir.iterdir()}
    gens = sorted(n for n in names if n.startswith("gen-"))
    return {n for n in names if n.startswith((".tmp-gen-", ".manifest.json."))} | (
        set(gens) if len(gens) > 1 else set())


def _start(index_dir: Path, corpora: list[Path], log: Path) -> subprocess.Popen[str]:
    script = CHILD.format(project=str(PROJECT), tests=str(PROJECT / "tests"))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with log.open("w") as err:
        return subprocess.Popen([sys.executable, "-c", script, str(index_dir),
                                 *map(str, corpora)],
                                stdout=subprocess.PIPE, stderr=err, text=True, env=env)


def _wait_ready(child: subprocess.Popen[str], log: Path) -> None:
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], 60)
    line = child.stdout.readline() if ready else ""
    if line.strip() != "ready":
        child.kill()
        child.wait()
        pytest.fail(f"the indexing child did not start: {log.read_text()[-2000:]}")


def test_sigkill_during_indexing_never_breaks_the_last_good_index(tmp_path: Path) -> None:
    corpus_dirs = _corpora(tmp_path)
    corpora = [load_corpus(p).documents for p in corpus_dirs]
    index_dir = tmp_path / "index"
    refresh(corpora[0], index_dir, FakeEmbedder(), ChunkerSettings())
    assert _problem(index_dir, corpora) == ""
    rng = random.Random(int(os.environ.get("ASSISTANT_KILL_SEED", "6")))
    broken: list[str] = []
    mid_write = 0
    log = tmp_path / "child.log"
    for run in range(RUNS):
        before = _leftovers(index_dir)
        child = _start(index_dir, corpus_dirs, log)
        _wait_ready(child, log)
        time.sleep(rng.uniform(0, MAX_DELAY_S))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, log.read_text()[-2000:]
        if child.stdout is not None:
            child.stdout.close()
        mid_write += bool(_leftovers(index_dir) - before)
        problem = _problem(index_dir, corpora)
        if problem:
            broken.append(f"run {run}: {problem}")
    print(f"\n{RUNS} kills, {mid_write} left a half-written or superseded generation, "
          f"{len(broken)} broken indexes")
    assert broken == []
