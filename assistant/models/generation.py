"""Text generation behind a small interface; the llama-cpp-python adapter runs a GGUF in-process.

The interface (:class:`Generator`) is what answering needs of any backend: stream a
reply, score given continuations by their log-probabilities, count tokens, and read a
prompt's fixed start ahead of time. How a backend keeps that start is its own affair.

The llama.cpp adapter keeps llama.cpp's state between calls, so a prompt that starts
like the prepared one (the static instructions and passages come first) only pays for
its new tokens; with a ``state_dir`` it also saves that state to disk and restores it
in a later process. Each request starts from the prepared state (see
:meth:`LlamaCppGenerator.prepare`): reusing whatever the previous request left would
change how the new tokens are batched, and with it the last digits of the logits, so
an answer could depend on the questions asked before it. It is not thread-safe:
callers hold :attr:`LlamaCppGenerator.lock`.
"""

from __future__ import annotations

import codecs
import ctypes
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import ModelError

logger = logging.getLogger(__name__)

Message = dict[str, str]
# Tokens at the end of a warmed prompt that the next chat may render differently
# (the question is inserted there); the state counts as held without them.
_WARM_SLACK = 8
_KEEP_STATES = 4  # saved prompt states kept in the state folder (each is up to tens of MB)


class Generator(Protocol):
    """What answering needs from a language model."""

    name: str
    context_tokens: int
    lock: threading.Lock
    last_stats: dict[str, float]  # of the last reply: prompt_tokens, reused_tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own tokenizer."""
        ...

    def stream(self, messages: list[Message], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        """Stream the reply to a chat, piece by piece.

        With ``prefix``, the reply is taken to begin with it (already written) and only
        what follows is streamed; a backend that cannot continue a reply streams nothing.
        """
        ...

    def score(self, messages: list[Message], options: Sequence[Sequence[str]]
              ) -> list[float] | None:
        """The log-probability that the reply to ``messages`` starts with each option.

        An option is a group of spellings ("yes", "Yes", " yes"), whose probabilities
        add up; each spelling counts by its first token. ``None`` when the backend
        gives no probabilities.
        """
        ...

    def prepare(self, messages: list[Message]) -> str:
        """Read ``messages`` ahead, so that chats starting the same way reuse the work.

        Every request afterwards starts from this state, so a reply does not depend on
        the requests before it. How the backend keeps it (memory, files, a server's
        cache) is its own affair. Returns what happened, for logs.
        """
        ...


class LlamaCppGenerator:
    """A local GGUF chat model through llama-cpp-python, on the CPU.

    Replies are greedy: the most likely token at every step, so the same prompt gets
    the same reply.
    """

    def __init__(self, model_path: Path, context_tokens: int, threads: int,
                 seed: int = 7, state_dir: Path | None = None, draft_tokens: int = 0
                 ) -> None:
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
        self._state_dir = state_dir  # prepared states saved here, restored in a later process
        self._option_tokens: dict[tuple[str, ...], list[int]] = {}
        self._draft_tokens = draft_tokens  # prompt-lookup tokens proposed per step (0: none)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model reads it (special-token text counted as plain text)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: list[Message], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        """Stream the model's reply to ``messages`` (after ``prefix``, when given).

        Greedy decoding from the state the model holds, so only the prompt's new tokens
        are read. With ``draft_tokens``, the tokens that followed the reply's last words
        wherever they stand in the prompt are proposed as its next ones and checked in
        one batch (prompt-lookup decoding): an answer that copies a passage is written
        several tokens per step. The greedy choice decides every token either way.
        """
        prompt = self._prompt_tokens(messages, reply=True)
        if prefix:  # the chat template cannot hold half a reply: the tokens are completed
            prompt += self._llm.tokenize(prefix.encode("utf-8"), add_bos=False, special=False)
        held = min(self._held_prefix(prompt), len(prompt) - 1)
        self.last_stats = {"prompt_tokens": float(len(prompt)), "reused_tokens": float(held),
                           "written_tokens": 0.0, "decode_steps": 0.0}
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for token in self._greedy(prompt, held, max_tokens):
            self.last_stats["written_tokens"] += 1
            text = decoder.decode(self._llm._model.detokenize([token]))
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def _greedy(self, prompt: list[int], held: int, max_tokens: int) -> Iterator[int]:
        """The greedy reply's tokens, up to an end-of-generation token or ``max_tokens``."""
        import llama_cpp

        llm = self._llm
        vocab = llm._model.vocab
        llm.n_tokens = held
        llm.eval(prompt[held:])  # the logits of the prompt's last token only
        following = self._argmax(-1)
        context = list(prompt)
        written = 0
        while written < max_tokens and not llama_cpp.llama_vocab_is_eog(vocab, following):
            yield following
            written += 1
            context.append(following)
            if written == max_tokens:
                return
            draft = _lookup(context, self._draft_tokens, max_tokens - written)
            batch = [following, *draft]
            start = llm.n_tokens
            llm._ctx.kv_cache_seq_rm(-1, start, -1)
            llm._batch.set_batch(batch=batch, n_past=start, logits_all=bool(draft))
            llm._ctx.decode(llm._batch)
            llm.input_ids[start:start + len(batch)] = batch
            llm.n_tokens = start + len(batch)
            self.last_stats["decode_steps"] += 1
            # logits row i predicts what follows batch[i]; a draft token stands while
            # it is the greedy choice, and the first one that is not is replaced by it
            accepted = 0
            following = self._argmax(0 if draft else -1)
            while accepted < len(draft) and following == draft[accepted]:
                if llama_cpp.llama_vocab_is_eog(vocab, following) or written == max_tokens:
                    break
                yield following
                written += 1
                context.append(following)
                accepted += 1
                following = self._argmax(accepted)
            if accepted < len(draft):  # the rejected drafts leave the model's memory
                llm.n_tokens = start + 1 + accepted
                llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)

    def _argmax(self, row: int) -> int:
        """The most likely next token by row ``row`` of the last batch's logits."""
        vocab = self._llm.n_vocab()
        logits = np.ctypeslib.as_array(
            self._llm._ctx.get_logits_ith(row), shape=(vocab,))
        return int(logits.argmax())

    def score(self, messages: list[Message], options: Sequence[Sequence[str]]
              ) -> list[float] | None:
        """Log-probabilities of the options as the first token of the reply to ``messages``.

        Only the tokens after what the model already holds are read, so scoring
        several sentences after the same question costs only the new words.
        """
        prompt = self._prompt_tokens(messages, reply=True)
        held = min(self._held_prefix(prompt), len(prompt) - 1)
        self.last_stats = {"prompt_tokens": len(prompt), "reused_tokens": held}
        self._llm.n_tokens = held
        self._llm.eval(prompt[held:])
        vocab = self._llm.n_vocab()
        logits = np.ctypeslib.as_array(self._llm._ctx.get_logits(),  # type: ignore[no-untyped-call]
                                       shape=(vocab,)).astype(np.float64)
        total = _log_sum_exp(logits)
        return [_log_sum_exp(logits[self._first_tokens(tuple(option))]) - total
                for option in options]

    def _first_tokens(self, spellings: tuple[str, ...]) -> list[int]:
        """The first token of each spelling of an option (kept: options repeat)."""
        if spellings not in self._option_tokens:
            self._option_tokens[spellings] = sorted(
                {self._llm.tokenize(w.encode(), add_bos=False, special=False)[0]
                 for w in spellings})
        return self._option_tokens[spellings]

    def prepare(self, messages: list[Message]) -> str:
        """Read ``messages`` once; keep (and, with a state folder, save) the state for them.

        Afterwards the state holds the prompt's first tokens and nothing an earlier
        request left behind, so what is read next is computed the same way whatever
        came before: a reply does not depend on the questions asked before it. With a
        state folder, a state saved for exactly this prompt is restored instead of
        read again ("loaded"); a prompt read anew is saved there ("computed"), and
        only the newest few states are kept.
        """
        prompt = self._prompt_tokens(messages)
        anchor = max(0, len(prompt) - _WARM_SLACK)
        state_file = self._state_file(prompt)
        if self._held_prefix(prompt) >= anchor:
            outcome = "unchanged"
        elif state_file is not None and self._load_state(state_file, prompt):
            outcome = "loaded"
        else:
            self._llm.reset()  # type: ignore[no-untyped-call]
            self._llm.eval(prompt)
            if state_file is not None:
                self._save_state(state_file, prompt)
                _prune_states(state_file.parent, keep=_KEEP_STATES)
            outcome = "computed"
        self._llm.n_tokens = anchor
        return outcome

    def _state_file(self, prompt: list[int]) -> Path | None:
        """Where the state for exactly ``prompt`` is saved (``None`` without a state folder)."""
        if self._state_dir is None:
            return None
        meta = self._state_meta(prompt)
        key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
        return self._state_dir / f"{key[:24]}.state"

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


def _lookup(context: list[int], most: int, room: int, ngram: int = 2) -> list[int]:
    """Up to ``most`` tokens that followed the last ``ngram`` tokens where they last stood.

    The most recent earlier occurrence of the context's last ``ngram`` tokens (then of
    its last token alone) proposes what came after it. At most ``room`` tokens.
    """
    most = min(most, room)
    if most <= 0:
        return []
    end = len(context)
    for size in range(min(ngram, end - 1), 0, -1):
        tail = context[end - size:]
        for i in range(end - size - 1, -1, -1):
            if context[i:i + size] == tail:
                return context[i + size:min(end, i + size + most)]
    return []


def _log_sum_exp(values: np.ndarray) -> float:
    """log(sum(exp(values))), computed without overflow (-inf for no values)."""
    if values.size == 0:
        return float("-inf")
    top = float(values.max())
    return top + float(np.log(np.exp(values - top).sum()))


def _prune_states(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest saved model states."""
    try:
        states = sorted(folder.glob("*.state"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in states[keep:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("could not prune saved model states: %s", exc)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
