"""Run an eval file through the real pipeline and score it.

Each line of the JSONL file: ``id``, ``question``, ``answerable``, ``expect_all``
(regular expressions that must all match a correct answer), ``sources`` (doc id
substrings a correct answer cites), optionally ``gold`` (exact strings of the
reports that the passage answering the question contains) and ``history``
(earlier user questions, asked first as earlier turns of the same conversation).

Answers are scored on accuracy, citation sources, refusals and the precision of
their citations (see :func:`verified_pairs` and :func:`factual_citations`);
retrieval on document and gold-passage recall. :func:`compare_retrievers` measures
retrieval alone, for each retriever mode, without the language model.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from assistant import grounding
from assistant.core import Assistant
from assistant.errors import CitationError, ConfigError
from assistant.records import Answer, Chunk, Document, Hit

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
    history: tuple[str, ...] = ()
    gold: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    """How the assistant did on one question.

    The fields after ``trace`` have defaults, so results written before they
    existed still load: ``cited_pairs`` / ``cited_pairs_supported`` count the
    (sentence, marker) pairs of the answer and those the citation's quote supports
    (:func:`verified_pairs`; ``unverified_pairs`` lists the others);
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
    cited_pairs: int = 0
    cited_pairs_supported: int = 0
    unverified_pairs: tuple[str, ...] = ()
    citations_total: int = 0
    citations_factual: int | None = None
    sentences: int = 0
    unsupported_sentences: int = 0
    gold_recall_at_5: bool | None = None
    other_docs: tuple[str, ...] = ()


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
            items.append(EvalItem(
                id=str(raw["id"]), question=str(raw["question"]),
                answerable=bool(raw["answerable"]),
                expect_all=tuple(raw.get("expect_all", ())), sources=tuple(raw.get("sources", ())),
                history=tuple(raw.get("history", ())),
                gold=tuple(str(g) for g in gold),
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
def verified_pairs(answer: Answer, documents: Callable[[str], Document | None],
                   question: str = "") -> tuple[int, list[str]]:
    """Citation precision judged by the verifier's rule, recomputed from the answer alone.

    Every sentence of a non-refused answer is paired with each marker it carries.
    A pair is supported when ``grounding.support(sentence, quote, context)`` reaches
    ``grounding.MIN_SUPPORT``, where ``quote`` is the text of the cited passage the
    citation singles out and ``context`` is its report's title, outlet and authors
    (:func:`report_context`) - nothing else of the passage or the prompt. Numbers
    and model names the sentence repeats from ``question`` are exempt only where
    that context states them (the pipeline exempts them when the passage does).
    A marker with no citation behind it is an unsupported pair.

    Returns the number of supported pairs and a description (``"[n] sentence"``) of
    each unsupported one; the number of pairs is their sum.
    """
    if answer.refused:
        return 0, []
    by_number = {c.n: c for c in answer.citations}
    asked = grounding.numbers(question) | grounding.identifiers(question)
    supported = 0
    failed: list[str] = []
    for sentence, found in grounding.split_answer(answer.text):
        for n in dict.fromkeys(found):
            citation = by_number.get(n)
            ok = False
            if citation is not None:
                context = report_context(documents(citation.doc_id))
                echoed = frozenset(asked & (grounding.numbers(context)
                                            | grounding.identifiers(context)))
                score = grounding.support(sentence, citation.quote, context, echoed)
                ok = score >= grounding.MIN_SUPPORT
            if ok:
                supported += 1
            else:
                failed.append(f"[{n}] {sentence}")
    return supported, failed


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
    return 0 if answer.refused else len(grounding.split_answer(answer.text))


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


def run_item(assistant: Assistant, item: EvalItem) -> ItemResult:
    """Ask one eval question (after its history) and score the answer."""
    history: list[dict[str, str]] = []
    for earlier in item.history:
        previous = assistant.ask(earlier, history=history)
        history += [{"role": "user", "content": earlier},
                    {"role": "assistant", "content": previous.text}]
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

    supported, failed = verified_pairs(answer, document, item.question)
    facts = factual_citations(answer, item)
    return ItemResult(
        id=item.id, question=item.question, answerable=item.answerable, answer=answer.text,
        refused=answer.refused, cited_docs=cited, answer_ok=answer_ok, sources_ok=sources_ok,
        refusal_ok=refusal_ok, recall_at_5=recall,
        seconds=answer.timings.get("total_s", 0.0),
        first_token_s=answer.timings.get("first_token_s"), trace=dict(answer.trace),
        cited_pairs=supported + len(failed), cited_pairs_supported=supported,
        unverified_pairs=tuple(failed), citations_total=len(answer.citations),
        citations_factual=facts[0] if facts else None,
        sentences=presented_sentences(answer), unsupported_sentences=len(answer.unsupported),
        gold_recall_at_5=gold_recall,
        other_docs=tuple(sorted({c.doc_id for c in answer.other_reports})),
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
    """Counts per metric (passed, total) and latency figures.

    ``citation_precision_verifier``: supported (sentence, marker) pairs / all pairs;
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
        "citation_precision_verifier": (sum(r.cited_pairs_supported for r in results),
                                        sum(r.cited_pairs for r in results)),
        "citation_precision_facts": (sum(r.citations_factual or 0 for r in facts),
                                     sum(r.citations_total for r in facts)),
        "unsupported_sentence_rate": (unsupported,
                                      sum(r.sentences for r in results) + unsupported),
        "answers_quoting_other_reports": (sum(1 for r in results if r.other_docs),
                                          sum(1 for r in results if not r.refused)),
        "latency_median_s": statistics.median(seconds) if seconds else 0.0,
        "latency_max_s": max(seconds) if seconds else 0.0,
        "first_token_median_s": statistics.median(first) if first else None,
    }


SUMMARY_LINES = (
    ("answer_accuracy", "answer accuracy"),
    ("citation_source_accuracy", "citation source accuracy"),
    ("citation_precision_verifier", "citation precision (verifier)"),
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
    recall@5, verified (sentence, marker) pairs, factual citations, sentences the
    verifier removed, seconds.
    """
    mark = {True: "ok", False: "FAIL", None: "-"}
    rows = [f"{'id':<10} {'answer':<6} {'source':<6} {'refusal':<7} {'r@5':<4} {'g@5':<4} "
            f"{'pairs':<5} {'facts':<5} {'unsup':<5} {'secs':>6}"]
    for r in report.results:
        pairs = f"{r.cited_pairs_supported}/{r.cited_pairs}" if r.cited_pairs else "-"
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
    if s.get("first_token_median_s") is not None:
        rows.append(f"{'first token median':<30} {s['first_token_median_s']:.1f} s")
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
