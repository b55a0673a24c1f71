"""Run an eval file through the real pipeline and score it.

Each line of the JSONL file: ``id``, ``question``, ``answerable``, ``expect_all``
(regular expressions that must all match a correct answer), ``sources`` (doc id
substrings a correct answer cites), optionally ``gold`` (exact strings of the
reports that the passage answering the question contains) and ``history``
(earlier user questions, asked first as earlier turns of the same conversation).

Answers are scored on accuracy, citation sources, refusals and the precision of
their citations (:func:`factual_citations`, :func:`factual_sentences`), and every
sentence shown as cited is audited for names and numbers its quotes lack
(:func:`invented_facts`, plain patterns, independent of the verifier);
retrieval on document and gold-passage recall. :func:`compare_retrievers` measures
retrieval alone, for each retriever mode, without the language model.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from assistant.answer import claims
from assistant.answer.draft import REFUSAL
from assistant.core import Assistant
from assistant.errors import CitationError, ConfigError
from assistant.records import Answer, Chunk, Document, Hit
from assistant.verify import (
    DEFAULT_POLICY,
    Similarity,
    VerifierPolicy,
    decide,
    profile,
    verify,
)

MIN_GOLD_OVERLAP = 30  # characters a citation's quote must share with a gold string
RETRIEVER_MODES = ("dense", "lexical", "hybrid")
RECALL_KS = (1, 3, 5)


@dataclass(frozen=True)
class EvalItem:
    """One question of an eval file."""

    id: str
    question: str
    answerable: bool
    expect_all: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    history: tuple[str, ...] = ()  # the earlier user turns
    gold: tuple[str, ...] = ()
    kind: str = ""  # the kind of question (follow-up, name, figure, ...), for per-kind rows
    # the assistant's replies to the earlier turns, when the file gives them ({"role",
    # "content"} turns); without them each earlier turn is asked and answered anew
    replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    """How the assistant did on one question.

    The fields after ``trace`` have defaults, so results written before they
    existed still load: ``invented`` lists the sentences shown as cited that state a
    name or number absent from their quotes (:func:`invented_facts`);
    ``sentences_factual`` counts the shown sentences whose quote holds an expected
    fact (:func:`factual_sentences`, ``None`` for unanswerable items);
    ``citations_total`` / ``citations_factual`` count the answer's citations and
    those whose quote states an expected fact (:func:`factual_citations`, ``None``
    for unanswerable items); ``sentences`` / ``unsupported_sentences`` count the
    sentences presented and those the verifier removed; ``gold_recall_at_5`` says
    whether a top-5 passage contains a gold string (``None`` without gold);
    ``other_docs`` are the reports quoted beside the answer (``Answer.other_reports``).
    """

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
    invented: tuple[str, ...] = ()
    sentences_factual: int | None = None
    citations_total: int = 0
    citations_factual: int | None = None
    sentences: int = 0
    unsupported_sentences: int = 0
    gold_recall_at_5: bool | None = None
    other_docs: tuple[str, ...] = ()
    kind: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # the answer's own


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
            gold = raw.get("gold") or ()
            if isinstance(gold, str):
                raise TypeError("gold must be a list of strings")
            history, replies = _history(raw.get("history", ()))
            items.append(EvalItem(
                id=str(raw["id"]), question=str(raw["question"]),
                answerable=bool(raw["answerable"]),
                expect_all=tuple(raw.get("expect_all", ())), sources=tuple(raw.get("sources", ())),
                history=history, replies=replies,
                gold=tuple(str(g) for g in gold), kind=str(raw.get("kind", "")),
            ))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(f"{path.name} line {number} is not a valid eval item") from None
    return items


# ------------------------------------------------------------------ matching
def normalize_space(text: str) -> str:
    """``text`` with every run of whitespace turned into one space, ends trimmed."""
    return " ".join(text.split())


def report_context(doc: Document | None) -> str:
    """What the verifier may use besides the quote: the report's title, outlet and authors."""
    if doc is None:
        return ""
    return " ".join(p for p in (doc.title or "", doc.outlet or "", *doc.authors) if p)


