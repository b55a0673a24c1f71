"""The :class:`Assistant`: the Python API that the CLI and the UI use.

It loads the corpus, keeps the index up to date, retrieves passages, has the
local model write a cited answer, and looks citations up. The language model is
loaded on first use and used by one request at a time. The web UI reaches the
pipeline only through it and the records: reports are added with :meth:`add_report`
within :attr:`upload_limits`, the model's state is :attr:`model_status`, an answer's
markers come split with their citations (:meth:`Answer.segments`), a passage's id is
:attr:`Hit.citation_id`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import logging
import re
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant import citations
from assistant.answer import conversation, draft, gate
from assistant.answer import policy as answer_policy
from assistant.answer.decide import AnswerBuilder, closest_passages
from assistant.errors import AssistantError, CitationError, QuestionError
from assistant.index.indexing import refresh
from assistant.index.vectorstore import SearchIndex, store_config
from assistant.ingest.chunking import sentence_spans
from assistant.ingest.documents import (
    MAX_DOCUMENT_BYTES,
    SUPPORTED_SUFFIXES,
    LoadReport,
    folder_stamps,
    load_corpus,
    neutralize,
    sidecar_path,
)
from assistant.ingest.uploads import remove_report, store_upload
from assistant.models.embedding import Embedder
from assistant.models.generation import Generator, Message
from assistant.models.trace import TracedGenerator, summarise
from assistant.records import (
    CHANGED,
    GONE,
    INDEXED,
    NEW,
    SKIPPED,
    Answer,
    BuildReport,
    Chunk,
    Document,
    Hit,
    Passage,
    Progress,
    ReportFilter,
    ReportState,
    Status,
    TextDelta,
    UploadLimits,
    page_of,
)
from assistant.retrieve.retriever import Retriever
from assistant.settings import Settings

logger = logging.getLogger(__name__)

Event = Status | TextDelta | Answer
_MESSAGE_TOKENS = 8  # chat-template tokens around each message (role, start and end markers)
_CHECK_PROMPT_TOKENS = 64 + 256  # corpus mode's check turn: its request and sentences


def _default_embedder(settings: Settings) -> Embedder:
    from assistant.models.embedding import make_embedder

    return make_embedder(settings.embed_backend, settings.cache_dir, threads=settings.threads)


def _streamed(pieces: Iterable[str], start: str, shown: str,
              first: Callable[[], Status] | None = None
              ) -> collections.abc.Generator[Status | TextDelta, None, tuple[str, str]]:
    """What a reader sees of a reply as it is written (``first`` before its first piece).

    The reply begins with ``start``; ``shown`` is what was shown of it before. Returns
    the whole reply and what has been shown.
    """
    raw = start
    for piece in pieces:
        if first is not None:
            yield first()
            first = None
        raw += piece
        visible = draft.grown(raw, shown)
        if visible:
            yield TextDelta(visible[len(shown):])
            shown = visible
    return raw.strip(), shown


def _yes_of(generator: Generator, messages: list[Message]) -> float | None:
    """The model's probability that its reply to ``messages`` is yes, the model held."""
    with generator.lock:
        return draft.yes_probability(generator, messages)


def _default_generator(settings: Settings) -> Generator:
    if settings.llm_url:  # an OpenAI-compatible server (llama-server, vLLM, ...)
        from assistant.models.openai_backend import from_settings

        return from_settings(settings)
    from assistant.models.files import resolve_model
    from assistant.models.generation import LlamaCppGenerator

    path = resolve_model(settings.model, settings.cache_dir)
    return LlamaCppGenerator(path, settings.context_tokens, settings.threads, settings.seed,
                             state_dir=settings.cache_dir / "states",
                             draft_tokens=settings.draft_tokens)


def normalize_history(history: Sequence[Any] | None) -> list[Message]:
    """Earlier turns as ``{"role", "content"}`` dicts with plain-text content.

    Accepts plain dicts and Gradio's message format (content as a list of blocks).
    Roles other than ``user`` and ``assistant`` are dropped.
    """
    turns: list[Message] = []
    for item in history or ():
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            continue
        content = item.get("content")
        if isinstance(content, list):
            content = " ".join(str(b.get("text", "")) if isinstance(b, dict) else str(b)
                               for b in content)
        text = neutralize(str(content or "")).strip()
        if text:
            turns.append({"role": str(item["role"]), "content": text})
    return turns


