"""Ask questions about a folder of news reports, offline, with a citation for every claim.

Each sentence of an answer cites the exact sentence of the report it comes from; every
citation has an id that `assistant cite` opens in its report.
"""

# For developers: plugins add subcommands through the ``assistant.commands`` entry-point
# group, a function ``(subparsers, add_flags) -> None`` that adds a parser, calls
# ``add_flags(parser)`` for the usual options and sets ``handler`` with ``set_defaults``.
# Errors of the assistant are printed as one friendly line on stderr (exit code 2); no
# traceback reaches the user. Heavy modules (the pipeline, the models) are imported inside
# the commands that use them, so `--help` and `cite` start at once.

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, CitationError, DocumentError
from assistant.records import Answer, Citation, Status
from assistant.settings import EMBED_BACKENDS, Settings

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.records import BuildReport

EXAMPLES = """\
examples:
  assistant serve                        open the chat in a browser (http://127.0.0.1:7860)
  assistant ask "Which tax applies to the H200 chips re-exported to China?"
  assistant ask --markdown "..."         the answer with footnotes, ready to paste
  assistant search "window guidance"     the closest passages and their citation ids
  assistant cite ID                      a cited passage in its report
  assistant ask --report ID "..."        ask about one report (see: assistant reports)
  assistant add FILE...                  add report files to the corpus and index them
  assistant remove ID                    remove a report from the corpus and the index
  assistant index --rebuild              index the reports again from scratch

The reports are the .txt, .md, .html, .pdf and .docx files of the project's corpus/
folder (or of --corpus-dir, or ASSISTANT_CORPUS_DIR). The first start indexes them and
prepares the models, once; later starts reuse both.
"assistant COMMAND --help" lists the options of a command.
"""


def _reports_flags(parser: argparse.ArgumentParser) -> None:
    """Where the reports are, and -v: every command."""
    group = parser.add_argument_group("reports")
    group.add_argument("--corpus-dir", type=Path, metavar="DIR",
                       help="folder of the reports (default: the project's corpus/; "
                            "ASSISTANT_CORPUS_DIR)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")


def _index_flags(parser: argparse.ArgumentParser) -> None:
    """The index and the embedding model: commands that search."""
    group = parser.add_argument_group("index")
    group.add_argument("--index-dir", type=Path, metavar="DIR",
                       help="where the index is kept (default: the project's index/; "
                            "ASSISTANT_INDEX_DIR)")
    group.add_argument("--vector-store", choices=("faiss", "qdrant"),
                       help="where the vectors live (ASSISTANT_VECTOR_STORE)")
    group.add_argument("--embed-backend", choices=EMBED_BACKENDS,
                       help="what runs the embedding model (ASSISTANT_EMBED_BACKEND)")
    group.add_argument("--chunk-tokens", type=int, metavar="N",
                       help="passage size in tokens (ASSISTANT_CHUNK_TOKENS)")
    group.add_argument("--threads", type=int, metavar="N",
                       help="CPU threads (ASSISTANT_THREADS)")


def _top_k_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top-k", type=int, metavar="N",
                        help="passages read for an answer (ASSISTANT_TOP_K)")


def _model_flags(parser: argparse.ArgumentParser) -> None:
    """The language model: commands that write answers."""
    group = parser.add_argument_group("language model")
    group.add_argument("--model", help="'default', 'fast' or the path of a GGUF file "
                       "(ASSISTANT_MODEL)")
    group.add_argument("--llm-url", metavar="URL",
                       help="an OpenAI-compatible server to write with instead of the "
                            "built-in model (ASSISTANT_LLM_URL)")
    group.add_argument("--context-tokens", type=int, metavar="N",
                       help="the model's context size (ASSISTANT_CONTEXT_TOKENS)")
    group.add_argument("--top-k", type=int, metavar="N",
                       help="passages read for an answer (ASSISTANT_TOP_K)")


