"""Fit the answering policy's score thresholds on one split of questions; report another.

``assistant calibrate CAL.jsonl ... --test TEST.jsonl`` runs retrieval and the
sentence ranker (no language model, so it takes seconds) on every question and
records, per question:

* whether the gate lets it through at a given bar (its relevance, and whether a
  name or figure of it stands in a retrieved passage);
* the best passage sentence's rank score and matched words, and whether that
  sentence holds the expected answer (``expect_all``).

Two values are fitted on the calibration split, by rules written before looking
at any test figure:

* ``min_relevance``: the highest bar (0.05 steps) that lets every answerable
  calibration question through the gate;
* ``extractive_threshold``: the lowest bar (0.05 steps) that no unanswerable
  calibration question's best sentence reaches with ``min_matched`` words (a
  sentence quoted without the model must not answer what the reports do not say).

The test split is then reported with the fitted values, never refitted. Another
embedding model shifts both scales; a refit is one command.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.answer import conversation, gate
from assistant.answer.evidence import SentenceRanker
from assistant.answer.policy import AnswerPolicy
from assistant.retrieve.retriever import Retriever

STEP = 0.05  # the grid of the fitted bars


class Question(Protocol):
    """What calibration reads of a question (an :class:`assistant.evaluation.EvalItem`)."""

    @property
    def id(self) -> str:
        """The question's id."""

    @property
    def question(self) -> str:
        """The question as asked."""

    @property
    def answerable(self) -> bool:
        """Whether the reports answer it."""

    @property
    def expect_all(self) -> tuple[str, ...]:
        """Patterns the right answer matches."""

    @property
    def history(self) -> tuple[str, ...]:
        """Earlier user turns of its conversation."""


@dataclass(frozen=True)
class Scores:
    """What retrieval and the ranker make of one question."""

    id: str
    answerable: bool
    relevance: float
    named_in_passage: bool  # a name or figure of the question stands in a retrieved passage
    top_score: float  # the best sentence with enough matched words (0 when none)
    top_answers: bool  # that sentence holds every expected answer


@dataclass(frozen=True)
class SplitReport:
    """Figures of one split under one policy."""

    answerable_through_gate: tuple[int, int]
    unanswerable_stopped_at_gate: tuple[int, int]
    unanswerable_quoted: tuple[int, int]  # an unanswerable question would get a quoted sentence
    answerable_quoted_right: tuple[int, int]  # an answerable one would get a right one


def score(questions: Sequence[Question], retriever: Retriever, k: int,
          policy: AnswerPolicy) -> list[Scores]:
    """Retrieval and ranking figures of each question (its history as earlier user turns)."""
    out = []
    for q in questions:
        turns = [{"role": "user", "content": h} for h in q.history]
        asked = conversation.resolve(q.question, turns).standalone
        context = list(q.history)
        hits = retriever.search(asked, k, context)
        texts = [h.chunk.text for h in hits]
        relevance = retriever.relevance(asked, hits, context)
        named = any(gate.verbatim(w, texts) for w in gate.rare_words(asked))
        ranked = [r for r in SentenceRanker(texts, retriever.embedder).rank(asked)
                  if r.matched >= policy.min_matched]
        top = ranked[0] if ranked else None
        answers = top is not None and bool(q.expect_all) and all(
            re.search(p, top.text) for p in q.expect_all)
        out.append(Scores(q.id, q.answerable, relevance, named,
                          top.score if top else 0.0, answers))
    return out


def _grid(value: float, up: bool) -> float:
    steps = value / STEP
    return round((int(steps) + (1 if up else 0)) * STEP, 4)


def fit(scores: Sequence[Scores], policy: AnswerPolicy) -> AnswerPolicy:
    """``policy`` with ``min_relevance`` and ``extractive_threshold`` fitted on ``scores``."""
    answerable = [s.relevance for s in scores if s.answerable and not s.named_in_passage]
    min_relevance = _grid(min(answerable), up=False) if answerable else policy.min_relevance
    unanswerable = [s.top_score for s in scores if not s.answerable]
    threshold = (_grid(max(unanswerable), up=True) if unanswerable
                 else policy.extractive_threshold)
    return dataclasses.replace(policy, min_relevance=min_relevance,
                               extractive_threshold=threshold)


def report(scores: Sequence[Scores], policy: AnswerPolicy) -> SplitReport:
    """The split's figures under ``policy`` (no fitting)."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]

    def through(s: Scores) -> bool:
        return s.relevance >= policy.min_relevance or s.named_in_passage

    def quoted(s: Scores) -> bool:
        return through(s) and s.top_score >= policy.extractive_threshold

    return SplitReport(
        (sum(through(s) for s in answerable), len(answerable)),
        (sum(not through(s) for s in unanswerable), len(unanswerable)),
        (sum(quoted(s) for s in unanswerable), len(unanswerable)),
        (sum(quoted(s) and s.top_answers for s in answerable), len(answerable)))


def format_report(fitted: AnswerPolicy, reports: dict[str, SplitReport]) -> str:
    """The fitted values, then one column per split."""
    rows = [f"min_relevance = {fitted.min_relevance:.2f} (cosine), "
            f"extractive_threshold = {fitted.extractive_threshold:.2f} (rank score)", ""]
    names = list(reports)
    rows.append(f"{'':<34}" + "".join(f"{n:>16}" for n in names))
    labels = {"answerable_through_gate": "answerable through the gate",
              "unanswerable_stopped_at_gate": "unanswerable stopped at the gate",
              "unanswerable_quoted": "unanswerable given a quote",
              "answerable_quoted_right": "answerable given the right quote"}
    for field, label in labels.items():
        cells = [getattr(reports[n], field) for n in names]
        rows.append(f"{label:<34}" + "".join(f"{f'{a}/{b}':>16}" for a, b in cells))
    return "\n".join(rows)
