"""Run an eval file through the real pipeline and score it.

Each line of the JSONL file: ``id``, ``question``, ``answerable``, ``expect_all``
(regular expressions that must all match a correct answer), ``sources`` (doc id
substrings a correct answer cites) and optionally ``history`` (earlier user
questions, asked first as earlier turns of the same conversation).
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.core import Assistant
from assistant.errors import ConfigError
from assistant.records import Answer


@dataclass(frozen=True)
class EvalItem:
    """One question of an eval file."""

    id: str
    question: str
    answerable: bool
    expect_all: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    """How the assistant did on one question."""

    id: str
    question: str
    answerable: bool
    answer: str
    refused: bool
    cited_docs: tuple[str, ...]
    answer_ok: bool | None
    sources_ok: bool | None
    refusal_ok: bool
    recall_at_5: bool | None
    seconds: float
    first_token_s: float | None
    trace: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalReport:
    """All results and the summary figures."""

    results: tuple[ItemResult, ...]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"summary": self.summary, "results": [asdict(r) for r in self.results]}


def load_items(path: Path) -> list[EvalItem]:
    """Read and check an eval JSONL file."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the eval file {path.name} ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(EvalItem(
                id=str(raw["id"]), question=str(raw["question"]),
                answerable=bool(raw["answerable"]),
                expect_all=tuple(raw.get("expect_all", ())), sources=tuple(raw.get("sources", ())),
                history=tuple(raw.get("history", ())),
            ))
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path.name} line {number} is not a valid eval item") from None
    return items


def run_item(assistant: Assistant, item: EvalItem) -> ItemResult:
    """Ask one eval question (after its history) and score the answer."""
    history: list[dict[str, str]] = []
    for earlier in item.history:
        previous = assistant.ask(earlier, history=history)
        history += [{"role": "user", "content": earlier},
                    {"role": "assistant", "content": previous.text}]
    answer: Answer = assistant.ask(item.question, history=history)
    cited = tuple(sorted({c.doc_id for c in answer.citations}))
    top_docs = {h.chunk.doc_id for h in assistant.search(item.question, k=5, history=history)}
    answer_ok = sources_ok = recall = None
    if item.answerable:
        answer_ok = not answer.refused and all(re.search(p, answer.text) for p in item.expect_all)
        sources_ok = all(any(s in d for d in cited) for s in item.sources)
        recall = all(any(s in d for d in top_docs) for s in item.sources)
    return ItemResult(
        id=item.id, question=item.question, answerable=item.answerable, answer=answer.text,
        refused=answer.refused, cited_docs=cited, answer_ok=answer_ok, sources_ok=sources_ok,
        refusal_ok=answer.refused != item.answerable, recall_at_5=recall,
        seconds=answer.timings.get("total_s", 0.0),
        first_token_s=answer.timings.get("first_token_s"), trace=dict(answer.trace),
    )


def evaluate(assistant: Assistant, items: list[EvalItem],
             progress: Callable[[ItemResult], None] | None = None) -> EvalReport:
    """Run every item and compute the summary."""
    results = []
    for item in items:
        result = run_item(assistant, item)
        results.append(result)
        if progress:
            progress(result)
    return EvalReport(tuple(results), summarize(results))


def _ratio(values: list[bool | None]) -> tuple[int, int]:
    scored = [v for v in values if v is not None]
    return sum(1 for v in scored if v), len(scored)


def summarize(results: list[ItemResult]) -> dict[str, Any]:
    """Counts per metric (passed, total) and latency figures."""
    seconds = [r.seconds for r in results]
    first = [r.first_token_s for r in results if r.first_token_s is not None]
    return {
        "answer_accuracy": _ratio([r.answer_ok for r in results]),
        "citation_source_accuracy": _ratio([r.sources_ok for r in results]),
        "refusal_accuracy": _ratio([r.refusal_ok for r in results]),
        "recall_at_5": _ratio([r.recall_at_5 for r in results]),
        "latency_median_s": statistics.median(seconds) if seconds else 0.0,
        "latency_max_s": max(seconds) if seconds else 0.0,
        "first_token_median_s": statistics.median(first) if first else None,
    }


def format_table(report: EvalReport) -> str:
    """A plain-text table: one row per question, then the summary."""
    mark = {True: "ok", False: "FAIL", None: "-"}
    rows = [f"{'id':<10} {'answer':<6} {'source':<6} {'refusal':<7} {'r@5':<4} {'secs':>6}"]
    for r in report.results:
        rows.append(f"{r.id:<10} {mark[r.answer_ok]:<6} {mark[r.sources_ok]:<6} "
                    f"{mark[r.refusal_ok]:<7} {mark[r.recall_at_5]:<4} {r.seconds:>6.1f}")
    s = report.summary
    rows.append("")
    for key, label in (("answer_accuracy", "answer accuracy"),
                       ("citation_source_accuracy", "citation source accuracy"),
                       ("refusal_accuracy", "refusal accuracy"), ("recall_at_5", "recall@5")):
        passed, total = s[key]
        rows.append(f"{label:<26} {passed}/{total}")
    rows.append(f"{'latency median / max':<26} {s['latency_median_s']:.1f} s / "
                f"{s['latency_max_s']:.1f} s")
    if s.get("first_token_median_s") is not None:
        rows.append(f"{'first token median':<26} {s['first_token_median_s']:.1f} s")
    return "\n".join(rows)
