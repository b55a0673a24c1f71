"""Two users at once on the two reports: how much longer each answer takes than alone.

Run ``python bench/two_users.py --label NAME`` (``--help`` for options). One
``Assistant`` (as the chat server holds one) answers the first ``--limit`` plain
questions of a calibration file, first one after another (one user), then split
between two threads that ask at the same moment (two users, each asking its half in
turn). Every answer's time is measured from the moment its user asked, waiting for the
model included. The model is loaded and warmed before either run.

It prints both medians and their ratio (the issue's target: two users' p50 at most
twice one user's), with the threads setting and the load average, and writes
``bench/results/two_users_<label>.json``. Set ``ASSISTANT_THREADS`` and
``OMP_WAIT_POLICY`` in the environment to compare thread settings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info  # noqa: E402

from assistant.core import Assistant  # noqa: E402
from assistant.evaluation import load_items  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def timed(assistant: Assistant, question: str) -> dict[str, Any]:
    started = time.perf_counter()
    answer = assistant.ask(question)
    return {"question": question, "seconds": time.perf_counter() - started,
            "first_token_s": answer.timings.get("first_token_s"), "text": answer.text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", required=True)
    parser.add_argument("--questions", type=Path,
                        default=ROOT / "tests/data/answering_blind19.jsonl")
    parser.add_argument("--limit", type=int, default=12)
    args = parser.parse_args()

    settings = Settings.from_env()
    assistant = Assistant.open(settings=settings)
    assistant.warm()
    questions = [i.question for i in load_items(args.questions) if not i.history][:args.limit]
    load_before = os.getloadavg()
    alone = [timed(assistant, q) for q in questions]
    halves = [questions[0::2], questions[1::2]]
    together: list[list[dict[str, Any]]] = [[], []]
    gate = threading.Barrier(2)

    def user(n: int) -> None:
        gate.wait()  # both users start at the same moment
        together[n].extend(timed(assistant, q) for q in halves[n])

    threads = [threading.Thread(target=user, args=(n,)) for n in (0, 1)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    one = statistics.median(r["seconds"] for r in alone)
    two = statistics.median(r["seconds"] for r in together[0] + together[1])
    same = sum(a["text"] == b["text"] for a, b in zip(
        alone, [r for pair in zip(together[0], together[1], strict=False) for r in pair],
        strict=False))
    out = {"machine": machine_info(), "threads": settings.threads,
           "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
           "load_before": load_before, "load_after": os.getloadavg(),
           "one_user_median_s": one, "two_users_median_s": two, "ratio": two / one,
           "one_user_total_s": sum(r["seconds"] for r in alone), "two_users_wall_s": wall,
           "same_answers": same, "alone": alone, "together": together}
    target = ROOT / "bench" / "results" / f"two_users_{args.label}.json"
    target.write_text(json.dumps(out, indent=1))
    print(f"threads {settings.threads}, OMP_WAIT_POLICY={out['omp_wait_policy'] or 'unset'}: "
          f"one user p50 {one:.1f} s, two users p50 {two:.1f} s (x{two / one:.2f}); "
          f"all {len(alone)} answers: {out['one_user_total_s']:.0f} s alone, {wall:.0f} s "
          f"by two users; same answers {same}/{len(alone)}; load "
          f"{load_before[0]:.2f} -> {out['load_after'][0]:.2f}")


if __name__ == "__main__":
    main()