def _all_flags(parser: argparse.ArgumentParser) -> None:
    """Every option: what plugins (``serve``) get."""
    _reports_flags(parser)
    _index_flags(parser)
    _model_flags(parser)


def _scope_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that restrict a question (or a search) to some reports."""
    group = parser.add_argument_group("which reports (none given: every report)")
    group.add_argument("--report", action="append", default=[], metavar="ID",
                       help="only this report (repeat for several; ids as 'assistant "
                            "reports' lists them)")
    group.add_argument("--outlet", action="append", default=[], metavar="NAME",
                       help="only reports of this outlet (repeat for several)")
    group.add_argument("--since", metavar="DATE",
                       help="only reports dated on or after DATE (YYYY[-MM[-DD]])")
    group.add_argument("--until", metavar="DATE",
                       help="only reports dated on or before DATE (YYYY[-MM[-DD]])")


def _scope_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"reports": args.report, "outlets": args.outlet, "since": args.since,
            "until": args.until}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``assistant`` command."""
    parser = argparse.ArgumentParser(
        prog="assistant", description=__doc__, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands")

    def command(name: str, handler: Callable[[argparse.Namespace], None], summary: str,
                *flags: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=summary)
        p.set_defaults(handler=handler)
        for add in (_reports_flags, *flags):
            add(p)
        return p

    p = command("ask", _cmd_ask, "ask a question; the answer cites the reports",
                _index_flags, _model_flags, _scope_flags)
    p.add_argument("question")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the answer as JSON")
    shape.add_argument("--markdown", action="store_true",
                       help="print the answer as Markdown, each claim with a footnote "
                            "(quote, report, outlet, date, URL, citation id)")
    p = command("cite", _cmd_cite, "show a cited passage in its report")
    p.add_argument("citation_id", metavar="ID", help="a citation id printed by ask or search")
    p.add_argument("--json", action="store_true", help="print the passage as JSON")
    p = command("search", _cmd_search, "show the passages closest to a query, with their "
                "citation ids (no answer is written)", _index_flags, _scope_flags)
    p.add_argument("query")
    p.add_argument("-k", type=_positive, default=5, help="how many passages (default 5)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p = command("add", _cmd_add, "add report files (.txt, .md, .html, .pdf, .docx) to the "
                "corpus folder, checked as the UI checks uploads, then index them",
                _index_flags)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--replace", action="store_true",
                   help="replace a report with the same (cleaned) file name")
    p = command("remove", _cmd_remove, "remove a report (its id, or a file name the corpus "
                "lists) from the corpus folder and the index", _index_flags)
    p.add_argument("report", nargs="+", metavar="ID")
    p = command("reports", _cmd_reports, "list the corpus folder's reports and their state "
                "(indexed, skipped and why, changed since indexing)", _index_flags)
    p.add_argument("--json", action="store_true", help="print the states as JSON")
    p = command("index", _cmd_index, "build or refresh the index of the reports", _index_flags)
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    p.add_argument("--workers", type=_positive, help="embed in this many processes, streaming "
                   "the reports (batch ingestion of a large corpus)")
    p.add_argument("--batch-size", type=_positive,
                   help="reports per batch with --workers (default 64)")
    p = command("eval", _cmd_eval, "score the assistant on a JSONL file of questions",
                _index_flags, _model_flags)
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--retrieval", action="store_true",
                   help="compare the dense, lexical (BM25) and hybrid retrievers only "
                        "(recall@1/3/5, MRR; no language model)")
    p.add_argument("--claims", action="store_true",
                   help="FILE is a claim benchmark (bench/claims/claims.jsonl): score the "
                        "claim verifier per kind and split (no index, no language model)")
    p.add_argument("--split", help="with --claims: only this split (calibration or test)")
    p.add_argument("--fit", action="store_true",
                   help="with --claims: fit the verifier's coverage threshold on the split")
    p = command("calibrate", _cmd_calibrate, "fit the answer policy's score thresholds on "
                "questions (retrieval and ranking only; no language model)",
                _index_flags, _top_k_flag)
    p.add_argument("files", nargs="+", type=Path, help="calibration questions (eval JSONL)")
    p.add_argument("--test", type=Path, action="append", default=[],
                   help="questions reported with the fitted values, never fitted on")
    p.add_argument("--write", type=Path, help="save the fitted policy as JSON "
                   "(use it with ASSISTANT_ANSWER_POLICY)")
    for plugin in entry_points(group="assistant.commands"):
        plugin.load()(sub, _all_flags)
    return parser


