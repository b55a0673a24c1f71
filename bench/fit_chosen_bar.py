"""Fit ``AnswerPolicy.chosen_min_score`` from the recorded calibration runs.

Reads every ``bench/results/answering/*.json`` except the dev runs (``dev*``), takes each
answer the ``chosen`` fallback gave (its trace's ``chosen`` entry starts with the quoted
sentence's rank score), and prints, for a few bars, the right answers each would have
lost and the wrong ones shown it would have refused. The rule (that of ``min_relevance``):
the highest bar every right answer passes, allowing for the traces' rounding to two
places. No model runs.

    python bench/fit_chosen_bar.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "answering"
SCORE = re.compile(r"([\d.]+):")


def firings() -> list[tuple[float, bool, bool, str]]:
    """(score, right answer shown, wrong shown, file/id) for each firing of ``chosen``."""
    rows = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name.startswith("dev"):
            continue
        for r in json.loads(path.read_text())["results"]:
            match = SCORE.match((r.get("trace") or {}).get("chosen", ""))
            if not match:
                continue
            ok = r["answer_ok"] if r["answerable"] else r["refusal_ok"]
            shown = not r["refused"]
            rows.append((float(match.group(1)), shown and ok and r["answerable"],
                         shown and not ok, f"{path.name}/{r['id']}"))
    return rows


def main() -> None:
    rows = firings()
    right = [r for r in rows if r[1]]
    wrong = [r for r in rows if r[2]]
    out = sys.stdout
    out.write(f"{len(rows)} firings, {len({r[3].split('/')[1] for r in rows})} questions; "
              f"{len(right)} right answers shown, {len(wrong)} wrong ones shown\n")
    for bar in (0.2, 0.3, 0.335, 0.4, 0.5, 0.6):
        out.write(f"bar {bar:.3f}: right lost {sum(r[0] < bar for r in right)}, "
                  f"wrong refused {sum(r[0] < bar for r in wrong)}\n")
    low = min(right)
    # the traces round scores to two places: the lowest right answer's own score may lie
    # up to 0.005 below what its trace shows, and the bar must let it through
    out.write(f"fitted: {low[0] - 0.005:.3f} (the lowest right answer, {low[3]}, shows "
              f"{low[0]:.2f})\n")


if __name__ == "__main__":
    main()
