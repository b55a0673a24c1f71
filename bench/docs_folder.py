"""Answer accuracy on a documentation-style folder: 40 pages of Python's library reference.

Run ``python bench/docs_folder.py --label NAME`` (``--help`` for options). It copies a
fixed, named list of HTML pages of the ``python3-doc`` package (Sphinx output: headings,
definition lists of function signatures, tables) into a fresh corpus folder, indexes
it, and asks the questions of ``bench/docs/questions.jsonl`` with the default model.

Grading (:func:`assistant.evaluation.score`): an answerable question is right when the
answer is not a refusal and matches every ``expect_all`` pattern (mostly the function's
name, which the page states in its signature or heading, not in the sentence that
describes it); an unanswerable one (the pages do not say) is right when it is refused.
Each answerable question also names its gold passage (the page's sentence that answers
it), so the retriever is measured by whether a top-5 passage holds it, not by its own
scores. Before the first question the model is loaded and warmed, as the chat does at
start, so the first question is the first after a restart; ``--shuffle SEED`` asks in a
seeded random order. The figures include first-token and full-answer p50/p95 and the
tokens the model read per question.

The ``assistant`` package is imported from ``sys.path`` as given (``PYTHONPATH``), so
the same script measures another checkout's code; the results name the code's folder
and commit, the machine and the load average before and after, and are written to
``bench/results/docs_folder_<label>.json``; each answer is also appended to
``docs_folder_<label>.partial.jsonl`` as soon as it is scored.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info  # noqa: E402

import assistant  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.evaluation import evaluate, format_table, load_items  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DOCS = Path("/usr/share/doc/python3-doc/html/library")
PAGES = (
    "shutil", "os.path", "sys", "json", "re", "pathlib", "glob", "fnmatch", "tempfile",
    "filecmp", "itertools", "functools", "operator", "collections", "heapq", "bisect",
    "copy", "pprint", "textwrap", "string", "difflib", "datetime", "calendar", "time",
    "math", "random", "statistics", "fractions", "csv", "configparser", "hashlib",
    "base64", "zlib", "gzip", "uuid", "secrets", "dataclasses", "contextlib", "shlex",
    "timeit",
)
QUESTIONS = ROOT / "bench" / "docs" / "questions.jsonl"


def _commit(folder: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def ensure_pages(docs: Path) -> None:
    """Install Debian's ``python3-doc`` when the default pages are missing (needs root).

    The package comes from the distribution's archive, the only network this needs; the
    benchmark itself reads the installed files offline. Another ``--docs`` folder must
    hold the pages already.
    """
    if all((docs / f"{page}.html").is_file() for page in PAGES):
        return
    if docs != DOCS or shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SystemExit(f"the library pages are not in {docs}: install Debian's python3-doc "
                         "(apt-get install -y python3-doc) or pass --docs")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "python3-doc"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    missing = [page for page in PAGES if not (docs / f"{page}.html").is_file()]
    if missing:
        raise SystemExit(f"python3-doc installed, but {', '.join(missing)} are not in {docs}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the folder and its index, ask every question; return the figures."""
    ensure_pages(args.docs)
    work = args.work / args.label
    if work.exists():
        shutil.rmtree(work)
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    for page in PAGES:
        shutil.copyfile(args.docs / f"{page}.html", corpus / f"{page}.html")
    load_before = os.getloadavg()
    code = Path(assistant.__file__).resolve().parent.parent
    settings = Settings.from_env(corpus_dir=corpus, index_dir=work / "index")
    started = time.perf_counter()
    opened = Assistant.open(settings=settings, rebuild=True)
    build_s = time.perf_counter() - started
    items = load_items(args.questions)
    if args.interleave:  # an unanswerable question after every few answerable ones
        answerable = [i for i in items if i.answerable]
        others = [i for i in items if not i.answerable]
        step = max(1, len(answerable) // max(1, len(others)))
        mixed = []
        for n, item in enumerate(answerable):
            mixed.append(item)
            if (n + 1) % step == 0 and others:
                mixed.append(others.pop(0))
        items = mixed + others
    if args.shuffle is not None:  # a fixed, seeded order unlike the file's
        random.Random(args.shuffle).shuffle(items)
    if args.ids:
        wanted = set(args.ids.split(","))
        items = [i for i in items if i.id in wanted]
    items = items[: args.limit]
    partial = ROOT / "bench" / "results" / f"docs_folder_{args.label}.partial.jsonl"
    partial.write_text("")
    started = time.perf_counter()  # as the chat does at start: the model loads before the
    opened.warm()  # first question, which is then the first after a restart
    warm_s = time.perf_counter() - started

    def progress(result: Any) -> None:
        verdict = "refused" if result.refused else "answered"
        sys.stderr.write(f"{result.id}: {verdict} in {result.seconds:.1f} s "
                         f"(answer {result.answer_ok}, refusal {result.refusal_ok})\n")
        with partial.open("a", encoding="utf-8") as out:  # a run cut short still counts
            out.write(json.dumps(dataclasses.asdict(result), ensure_ascii=False) + "\n")

    report = evaluate(opened, items, progress=progress)
    return {
        "label": args.label, "code": str(code), "commit": _commit(code),
        "machine": machine_info(), "settings": {"model": settings.model,
                                                "top_k": settings.top_k,
                                                "chunk_tokens": settings.chunk_tokens},
        "pages": list(PAGES), "documents": len(opened.reports),
        "passages": opened.build_report.chunks, "skipped": opened.skipped(),
        "index_build_s": round(build_s, 1), "model_warm_s": round(warm_s, 1),
        "order": [i.id for i in items], "shuffle_seed": args.shuffle,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "table": format_table(report), **report.to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="names the results file")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the library pages' folder")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assistant-docs-bench"),
                        help="where the corpus and index are built")
    parser.add_argument("--limit", type=int, default=None, help="ask only the first N")
    parser.add_argument("--ids", default="", help="ask only these questions (comma-separated "
                        "ids), in the file's (or --interleave's) order")
    parser.add_argument("--interleave", action="store_true",
                        help="ask an unanswerable question after every few answerable ones "
                             "(a run cut short then has both kinds)")
    parser.add_argument("--shuffle", type=int, default=None, metavar="SEED",
                        help="ask in an order shuffled with this seed")
    args = parser.parse_args()
    figures = run(args)
    out = ROOT / "bench" / "results" / f"docs_folder_{args.label}.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    sys.stdout.write(figures["table"] + "\n")
    a, b = figures["load_average_before"], figures["load_average_after"]
    sys.stdout.write(f"\n{figures['documents']} pages, {figures['passages']} passages; "
                     f"load average {a[0]:.1f} before, {b[0]:.1f} after; wrote {out}\n")


if __name__ == "__main__":
    main()
