"""Shared fixtures: a deterministic fake embedder, a scripted model, and isolated paths.

Every test runs with the index and cache folders pointed at its own tmp_path, so
nothing touches the project's index/. Real-model fixtures are session-scoped and
only used by tests marked ``real``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.draft import EXTRACT_PROMPT, EXTRACT_REQUEST, POLAR_PROMPT
from assistant.core import Assistant
from assistant.models import files as models
from assistant.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
SCMP = "scmp-beijing-weighs-h200-imports"
TOMS = "tomshardware-h200-emergency-meetings"
# A short report that loads and chunks (for uploads and awkward files).
REPORT = ("Chip makers face new export rules\n\n"
          "The government announced on Monday that chip exports will need a licence from next "
          "year, according to officials familiar with the plan.\n\n"
          "Companies said they were studying the details of the new rules carefully.\n")


def passage_number(messages: list[dict[str, str]], needle: str) -> int:
    """The number the prompt gave to the passage containing ``needle``."""
    user = messages[-1]["content"]
    for block in user.split("<passage n=")[1:]:
        if needle in block:
            return int(block.split('"')[1])
    raise AssertionError(f"{needle!r} not among the passages")


def other_passage(messages: list[dict[str, str]], needle: str) -> int:
    """The number of a passage of the prompt that does not contain ``needle``."""
    user = messages[-1]["content"]
    for block in user.split("<passage n=")[1:]:
        if needle not in block:
            return int(block.split('"')[1])
    raise AssertionError(f"every passage holds {needle!r}")


class FakeEmbedder:
    """Bag of hashed words: texts sharing words get similar vectors. Deterministic."""

    name = "fake-embedder"
    fingerprint = "fake-1"
    dimension = 1024
    max_tokens = 256

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[i, h % self.dimension] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
            if not norm:
                out[i, 0] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


class ScriptedGenerator:
    """Replies from a script: a list of strings (used in turn) or a function of the messages."""

    name = "scripted"
    context_tokens = 4096

    def __init__(self, script: list[str] | Callable[[list[dict[str, str]]], str],
                 extract: str | Callable[[str], str] | None = None,
                 yes: dict[str, float] | None = None) -> None:
        self.script = script
        self.extract = extract
        # the probability that a sentence containing a key says yes to a yes/no question
        self.yes = yes or {}
        self.yes_asked: list[str] = []  # the sentences scored for a yes, in turn
        self.lock = threading.Lock()
        self.prompts: list[list[dict[str, str]]] = []
        self.checks: list[list[dict[str, str]]] = []
        self.warmed: list[list[dict[str, str]]] = []
        self.last_stats: dict[str, float] = {}
        self.continued: list[str] = []  # the replies asked to go on after a prefix

    def prepare(self, messages: list[dict[str, str]]) -> str:
        self.warmed.append(messages)
        return "computed"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def score(self, messages: list[dict[str, str]], options: Sequence[Sequence[str]]
              ) -> list[float] | None:
        # whether a sentence says yes to a yes/no question: the probability of yes as two
        # log-probabilities
        assert messages[0]["content"] == POLAR_PROMPT and len(options) == 2
        sentence = messages[-1]["content"].split("Sentence: ", 1)[1].split("\n\n")[0]
        self.yes_asked.append(sentence)
        p = next((p for key, p in self.yes.items() if key in sentence), 0.5)
        return [math.log(p) if p > 0 else float("-inf"),
                math.log(1 - p) if p < 1 else float("-inf")]

    def stream(self, messages: list[dict[str, str]], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        if prefix:  # the reply goes on: the script's next reply (or its function's) follows
            self.continued.append(prefix)
        last = messages[-1]["content"]
        if messages[0]["content"] == EXTRACT_PROMPT or last.startswith(EXTRACT_REQUEST):
            # The answer check: by default copy the supporting sentences (a confirmation).
            self.checks.append(messages)
            sentences = last.removeprefix(EXTRACT_REQUEST).strip().split("\n\nQuestion:")[0]
            sentences = sentences.removeprefix("Sentences: ")
            if callable(self.extract):
                yield self.extract(sentences)
            else:
                yield self.extract if self.extract is not None else sentences
            return
        self.prompts.append(messages)
        if callable(self.script):
            reply = self.script(messages)
        else:
            reply = self.script[min(len(self.prompts), len(self.script)) - 1]
        yield from re.findall(r"\S+\s*", reply)


def fake_bundled_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: bytes,
                       digest: str, size: int | None = None, split: int = 10
                       ) -> models.BundledModel:
    """A two-part bundled model whose parts are files under ``tmp_path``."""
    parts = []
    for i, piece in enumerate([payload[:split], payload[split:]], start=1):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(piece)
        parts.append(part)
    monkeypatch.setattr(models, "part_path", lambda model, i: parts[i - 1])
    return models.BundledModel("Tiny", "tiny.gguf", "tiny-part", 2, "0.1",
                               size if size is not None else len(payload), digest, "")


@pytest.fixture(autouse=True)
def _isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the index (and, for fakes, every cache) at tmp_path; keep the real model cache."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(CORPUS))
    # The off-topic gate's default is calibrated for all-MiniLM-L6-v2, not the fake embedder.
    monkeypatch.setenv("ASSISTANT_MIN_RELEVANCE", "0.1")
    # Most tests script replies for retrieved passages; corpus mode has its own tests.
    monkeypatch.setenv("ASSISTANT_CONTEXT_MODE", "retrieved")
    for var in ("ASSISTANT_MODEL", "ASSISTANT_TOP_K", "ASSISTANT_CHUNK_TOKENS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def make_assistant(tmp_path: Path, fake_embedder: FakeEmbedder) -> Callable[..., Assistant]:
    """Open an Assistant over a corpus with the fake embedder and a scripted model."""

    def make(script: list[str] | Callable[[list[dict[str, str]]], str] | None = None,
             corpus: Path | None = None, **settings: object) -> Assistant:
        cfg = Settings.from_env(**settings)  # type: ignore[arg-type]
        return Assistant.open(corpus_dir=corpus or CORPUS, index_dir=tmp_path / "index",
                              settings=cfg, embedder=fake_embedder,
                              generator=ScriptedGenerator(script or ["The reports do not say."]))

    return make


@pytest.fixture(scope="session")
def real_embedder() -> object:
    """The bundled embedding model on the configured backend, as the assistant makes it.

    Built like ``Assistant.open`` builds it, so a CLI run in a subprocess on the same index
    has the same fingerprint and reuses the index instead of rebuilding it.
    """
    from assistant.models.embedding import make_embedder

    cfg = Settings.from_env()
    return make_embedder(cfg.embed_backend, cfg.cache_dir)


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory: pytest.TempPathFactory, real_embedder: object) -> Assistant:
    """The real pipeline: real embedder, the bundled default LLM, the project's corpus."""
    index_dir = tmp_path_factory.mktemp("real") / "index"
    return Assistant.open(corpus_dir=CORPUS, index_dir=index_dir, model="default",
                          settings=Settings(), embedder=real_embedder)  # type: ignore[arg-type]


def shift_passages(index_dir: Path, doc_id: str) -> None:
    """Move ``doc_id``'s stored passages by one character (checksums made to match)."""
    manifest = json.loads((index_dir / "manifest.json").read_text())
    path = index_dir / manifest["generation"] / "chunks.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        if row["doc_id"] == doc_id and row["start"] > 0:
            row["start"] -= 1
            row["end"] -= 1
            row["text"] = " " + row["text"][:-1]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest["files"]["chunks.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
