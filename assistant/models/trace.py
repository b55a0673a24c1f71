"""What each model call of one answer cost: tokens read anew, tokens reused, tokens written.

:class:`TracedGenerator` wraps any :class:`~assistant.models.generation.Generator` for
one question and records a :class:`ModelCall` per request (a streamed reply, a scoring,
a prepared prompt), from the backend's own ``last_stats``. The answer's timings then say
how many calls it took and how much the model read and wrote
(:func:`summarise`), so the cost of each step is measured, not guessed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.models.generation import Generator, Message


@dataclass(frozen=True)
class ModelCall:
    """One request to the model: what it read anew, what it reused, what it wrote, how long."""

    kind: str  # "stream", "score" or "prepare"
    prompt_tokens: int
    reused_tokens: int
    written_tokens: int
    seconds: float

    @property
    def read_tokens(self) -> int:
        """Prompt tokens the model had to read (not held from before)."""
        return max(0, self.prompt_tokens - self.reused_tokens)

    def describe(self) -> str:
        """One line for the answer's trace."""
        return (f"{self.kind}: {self.read_tokens} read, {self.reused_tokens} reused, "
                f"{self.written_tokens} written, {self.seconds:.2f} s")


class TracedGenerator:
    """A generator that records every call it passes on (one instance per question)."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_tokens = inner.context_tokens
        self.lock = inner.lock  # the same model, so the same lock
        self.last_stats: dict[str, float] = {}
        self.calls: list[ModelCall] = []

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's tokenizer (not a call: not recorded)."""
        return self.inner.count_tokens(text)

    def stream(self, messages: list[Message], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        """The wrapped model's reply, recorded when it ends or the caller stops reading."""
        started = time.perf_counter()
        pieces = 0
        try:
            for piece in self.inner.stream(messages, max_tokens, prefix):
                pieces += 1
                self.last_stats = self.inner.last_stats
                yield piece
        finally:  # also when the caller stops listening
            self.last_stats = self.inner.last_stats
            self._record("stream", started, written=pieces)

    def score(self, messages: list[Message], options: Sequence[Sequence[str]]
              ) -> list[float] | None:
        """The wrapped model's scores, recorded."""
        started = time.perf_counter()
        try:
            return self.inner.score(messages, options)
        finally:
            self.last_stats = self.inner.last_stats
            self._record("score", started, written=0)

    def prepare(self, messages: list[Message]) -> str:
        """The wrapped model's preparation, recorded unless it held the prompt already."""
        started = time.perf_counter()
        outcome = self.inner.prepare(messages)
        if outcome != "unchanged":  # held already: nothing was read
            self.calls.append(ModelCall(f"prepare ({outcome})", 0, 0, 0,
                                        time.perf_counter() - started))
        return outcome

    def _record(self, kind: str, started: float, written: int) -> None:
        stats = self.inner.last_stats
        self.calls.append(ModelCall(
            kind, int(stats.get("prompt_tokens", 0)), int(stats.get("reused_tokens", 0)),
            int(stats.get("written_tokens", written)), time.perf_counter() - started))


def summarise(calls: Sequence[ModelCall]) -> dict[str, float]:
    """The answer's model cost: calls (streams and scorings), tokens read and written."""
    requests = [c for c in calls if c.kind in ("stream", "score")]
    return {"model_calls": float(len(requests)),
            "tokens_read": float(sum(c.read_tokens for c in requests)),
            "tokens_reused": float(sum(c.reused_tokens for c in requests)),
            "tokens_written": float(sum(c.written_tokens for c in requests)),
            "model_s": sum(c.seconds for c in calls)}