def _out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _open(args: argparse.Namespace, rebuild: bool = False) -> Assistant:
    from assistant.core import Assistant

    return Assistant.open(settings=Settings.from_args(args), rebuild=rebuild)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_index(args: argparse.Namespace) -> None:
    if args.workers or args.batch_size:
        _cmd_ingest(args)
        return
    assistant = _open(args, rebuild=args.rebuild)
    _print_build(assistant.build_report, assistant.skipped())


def _print_build(r: BuildReport, skipped: Sequence[tuple[str, str]], how: str = "") -> None:
    """What an index build did (a ``BuildReport``), and the files it skipped."""
    _out(f"index {r.status}: {r.documents} documents, {r.chunks} passages "
         f"({r.embedded_chunks} embedded, {len(r.reused_documents)} documents reused, "
         f"{len(r.removed_documents)} removed) in {r.seconds:.1f} s{how}")
    if r.reason:
        _out(f"reason: {r.reason}")
    for name, why in skipped:
        _out(f"skipped {name}: {why}")


def _cmd_ingest(args: argparse.Namespace) -> None:
    """``index --workers N``: batch ingestion, documents streamed and embedded in parallel."""
    from assistant.index.batch import DEFAULT_BATCH, default_factory, ingest
    from assistant.index.vectorstore import store_config

    settings = Settings.from_args(args)
    workers = args.workers or 1

    def progress(stage: str, done: int, total: int) -> None:
        if args.verbose:
            sys.stderr.write(f"[{stage} {done}/{total}]\n")

    r, skipped = ingest(settings.corpus_dir, settings.index_dir,
                        default_factory(settings, workers),
                        settings.chunker(),
                        store=store_config(settings), workers=workers,
                        batch_size=args.batch_size or DEFAULT_BATCH, force=args.rebuild,
                        progress=progress)
    _print_build(r, skipped, f" with {workers} workers")