class Assistant:
    """Questions in, cited answers out, over the reports of one corpus folder."""

    def __init__(self, settings: Settings, corpus: LoadReport, index: SearchIndex,
                 embedder: Embedder, generator_factory: Callable[[], Generator],
                 build_report: BuildReport) -> None:
        self.settings = settings
        self.build_report = build_report
        self._corpus = corpus
        self._docs = {d.doc_id: d for d in corpus.documents}
        self._embedder = embedder
        self.policy = answer_policy.from_settings(settings)
        self._builder = AnswerBuilder(self._docs, embedder, self.policy)
        self._retriever = Retriever(index, embedder)
        self._generator_factory = generator_factory
        self._generator: Generator | None = None
        self._generator_lock = threading.Lock()
        self._index_lock = threading.RLock()
        self._corpus_prompt: tuple[int, list[Hit] | None] | None = None
        self._model_status = "the model loads on the first question"
        self._model_since: float | None = None
        self._ready = threading.Event()
        self._warming = False

    @classmethod
    def open(
        cls,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        model: str | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> Assistant:
        """Open the corpus, (re)building the index if it is missing, stale or damaged."""
        base = settings or Settings.from_env()
        cfg = base.with_overrides(corpus_dir=corpus_dir, index_dir=index_dir, model=model)
        corpus = load_corpus(cfg.corpus_dir)
        emb = embedder or _default_embedder(cfg)
        index, report = refresh(corpus.documents, cfg.index_dir, emb, cfg.chunker(),
                                force=rebuild, progress=progress, store=store_config(cfg))
        factory: Callable[[], Generator] = (
            (lambda: generator) if generator is not None else (lambda: _default_generator(cfg)))
        return cls(cfg, corpus, index, emb, factory, report)

    # ----------------------------------------------------------------- corpus
    def reindex(self, force: bool = False, progress: Progress | None = None) -> BuildReport:
        """Reload the corpus folder and bring the index up to date."""
        with self._index_lock:
            corpus = load_corpus(self.settings.corpus_dir)
            index, report = refresh(corpus.documents, self.settings.index_dir, self._embedder,
                                    self.settings.chunker(), force=force, progress=progress,
                                    store=store_config(self.settings))
            self._corpus = corpus
            self._docs = {d.doc_id: d for d in corpus.documents}
            self._builder = AnswerBuilder(self._docs, self._embedder, self.policy)
            self._retriever = Retriever(index, self._embedder)
            self._corpus_prompt = None
            if self._model_status.startswith("ready"):  # not the old count of passages
                self._set_model_status("ready: model loaded; the reports are read again at "
                                       "the next question")
            self.build_report = report
            return report

    def add_report(self, filename: str, data: bytes, *, overwrite: bool = False) -> Path:
        """Store a report file in the corpus folder, checked as the corpus loader reads it.

        The name is cleaned to a safe document id; the file is refused (with a
        :class:`~assistant.errors.DocumentError` saying why) when it is too large or
        empty, of a type not read, unreadable, a duplicate of a report's text, or
        named like an existing report (unless ``overwrite``). Returns the stored
        file's path; :meth:`reindex` then indexes it.
        """
        return store_upload(self.settings.corpus_dir, filename, data, overwrite=overwrite)

    def remove_report(self, name: str, progress: Progress | None = None) -> BuildReport:
        """Delete a report (a document id, or a file name the folder lists) and re-index.

        Its file and sidecar leave the corpus folder; the index drops its passages
        and keeps every other report's (nothing is embedded again). Its citation ids
        stop resolving (:meth:`lookup` raises :class:`~assistant.errors.CitationError`).
        Raises :class:`~assistant.errors.DocumentError` when there is no such report (or
        its file cannot be deleted), and nothing changes; an error of the refresh after
        the file is deleted is raised as it is (the next refresh catches up).
        """
        with self._index_lock:
            removed = remove_report(self.settings.corpus_dir, name)
            logger.info("removed %s from the corpus", ", ".join(removed))
            return self.reindex(progress=progress)

    def report_states(self) -> list[ReportState]:
        """Every report file of the corpus folder and its state (see :class:`ReportState`).

        Indexed, skipped with its reason, changed since the index was last refreshed,
        new since, or removed since (compared with the folder as it was read).
        """
        corpus = self._corpus
        then = {name: (mtime, size) for name, mtime, size in corpus.stamps}
        now = {name: (mtime, size) for name, mtime, size in folder_stamps(
            self.settings.corpus_dir)}
        counts = self._retriever.index.doc_chunks()

        def changed(path: Path) -> bool:
            sidecar = sidecar_path(path)
            names = [path.name] + ([sidecar.name] if sidecar is not None else [])
            return any(then.get(n) != now.get(n) for n in names)

        out: list[ReportState] = []
        known: set[str] = set()
        for doc in corpus.documents:
            path = Path(doc.path)
            known.add(path.name)
            state = GONE if path.name not in now else CHANGED if changed(path) else INDEXED
            out.append(ReportState(doc.doc_id, path.name, state, "", doc.title, doc.outlet,
                                   doc.date, len(doc.pages) or None,
                                   len(counts.get(doc.doc_id, ()))))
        for name, why in corpus.skipped:
            known.add(name)
            path = self.settings.corpus_dir / name
            state = GONE if name not in now else CHANGED if then.get(name) != now.get(name) \
                else SKIPPED
            out.append(ReportState(path.stem, name, state, why))
        sidecars = {name for name in now if re.search(r"\.meta\.ya?ml$", name)}
        for name in sorted(set(now) - known - sidecars):
            if name not in then:
                out.append(ReportState(Path(name).stem, name, NEW))
        return out

    def select(self, reports: Sequence[str] | None = None, outlets: Sequence[str] | None = None,
               since: str | None = None, until: str | None = None) -> frozenset[str] | None:
        """The ids of the reports a question is restricted to (``None``: every report).

        See :class:`ReportFilter`. Raises :class:`~assistant.errors.QuestionError` for an
        unknown report id, a malformed date, or a choice that leaves no report.
        """
        return _select(ReportFilter(tuple(reports or ()), tuple(outlets or ()), since or None,
                                    until or None), self._docs)

    @property
    def upload_limits(self) -> UploadLimits:
        """The largest report file :meth:`add_report` takes, and the file types it reads."""
        return UploadLimits(MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES)

    @property
    def data_folders(self) -> tuple[Path, ...]:
        """The folders of the reports, the index and the model cache (never to be served)."""
        return (self.settings.corpus_dir, self.settings.index_dir, self.settings.cache_dir)

    def documents(self) -> list[dict[str, Any]]:
        """The reports with their metadata and chunk counts."""
        counts = self._retriever.index.doc_chunks()
        return [dict(d.metadata(), chunks=len(counts.get(d.doc_id, ())))
                for d in self._corpus.documents]

    @property
    def reports(self) -> Mapping[str, Document]:
        """The loaded reports by id (read-only), e.g. for :meth:`Answer.to_markdown`."""
        return types.MappingProxyType(self._docs)

    def skipped(self) -> list[tuple[str, str]]:
        """Files of the corpus folder that were not loaded, with the reason."""
        return list(self._corpus.skipped)

    def document(self, doc_id: str) -> Document:
        """One report by id."""
        try:
            return self._docs[doc_id]
        except KeyError:
            raise CitationError(f"there is no report {doc_id!r} in the corpus") from None

    # -------------------------------------------------------------- retrieval
    def search(self, query: str, k: int = 5, history: Sequence[Any] | None = None, *,
               reports: Sequence[str] | None = None, outlets: Sequence[str] | None = None,
               since: str | None = None, until: str | None = None) -> list[Hit]:
        """Scored passages for ``query``, best first; no generation.

        ``reports``, ``outlets``, ``since`` and ``until`` restrict the passages to some
        reports, as in :meth:`ask`.
        """
        query = self._check_question(query)
        allowed = self.select(reports, outlets, since, until)
        turns = normalize_history(history)
        context = [t["content"] for t in turns if t["role"] == "user"]
        standalone = conversation.resolve(query, turns, self._builder.report_names).standalone
        return self._retriever.search(standalone, k, context, allowed)

    def retriever(self, mode: str = "hybrid") -> Retriever:
        """A retriever over the current index: ``hybrid``, ``dense`` or ``lexical`` (BM25).

        For measuring retrieval (``assistant eval --retrieval``); answers always use
        the hybrid one.
        """
        if mode not in ("hybrid", "dense", "lexical"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        current = self._retriever
        return current if current.mode == mode else Retriever(current.index, self._embedder, mode)

    def lookup(self, citation_id: str) -> Passage:
        """The cited passage, with its report's metadata and the text around it."""
        ref = citations.parse_id(citation_id)
        doc = self._docs.get(ref.doc_id)
        if doc is None:
            raise CitationError(f"there is no report {ref.doc_id!r} in the corpus (it was "
                                "removed, or never added); this citation no longer resolves")
        return citations.passage(doc, citation_id, self.settings.passage_context_chars,
                                 self.settings.chunker().heading_chars)

    def closest_sentence(self, citation_id: str, question: str) -> str:
        """The citation id of the sentence of a passage that is closest to ``question``.

        What a retrieved passage opens at in the UI: the sentence that matched (by the
        embedding model's cosine), not the whole passage. A passage of one sentence is
        its own answer.
        """
        ref = citations.parse_id(citation_id)
        doc = self.document(ref.doc_id)
        citations.resolve(ref, doc)
        spans = sentence_spans(doc.text, ref.start, ref.end)
        if len(spans) < 2:
            return citation_id
        texts = [doc.text[a:b] for a, b in spans]
        vectors = self._embedder.embed([self._check_question(question), *texts])
        best = int((vectors[1:] @ vectors[0]).argmax())
        start, end = spans[best]
        return citations.make_id(doc.doc_id, start, end, texts[best])

    # ------------------------------------------------------------- generation
    @property
    def generator(self) -> Generator:
        """The language model, loaded on first use."""
        with self._generator_lock:
            if self._generator is None:
                self._generator = self._generator_factory()
            return self._generator

    def ask(self, question: str, history: Sequence[Any] | None = None, *,
            reports: Sequence[str] | None = None, outlets: Sequence[str] | None = None,
            since: str | None = None, until: str | None = None) -> Answer:
        """Answer ``question`` with citations (the last event of :meth:`ask_stream`).

        ``reports`` (document ids), ``outlets``, ``since`` and ``until`` (``YYYY``,
        ``YYYY-MM`` or ``YYYY-MM-DD``) restrict the answer to those reports: only their
        passages are read and cited (:class:`ReportFilter`).
        """
        answer: Answer | None = None
        for event in self.ask_stream(question, history, reports=reports, outlets=outlets,
                                     since=since, until=until):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(self, question: str, history: Sequence[Any] | None = None, *,
                   reports: Sequence[str] | None = None, outlets: Sequence[str] | None = None,
                   since: str | None = None, until: str | None = None
                   ) -> collections.abc.Generator[Event, None, None]:
        """Stream progress, then text deltas, then the final :class:`Answer`.

        The restrictions are those of :meth:`ask`.
        """
        started = time.perf_counter()
        # one generation of the corpus for the whole answer, though a reindex may land
        builder, retriever, docs = self._builder, self._retriever, self._docs
        asked = self._check_question(question)
        allowed = _select(ReportFilter(tuple(reports or ()), tuple(outlets or ()),
                                       since or None, until or None), docs)
        turns = normalize_history(history)
        yield Status("searching", "searching the reports")
        resolved = conversation.resolve(builder.truecased(asked), turns, builder.report_names)
        question = resolved.standalone  # every later step reads the question standing alone
        trace = {"standalone": question} if question != asked else {}
        context = [t["content"] for t in turns if t["role"] == "user"]
        hits = retriever.search(question, self.settings.top_k, context, allowed)
        relevance = retriever.relevance(question, hits, context)
        timings = {"retrieval_s": time.perf_counter() - started, "relevance": relevance}
        passes, why = gate.on_topic(question, [h.chunk.text for h in hits], relevance,
                                    self.policy)
        trace["gate"] = why
        in_scope = sorted(allowed) if allowed is not None else None
        summarised = (builder.sourced(question, retriever.index.chunks, timings, in_scope)
                      or builder.summary(question, hits, retriever.index.chunks, timings, in_scope)
                      or builder.mentioned(question, retriever.index.chunks, timings, in_scope))
        if summarised is not None:  # whom reports credit, a summary request, or whether a
            # report mentions something: found in the reports' own text, no model
            timings["total_s"] = time.perf_counter() - started
            yield dataclasses.replace(citations.with_pages(summarised, docs), question=asked,
                                      trace={**trace, **summarised.trace})
            return
        if not passes:
            refused = AnswerBuilder.refusal(asked, hits, timings, trace=trace)
            yield dataclasses.replace(refused, closest=closest_passages(refused, self.policy))
            return
        if self._warming and self._generator is None:  # the model is still loading
            yield Status("waiting", f"waiting for the model: {self.model_status}")
        generator = TracedGenerator(self.generator)  # each call's tokens, for the timings
        # A follow-up made to stand alone carries what it needs of the conversation; the
        # earlier turns would only tempt the model to repeat its last answer.
        earlier = [] if resolved.changed else [
            {"role": t["role"], "content": t["content"][:self.policy.history_chars]}
            for t in turns[-self.policy.history_messages:]]
        # a question about some reports reads their retrieved passages, never the whole corpus
        corpus = self.corpus_prompt(generator) if allowed is None else None
        if corpus is not None:
            shown_hits = corpus
            yield Status("reading", f"reading all {len(corpus)} passages", tuple(hits))
        else:
            shown_hits = builder.windows(question, self._fit_budget(hits, generator))
            yield Status("reading", f"reading {len(shown_hits)} passages", tuple(shown_hits))
        messages, shown_hits = self._fit_context(question, shown_hits, earlier, generator,
                                                 fixed=corpus is not None)
        timings["mode_corpus"] = float(corpus is not None)
        if self._warming and not self._ready.is_set():  # it is reading the reports
            yield Status("waiting", f"waiting for the model: {self.model_status}")
        # Wait for the model without blocking the stream: every few moments it says so,
        # and a caller that stops listening (a closed page) ends the question right there.
        while not generator.lock.acquire(timeout=self.settings.model_wait_poll_s):
            busy = (self.model_status if self._warming and not self._ready.is_set()
                    else "it is busy with another answer")
            yield Status("waiting", f"waiting for the model: {busy}")
        try:
            # every answer starts from the warmed state, whatever was asked before it
            timings["warm_s"] = self._warm(generator, corpus, docs)
            if not self._warming:  # loaded here (or read again after a reindex)
                self._set_model_status("ready: model loaded" + (
                    f"; {len(corpus)} passages read" if corpus is not None else ""))
                self._ready.set()

            def writing() -> Status:  # the model's first token
                timings["first_token_s"] = time.perf_counter() - started
                timings.update(generator.last_stats)
                return Status("writing", "writing the answer")

            raw, shown = yield from _streamed(
                generator.stream(messages, self.settings.max_answer_tokens), "", "", writing)
            prefix = draft.answer_prefix(raw)
            if prefix:  # it named a passage and stopped: its reply is continued once
                raw, _ = yield from _streamed(generator.stream(
                    messages, self.settings.max_answer_tokens, prefix=prefix), prefix, shown)
                if raw != prefix:  # a backend that cannot continue a reply adds nothing
                    trace["continued"] = prefix.replace("\n", " ")
            timings["written_s"] = time.perf_counter() - started
            answer, spans = builder.finish(question, raw, shown_hits, hits, timings)
            replied = raw  # what the chat holds as the model's reply, for the check
            if answer.refused:  # the model chose a passage but wrote nothing that holds
                answer, spans = builder.chosen(answer, raw, shown_hits)
                # the check reads the quoted sentence as the reply, not the reply that
                # failed: shown its own words, the model copies them back as the answer
                replied = answer.text  # (a refusal is not checked)
            if not answer.refused and self.settings.confirm_answers:
                yield Status("checking", "checking the answer against the passages")
                answer = builder.confirm(answer, spans, generator, shown_hits,
                                         [*messages, {"role": "assistant", "content": replied}]
                                         if corpus else None)
        finally:
            generator.lock.release()
        exempt = [name for _, name in resolved.replaced]
        answer = builder.on_target(answer, exempt)
        answer = builder.entity(answer, shown_hits, exempt)
        answer = builder.named(answer, shown_hits)
        answer = builder.said(answer, shown_hits, exempt)
        answer = builder.lead(answer)
        answer = builder.settled(answer, shown_hits, functools.partial(_yes_of, generator))
        answer = builder.each_report(answer, shown_hits)
        answer = builder.other_reports(answer, shown_hits)
        answer = citations.with_pages(answer, docs)
        timings.update(summarise(generator.calls))
        trace["model_calls"] = "; ".join(call.describe() for call in generator.calls)
        timings["total_s"] = time.perf_counter() - started
        yield dataclasses.replace(answer, question=asked, trace={**trace, **answer.trace},
                                  closest=closest_passages(answer, self.policy))

    @property
    def model_status(self) -> str:
        """What the model is doing: not loaded yet, loading (for how long), ready, or why not."""
        if self._model_since is not None:
            return f"{self._model_status} ({time.monotonic() - self._model_since:.0f} s)"
        return self._model_status

    @property
    def model_ready(self) -> bool:
        """Whether the model is loaded and has read what it reads before every question."""
        return self._ready.is_set()

    def _set_model_status(self, text: str, running: bool = False) -> None:
        self._model_status = text
        self._model_since = time.monotonic() if running else None

    def warm_in_background(self) -> threading.Thread:
        """Load and warm the model in a background thread (the UI starts at once).

        Until it is done, :attr:`model_status` says which step runs and for how long, and
        a question says that it waits for the model.
        """
        self._warming = True

        def run() -> None:
            try:
                self.warm(background=True)
            except AssistantError as exc:
                self._set_model_status(f"the model could not be loaded: {exc}")
            except Exception:
                logger.exception("warming the model failed")
                self._set_model_status("the model could not be loaded (see the server log)")
            finally:
                self._warming = False

        thread = threading.Thread(target=run, name="warm-model", daemon=True)
        thread.start()
        return thread

    def warm(self, background: bool = False) -> str:
        """Load the model and, in corpus mode, read (or restore) the passages once.

        Returns a short description of what was done, for logs and status lines.
        """
        started = time.monotonic()
        if background:
            self._set_model_status("loading the model", running=True)
        logger.info("loading the language model")
        generator = self.generator
        logger.info("language model loaded in %.1f s", time.monotonic() - started)
        corpus = self.corpus_prompt(generator)
        if corpus is not None and background:
            self._set_model_status(f"reading the reports ({len(corpus)} passages)",
                                   running=True)
        if corpus is not None:
            logger.info("reading the reports into the model (%d passages)", len(corpus))
        with generator.lock:
            seconds = self._warm(generator, corpus, self._docs)
        if corpus is None:
            done = "model loaded"
        else:
            logger.info("the reports are read (%d passages) in %.1f s", len(corpus), seconds)
            done = f"model loaded; {len(corpus)} passages read in {seconds:.1f} s"
        self._set_model_status("ready: " + done)
        self._ready.set()
        return done

    def _warm(self, generator: Generator, corpus: list[Hit] | None,
              docs: dict[str, Document]) -> float:
        """Have the model hold the prompt's fixed start, and only that.

        The start is the instructions, and in corpus mode every passage (the backend
        may restore them from a state it saved).
        """
        started = time.perf_counter()
        messages = draft.build_messages("", corpus or [], docs)
        if corpus is None:
            messages = messages[:1]  # the instructions only; the passages change per question
        outcome = generator.prepare(messages)
        logger.info("prompt start %s (%d passages)", outcome, len(corpus or []))
        return time.perf_counter() - started

    def corpus_prompt(self, generator: Generator) -> list[Hit] | None:
        """Every passage of the corpus in a fixed order, when they all fit the passage budget.

        Returns the numbered passages, or ``None`` when the corpus is too large
        (or ``context_mode`` says ``retrieved``); then each question gets its own
        retrieved passages.
        Overlap between neighbouring chunks is cut, so no text appears twice.
        """
        mode = self.settings.context_mode
        index = self._retriever.index
        cached = self._corpus_prompt
        if cached is not None and cached[0] == id(index):
            return cached[1]
        result: list[Hit] | None = None
        budget = self.settings.passage_token_budget
        rough = sum(c.tokens for c in index.chunks)
        if mode == "corpus" or (mode == "auto" and rough <= 2 * budget):
            passages = _corpus_passages(index.chunks, list(self._docs), self._docs)
            used = sum(_passage_cost(h, generator, self._docs) for h in passages)
            if passages and (mode == "corpus" or used <= budget):
                result = passages
        self._corpus_prompt = (id(index), result)
        return result

    def _fit_budget(self, hits: list[Hit], generator: Generator) -> list[Hit]:
        """Keep the best passages whose total size fits the passage token budget."""
        kept: list[Hit] = []
        used = 0
        for hit in hits:
            cost = _passage_cost(hit, generator, self._docs)
            if kept and used + cost > self.settings.passage_token_budget:
                break
            kept.append(hit)
            used += cost
        return kept

    def _fit_context(self, question: str, hits: list[Hit], earlier: list[Message],
                     generator: Generator, fixed: bool) -> tuple[list[Message], list[Hit]]:
        """The chat for ``question``, made to fit the model's context window in its tokens.

        Drops the oldest earlier turns first, then (unless the passages are ``fixed``)
        the weakest passages; a question that still does not fit is refused with a
        :class:`QuestionError` naming the limit.
        """
        limit = generator.context_tokens - self.settings.max_answer_tokens
        question_tokens = generator.count_tokens(question)
        if fixed:  # the answer check is a next turn of this same chat
            limit -= (question_tokens + self.policy.check_reply_tokens
                      + _CHECK_PROMPT_TOKENS)

        def size(chat: list[Message]) -> int:
            return _MESSAGE_TOKENS * (len(chat) + 1) + sum(
                generator.count_tokens(m["content"]) for m in chat)

        messages = draft.build_messages(question, hits, self._docs, earlier,
                                        name_once=not fixed)
        used = size(messages)
        while used > limit:
            if earlier:  # the oldest earlier turn goes first
                earlier = earlier[1:]
            elif not fixed and len(hits) > 1:
                hits = hits[:-1]
            else:
                room = limit - (used - question_tokens)
                if room <= 0:
                    raise QuestionError("the passages leave no room for a question in the "
                                        "model's context; use a larger context size")
                raise QuestionError(
                    f"the question is too long for the model ({question_tokens} tokens; "
                    f"at most {room} fit with the passages)")
            messages = draft.build_messages(question, hits, self._docs, earlier,
                                            name_once=not fixed)
            used = size(messages)
        return messages, hits

    def _check_question(self, question: str) -> str:
        text = " ".join(neutralize(str(question or "")).split())
        if not text:
            raise QuestionError("please type a question")
        if len(text) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is too long ({len(text)} characters; the limit is "
                f"{self.settings.max_question_chars})")
        return text


def _passage_cost(hit: Hit, generator: Generator, docs: Mapping[str, Document]) -> int:
    """The tokens a passage takes in a prompt: its text, its section line and delimiters."""
    context = draft.passage_context(hit, docs.get(hit.chunk.doc_id), shown=True)
    return generator.count_tokens(hit.chunk.text) + 40 + (
        generator.count_tokens(f"[Section: {context}]") if context else 0)


def _corpus_passages(chunks: Sequence[Chunk], order: list[str],
                     docs: Mapping[str, Document] | None = None) -> list[Hit]:
    """The chunks by report and position, each cut where the previous one ended.

    With ``docs``, a passage cut to start on a later page names that page.
    """
    rank = {doc_id: i for i, doc_id in enumerate(order)}
    out: list[Hit] = []
    end: dict[str, int] = {}
    for chunk in sorted(chunks, key=lambda c: (rank.get(c.doc_id, len(rank)), c.doc_id, c.start)):
        start = max(chunk.start, end.get(chunk.doc_id, 0))
        cut = start - chunk.start
        text = chunk.text[cut:]
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        if not text:
            continue
        start += lead
        doc = (docs or {}).get(chunk.doc_id)
        page = page_of(doc, start) if doc is not None else chunk.page
        piece = Chunk(chunk.doc_id, start, start + len(text), text, chunk.tokens, page,
                      chunk.heading)
        end[chunk.doc_id] = chunk.end
        out.append(Hit(piece, 0.0, len(out) + 1))
    return out



_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_REPORT_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?")


def _select(scope: ReportFilter, docs: Mapping[str, Document]) -> frozenset[str] | None:
    """The ids of the reports of ``docs`` that ``scope`` keeps; ``None`` when it keeps all."""
    if scope.everything:
        return None
    unknown = [r for r in scope.reports if r not in docs]
    if unknown:
        raise QuestionError(f"there is no report {unknown[0]!r} in the corpus")
    for bound in (scope.since, scope.until):
        if bound is not None and not _DATE_RE.match(bound):
            raise QuestionError(f"{bound!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    outlets = {o.strip().casefold() for o in scope.outlets if o.strip()}
    kept: set[str] = set()
    for doc_id, doc in docs.items():
        if scope.reports and doc_id not in scope.reports:
            continue
        if outlets and (doc.outlet or "").strip().casefold() not in outlets:
            continue
        if scope.since or scope.until:
            found = _REPORT_DATE_RE.match(doc.date or "")
            day = found.group(0) if found else ""
            if not day or (scope.since and day[:len(scope.since)] < scope.since) or (
                    scope.until and day[:len(scope.until)] > scope.until):
                continue
        kept.add(doc_id)
    if not kept:
        raise QuestionError("no report matches that choice of reports, outlets and dates")
    return frozenset(kept)
