"""The ``assistant`` command: index, add, remove, reports, ask, cite, search, eval, more.

Plugins add more (``serve``).

Plugins register subcommands through the ``assistant.commands`` entry-point group:
a function ``(subparsers, add_common_flags) -> None`` that adds a parser and sets
``handler`` with ``set_defaults``. Errors of the assistant are printed as one friendly
line on stderr (exit code 2);
no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, DocumentError
from assistant.records import Answer, Citation, Status, TextDelta
from assistant.settings import EMBED_BACKENDS, Settings

if TYPE_CHECKING:
    from assistant.records import BuildReport


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus-dir", type=Path, help="folder of reports (ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--index-dir", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    parser.add_argument("--model", help="'default', 'fast' or a GGUF path (ASSISTANT_MODEL)")
    parser.add_argument("--top-k", type=int, help="passages per answer (ASSISTANT_TOP_K)")
    parser.add_argument("--threads", type=int, help="CPU threads (ASSISTANT_THREADS)")
    parser.add_argument("--context-tokens", type=int, help="model context size")
    parser.add_argument("--chunk-tokens", type=int, help="chunk size in tokens")
    parser.add_argument("--llm-url", help="an OpenAI-compatible server to generate with, "
                        "instead of the in-process model (ASSISTANT_LLM_URL)")
    parser.add_argument("--vector-store", choices=("faiss", "qdrant"),
                        help="where the vectors live (ASSISTANT_VECTOR_STORE)")
    parser.add_argument("--embed-backend", choices=EMBED_BACKENDS,
                        help="what runs the embedding model (ASSISTANT_EMBED_BACKEND)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")


def _scope(parser: argparse.ArgumentParser) -> None:
    """The flags that restrict a question to some reports."""
    parser.add_argument("--report", action="append", default=[], metavar="ID",
                        help="only this report (repeat for several)")
    parser.add_argument("--outlet", action="append", default=[],
                        help="only reports of this outlet (repeat for several)")
    parser.add_argument("--since", help="only reports dated on or after (YYYY[-MM[-DD]])")
    parser.add_argument("--until", help="only reports dated on or before (YYYY[-MM[-DD]])")


def _scope_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"reports": args.report, "outlets": args.outlet, "since": args.since,
            "until": args.until}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``assistant`` command."""
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="build or refresh the index")
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    p.add_argument("--workers", type=_positive, help="embed in this many processes, streaming "
                   "the reports (batch ingestion of a large corpus)")
    p.add_argument("--batch-size", type=_positive,
                   help="reports per batch with --workers (default 64)")
    _common(p)
    p = sub.add_parser("ask", help="ask a question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    _scope(p)
    _common(p)
    p = sub.add_parser("cite", help="show the passage of a citation id")
    p.add_argument("citation_id")
    p.add_argument("--json", action="store_true")
    _common(p)
    p = sub.add_parser("search", help="show the best passages for a query (no generation)")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    _scope(p)
    _common(p)
    p = sub.add_parser("eval", help="score the assistant on a JSONL eval file")
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
    _common(p)
    p = sub.add_parser("add", help="add report files (.txt, .md, .html, .pdf, .docx) to the "
                       "corpus folder, checked as the UI checks uploads, then index them")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--replace", action="store_true",
                   help="replace a report with the same (cleaned) file name")
    _common(p)
    p = sub.add_parser("remove", help="remove a report (its id, or a file name the corpus "
                       "lists) from the corpus folder and the index")
    p.add_argument("report", nargs="+", metavar="ID")
    _common(p)
    p = sub.add_parser("reports", help="list the corpus folder's reports and their state "
                       "(indexed, skipped and why, changed since indexing)")
    p.add_argument("--json", action="store_true")
    _common(p)
    p = sub.add_parser("calibrate", help="fit the answer policy's score thresholds on "
                       "questions (retrieval and ranking only; no language model)")
    p.add_argument("files", nargs="+", type=Path, help="calibration questions (eval JSONL)")
    p.add_argument("--test", type=Path, action="append", default=[],
                   help="questions reported with the fitted values, never fitted on")
    p.add_argument("--write", type=Path, help="save the fitted policy as JSON "
                   "(use it with ASSISTANT_ANSWER_POLICY)")
    _common(p)
    for plugin in entry_points(group="assistant.commands"):
        plugin.load()(sub, _common)
    return parser


def _out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _open(args: argparse.Namespace, rebuild: bool = False) -> Any:
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
    streamed = ""
    for event in assistant.ask_stream(args.question, **_scope_args(args)):
        if isinstance(event, Answer):
            answer = event
        elif isinstance(event, TextDelta) and not args.json:
            streamed += event.text
            _out(event.text, end="")
        elif isinstance(event, Status) and args.verbose:
            sys.stderr.write(f"[{event.detail}]\n")
    assert answer is not None
    closest = [{"id": h.citation_id, "doc_id": h.chunk.doc_id, "quote": h.chunk.text}
               for h in answer.closest]
    if args.json:
        data = answer.to_dict()
        if answer.refused:
            data["closest"] = closest
        _out(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if streamed:
        _out("\n")
    if streamed.strip() != answer.text.strip():
        # The verifier changed what the model wrote: show what was kept.
        _out(("Checked answer: " if streamed else "") + answer.text)
        _out()
    for sentence in answer.unsupported:
        _out(f"(left out: {sentence})")
    if answer.refused:
        _out("(the reports do not contain the answer; the closest passages:)")
        for item in closest:
            _out(f"- {item['doc_id']}: {' '.join(item['quote'].split())[:160]}…\n"
                 f"    id: {item['id']}")
    _print_citations(answer.citations)
    if answer.other_reports:
        _out("(other reports on this question; compare them with the answer:)")
        _print_citations(answer.other_reports)


def _print_citations(cited: Sequence[Citation]) -> None:
    """Each citation's marker, report, quote and id."""
    for c in cited:
        where = f", page {c.page}" if c.page is not None else ""
        _out(f"[{c.n}] {c.title or c.doc_id}{where}: {' '.join(c.quote.split())}\n"
             f"    id: {c.id}")


def _cmd_cite(args: argparse.Namespace) -> None:
    assistant = _open(args)
    passage = assistant.lookup(args.citation_id)
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
        _out(json.dumps([{"score": h.score, **h.chunk.to_dict()} for h in hits],
                        ensure_ascii=False, indent=2))
        return
    for h in hits:
        page = f" (page {h.chunk.page})" if h.chunk.page is not None else ""
        _out(f"{h.rank}. {h.score:.3f} {h.chunk.key}{page}\n   {h.chunk.text[:200]}")


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


COMMANDS = {"add": _cmd_add, "remove": _cmd_remove, "reports": _cmd_reports,
            "calibrate": _cmd_calibrate, "index": _cmd_index, "ask": _cmd_ask,
            "cite": _cmd_cite, "search": _cmd_search, "eval": _cmd_eval}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        handler(args)
    except AssistantError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