def contains_gold(text: str, gold: Sequence[str]) -> bool:
    """True when ``text`` contains one of the ``gold`` strings (whitespace-normalized)."""
    haystack = normalize_space(text)
    return any(normalize_space(g) in haystack for g in gold if g.strip())


def quote_matches_gold(quote: str, gold: str, min_overlap: int = MIN_GOLD_OVERLAP) -> bool:
    """True when ``quote`` shares with ``gold`` at least ``min_overlap`` consecutive characters.

    Or the whole of ``gold`` when it is shorter. Both are compared case-insensitively
    with whitespace normalized.
    """
    a = normalize_space(quote).casefold()
    b = normalize_space(gold).casefold()
    if not a or not b:
        return False
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size >= min(min_overlap, len(b))


# ------------------------------------------------------------------- metrics
_AUDIT_NUMBER_RE = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_AUDIT_NAME_RE = re.compile(r"\b[A-Z][\w'’&.-]*[A-Za-z0-9]|\b[a-z]+\d[\w-]*")


def shown_facts(sentence: str) -> set[str]:
    """The names and numbers a shown sentence states, found by plain patterns.

    Deliberately independent of the verifier (no spaCy): every capitalised word
    but the first, every word with a digit, and every number.
    """
    words = sentence.split()
    body = sentence[len(words[0]):] if words else ""
    names = {m.group().rstrip(".").removesuffix("'s").removesuffix("’s")
             for m in _AUDIT_NAME_RE.finditer(body)}
    return {n for n in names if n} | {m.group().rstrip(",.") for m in
                                      _AUDIT_NUMBER_RE.finditer(sentence)}


def invented_facts(answer: Answer, documents: Callable[[str], Document | None]
                   ) -> list[str]:
    """Sentences shown as cited that state a name or number absent from their quotes.

    For each sentence of a non-refused answer that carries markers, every name
    and number of :func:`shown_facts` must appear (case-insensitively, commas
    ignored) in one of its citations' quotes or in the cited report's outlet (an
    account labelled "Tom's Hardware: ..."); an acronym may stand for capitalised
    words of the quote ("US" for "United States"). Returns ``"sentence: missing, ..."``
    for each sentence that fails. This audit should find nothing.
    """
    if answer.refused:
        return []
    by_number = {c.n: c for c in answer.citations + answer.other_reports}
    found: list[str] = []
    for sentence, markers_ in claims.split_answer(answer.text):
        cited = [by_number[n] for n in markers_ if n in by_number]
        if not markers_:
            continue
        haystack = " ".join(c.quote for c in cited)
        for c in cited:
            doc = documents(c.doc_id)
            haystack += " " + (doc.outlet or "" if doc else "")
        initials = "".join(w[0] for w in re.findall(r"\b[A-Z][a-z]+", haystack)).lower()
        haystack = haystack.replace(",", "").replace("’", "'").lower()
        missing = sorted(f for f in shown_facts(sentence)
                         if f.replace(",", "").replace("’", "'").lower() not in haystack
                         and not (f.isupper() and f.isalpha() and len(f) > 1
                                  and f.lower() in initials))  # "US": "United States"
        if missing or not cited:
            found.append(f"{sentence}: {', '.join(missing) or 'no citation behind its marker'}")
    return found


def factual_sentences(answer: Answer, item: EvalItem) -> tuple[int, int] | None:
    """Shown sentences whose citation quote holds an expected fact: (such sentences, all).

    A sentence counts when a quote of one of its citations matches one of the
    item's ``expect_all`` patterns or shares :data:`MIN_GOLD_OVERLAP` characters
    with a ``gold`` string. ``None`` for unanswerable items.
    """
    if not item.answerable:
        return None
    by_number = {c.n: c for c in answer.citations}
    sentences = [] if answer.refused else claims.split_answer(answer.text)
    factual = 0
    for _, markers_ in sentences:
        quotes = [by_number[n].quote for n in markers_ if n in by_number]
        if any(re.search(p, q) for p in item.expect_all for q in quotes) or any(
                quote_matches_gold(q, g) for g in item.gold for q in quotes):
            factual += 1
    return factual, len(sentences)


