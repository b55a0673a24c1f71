"""The main benchmark: index build, retrieval latency, answer latency and memory.

Run ``python bench/run.py`` (``--help`` for options). It builds a fresh index of
the corpus in a temporary folder, times retrieval for every question, loads and
warms the model, then asks the questions in a shuffled order and reports time to
first token, full answer time, prompt tokens and how many of them the model
already held (its cache), and peak memory. A table is printed and the figures
are written as JSON next to the machine they were measured on.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info, percentile  # noqa: E402

from assistant.core import Assistant  # noqa: E402
from assistant.evaluation import load_items, score  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure everything; return the figures."""
    loaded = load_items(args.questions)
    items = [item for item in loaded if not item.history]
    followup_items = [item for item in loaded if item.history]
    random.Random(args.seed).shuffle(items)
    questions = [item.question for item in items]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(index_dir=Path(tmp) / "index", model=args.model,
                                     context_mode=args.mode)
        started = time.perf_counter()
        assistant = Assistant.open(settings=settings, rebuild=True)
        opened = time.perf_counter() - started
        build = assistant.build_report
        searches = []
        for question in questions:
            t = time.perf_counter()
            assistant.search(question, k=settings.top_k)
            searches.append(time.perf_counter() - t)
        t = time.perf_counter()
        # As at a restart: the model is loaded (the UI does this at start-up), but the
        # passages are not read yet: the first question restores or computes them.
        warm = "model loaded"
        assistant.generator  # noqa: B018 - loads the model
        if args.warm:
            warm = assistant.warm()
        warm_s = time.perf_counter() - t
        answers = []
        for item in items[: args.limit]:
            question = item.question
            answer = assistant.ask(question)
            timings = answer.timings
            answer_ok, refusal_ok = score(item, answer)
            answers.append({
                "question": question, "refused": answer.refused, "answer_ok": answer_ok,
                "refusal_ok": refusal_ok, "warm_s": timings.get("warm_s"),
                "first_token_s": timings.get("first_token_s"), "total_s": timings.get("total_s"),
                "prompt_tokens": timings.get("prompt_tokens"),
                "reused_tokens": timings.get("reused_tokens"),
                "model_calls": timings.get("model_calls"),
                "tokens_read": timings.get("tokens_read"),
                "tokens_written": timings.get("tokens_written"),
                "calls": answer.trace.get("model_calls", ""),
            })
            sys.stderr.write(f"{timings.get('first_token_s', 0):5.1f} s first token, "
                             f"{timings.get('total_s', 0):5.1f} s in all: {question[:60]}\n")
        followups = []
        for item in followup_items[: args.followups]:  # asked after their earlier turns
            history: list[dict[str, str]] = []
            for n, earlier in enumerate(item.history):
                reply = (item.replies[n] if item.replies
                         else assistant.ask(earlier, history=history).text)
                history += [{"role": "user", "content": earlier},
                            {"role": "assistant", "content": reply}]
            answer = assistant.ask(item.question, history=history)
            followups.append({"question": item.question,
                              "standalone": answer.trace.get("standalone"),
                              "first_token_s": answer.timings.get("first_token_s"),
                              "total_s": answer.timings.get("total_s"),
                              "prompt_tokens": answer.timings.get("prompt_tokens"),
                              "reused_tokens": answer.timings.get("reused_tokens")})
        corpus_mode = assistant.corpus_prompt(assistant.generator) is not None
    first = [a["first_token_s"] for a in answers if a["first_token_s"] is not None]
    total = [a["total_s"] for a in answers if a["total_s"] is not None]
    prompt = sum(a["prompt_tokens"] or 0 for a in answers)
    scored = [a["answer_ok"] for a in answers if a["answer_ok"] is not None]
    reused = sum(a["reused_tokens"] or 0 for a in answers)
    modelled = [a for a in answers if a["model_calls"] is not None]
    asked_on = [f for f in followups if f["prompt_tokens"]]
    return {
        "machine": machine_info(),
        "settings": {"model": settings.model, "context_mode": settings.context_mode,
                     "corpus_mode_used": corpus_mode, "top_k": settings.top_k,
                     "threads": settings.threads, "questions": str(args.questions),
                     "order_seed": args.seed},
        "index": {"documents": build.documents, "passages": build.chunks,
                  "build_s": build.seconds, "open_s": opened,
                  "passages_per_s": build.chunks / build.seconds if build.seconds else None},
        "retrieval_ms": {"p50": 1000 * percentile(searches, 0.5),
                         "p95": 1000 * percentile(searches, 0.95), "n": len(searches)},
        "model": {"warm": warm, "warm_s": warm_s},
        "answers": {"n": len(answers), "first_token_p50_s": percentile(first, 0.5),
                    "first_token_p95_s": percentile(first, 0.95),
                    "total_p50_s": percentile(total, 0.5), "total_p95_s": percentile(total, 0.95),
                    "mean_total_s": statistics.fmean(total) if total else None,
                    "prompt_tokens": prompt, "reused_tokens": reused,
                    "reused_share": reused / prompt if prompt else None,
                    "refused": sum(1 for a in answers if a["refused"]),
                    # the first question asked (None if it was refused before the model ran)
                    "first_question_first_token_s": (answers[0]["first_token_s"]
                                                     if answers else None),
                    "answer_accuracy": [sum(scored), len(scored)],
                    "model_calls_p50": percentile([a["model_calls"] for a in modelled], 0.5)
                    if modelled else None,
                    "tokens_read_p50": percentile([a["tokens_read"] for a in modelled], 0.5)
                    if modelled else None,
                    "tokens_written_p50": percentile([a["tokens_written"] for a in modelled],
                                                     0.5) if modelled else None,
                    "refusal_accuracy": [sum(a["refusal_ok"] for a in answers), len(answers)]},
        "followups": {
            "n": len(followups),
            "standalone": sum(1 for f in followups if f["standalone"]),
            "first_token_p50_s": percentile([f["first_token_s"] for f in asked_on], 0.5)
            if asked_on else None,
            "total_p50_s": percentile([f["total_s"] for f in followups], 0.5)
            if followups else None,
            "reused_share": (sum(f["reused_tokens"] or 0 for f in asked_on)
                             / sum(f["prompt_tokens"] for f in asked_on)) if asked_on else None,
            "items": followups},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "items": answers,
    }


