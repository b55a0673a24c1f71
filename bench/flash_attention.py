"""Flash attention on the CPU: reading and writing speed at two depths, and greedy sameness.

Run ``python bench/flash_attention.py --label NAME``. It loads the bundled default model
twice (llama.cpp's flash attention off, then on; 2 threads, the project's batch of 512)
and, for each:

- reads 600 tokens of the two reports after an empty context, and 150 more after 1,700
  tokens (where a corpus-mode answer check reads), three times each, the best kept;
- writes 20 tokens one at a time after those 1,850;
- writes the greedy reply (up to 40 tokens) to the retrieved-mode draft prompts of the
  first 8 calibration questions (blind19; those the gate passes), to see whether the
  replies stay the same.

Prints tokens per second and the number of equal replies; writes
``bench/results/flash_attention_<label>.json`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from machine import machine_info  # noqa: E402

from assistant.core import Assistant  # noqa: E402
from assistant.models.files import resolve_model  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from conftest import ScriptedGenerator  # noqa: E402


def draft_prompts(n: int) -> list[list[dict[str, str]]]:
    """The draft prompts of the first ``n`` blind19 questions in retrieved mode (no model)."""
    settings = Settings.from_env(context_mode="retrieved")
    fake = ScriptedGenerator(["The reports do not say."])
    assistant = Assistant.open(corpus_dir=ROOT / "corpus", index_dir=ROOT / "index",
                               settings=settings, generator=fake)
    lines = (ROOT / "tests" / "data" / "answering_blind19.jsonl").read_text().splitlines()
    for line in lines[:n]:
        assistant.ask(json.loads(line)["question"])
    return fake.prompts[:n]


def measure(flash: bool, prompts: list[list[dict[str, str]]]) -> dict[str, Any]:
    from llama_cpp import Llama

    settings = Settings.from_env()
    llm = Llama(model_path=str(resolve_model(settings.model, settings.cache_dir)), n_ctx=4096,
                n_threads=2, n_threads_batch=2, n_batch=512, verbose=False, flash_attn=flash)
    text = "".join(p.read_text() for p in sorted((ROOT / "corpus").glob("*.txt"))) * 2
    tokens = llm.tokenize(text.encode())
    shallow, deep, write = [], [], []
    for _ in range(3):
        llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        started = time.perf_counter()
        llm.eval(tokens[:600])
        shallow.append(600 / (time.perf_counter() - started))
    llm.reset()
    llm.eval(tokens[:1700])
    for _ in range(3):
        llm.n_tokens = 1700
        llm._ctx.kv_cache_seq_rm(-1, 1700, -1)
        started = time.perf_counter()
        llm.eval(tokens[1700:1850])
        deep.append(150 / (time.perf_counter() - started))
        started = time.perf_counter()
        for i in range(20):
            llm.eval([tokens[1850 + i]])
        write.append(20 / (time.perf_counter() - started))
    replies = []
    for messages in prompts:
        chat = (f"<|im_start|>system\n{messages[0]['content']}<|im_end|>\n<|im_start|>user\n"
                f"{messages[1]['content']}<|im_end|>\n<|im_start|>assistant\n")
        llm.reset()
        out: list[int] = []
        for token in llm.generate(llm.tokenize(chat.encode(), add_bos=False, special=True),
                                  top_k=1, temp=0.0):
            if token == llm.token_eos() or len(out) >= 40:
                break
            out.append(token)
        replies.append(llm.detokenize(out).decode(errors="replace"))
    return {"read_600_after_0": max(shallow), "read_150_after_1700": max(deep),
            "write_after_1850": max(write), "replies": replies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="run")
    args = parser.parse_args()
    prompts = draft_prompts(8)
    results = {name: measure(flash, prompts) for name, flash in (("off", False), ("on", True))}
    same = sum(a == b for a, b in zip(results["off"]["replies"], results["on"]["replies"],
                                      strict=True))
    out = sys.stdout
    for name, r in results.items():
        out.write(f"flash attention {name}: read {r['read_600_after_0']:.1f} tokens/s after 0, "
                  f"{r['read_150_after_1700']:.1f} after 1,700; write "
                  f"{r['write_after_1850']:.2f} tokens/s after 1,850\n")
    out.write(f"greedy replies the same: {same}/{len(prompts)}\n")
    path = ROOT / "bench" / "results" / f"flash_attention_{args.label}.json"
    path.write_text(json.dumps({"machine": machine_info(), "results": results,
                                "same_replies": same}, indent=1) + "\n")
    out.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