def factual_citations(answer: Answer, item: EvalItem) -> tuple[int, int] | None:
    """Citation precision judged by facts: (citations stating an expected fact, citations).

    A citation of the answer counts when its quote (the text it points the reader
    at) matches at least one of the item's ``expect_all`` patterns, or shares with
    one of its ``gold`` strings at least :data:`MIN_GOLD_OVERLAP` consecutive
    characters (or the whole gold string when it is shorter), compared
    case-insensitively with whitespace normalized (:func:`quote_matches_gold`).
    ``None`` for unanswerable items; ``(0, 0)`` for an answer without citations.
    """
    if not item.answerable:
        return None
    factual = 0
    for citation in answer.citations:
        if (any(re.search(p, citation.quote) for p in item.expect_all)
                or any(quote_matches_gold(citation.quote, g) for g in item.gold)):
            factual += 1
    return factual, len(answer.citations)


def presented_sentences(answer: Answer) -> int:
    """The number of sentences the answer shows (0 for a refusal)."""
    return 0 if answer.refused else len(claims.split_answer(answer.text))


def _found(item: EvalItem, chunks: Sequence[Chunk]) -> bool:
    """Whether ``chunks`` hold what the item needs: a gold passage, else all its sources."""
    if item.gold:
        return any(contains_gold(c.text, item.gold) for c in chunks)
    docs = {c.doc_id for c in chunks}
    return all(any(s in d for d in docs) for s in item.sources)


def first_found_rank(item: EvalItem, hits: Sequence[Hit]) -> int | None:
    """The smallest k for which the top-k ``hits`` hold what the item needs, else ``None``.

    Passage level when the item has ``gold`` (a passage contains a gold string),
    else document level (every ``sources`` substring names a retrieved report).
    """
    for k in range(1, len(hits) + 1):
        if _found(item, [h.chunk for h in hits[:k]]):
            return k
    return None


def score(item: EvalItem, answer: Answer) -> tuple[bool | None, bool]:
    """Answer accuracy (``None`` for an unanswerable item) and refusal accuracy."""
    answer_ok = (not answer.refused and all(re.search(p, answer.text) for p in item.expect_all)
                 if item.answerable else None)
    return answer_ok, answer.refused != item.answerable