def _cmd_ask(args: argparse.Namespace) -> None:
    assistant = _open(args)
    answer: Answer | None = None
    progress = _Progress(enabled=args.verbose or sys.stderr.isatty())
    for event in assistant.ask_stream(args.question, **_scope_args(args)):
        if isinstance(event, Answer):
            answer = event
        elif isinstance(event, Status):
            progress.show(event.detail)
    progress.done()
    assert answer is not None
    closest = [{"id": h.citation_id, "doc_id": h.chunk.doc_id, "quote": h.chunk.text}
               for h in answer.closest]
    if args.json:
        data = answer.to_dict()
        if answer.refused:
            data["closest"] = closest
        _out(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if args.markdown:
        _out(answer.to_markdown(assistant.reports), end="")
        _print_closest(closest)
        return
    # The checked answer, printed once: nothing shown is taken back afterwards.
    _out(answer.text.strip())
    _out()
    for sentence in answer.unsupported:
        _out(f"(left out: {sentence})")
    _print_closest(closest)
    _print_citations(answer.citations)
    if answer.other_reports:
        _out("(other reports on this question; compare them with the answer:)")
        _print_citations(answer.other_reports)


def _print_closest(closest: Sequence[dict[str, str]]) -> None:
    """A refusal's closest passages, each with its citation id."""
    if not closest:
        return
    _out("(the reports do not contain the answer; the closest passages:)")
    for item in closest:
        _out(f"- {item['doc_id']}: {' '.join(item['quote'].split())[:160]}…\n"
             f"    id: {item['id']}")


class _Progress:
    """One line on stderr that says what the assistant is doing (a terminal, or -v)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._tty = sys.stderr.isatty()
        self._width = 0

    def show(self, text: str) -> None:
        if not self._enabled or not text:
            return
        line = f"{text}…"
        if self._tty:
            sys.stderr.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            sys.stderr.write(f"[{text}]\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self._enabled and self._tty and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


def _print_citations(cited: Sequence[Citation]) -> None:
    """Each citation's marker, report, quote and id."""
    for c in cited:
        where = f", page {c.page}" if c.page is not None else ""
        _out(f"[{c.n}] {c.title or c.doc_id}{where}: {' '.join(c.quote.split())}\n"
             f"    id: {c.id}")


def _cmd_cite(args: argparse.Namespace) -> None:
    # Reads the reports alone: no index, no model (starts in well under a second).
    from assistant import citations
    from assistant.ingest.documents import load_corpus

    settings = Settings.from_args(args)
    ref = citations.parse_id(args.citation_id)
    docs = {d.doc_id: d for d in load_corpus(settings.corpus_dir).documents}
    if ref.doc_id not in docs:
        raise CitationError(f"there is no report {ref.doc_id!r} in {settings.corpus_dir} (it "
                            "was removed, or never added); this citation no longer resolves")
    passage = citations.passage(docs[ref.doc_id], args.citation_id,
                                settings.passage_context_chars)
    if args.json:
        _out(json.dumps(passage.to_dict(), ensure_ascii=False, indent=2))
        return
    _out(f"{passage.title or passage.doc_id}")
    meta = [passage.outlet, ", ".join(passage.authors), passage.date, passage.url]
    _out(" | ".join(m for m in meta if m))
    page = f", page {passage.page}" if passage.page is not None else ""
    _out(f"characters {passage.start}-{passage.end} of {passage.doc_id}{page}")
    _out()
    _out(passage.text)


def _cmd_search(args: argparse.Namespace) -> None:
    assistant = _open(args)
    hits = assistant.search(args.query, k=args.k, **_scope_args(args))
    if args.json:
        _out(json.dumps([{"id": h.citation_id, "rank": h.rank, "score": h.score,
                          **h.chunk.to_dict()} for h in hits], ensure_ascii=False, indent=2))
        return
    reports = assistant.reports
    for h in hits:
        doc = reports.get(h.chunk.doc_id)
        title = (doc.title if doc else None) or h.chunk.doc_id
        page = f", page {h.chunk.page}" if h.chunk.page is not None else ""
        _out(f"{h.rank}. {title}{page}\n   id: {h.citation_id}\n   "
             f"{' '.join(h.chunk.text.split())[:200]}")


def _cmd_eval(args: argparse.Namespace) -> None:
    from assistant.evaluation import (
        ItemResult,
        compare_retrievers,
        evaluate,
        format_retrieval_table,
        format_table,
        load_items,
    )

    if args.claims:
        from assistant.evaluation import format_claim_table, load_claims, run_claims
        from assistant.models.embedding import EmbeddingSimilarity, make_embedder

        claims = [c for c in load_claims(args.file) if args.split in (None, c.split)]
        cfg = Settings.from_args(args)
        similarity = EmbeddingSimilarity(make_embedder(cfg.embed_backend, cfg.cache_dir,
                                                       threads=cfg.threads))
        if args.fit:
            from assistant.evaluation import fit_verifier

            fit = fit_verifier(claims, similarity)
            _out(f"min_coverage = {fit.min_coverage:.2f}, min_similarity = "
                 f"{fit.min_similarity:.3f}, min_coverage_reworded = "
                 f"{fit.min_coverage_reworded:.2f}: faithful kept {fit.kept:.1%}; caught "
                 + ", ".join(f"{k} {v:.0%}" for k, v in fit.caught.items()))
            return
        results = run_claims(claims, similarity=similarity)
        if args.json:
            _out(json.dumps([{"id": r.item.id, "kind": r.item.kind, "split": r.item.split,
                              "faithful": r.item.faithful, "supported": r.supported,
                              "check": r.check, "reason": r.reason} for r in results],
                            ensure_ascii=False, indent=1))
        else:
            _out(format_claim_table(results))
        return
    items = load_items(args.file)
    assistant = _open(args)
    if args.retrieval:
        comparison = compare_retrievers(assistant, items)
        _out(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2) if args.json
             else format_retrieval_table(comparison))
        return

    def progress(result: ItemResult) -> None:
        verdict = "refused" if result.refused else "answered"
        sys.stderr.write(f"{result.id}: {verdict} in {result.seconds:.1f} s\n")

    report = evaluate(assistant, items, progress=progress)
    if args.json:
        _out(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _out(format_table(report))


def _cmd_add(args: argparse.Namespace) -> None:
    """``add FILE...``: store each file in the corpus (or say why not), then index once."""
    assistant = _open(args)
    limit = assistant.upload_limits.max_bytes
    refused = 0
    for path in args.files:
        try:
            if not path.is_file():
                raise DocumentError(f"{path.name}: no such file")
            if path.stat().st_size > limit:  # refused before reading it
                raise DocumentError(f"{path.name} is larger than {limit // 2**20} MB")
            stored = assistant.add_report(path.name, path.read_bytes(), overwrite=args.replace)
        except DocumentError as exc:
            refused += 1
            sys.stderr.write(f"not added: {exc}\n")
            continue
        except OSError as exc:
            refused += 1
            sys.stderr.write(f"not added: {path.name} could not be read ({exc.strerror})\n")
            continue
        _out(f"added {path.name} as {stored.name}")
    if refused < len(args.files):
        _print_build(assistant.reindex(), assistant.skipped())
    if refused:
        raise DocumentError(f"{refused} of {len(args.files)} files not added")


def _cmd_remove(args: argparse.Namespace) -> None:
    """``remove ID...``: delete each report's file (and sidecar), then re-index once."""
    assistant = _open(args)
    failed = 0
    report = None
    for name in args.report:
        try:
            report = assistant.remove_report(name)
        except DocumentError as exc:
            failed += 1
            sys.stderr.write(f"not removed: {exc}\n")
            continue
        _out(f"removed {name}")
    if report is not None:
        _print_build(report, assistant.skipped())
    if failed:
        raise DocumentError(f"{failed} of {len(args.report)} reports not removed")


def _cmd_reports(args: argparse.Namespace) -> None:
    states = _open(args).report_states()
    if args.json:
        _out(json.dumps([dataclasses.asdict(s) for s in states], ensure_ascii=False, indent=2))
        return
    for s in states:
        detail = f" ({s.reason})" if s.reason else ""
        count = f", {s.passages} passages" if s.passages else ""
        _out(f"{s.doc_id}: {s.state}{detail}{count}")


def _cmd_calibrate(args: argparse.Namespace) -> None:
    from assistant.answer import calibrate
    from assistant.answer.policy import save_policy
    from assistant.evaluation import load_items

    assistant = _open(args)
    retriever, policy = assistant.retriever(), assistant.policy
    k = assistant.settings.top_k
    calibration = [q for f in args.files for q in load_items(f)]
    scores = calibrate.score(calibration, retriever, k, policy)
    fitted = calibrate.fit(scores, policy)
    reports = {"calibration": calibrate.report(scores, fitted)}
    for path in args.test:
        tested = calibrate.score(load_items(path), retriever, k, fitted)
        reports[path.stem] = calibrate.report(tested, fitted)
    _out(calibrate.format_report(fitted, reports))
    if args.write:
        save_policy(fitted, args.write)
        _out(f"written to {args.write}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    # llama.cpp's OpenMP threads sleep between steps instead of spinning, unless the user
    # chose otherwise: set before the model's library loads, so it takes effect. Measured
    # with bench/two_users.py (README, Settings): faster alone and with two users.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        args.handler(args)
    except AssistantError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