def _seconds(value: float | None) -> str:
    return "n/a (refused before the model ran)" if value is None else f"{value:.2f} s"


def table(r: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    m, i, q, a = r["machine"], r["index"], r["retrieval_ms"], r["answers"]
    rows = [
        ("machine", f"{m['cores']} cores, {m['cpu']}, {m['ram_gb']} GB"),
        ("model / context mode", f"{r['settings']['model']} / {r['settings']['context_mode']}"
                                 f" (corpus prompt: {r['settings']['corpus_mode_used']})"),
        ("index build", f"{i['passages']} passages of {i['documents']} reports in "
                        f"{i['build_s']:.2f} s ({i['passages_per_s']:.1f} passages/s)"),
        ("retrieval p50 / p95", f"{q['p50']:.1f} ms / {q['p95']:.1f} ms ({q['n']} queries)"),
        ("model start", f"{r['model']['warm']} ({r['model']['warm_s']:.1f} s)"),
        ("first token p50 / p95",
         f"{a['first_token_p50_s']:.2f} s / {a['first_token_p95_s']:.2f} s"),
        ("first question's first token", _seconds(a["first_question_first_token_s"])),
        ("full answer p50 / p95", f"{a['total_p50_s']:.1f} s / {a['total_p95_s']:.1f} s"),
        ("answer / refusal accuracy",
         f"{a['answer_accuracy'][0]}/{a['answer_accuracy'][1]} / "
         f"{a['refusal_accuracy'][0]}/{a['refusal_accuracy'][1]}"),
        ("prompt tokens reused",
         f"{a['reused_tokens']} of {a['prompt_tokens']} "
         f"({100 * (a['reused_share'] or 0):.0f}%) over {a['n']} questions"),
        ("model calls / tokens read / written (p50)",
         f"{a['model_calls_p50']} / {a['tokens_read_p50']} / {a['tokens_written_p50']}"),
        ("follow-ups (asked after their turns)",
         f"{r['followups']['n']} ({r['followups']['standalone']} made to stand alone); "
         f"full answer p50 {r['followups']['total_p50_s']}; prompt tokens reused "
         f"{r['followups']['reused_share']}"),
        ("peak memory (RSS)", f"{r['peak_rss_mb']:.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT.parent / "shared/eval/dev.jsonl")
    parser.add_argument("--model", default=None, help="default, fast or a GGUF path")
    parser.add_argument("--mode", default=None, choices=("auto", "corpus", "retrieved"))
    parser.add_argument("--seed", type=int, default=1, help="seed of the question order")
    parser.add_argument("--limit", type=int, default=None, help="answer only this many")
    parser.add_argument("--followups", type=int, default=0,
                        help="also ask this many of the file's follow-ups after their turns")
    parser.add_argument("--warm", action="store_true",
                        help="read the passages before the first question (as the UI does)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/run.json")
    args = parser.parse_args(argv)
    if not args.questions.exists():
        args.questions = ROOT / "tests/data/questions.jsonl"
    result = run(args)
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