def _history(raw: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """An item's earlier user turns, and the replies to them when the file gives them.

    A history is a list of earlier questions, or of ``{"role", "content"}`` turns in
    which each user turn is followed by the assistant's reply.
    """
    turns = list(raw)
    if not turns or all(isinstance(t, str) for t in turns):
        return tuple(str(t) for t in turns), ()
    roles = [t["role"] for t in turns]
    if roles != ["user", "assistant"] * (len(turns) // 2) or len(turns) % 2:
        raise ValueError("a history of turns alternates user and assistant, user first")
    return (tuple(str(t["content"]) for t in turns[::2]),
            tuple(str(t["content"]) for t in turns[1::2]))


def run_item(assistant: Assistant, item: EvalItem) -> ItemResult:
    """Ask one eval question (after its history) and score the answer.

    The earlier turns are asked and answered first, unless the file gives the replies.
    """
    history: list[dict[str, str]] = []
    for n, earlier in enumerate(item.history):
        reply = item.replies[n] if item.replies else assistant.ask(earlier,
                                                                   history=history).text
        history += [{"role": "user", "content": earlier},
                    {"role": "assistant", "content": reply}]
    answer: Answer = assistant.ask(item.question, history=history)
    cited = tuple(sorted({c.doc_id for c in answer.citations}))
    hits = assistant.search(item.question, k=5, history=history)
    top_docs = {h.chunk.doc_id for h in hits}
    answer_ok, refusal_ok = score(item, answer)
    sources_ok = recall = gold_recall = None
    if item.answerable:
        sources_ok = all(any(s in d for d in cited) for s in item.sources)
        recall = all(any(s in d for d in top_docs) for s in item.sources)
        if item.gold:
            gold_recall = any(contains_gold(h.chunk.text, item.gold) for h in hits)

    def document(doc_id: str) -> Document | None:
        try:
            return assistant.document(doc_id)
        except CitationError:
            return None

    facts = factual_citations(answer, item)
    shown = factual_sentences(answer, item)
    return ItemResult(
        id=item.id, question=item.question, answerable=item.answerable, answer=answer.text,
        refused=answer.refused, cited_docs=cited, answer_ok=answer_ok, sources_ok=sources_ok,
        refusal_ok=refusal_ok, recall_at_5=recall,
        seconds=answer.timings.get("total_s", 0.0),
        first_token_s=answer.timings.get("first_token_s"), trace=dict(answer.trace),
        invented=tuple(invented_facts(answer, document)),
        sentences_factual=shown[0] if shown else None, citations_total=len(answer.citations),
        citations_factual=facts[0] if facts else None,
        sentences=presented_sentences(answer), unsupported_sentences=len(answer.unsupported),
        gold_recall_at_5=gold_recall,
        other_docs=tuple(sorted({c.doc_id for c in answer.other_reports})),
        timings=dict(answer.timings),
        kind=item.kind,
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
    summary = summarize(results)
    summary["decide_steps"] = step_gains(results, items)
    return EvalReport(tuple(results), summary)


# The steps of the decide stage that can change an answer, in the order they run; each
# records the answer it was given in the trace as "before:<step>".
DECIDE_STEPS = ("chosen", "recheck", "shown", "target", "entity", "named", "said", "lead",
                "settle", "likely_yes", "accounts")


def _right(item_answerable: bool, expect_all: Sequence[str], text: str) -> bool:
    refused = text.strip() == REFUSAL
    if not item_answerable:
        return refused
    return not refused and all(re.search(p, text) for p in expect_all)


def step_gains(results: Sequence[ItemResult], items: Sequence[EvalItem]
               ) -> dict[str, tuple[int, int, int]]:
    """Per decide step: (questions it changed, of them made right, made wrong).

    Read from each answer's trace: the answer before the step against the answer
    after it (before the next step that ran, or the final one), scored as the eval
    scores (expected facts, or a refusal for an unanswerable question).
    """
    expected = {i.id: i.expect_all for i in items}
    gains = {step: [0, 0, 0] for step in DECIDE_STEPS}
    for r in results:
        ran = [s for s in DECIDE_STEPS if f"before:{s}" in r.trace]
        for i, step in enumerate(ran):
            before = r.trace[f"before:{step}"]
            after = r.trace[f"before:{ran[i + 1]}"] if i + 1 < len(ran) else r.answer
            was = _right(r.answerable, expected.get(r.id, ()), before)
            now = _right(r.answerable, expected.get(r.id, ()), after)
            gains[step][0] += before != after
            gains[step][1] += now and not was
            gains[step][2] += was and not now
    return {step: (a, b, c) for step, (a, b, c) in gains.items()}


def _ratio(values: list[bool | None]) -> tuple[int, int]:
    scored = [v for v in values if v is not None]
    return sum(1 for v in scored if v), len(scored)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q``-th percentile of ``values`` (``None`` for none)."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[max(0, math.ceil(q / 100 * len(ranked)) - 1)]


def summarize(results: list[ItemResult]) -> dict[str, Any]:
    """Counts per metric (passed, total) and latency figures.

    ``invented_facts``: sentences shown as cited with a name or number their quotes
    lack / sentences shown; ``factual_sentences``: shown sentences of answerable
    items whose quote holds an expected fact / those sentences;
    ``citation_precision_facts``: citations stating an expected fact / citations of
    answerable items; ``unsupported_sentence_rate``: sentences removed by the
    verifier / (sentences presented + removed), over all answers;
    ``gold_recall_at_5``: items with gold whose top 5 passages contain a gold string.
    """
    seconds = [r.seconds for r in results]
    first = [r.first_token_s for r in results if r.first_token_s is not None]
    facts = [r for r in results if r.citations_factual is not None]
    unsupported = sum(r.unsupported_sentences for r in results)
    return {
        "answer_accuracy": _ratio([r.answer_ok for r in results]),
        "citation_source_accuracy": _ratio([r.sources_ok for r in results]),
        "refusal_accuracy": _ratio([r.refusal_ok for r in results]),
        "recall_at_5": _ratio([r.recall_at_5 for r in results]),
        "gold_recall_at_5": _ratio([r.gold_recall_at_5 for r in results]),
        "invented_facts": (sum(len(r.invented) for r in results),
                           sum(r.sentences for r in results)),
        "factual_sentences": (sum(r.sentences_factual or 0 for r in facts),
                              sum(r.sentences for r in facts)),
        "citation_precision_facts": (sum(r.citations_factual or 0 for r in facts),
                                     sum(r.citations_total for r in facts)),
        "unsupported_sentence_rate": (unsupported,
                                      sum(r.sentences for r in results) + unsupported),
        "answers_quoting_other_reports": (sum(1 for r in results if r.other_docs),
                                          sum(1 for r in results if not r.refused)),
        "latency_median_s": statistics.median(seconds) if seconds else 0.0,
        "latency_max_s": max(seconds) if seconds else 0.0,
        "first_token_median_s": statistics.median(first) if first else None,
        "latency_p95_s": percentile(seconds, 95),
        "first_token_p95_s": percentile(first, 95),
        # what the model read anew, and how many requests it got, per model-written answer
        "tokens_read_median": percentile(
            [r.timings["tokens_read"] for r in results if "tokens_read" in r.timings], 50),
        "model_calls_median": percentile(
            [r.timings["model_calls"] for r in results if "model_calls" in r.timings], 50),
        "kinds": {kind: {"answers": _ratio([r.answer_ok for r in results if r.kind == kind]),
                         "refusals": _ratio([r.refusal_ok for r in results if r.kind == kind])}
                  for kind in sorted({r.kind for r in results if r.kind})},
    }


SUMMARY_LINES = (
    ("answer_accuracy", "answer accuracy"),
    ("citation_source_accuracy", "citation source accuracy"),
    ("invented_facts", "shown with a fact not in quote"),
    ("factual_sentences", "sentences quoting a fact"),
    ("citation_precision_facts", "citation precision (facts)"),
    ("unsupported_sentence_rate", "unsupported sentences"),
    ("refusal_accuracy", "refusal accuracy"),
    ("recall_at_5", "recall@5 (documents)"),
    ("gold_recall_at_5", "recall@5 (gold passages)"),
    ("answers_quoting_other_reports", "answers quoting other reports"),
)


def _fraction(passed: int, total: int) -> str:
    return f"{passed}/{total}" + (f" ({passed / total:.0%})" if total else "")


def format_table(report: EvalReport) -> str:
    """A plain-text table: one row per question, then the summary.

    Columns: answer, cited sources, refusal, document recall@5, gold-passage
    recall@5, sentences with a name or number their quote lacks (should be 0),
    factual citations, sentences the verifier removed, seconds. Then the summary and
    the table of such sentences, if any.
    """
    mark = {True: "ok", False: "FAIL", None: "-"}
    rows = [f"{'id':<10} {'answer':<6} {'source':<6} {'refusal':<7} {'r@5':<4} {'g@5':<4} "
            f"{'invtd':<5} {'facts':<5} {'unsup':<5} {'secs':>6}"]
    for r in report.results:
        pairs = str(len(r.invented)) if r.sentences else "-"
        facts = (f"{r.citations_factual}/{r.citations_total}"
                 if r.citations_factual is not None and r.citations_total else "-")
        rows.append(f"{r.id:<10} {mark[r.answer_ok]:<6} {mark[r.sources_ok]:<6} "
                    f"{mark[r.refusal_ok]:<7} {mark[r.recall_at_5]:<4} "
                    f"{mark[r.gold_recall_at_5]:<4} {pairs:<5} {facts:<5} "
                    f"{r.unsupported_sentences:<5} {r.seconds:>6.1f}")
    s = report.summary
    rows.append("")
    for key, label in SUMMARY_LINES:
        if key in s:
            rows.append(f"{label:<30} {_fraction(*s[key])}")
    rows.append(f"{'latency median / max':<30} {s['latency_median_s']:.1f} s / "
                f"{s['latency_max_s']:.1f} s")
    if s.get("latency_p95_s") is not None:
        rows.append(f"{'latency p95':<30} {s['latency_p95_s']:.1f} s")
    if s.get("first_token_median_s") is not None:
        rows.append(f"{'first token median / p95':<30} {s['first_token_median_s']:.2f} s / "
                    f"{s['first_token_p95_s']:.2f} s")
    if s.get("tokens_read_median") is not None:
        rows.append(f"{'tokens read / model calls':<30} {s['tokens_read_median']:.0f} / "
                    f"{s['model_calls_median']:.0f} (medians of model-written answers)")
    for kind, figures in s.get("kinds", {}).items():
        answered, refused = figures["answers"], figures["refusals"]
        rows.append(f"{'kind ' + kind:<30} answers {_fraction(*answered)}, "
                    f"refusals {_fraction(*refused)}")
    steps = s.get("decide_steps", {})
    if steps:
        rows += ["", "decide steps (questions changed: made right / made wrong):"]
        rows += [f"  {step:<12} {n} changed: +{up} / -{down}"
                 for step, (n, up, down) in steps.items()]
    invented = [(r.id, line) for r in report.results for line in r.invented]
    if invented:
        rows += ["", "shown as cited, with a name or number their quote lacks:"]
        rows += [f"  {item_id}: {line}" for item_id, line in invented]
    return "\n".join(rows)


# ------------------------------------------------------- retrieval comparison
@dataclass(frozen=True)
class ModeScore:
    """Retrieval quality of one retriever mode over the scored items.

    ``ranks`` maps each item id to :func:`first_found_rank` within the top
    ``max(RECALL_KS)`` passages (``None``: not found there). ``recall[k]`` is the
    share of items found within the top k, ``mrr`` the mean of 1/rank (0 when not
    found), i.e. MRR@``max(RECALL_KS)``.
    """

    mode: str
    recall: dict[int, float]
    mrr: float
    ranks: dict[str, int | None]


@dataclass(frozen=True)
class RetrievalComparison:
    """Retrieval quality of each mode on the answerable items of an eval file.

    ``passage_level`` items (with ``gold``) are judged by passage, the
    ``document_level`` ones by their ``sources``; ``unscored`` answerable items have
    neither. ``gold_missing`` are items none of whose gold strings is in any passage
    of the index (found by no retriever; a chunking or data problem).
    """

    scores: tuple[ModeScore, ...]
    passage_level: tuple[str, ...]
    document_level: tuple[str, ...]
    unscored: tuple[str, ...] = ()
    gold_missing: tuple[str, ...] = ()

    @property
    def items(self) -> int:
        """The number of items scored."""
        return len(self.passage_level) + len(self.document_level)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (recall keyed by ``"@k"``)."""
        return {
            "items": self.items,
            "passage_level": list(self.passage_level),
            "document_level": list(self.document_level),
            "unscored": list(self.unscored),
            "gold_missing": list(self.gold_missing),
            "modes": [{"mode": s.mode, "recall": {f"@{k}": v for k, v in s.recall.items()},
                       "mrr": s.mrr, "ranks": s.ranks} for s in self.scores],
        }


def compare_retrievers(assistant: Assistant, items: Sequence[EvalItem],
                       modes: Sequence[str] = RETRIEVER_MODES,
                       ks: Sequence[int] = RECALL_KS) -> RetrievalComparison:
    """Recall@k and MRR of each retriever mode over the answerable items; no LLM.

    Each question is searched as the assistant searches it: whitespace collapsed,
    with the item's ``history`` (its earlier user turns) as the follow-up context,
    for the top ``max(ks)`` passages.
    """
    scored = [i for i in items if i.answerable and (i.gold or i.sources)]
    depth = max(ks)
    chunks = assistant.retriever("hybrid").index.chunks
    missing = tuple(i.id for i in scored
                    if i.gold and not any(contains_gold(c.text, i.gold) for c in chunks))
    scores = []
    for mode in modes:
        retriever = assistant.retriever(mode)
        ranks: dict[str, int | None] = {}
        for item in scored:
            context = [normalize_space(h) for h in item.history if h.strip()]
            hits = retriever.search(normalize_space(item.question), depth, context)
            ranks[item.id] = first_found_rank(item, hits)
        found = [r for r in ranks.values() if r is not None]
        total = len(ranks)
        recall = {k: (sum(1 for r in found if r <= k) / total if total else 0.0) for k in ks}
        mrr = sum(1.0 / r for r in found) / total if total else 0.0
        scores.append(ModeScore(mode, recall, mrr, ranks))
    return RetrievalComparison(
        scores=tuple(scores),
        passage_level=tuple(i.id for i in scored if i.gold),
        document_level=tuple(i.id for i in scored if not i.gold),
        unscored=tuple(i.id for i in items if i.answerable and not (i.gold or i.sources)),
        gold_missing=missing,
    )


def format_retrieval_table(comparison: RetrievalComparison) -> str:
    """One row per retriever mode: items, recall@k for each k, MRR."""
    ks = sorted(comparison.scores[0].recall) if comparison.scores else list(RECALL_KS)
    depth = max(ks)
    rows = [f"{'mode':<8} {'items':>5} " + " ".join(f"{'r@' + str(k):>5}" for k in ks)
            + f" {'MRR@' + str(depth):>6}"]
    for s in comparison.scores:
        rows.append(f"{s.mode:<8} {len(s.ranks):>5} "
                    + " ".join(f"{s.recall[k]:>5.2f}" for k in ks) + f" {s.mrr:>6.2f}")
    rows.append("")
    rows.append(f"{len(comparison.passage_level)} items judged by gold passage, "
                f"{len(comparison.document_level)} by source document")
    if comparison.unscored:
        rows.append(f"not scored (no gold, no sources): {', '.join(comparison.unscored)}")
    if comparison.gold_missing:
        rows.append(f"gold in no passage of the index: {', '.join(comparison.gold_missing)}")
    return "\n".join(rows)


# ------------------------------------------------------------ claim benchmark
@dataclass(frozen=True)
class ClaimItem:
    """One (claim, evidence) pair of the verifier benchmark (``bench/claims``)."""

    id: str
    split: str
    corpus: str
    kind: str
    faithful: bool
    claim: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class ClaimResult:
    """The verifier's verdict on one pair.

    It is right when it keeps a faithful claim or rejects an unfaithful one.
    """

    item: ClaimItem
    supported: bool
    coverage: float
    check: str
    reason: str

    @property
    def right(self) -> bool:
        """True when the verdict agrees with the label."""
        return self.supported == self.item.faithful


def load_claims(path: Path) -> list[ClaimItem]:
    """Read the claim benchmark's JSONL file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the claim file {path.name} ({exc.strerror})") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(ClaimItem(str(raw["id"]), str(raw["split"]), str(raw.get("corpus", "")),
                                 str(raw["kind"]), bool(raw["faithful"]), str(raw["claim"]),
                                 tuple(str(e) for e in raw["evidence"])))
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path.name} line {number} is not a valid claim item") from None
    return out


