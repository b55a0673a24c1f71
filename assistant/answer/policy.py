"""Every threshold, weight and limit of answering, with what it does and where it came from.

The claim verifier's own tunables are in :class:`assistant.verify.VerifierPolicy`.
Scores are of two kinds, so each threshold says which scale it is on:

* *cosine*: MiniLM cosine similarity (another embedding model needs a refit);
* *rank score*: :class:`assistant.sentences.SentenceRanker`'s score, the share of
  the question's content words a sentence holds plus its cosine to the question
  (about 0.3-1.6).

"Calibration" below is ``tests/data/questions.jsonl`` (67 questions) and
``tests/data/comparison_questions.jsonl`` (8); the fresh split
``tests/data/answering_fresh.jsonl`` is never used to choose a value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerPolicy:
    """The knobs of the answering stage (``Settings`` overrides the two gate values)."""

    # The gate, before the model runs.
    min_relevance: float = 0.3
    """Cosine between the question and the best retrieved sentence below which the
    question is refused without the model, unless one of its names, figures or code
    names stands verbatim in a retrieved passage (:mod:`assistant.answer.gate`).
    Chosen on calibration: the off-topic questions (capital of Australia, World Cup)
    score below 0.3, every answerable one above."""

    # Quoting a sentence without the model (extractive answer, other reports' accounts).
    extractive_threshold: float = 1.05
    """Rank score a passage sentence needs to be quoted as the answer when the model
    found none. Calibration: the lowest value at which none of the 13 unanswerable
    questions gets an answer."""
    min_matched: int = 2
    """Question content words such a sentence must contain: one shared word (say
    "H200") is no evidence that it answers. Chosen by hand, not fitted."""
    account_bar: float = 0.8
    """Rank score of a report's best sentence for a question about several reports,
    shown labelled as that report's account. Chosen on four calibration comparison
    questions."""

    # The second opinion (:meth:`AnswerBuilder.reconsider`).
    candidates: int = 3
    """Best-ranked sentences weighed against the answer's own. Chosen by hand."""
    model_weight: float = 2.0
    """Weight of the model's yes-probability against the rank score. Chosen by hand
    (it puts both on a similar range)."""
    switch_margin: float = 0.2
    """How much better another sentence must be judged to replace the answer.
    Chosen on calibration."""

    # Checking the model's answer.
    recite_margin: float = 0.2
    """Verifier coverage by which another passage must support a sentence better
    than the one the model cited before the sentence is re-cited to it. Chosen by
    hand."""
    extract_coverage: float = 0.6
    """Share of the answer check's content words that must stand in the supporting
    sentences for the check to confirm the answer. Chosen by hand."""

    # Limits.
    check_reply_tokens: int = 48
    """Tokens of the answer check's reply (the words that answer)."""
    closest_passages: int = 3
    """Retrieved passages a refusal offers (CLI and UI)."""
    history_messages: int = 4
    """Earlier turns given to the model."""
    history_chars: int = 600
    """Characters kept of each earlier turn given to the model."""
    before_chars: int = 600
    """How far back (characters) the sentence before a cited one is looked for."""


DEFAULT_POLICY = AnswerPolicy()
