"""Text generation behind a small interface; the llama-cpp-python adapter runs a GGUF in-process.

The adapter keeps llama.cpp's state between calls, so a prompt that starts like
the warmed one (the static instructions and passages come first) only pays for its
new tokens. Each request starts from the warmed state (see :meth:`warm`): reusing
whatever the previous request left would change how the new tokens are batched, and
with it the last digits of the logits, so an answer could depend on the questions
asked before it. It is not thread-safe: callers hold :attr:`LlamaCppGenerator.lock`.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import ModelError

logger = logging.getLogger(__name__)

Message = dict[str, str]
# Tokens at the end of a warmed prompt that the next chat may render differently
# (the question is inserted there); the state counts as held without them.
_WARM_SLACK = 8
_YES = ("yes", "Yes", "YES", " yes", " Yes")
_NO = ("no", "No", "NO", " no", " No")


class Generator(Protocol):
    """What answering needs from a language model."""

    name: str
    context_tokens: int
    lock: threading.Lock
    last_stats: dict[str, float]  # of the last reply: prompt_tokens, reused_tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own tokenizer."""
        ...

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """Stream the reply to a chat, piece by piece."""
        ...

    def yes_probability(self, messages: list[Message]) -> float | None:
        """How likely the reply to ``messages`` starts with yes rather than no.

        Read from the model's next-token probabilities (yes and no in any
        capitalisation); ``None`` when the model cannot tell them (no probabilities).
        """
        ...

    def warm(self, messages: list[Message], state_file: Path | None = None) -> str:
        """Read ``messages`` ahead of time, so chats starting the same way reuse that work.

        With ``state_file``, the model state is restored from it when it holds the
        same prompt, and saved there otherwise. Returns what happened: ``"loaded"``,
        ``"computed"`` or ``"unchanged"`` (the model already held that prompt).
        """
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
        self.last_stats: dict[str, float] = {}
        self._temperature = temperature
        self._seed = seed

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model reads it (special-token text counted as plain text)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """Stream the model's reply to ``messages``."""
        prompt = self._prompt_tokens(messages, reply=True)
        self.last_stats = {"prompt_tokens": len(prompt),
                           "reused_tokens": self._held_prefix(prompt)}
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

    def yes_probability(self, messages: list[Message]) -> float | None:
        """P(yes) / (P(yes) + P(no)) for the first token of the reply to ``messages``.

        Only the tokens after what the model already holds are read, so asking
        about several sentences after the same question costs only the new words.
        """
        prompt = self._prompt_tokens(messages, reply=True)
        held = min(self._held_prefix(prompt), len(prompt) - 1)
        self.last_stats = {"prompt_tokens": len(prompt), "reused_tokens": held}
        self._llm.n_tokens = held
        self._llm.eval(prompt[held:])
        vocab = self._llm.n_vocab()
        logits = np.ctypeslib.as_array(self._llm._ctx.get_logits(),  # type: ignore[no-untyped-call]
                                       shape=(vocab,))
        yes, no = self._answer_tokens
        return _two_way(logits[yes].astype(np.float64), logits[no].astype(np.float64))

    @functools.cached_property
    def _answer_tokens(self) -> tuple[list[int], list[int]]:
        """The first tokens of yes and of no, in the spellings a reply may start with."""
        def first(words: tuple[str, ...]) -> list[int]:
            return sorted({self._llm.tokenize(w.encode(), add_bos=False, special=False)[0]
                           for w in words})
        return first(_YES), first(_NO)

    def warm(self, messages: list[Message], state_file: Path | None = None) -> str:
        """Read ``messages`` once; keep (and optionally save) the model state for them.

        Afterwards the state holds the prompt's first tokens and nothing an earlier
        request left behind, so what is read next is computed the same way whatever
        came before: a reply does not depend on the questions asked before it.
        """
        prompt = self._prompt_tokens(messages)
        anchor = max(0, len(prompt) - _WARM_SLACK)
        if self._held_prefix(prompt) >= anchor:
            outcome = "unchanged"
        elif state_file is not None and self._load_state(state_file, prompt):
            outcome = "loaded"
        else:
            self._llm.reset()  # type: ignore[no-untyped-call]
            self._llm.eval(prompt)
            if state_file is not None:
                self._save_state(state_file, prompt)
            outcome = "computed"
        self._llm.n_tokens = anchor
        return outcome

    def _held_prefix(self, prompt: list[int]) -> int:
        """How many leading tokens of ``prompt`` the model's state already holds."""
        held = self._llm.input_ids[: self._llm.n_tokens].tolist()
        common = 0
        for a, b in zip(held, prompt, strict=False):
            if a != b:
                break
            common += 1
        return common

    def _prompt_tokens(self, messages: list[Message], reply: bool = False) -> list[int]:
        """The tokens of ``messages`` as the chat template renders them.

        With ``reply``, the assistant's turn is opened, as for generation.
        """
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(f"the model {self.name} has no chat template")
        formatter = Jinja2ChatFormatter(
            template, eos_token=self._llm.detokenize([self._llm.token_eos()]).decode(),
            bos_token=self._llm.detokenize([self._llm.token_bos()]).decode(),
            add_generation_prompt=reply)
        text = formatter(messages=messages).prompt  # type: ignore[arg-type]
        return [int(t) for t in self._llm.tokenize(text.encode("utf-8"), add_bos=False,
                                                   special=True)]

    def _state_meta(self, prompt: list[int]) -> dict[str, Any]:
        digest = hashlib.sha256(json.dumps(prompt).encode()).hexdigest()
        return {"model": self.name, "context_tokens": self.context_tokens,
                "prompt_sha256": digest, "n_tokens": len(prompt)}

    def _save_state(self, state_file: Path, prompt: list[int]) -> None:
        """Write the state (bytes) and then its description (JSON), each atomically."""
        import llama_cpp

        ctx = self._llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = int(llama_cpp.llama_state_get_data(ctx, buffer, size))
        data = bytes(buffer)[:written]
        meta = dict(self._state_meta(prompt), bytes=written,
                    sha256=hashlib.sha256(data).hexdigest())
        try:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(state_file, data)
            _atomic_write(state_file.with_suffix(".json"), json.dumps(meta).encode())
        except OSError as exc:  # a cache: failing to write it only costs time later
            logger.warning("could not save the model state to %s: %s", state_file, exc)

    def _load_state(self, state_file: Path, prompt: list[int]) -> bool:
        """Restore the state saved for exactly ``prompt``; False if there is none or it is bad."""
        import llama_cpp

        try:
            meta = json.loads(state_file.with_suffix(".json").read_text())
            data = state_file.read_bytes()
        except (OSError, ValueError):
            return False
        expected = dict(self._state_meta(prompt), bytes=len(data),
                        sha256=hashlib.sha256(data).hexdigest())
        if meta != expected:
            logger.info("ignoring the saved model state %s: it does not match", state_file)
            return False
        self._llm.reset()  # type: ignore[no-untyped-call]
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        ctx = self._llm._ctx.ctx
        if llama_cpp.llama_state_set_data(ctx, buffer, len(data)) != len(data):
            self._llm.reset()  # type: ignore[no-untyped-call]
            return False
        self._llm.input_ids[: len(prompt)] = prompt
        self._llm.n_tokens = len(prompt)
        return True


def _two_way(yes: np.ndarray, no: np.ndarray) -> float:
    """P(yes) / (P(yes) + P(no)) from the logits of the yes and the no tokens."""
    top = max(float(yes.max()), float(no.max()))
    p_yes = float(np.exp(yes - top).sum())
    p_no = float(np.exp(no - top).sum())
    return p_yes / (p_yes + p_no)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