def run_claims(items: Sequence[ClaimItem], policy: VerifierPolicy = DEFAULT_POLICY,
               similarity: Similarity | None = None) -> list[ClaimResult]:
    """The verifier's verdict on every pair (evidence sentences, one a line, as one passage).

    ``similarity`` is the embedding cosine the assistant gives the verifier.
    """
    out = []
    for item in items:
        verdict = verify(item.claim, "\n".join(item.evidence), similarity=similarity,
                         policy=policy)
        out.append(ClaimResult(item, verdict.supported, verdict.coverage, verdict.check,
                               verdict.reason))
    return out


def claim_table(results: Sequence[ClaimResult]) -> dict[str, dict[str, tuple[int, int]]]:
    """Per split and kind: (right, total); unfaithful kinds count catches, faithful ones keeps."""
    table: dict[str, dict[str, tuple[int, int]]] = {}
    for r in results:
        row = table.setdefault(r.item.split, {})
        for key in (r.item.kind, "all faithful" if r.item.faithful else "all unfaithful"):
            right, total = row.get(key, (0, 0))
            row[key] = (right + r.right, total + 1)
    return table


def format_claim_table(results: Sequence[ClaimResult]) -> str:
    """One row per kind, one column per split: caught (unfaithful) or kept (faithful)."""
    table = claim_table(results)
    splits = sorted(table)
    kinds: dict[str, bool] = {}
    for r in results:
        kinds.setdefault(r.item.kind, r.item.faithful)
    order = sorted(kinds, key=lambda k: (not kinds[k], k))
    rows = [f"{'kind':<18} {'label':<10} " + " ".join(f"{s:>18}" for s in splits)]
    for kind in [*order, "all faithful", "all unfaithful"]:
        label = ("kept" if kinds.get(kind, kind == "all faithful") else "caught")
        cells = []
        for s in splits:
            right, total = table[s].get(kind, (0, 0))
            cells.append(f"{right}/{total} ({right / total:.0%})" if total else "-")
        rows.append(f"{kind:<18} {label:<10} " + " ".join(f"{c:>18}" for c in cells))
    return "\n".join(rows)


