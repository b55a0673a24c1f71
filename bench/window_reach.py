"""How narrow the sentence windows can be: does the text the model reads still hold the answer?

No model runs. For each window setting (``window_sentences``, ``window_around``) the
questions are asked in retrieved mode with a scripted model that refuses, and its draft
prompts are recorded. An answerable question counts as reachable when the passages of its
prompts hold what a right answer must say: every ``expect_all`` pattern of the question
(calibration sets such as blind19), or one of its ``gold`` sentences (the docs folder).
The grade is the question file's own key, not the ranker's scores. Questions whose answer
never goes through a draft prompt (summaries and comparisons answered from sentences, a
gate's refusal) count as missed under every setting alike. Also prints the draft prompt's
size in the model's tokens (per question, summed over its prompts).

    python bench/window_reach.py --questions tests/data/answering_blind19.jsonl 5,1 3,1
    python bench/window_reach.py --questions bench/docs/questions.jsonl \\
        --corpus /tmp/assistant-docs-bench/LABEL/corpus \\
        --index /tmp/assistant-docs-bench/LABEL/index 5,1 3,1

Writes ``bench/results/window_reach_<label>.json`` with ``--label``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from machine import machine_info  # noqa: E402

from assistant.core import Assistant  # noqa: E402
from assistant.evaluation import contains_gold, load_items, run_item  # noqa: E402
from assistant.models.files import resolve_model  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from conftest import ScriptedGenerator  # noqa: E402

PASSAGE = re.compile(r'<passage n="\d+" source="[^"]*">\n(?:\[Section: [^\n]*\]\n)?'
                     r"(.*?)\n</passage>", re.S)


def measure(questions: Path, corpus: Path, index: Path, keep: int, around: int,
            count: Any) -> dict[str, Any]:
    """Reachable answers and prompt sizes for one window setting."""
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.json"
        policy.write_text(json.dumps({"window_sentences": keep, "window_around": around}))
        settings = Settings.from_env(context_mode="retrieved", corpus_dir=corpus,
                                     index_dir=index, answer_policy_file=policy)
        fake = ScriptedGenerator(["The reports do not say."])
        assistant = Assistant.open(settings=settings, generator=fake)
        reachable, missed, sizes = 0, [], []
        items = [i for i in load_items(questions) if i.answerable]
        for item in items:
            before = len(fake.prompts)
            run_item(assistant, item)
            prompts = [p for p in fake.prompts[before:] if "<passage" in p[-1]["content"]]
            if item.history:  # the earlier turns' prompts are not this question's
                prompts = prompts[-1:]
            if not prompts:
                missed.append(f"{item.id} (no draft)")
                continue
            sizes.append(sum(count(p[-1]["content"]) for p in prompts))
            text = "\n".join(t for p in prompts for t in PASSAGE.findall(p[-1]["content"]))
            found = (contains_gold(text, item.gold) if item.gold
                     else all(re.search(pattern, text) for pattern in item.expect_all))
            reachable += found
            if not found:
                missed.append(item.id)
    return {"window_sentences": keep, "window_around": around, "reachable": reachable,
            "answerable": len(items), "missed": missed,
            "prompt_tokens_median": statistics.median(sizes) if sizes else None,
            "prompt_tokens_mean": round(statistics.mean(sizes), 1) if sizes else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+", help="window_sentences,window_around pairs")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    from llama_cpp import Llama

    model = resolve_model(Settings.from_env().model, Settings.from_env().cache_dir)
    vocab = Llama(model_path=str(model), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode()))

    rows = []
    for pair in args.settings:
        keep, around = (int(v) for v in pair.split(","))
        row = measure(args.questions, args.corpus, args.index, keep, around, count)
        rows.append(row)
        print(f"window_sentences={keep} window_around={around}: reachable "
              f"{row['reachable']}/{row['answerable']}, draft prompt tokens p50 "
              f"{row['prompt_tokens_median']}; missed {', '.join(row['missed']) or '-'}",
              flush=True)
    if args.label:
        out = ROOT / "bench" / "results" / f"window_reach_{args.label}.json"
        out.write_text(json.dumps({"questions": str(args.questions), "rows": rows,
                                   "machine": machine_info()}, indent=1))


if __name__ == "__main__":
    main()
