"""Text generation behind a small interface; the llama-cpp-python adapter runs a GGUF in-process.

The adapter keeps llama.cpp's state between calls, so a prompt that starts like
the previous one (the static instructions come first) only pays for its new
tokens. It is not thread-safe: callers hold :attr:`LlamaCppGenerator.lock`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from assistant.errors import ModelError

logger = logging.getLogger(__name__)

Message = dict[str, str]


class Generator(Protocol):
    """What answering needs from a language model."""

    name: str
    context_tokens: int
    lock: threading.Lock

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own tokenizer."""
        ...

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """Stream the reply to a chat, piece by piece."""
        ...


class LlamaCppGenerator:
    """A local GGUF chat model through llama-cpp-python, on the CPU."""

    def __init__(self, model_path: Path, context_tokens: int, threads: int,
                 temperature: float = 0.0, seed: int = 7) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - an install problem
            raise ModelError(
                "llama-cpp-python is not installed: pip install llama-cpp-python"
            ) from exc
        try:
            self._llm = Llama(model_path=str(model_path), n_ctx=context_tokens, n_threads=threads,
                              n_threads_batch=threads, n_batch=512, seed=seed, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"the model {model_path.name} could not be loaded") from exc
        self.name = model_path.name
        self.context_tokens = context_tokens
        self.lock = threading.Lock()
        self._temperature = temperature
        self._seed = seed

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model reads it (special-token text counted as plain text)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """Stream the model's reply to ``messages``."""
        chunks: Any = self._llm.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            stream=True, max_tokens=max_tokens,
            temperature=self._temperature, top_p=1.0, top_k=1, repeat_penalty=1.0,
            seed=self._seed,
        )
        for chunk in chunks:
            delta = chunk["choices"][0].get("delta", {}).get("content")
            if delta:
                yield delta
