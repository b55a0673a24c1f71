"""Would stopping a draft after its first few sentences lose what answers show?

No model runs. Reads the recorded calibration runs (``bench/results/answering/*.json``
without the dev runs) in corpus mode, splits each recorded reply (its trace's ``reply``,
after the Passage and Answer lines) into sentences, and for the replies longer than ``K``
sentences says whether the answer shown uses what came after sentence ``K`` (five words in
a row of it appear in the answer), and whether that answer was graded right.

    python bench/long_replies.py 3
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "answering"
SENTENCE_END = re.compile(r"(?<=[.!?])[”\"’)]?\s+(?=[A-Z“\"])")
LEADING = re.compile(r"^\s*(Passage:\s*\S+\s*)?(Answer:\s*)?")


def main() -> None:
    keep = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    replies = longer = 0
    used: list[str] = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name.startswith("dev"):
            continue
        for r in json.loads(path.read_text())["results"]:
            trace, timings = r.get("trace") or {}, r.get("timings") or {}
            if not trace.get("reply") or not timings.get("mode_corpus"):
                continue
            replies += 1
            sentences = [s for s in SENTENCE_END.split(LEADING.sub("", trace["reply"]).strip())
                         if s]
            if len(sentences) <= keep:
                continue
            longer += 1
            words = " ".join(sentences[keep:]).split()
            answer = r.get("answer") or ""
            if any(" ".join(words[i:i + 5]) in answer for i in range(max(1, len(words) - 4))):
                right = r["answer_ok"] if r["answerable"] else r["refusal_ok"]
                used.append(f"{path.name}/{r['id']} ({r.get('kind')}, "
                            f"{'right' if right else 'wrong'})")
    print(f"{replies} recorded corpus-mode replies; {longer} longer than {keep} sentences; "
          f"{len(used)} of those answers show text written after sentence {keep}:")
    for line in used:
        print("  " + line)


if __name__ == "__main__":
    main()