FIT_KEEP = 0.95  # the share of faithful calibration claims the fitted verifier must keep
FIT_COVERAGE = tuple(round(0.5 + 0.05 * i, 2) for i in range(11))     # min_coverage
FIT_SIMILARITY = tuple(round(0.7 + 0.025 * i, 3) for i in range(12))  # min_similarity
FIT_REWORDED = (0.2, 0.3, 0.4, 0.5, 0.6)                              # min_coverage_reworded


@dataclass(frozen=True)
class FitResult:
    """The fitted thresholds and what they do on the claims they were fitted on."""

    min_coverage: float
    min_similarity: float
    min_coverage_reworded: float
    kept: float  # share of faithful claims kept
    caught: dict[str, float]  # per unfaithful kind, the share caught


def fit_verifier(items: Sequence[ClaimItem], similarity: Similarity | None = None) -> FitResult:
    """Fit the verifier's coverage and similarity thresholds on the claims given.

    Among the combinations on the grids (:data:`FIT_COVERAGE`, :data:`FIT_SIMILARITY`,
    :data:`FIT_REWORDED`) that keep at least :data:`FIT_KEEP` of the faithful
    claims, the one whose worst unfaithful kind is caught most often (then the most
    caught in all, then the most kept, then the strictest). Each claim is analysed once
    (:func:`assistant.verify.profile`); the combinations are decided from that
    (:func:`assistant.verify.decide`).
    """
    profiles = [(item, profile(item.claim, "\n".join(item.evidence), similarity))
                for item in items]
    kinds = sorted({i.kind for i in items if not i.faithful})
    best: tuple[tuple[float, ...], FitResult] | None = None
    for c1 in FIT_COVERAGE:
        for s1 in (FIT_SIMILARITY if similarity is not None else (2.0,)):
            for c2 in (FIT_REWORDED if similarity is not None else (1.0,)):
                policy = dataclasses.replace(DEFAULT_POLICY, min_coverage=c1,
                                             min_similarity=s1, min_coverage_reworded=c2)
                decided = [(item, decide(p, policy)) for item, p in profiles]
                faithful = [ok for item, ok in decided if item.faithful]
                kept = sum(faithful) / max(1, len(faithful))
                caught = {k: sum(not ok for item, ok in decided if item.kind == k)
                          / max(1, sum(1 for item in items if item.kind == k)) for k in kinds}
                if kept < FIT_KEEP:
                    continue
                total = sum(not ok for item, ok in decided if not item.faithful)
                # on a tie, the strictest thresholds: a refusal is better than a fabrication
                score = (min(caught.values(), default=1.0), float(total), kept, s1, c2, c1)
                if best is None or score > best[0]:
                    best = (score, FitResult(c1, s1 if s1 <= 1 else 1.0, c2, kept, caught))
    if best is None:
        raise ConfigError(f"no threshold keeps {FIT_KEEP:.0%} of the faithful claims")
    return best[1]
