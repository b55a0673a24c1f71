"""Build the claim-verification benchmark: ``python bench/claims/make.py``.

Writes ``bench/claims/claims.jsonl``: (claim, evidence) pairs made from two real corpora,
the news reports in ``corpus/`` and a selection of Python library pages from Debian's
``python3-doc`` package (``apt-get install -y python3-doc``). Faithful claims are the
source sentence itself, trimmed clauses, merged neighbours, LLM paraphrases and LLM
question-answer sentences; unfaithful claims carry exactly one perturbation (a swapped
or invented entity, a changed number or unit, a negation, a hedge turned into fact) or
are paired with evidence from another document.

Everything is deterministic: inputs are sorted, random choices use fixed seeds, and the
LLM outputs are read from ``llm_cache.json`` (generated once with the project's default
local model when missing). The hand-check verdicts are in ``hand_check.json``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT / "corpus"
PYDOC = Path("/usr/share/doc/python3.11/html/library")
OUT = HERE / "claims.jsonl"
LLM_CACHE = HERE / "llm_cache.json"
HAND_CHECK = HERE / "hand_check.json"
SEED = 20261126

PYDOC_PAGES = [
    "base64",
    "bisect",
    "csv",
    "functools",
    "gzip",
    "hashlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "os.path",
    "random",
    "shutil",
    "subprocess",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "zipfile",
    "zlib",
]

# How many claims of each kind to aim for (reports sentences are used first, then pydoc).
TARGET = {
    "verbatim": 60,
    "trimmed": 60,
    "paraphrase": 95,
    "merged": 60,
    "qa": 110,
    "entity_swap": 55,
    "number": 55,
    "attribute": 50,
    "invented_entity": 55,
    "negation": 55,
    "modality": 55,
    "wrong_report": 55,
}
QA_TOTAL = 60  # LLM answers that pass the checks, topped up with template answers
FAITHFUL_KINDS = ("verbatim", "trimmed", "paraphrase", "merged", "qa")

# ---------------------------------------------------------------------------
# Typed names of the news reports (longest first when matching).
REPORT_ENTITIES: dict[str, list[str]] = {
    "company": [
        "Alibaba Group Holding",
        "Tencent Holdings",
        "UBS Group",
        "Nvidia",
        "ByteDance",
        "Alibaba",
        "Tencent",
        "Huawei",
        "TSMC",
    ],
    "chip": ["H200", "H20", "H100", "Blackwell"],
    "agency": [
        "National Development and Reform Commission",
        "Ministry of Industry and Information Technology",
    ],
    "outlet": ["Reuters", "Bloomberg", "The Information"],
    "person": ["Jensen Huang", "Donald Trump", "Randy Abrams"],
    "country": ["China", "Taiwan", "the United States"],
    "capital": ["Beijing", "Washington"],
}
INVENTED_REPORTS: dict[str, list[str]] = {
    "company": ["Harlow Group", "Kestrel Semiconductor", "Meridian Capital"],
    "chip": ["H300", "Quasar X1"],
    "agency": ["State Bureau of Compute Security", "Office of Strategic Hardware"],
    "outlet": ["Meridian Wire", "The Ledger Asia"],
    "person": ["Mara Linden", "Victor Osei"],
    "country": ["Malaysia", "Singapore"],
    "capital": ["Kuala Lumpur", "Singapore"],
}
INVENTED_PYDOC: dict[str, list[str]] = {
    "module": ["fastpath", "quickio", "spoolkit"],
    "function": ["quickjoin()", "flush_all()", "spool()"],
    "class": ["BufferSpool", "LazyRecord", "PathCache"],
    "exception": ["StaleHandleError", "SpoolOverflowError"],
    "param": ["strictness", "spool_size", "fast_mode"],
    "attribute": ["spool_limit", "max_pending"],
}
INVENTED_SOURCES = ["Meridian Capital", "the Harlow Group", "Kestrel Research"]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
ORDINALS = ["first", "second", "third", "fourth", "fifth"]

# Unit transfer (attribute kind): a unit word after a number and what it becomes.
UNIT_SWAP = {
    "seconds": "bytes",
    "second": "byte",
    "bytes": "seconds",
    "byte": "second",
    "bits": "bytes",
    "characters": "bytes",
    "character": "byte",
    "lines": "bytes",
    "items": "bytes",
    "elements": "seconds",
    "arguments": "bytes",
    "argument": "byte",
    "digits": "bytes",
    "days": "seconds",
    "hours": "minutes",
    "minutes": "hours",
    "milliseconds": "bytes",
    "microseconds": "bytes",
    "nanoseconds": "bytes",
    "times": "bytes",
    "levels": "bytes",
    "spaces": "bytes",
    "columns": "bytes",
    "entries": "seconds",
    "positions": "bytes",
    "values": "bytes",
    "decimal": "binary",
    "percent": "bytes",
    "units": "companies",
    "companies": "units",
    "chips": "dollars",
    "files": "bytes",
    "threads": "bytes",
    "processes": "seconds",
    "places": "bytes",
    "chunks": "seconds",
    "blocks": "seconds",
    "kilobytes": "seconds",
    "megabytes": "seconds",
    "years": "bytes",
    "months": "bytes",
    "weeks": "bytes",
    "words": "bytes",
    "calls": "bytes",
    "letters": "digits",
    "octets": "seconds",
    "KiB": "seconds",
    "MiB": "seconds",
    "iterations": "bytes",
    "rounds": "bytes",
    "objects": "bytes",
    "tuples": "bytes",
    "numbers": "bytes",
    "integers": "bytes",
    "strings": "bytes",
    "parameters": "bytes",
    "decimals": "bytes",
    "slots": "bytes",
    "steps": "bytes",
    "bit": "byte",
}

WEAK_MODALITY = ("'should' -> 'must'",)
ATTRIB_HEDGE = re.compile(
    r"\b(said|says|say|added|according|report\w*|told|claims?|if|unless|may|might|could|"
    r"would|expected|likely|believe\w*|considering|proposal|should)\b",
    re.I,
)
SUBORDINATE_START = re.compile(
    r"^(If|When|Unless|Although|While|Because|Since|Only|As|Otherwise|Whether|Once|After|"
    r"Before|Until|Where|Whenever)\b"
)
ABBREV = re.compile(r"(\b(e\.g|i\.e|etc|vs|cf|Mr|Ms|Dr|No|approx|resp)\.|\b[A-Z]\.)$")


@dataclass
class Sent:
    """One sentence of a document, with its place and the typed names it mentions."""

    doc: str
    idx: int
    para: int
    text: str
    ents: list[tuple[str, str]] = field(default_factory=list)  # (surface, type)
    eligible: bool = True


@dataclass
class Doc:
    """A document: its id, corpus and sentences in order."""

    id: str
    corpus: str
    sents: list[Sent]


# ---------------------------------------------------------------------------
# Reading the sources


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences on end punctuation followed by a capital or a quote."""
    text = re.sub(r"\s+", " ", text).strip()
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?][”\"’)]?(?=\s+[“\"(]?[A-Za-z0-9_])", text):
        piece = text[start : m.end()]
        nxt = text[m.end() :].lstrip()[:1]
        if nxt.islower() and (m.start() == 0 or not text[m.start() - 1].isalnum()):
            continue  # "path/.. and", "etc.) or": not a sentence end
        if ABBREV.search(text[: m.end()]):
            continue
        out.append(piece.strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return [s for s in out if s]


def report_entities(sentence: str) -> list[tuple[str, str]]:
    """The typed report names in ``sentence`` (longest match first, no overlaps)."""
    found: list[tuple[int, int, str, str]] = []
    names = sorted(
        ((n, t) for t, ns in REPORT_ENTITIES.items() for n in ns), key=lambda x: -len(x[0])
    )
    for name, typ in names:
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence):
            if not any(s < m.end() and m.start() < e for s, e, _, _ in found):
                found.append((m.start(), m.end(), name, typ))
    found.sort()
    return [(n, t) for _, _, n, t in found]


def load_reports() -> list[Doc]:
    """The prose sentences of the news reports (web remnants such as captions skipped)."""
    docs = []
    for path in sorted(CORPUS.glob("*.txt")):
        doc_id = path.stem
        sents: list[Sent] = []
        for para_no, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            line = line.strip()
            words = line.split()
            if len(words) < 12 or "Photo:" in line or line.startswith("Follow "):
                continue
            if not (". " in line or line.endswith((".", "”", '"'))):
                continue  # a headline or a standfirst, not prose
            for s in split_sentences(line):
                if not s.endswith((".", "”", '"', "?", "!")):
                    s += "."
                sents.append(
                    Sent(doc_id, len(sents), para_no, s, report_entities(s), len(s.split()) >= 6)
                )
        docs.append(Doc(doc_id, "reports", sents))
    return docs


NOT_PARAMS = {
    "must",
    "only",
    "before",
    "after",
    "default",
    "always",
    "never",
    "new",
    "one",
    "same",
    "least",
    "exactly",
    "both",
    "either",
    "neither",
    "very",
    "non",
}
PYDOC_TYPES = {
    "py-mod": "module",
    "py-func": "function",
    "py-meth": "function",
    "py-class": "class",
    "py-exc": "exception",
    "py-attr": "attribute",
    "py-data": "attribute",
    "py-const": "attribute",
}


def load_pydoc() -> list[Doc]:
    """Prose sentences of the chosen library pages, with their code names and parameters."""
    if not PYDOC.is_dir():
        sys.exit(
            f"{PYDOC} is missing: install Debian's python3-doc "
            "(apt-get update -qq && apt-get install -y python3-doc)"
        )
    from lxml import html

    docs = []
    for page in sorted(PYDOC_PAGES):
        tree = html.parse(str(PYDOC / f"{page}.html"))
        main = tree.xpath('//div[@role="main"]')[0]
        sents: list[Sent] = []
        for para_no, p in enumerate(main.iter("p")):
            if p.xpath(
                "ancestor::table or ancestor::pre or ancestor::div[contains(@class,"
                "'highlight')] or ancestor::nav or ancestor::div[contains(@class,"
                "'toctree')] or ancestor::li or ancestor::dt"
            ):
                continue
            text = re.sub(r"\s+", " ", "".join(p.itertext()).replace("¶", "")).strip()
            if len(text.split()) < 5:
                continue
            ents: dict[str, str] = {}
            for code in p.xpath(".//code"):
                surface = re.sub(r"\s+", " ", "".join(code.itertext())).strip()
                cls = code.get("class", "")
                typ = next((t for k, t in PYDOC_TYPES.items() if k in cls.split()), "literal")
                if surface and len(surface) > 1:
                    ents.setdefault(surface, typ)
            for em in p.xpath(".//em"):
                surface = "".join(em.itertext()).strip()
                if (
                    re.fullmatch(r"[a-z_][a-z0-9_]*", surface)
                    and len(surface) > 1
                    and surface not in CONTENT_STOP
                    and surface not in NOT_PARAMS
                ):
                    ents.setdefault(surface, "param")
            for s in split_sentences(text):
                n = len(s.split())
                ok = (
                    8 <= n <= 40
                    and s.endswith(".")
                    and ">>>" not in s
                    and not s.startswith(("Changed in", "New in", "Deprecated"))
                    and sum(c.isalpha() for c in s) > 0.7 * len(s.replace(" ", ""))
                )
                sent_ents = [
                    (e, t)
                    for e, t in ents.items()
                    if re.search(rf"(?<![\w.]){re.escape(e)}(?![\w(])", s)
                ]
                sents.append(Sent(page, len(sents), para_no, s, sent_ents, ok))
        docs.append(Doc(page, "pydoc", sents))
    return docs


# ---------------------------------------------------------------------------
# Helpers


def split_of(doc: str, idx: int) -> str:
    """The half a source sentence belongs to, from a stable hash of (doc, sentence index)."""
    digest = hashlib.sha256(f"{doc}#{idx}".encode()).digest()
    return "calibration" if digest[0] % 2 == 0 else "test"


def window(doc: Doc, first: int, last: int | None = None) -> list[str]:
    """Sentences first-1 .. last+1 of ``doc`` (the passage a verifier sees)."""
    last = first if last is None else last
    lo, hi = max(0, first - 1), min(len(doc.sents), last + 2)
    return [s.text for s in doc.sents[lo:hi]]


def norm(text: str) -> str:
    """Lowercase, straight quotes, single spaces: for containment checks."""
    text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text.lower()).strip()


def stated_in(claim: str, evidence: list[str]) -> bool:
    """True when the claim (minus end punctuation) appears word for word in the evidence."""
    c = norm(claim).rstrip(".!? ")
    return c in norm(" ".join(evidence))


def cap(text: str) -> str:
    """First letter upper-cased."""
    return text[:1].upper() + text[1:]


def sub_word(text: str, old: str, new: str) -> str:
    """Replace every whole-word occurrence of ``old`` by ``new``."""
    return re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w-])", lambda _m: new, text)


CONTENT_STOP = set(
    """a an the of to in on at for and or but is are was were be been by with as
that this it its from which not no if when then than can may will would could should has have
had do does did so such any all each other into only also more most their they there these
those he she his her we you your our i
""".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` without stop words."""
    return {w for w in re.findall(r"[\w.$%]+", text.lower()) if w not in CONTENT_STOP}


def context_ngram_stated(new_text: str, evidence: list[str], surface: str) -> bool:
    """True when ``surface`` appears in the evidence with one of its neighbouring words."""
    ev = norm(" ".join(evidence))
    for m in re.finditer(re.escape(surface), new_text):
        before = new_text[: m.start()].split()[-2:]
        after = new_text[m.end() :].split()[:2]
        for phrase in (" ".join([*before, surface]), " ".join([surface, *after])):
            if phrase.strip() and norm(phrase) in ev and len(phrase.split()) > 1:
                return True
    return False


# ---------------------------------------------------------------------------
# Faithful kinds


TRIM_RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("dropped a parenthetical", re.compile(r" \([^()]{2,}\)"), ""),
    (
        "dropped an example list",
        re.compile(r",? (such as|including|e\.g\.|for example|for instance) [^,;:()]+?(,|(?=\.$))"),
        "",
    ),
    (
        "dropped a trailing clause",
        re.compile(
            r", (which|ending|making|whereby|compared to|while|so that|since|where)\b"
            r"[^;]*(?=\.$)"
        ),
        "",
    ),
    ("kept the first clause of a compound sentence", re.compile(r"(; | — ).*(?=\.$)"), ""),
    (
        "kept the first clause of a compound sentence",
        re.compile(
            r", (but|and|yet|so) (it|they|this|he|she|there|these) (is|are|was|were|has|"
            r"have|will|can|may|must|should|does|do|\w+s)\b.*(?=\.$)"
        ),
        "",
    ),
    (
        "dropped a trailing time or place phrase",
        re.compile(
            r" (on (Monday|Tuesday|Wednesday|Thursday|Friday)|earlier this (month|week|year)"
            r"|in the same quarter|back in \d{4}|upon arrival in \w+)(?=\.$|, [a-z])"
        ),
        "",
    ),
    (
        "dropped an opening connective",
        re.compile(
            r"^(However|Also|In addition|Meanwhile|For now|Additionally|Note that|"
            r"In particular|For example), "
        ),
        "",
    ),
]


def trim(sentence: str) -> tuple[str, str] | None:
    """A shorter, still true version of ``sentence`` and what was dropped, or ``None``."""
    if SUBORDINATE_START.match(sentence) or sentence.startswith(("“", '"')):
        return None
    for note, rule, repl in TRIM_RULES:
        m = rule.search(sentence)
        if not m:
            continue
        dropped = m.group(0)
        if ATTRIB_HEDGE.search(dropped) or re.search(r"\bnot?\b|n't|\bnever\b", dropped):
            continue  # the dropped part hedges or negates: keep it
        if re.search(
            r"\b(only|Windows|POSIX|Unix|Linux|macOS|except|unless|when|otherwise)\b", dropped
        ):
            continue  # the dropped part restricts where the statement holds
        before = sentence[: m.start()].split()[-1:] if sentence[: m.start()].split() else [""]
        if dropped.startswith(" (") and (
            before[0].lower() in CONTENT_STOP
            or before[0].lower() in ("specify", "use", "pass", "return", "returns")
        ):
            continue  # the parenthetical is an argument of the verb
        new = (sentence[: m.start()] + repl + sentence[m.end() :]).strip()
        if note == "dropped an opening connective" and not new[:1].isupper():
            continue  # the next word is a code name: keep its case
        last = re.sub(r"\W", "", new.rstrip(".").split()[-1].lower()) if new.split() else ""
        if last in CONTENT_STOP or last in ("are", "is", "be", "of", "by", "as", "just"):
            continue  # the dropped part was needed to finish the sentence
        new = re.sub(r"\s+([.,])", r"\1", new)
        if not new.endswith("."):
            new += "."
        if len(new.split()) < 6 or len(new.split()) > len(sentence.split()) - 2:
            continue
        if new.count("“") != new.count("”") or new.count("(") != new.count(")"):
            continue
        return new, f"{note}: '{dropped.strip(' ,;')}'"
    return None


LOWER_OK = re.compile(
    r"^(The|This|It|A|An|Both|One|Another|These|Those|That|Its|There|"
    r"Each|Any|All|Some|If|In|For|On|When|However|Otherwise|Unlike|By|"
    r"Officials|Companies|Imports|Unlimited|Chips|To|With|Instead|Note|"
    r"See|Use|Return|Returns|Only|Also|Changed)\b"
)


LOWER_WORDS: set[str] = set()  # words seen in lower case in the corpora (filled by main)


def merge(a: str, b: str) -> str:
    """Two adjacent sentences as one: joined with a semicolon."""
    b2 = b
    first = b.split()[0] if b.split() else ""
    word = re.sub(r"\W+$", "", first)
    if LOWER_OK.match(b) or (
        word.isalpha()
        and word.istitle()
        and word.lower() in LOWER_WORDS
        and not any(word in n for ns in REPORT_ENTITIES.values() for n in ns)
    ):
        b2 = b[0].lower() + b[1:]
    return a.rstrip(".") + "; " + b2


# ---------------------------------------------------------------------------
# Unfaithful kinds


def same_type_pool(docs: list[Doc]) -> dict[tuple[str, str], list[str]]:
    """All names of each (corpus-doc, type): for pydoc per page, for reports per corpus."""
    pool: dict[tuple[str, str], set[str]] = {}
    for d in docs:
        key_doc = d.id if d.corpus == "pydoc" else "reports"
        for s in d.sents:
            for e, t in s.ents:
                pool.setdefault((key_doc, t), set()).add(e)
    if any(d.corpus == "reports" for d in docs):
        for t, names in REPORT_ENTITIES.items():
            pool.setdefault(("reports", t), set()).update(names)
    return {k: sorted(v) for k, v in pool.items()}


SWAP_TYPES_PYDOC = ("module", "function", "class", "exception", "param", "attribute")


def entity_swap(
    doc: Doc, s: Sent, pool: dict[tuple[str, str], list[str]], rng: random.Random
) -> tuple[str, str] | None:
    """Replace one name by another of the same type (preferably one of the same passage)."""
    ev = window(doc, s.idx)
    key_doc = doc.id if doc.corpus == "pydoc" else "reports"
    cands = [(e, t) for e, t in s.ents if doc.corpus == "reports" or t in SWAP_TYPES_PYDOC]
    rng.shuffle(cands)
    cands.sort(key=lambda c: c[1] == "param")  # code names before parameter names
    near = {
        e
        for i in range(max(0, s.idx - 1), min(len(doc.sents), s.idx + 2))
        for e, _ in doc.sents[i].ents
    }
    for old, typ in cands:
        options = [
            n
            for n in pool.get((key_doc, typ), [])
            if n != old
            and n.split()[0] not in s.text
            and old.split()[0] not in n
            and (typ != "function" or n.endswith("()") == old.endswith("()"))
        ]
        if not options:
            continue
        preferred = [n for n in options if n in near]
        new_name = rng.choice(preferred or options)
        if typ == "param":  # parameter names are often plain words too: only the first
            new = re.sub(
                rf"(?<![\w.-]){re.escape(old)}(?![\w-])",
                new_name.replace("\\", "\\\\"),
                s.text,
                count=1,
            )
        else:
            new = sub_word(s.text, old, new_name)
        if new == s.text or stated_in(new, ev) or context_ngram_stated(new, ev, new_name):
            continue
        return new, f"{old} -> {new_name}"
    return None


def bump_number(token: str, rng: random.Random) -> str:
    """A different but plausible value for a number token."""
    plain = token.replace(",", "")
    if re.fullmatch(r"\d+\.\d+", plain):
        whole, frac = plain.split(".")
        new = f"{whole}.{int(frac) + rng.choice([1, 2]) if frac != '9' else 7}"
        return new
    value = int(plain)
    if 1900 <= value <= 2100:
        new_v = value + rng.choice([-1, 1])
    elif value < 10:
        new_v = value + rng.choice([1, 2]) if value < 2 else value + rng.choice([-1, 1])
    else:
        new_v = value + max(1, round(value * rng.choice([-0.25, 0.25, 0.5])))
        if value % 1000 == 0 and value >= 1000:
            new_v = value + rng.choice([-1, 1]) * 100000 if value >= 200000 else value * 2
    new_v = max(new_v, 0)
    if new_v == value:
        new_v = value + 1
    out = str(new_v)
    if "," in token:
        out = f"{new_v:,}"
    return out


def change_number(doc: Doc, s: Sent, rng: random.Random) -> tuple[str, str] | None:
    """Change one number, number word, weekday or month."""
    ev = window(doc, s.idx)
    ev_text = " ".join(ev)
    spots: list[tuple[int, int, str]] = []
    for m in re.finditer(r"(?<![\w.])\d[\d,]*(\.\d+)?(?![\w])", s.text):
        tok = m.group(0).rstrip(",")
        if tok.endswith("."):
            tok = tok[:-1]
        if s.text[m.start() - 1 : m.start()] == "[":
            continue  # a footnote mark
        spots.append((m.start(), m.start() + len(tok), tok))
    for words in (WEEKDAYS, MONTHS, NUMBER_WORDS, ORDINALS):
        for m in re.finditer(rf"\b({'|'.join(words)})\b", s.text):
            if m.group(0) == "May" and not re.match(r"May \d", s.text[m.start() :]):
                continue  # the modal verb
            spots.append((m.start(), m.end(), m.group(0)))
    rng.shuffle(spots)
    for start, end, tok in spots:
        if tok in WEEKDAYS + MONTHS + NUMBER_WORDS + ORDINALS:
            group = next(g for g in (WEEKDAYS, MONTHS, NUMBER_WORDS, ORDINALS) if tok in g)
            if (
                group is NUMBER_WORDS
                and tok == "one"
                and not re.match(r"one (of|or|\w+s)\b", s.text[start:])
            ):
                continue  # "one" as a pronoun
            if group is ORDINALS and re.match(r"\w+ \w+(ed|es|s)\b", s.text[start:]):
                continue  # "first reported": an adverb, not a count
            i = group.index(tok)
            new_tok = group[(i + rng.choice([1, 2])) % len(group)]
        else:
            new_tok = bump_number(tok, rng)
        if new_tok in ev_text:
            continue
        new = s.text[:start] + new_tok + s.text[end:]
        if stated_in(new, ev):
            continue
        return new, f"{tok} -> {new_tok}"
    return None


REPORT_ATTR_RULES = [
    (re.compile(r"(\d+(\.\d+)?)% "), r"$\1 million ", "percent -> dollars"),
    (
        re.compile(r"\$(\d[\d.,]*) (million|billion) in revenue"),
        r"$\1 \2 in profit",
        "revenue -> profit",
    ),
    (re.compile(r"\$(\d[\d.,]*) (million|billion)"), r"\1 \2 units", "dollars -> units"),
    (re.compile(r"(\d[\d,]*) units"), r"$\1", "units -> dollars"),
    (re.compile(r"(\d+)%"), r"$\1", "percent -> dollars"),
]


def change_attribute(doc: Doc, s: Sent, rng: random.Random) -> tuple[str, str] | None:
    """Keep a number but attach it to another attribute or unit."""
    ev = window(doc, s.idx)
    options: list[tuple[str, str]] = []
    for rule, repl, note in REPORT_ATTR_RULES:
        m = rule.search(s.text)
        if m:
            options.append(
                (
                    s.text[: m.start()] + m.expand(repl) + s.text[m.end() :],
                    f"{note}: '{m.group(0).strip()}' -> '{m.expand(repl).strip()}'",
                )
            )
    unit_re = (
        r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|"
        r"sixteen|thirty-two|sixty-four)( (?:[a-z]+-)?)(" + "|".join(UNIT_SWAP) + r")\b"
    )
    for m in re.finditer(unit_re, s.text):
        unit = m.group(3)
        new_unit = UNIT_SWAP[unit]
        if m.group(1) == "one" and new_unit.endswith("s"):
            new_unit = new_unit[:-1]
        new = s.text[: m.start(3)] + new_unit + s.text[m.end(3) :]
        options.append((new, f"unit: '{m.group(0)}' -> '{m.group(1)}{m.group(2)}{new_unit}'"))
    m = re.search(r"\b(\d+)(-| )bit\b", s.text)
    if m:
        options.append(
            (
                s.text[: m.start()] + f"{m.group(1)}{m.group(2)}byte" + s.text[m.end() :],
                f"unit: '{m.group(0)}' -> '{m.group(1)}{m.group(2)}byte'",
            )
        )
    if not options:
        return None
    rng.shuffle(options)
    for new, note in options:
        if new != s.text and not stated_in(new, ev):
            return new, note
    return None


def invent_entity(doc: Doc, s: Sent, rng: random.Random) -> tuple[str, str] | None:
    """Substitute an invented name for one of the sentence's names, or add a source."""
    inventory = INVENTED_REPORTS if doc.corpus == "reports" else INVENTED_PYDOC
    cands = [(e, t) for e, t in s.ents if t in inventory]
    if cands:
        old, typ = rng.choice(cands)
        new_name = rng.choice(inventory[typ])
        if typ == "function" and not old.endswith("()"):
            new_name = new_name.rstrip("()")
        return sub_word(s.text, old, new_name), f"{old} -> {new_name} (invented)"
    attributed = re.search(r"\b(said|according|told|added|reported)\b", s.text)
    if doc.corpus == "reports" and not attributed:
        src = rng.choice(INVENTED_SOURCES)
        return s.text.rstrip(".") + f", according to {src}.", f"added source: {src} (invented)"
    return None


AUX_NEG = re.compile(
    r"\b(is|are|was|were|will|would|could|can|should|must|does|do|did|has|"
    r"have|had)"
    r"( not|n't)?\b"
)
PARTICIPLE = re.compile(
    r"^(\w+ed|\w+en|\w+wn|been|begun|done|made|given|taken|seen|known|written|"
    r"shown|chosen|become|left|found|set|put|run|read|built|held|"
    r"thrown|brought|sent|kept|told|said|met|won|lost|paid|split)\b"
)
PAST_VERBS = {
    "disputed": "dispute",
    "covered": "cover",
    "convened": "convene",
    "requested": "request",
    "told": "tell",
    "followed": "follow",
    "fell": "fall",
    "reflected": "reflect",
    "contributed": "contribute",
    "urged": "urge",
    "introduces": "introduce",
    "reflects": "reflect",
    "follows": "follow",
    "remains": "remain",
    "sits": "sit",
    "led": "lead",
    "owns": "own",
    "returns": "return",
    "raises": "raise",
    "accepts": "accept",
    "uses": "use",
    "supports": "support",
    "contains": "contain",
    "provides": "provide",
    "requires": "require",
}


def negate(doc: Doc, s: Sent, rng: random.Random) -> tuple[str, str] | None:
    """Negate the main clause (add or remove a 'not') at its first verb."""
    del doc, rng
    text = s.text
    if text.startswith(("“", '"')):
        return None  # inside a quotation
    offset = 0
    if SUBORDINATE_START.match(text) and ", " in text:
        offset = text.index(", ") + 2  # skip the conditional clause
    options: list[tuple[int, str, str]] = []  # (position, new text, note)
    for m in re.finditer(r"\bcannot\b|\bnever\b|\bno longer\b", text[offset:]):
        repl = {"cannot": "can", "never": "always", "no longer": "still"}[m.group(0)]
        st, en = offset + m.start(), offset + m.end()
        options.append(
            (st, text[:st] + repl + text[en:], f"removed negation: '{m.group(0)}' -> '{repl}'")
        )
        break
    for m in AUX_NEG.finditer(text[offset:]):
        st, en = offset + m.start(), offset + m.end()
        aux, neg = m.group(1), m.group(2)
        rest = text[en:].lstrip()
        if neg:
            options.append(
                (st, text[:st] + aux + text[en:], f"removed negation: '{m.group(0)}' -> '{aux}'")
            )
            break
        if aux in ("has", "have", "had", "does", "do", "did") and (
            not PARTICIPLE.match(rest) or rest.startswith("known")
        ):
            continue
        if aux == "can":
            options.append((st, text[:st] + "cannot" + text[en:], "'can' -> 'cannot'"))
        else:
            options.append((st, text[:st] + aux + " not" + text[en:], f"'{aux}' -> '{aux} not'"))
        break
    for m in re.finditer(r"\b(" + "|".join(PAST_VERBS) + r")\b", text[offset:]):
        word = m.group(1)
        st, en = offset + m.start(), offset + m.end()
        helper = "does not" if word.endswith("s") and not word.endswith("ed") else "did not"
        options.append(
            (
                st,
                text[:st] + f"{helper} {PAST_VERBS[word]}" + text[en:],
                f"'{word}' -> '{helper} {PAST_VERBS[word]}'",
            )
        )
        break
    if not options:
        return None
    removals = [o for o in options if o[2].startswith("removed negation")]
    _, new, note = min(removals or options)  # an existing negation is removed first
    return new, note


def third_person(verb: str) -> str:
    """'raise' -> 'raises', 'be' -> 'is' (a rough English inflection)."""
    irregular = {"be": "is", "have": "has", "do": "does", "go": "goes"}
    if verb in irregular:
        return irregular[verb]
    if re.search(r"(s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


OUTLET_SWAP = {"Reuters": "Bloomberg", "Bloomberg": "Reuters", "The Information": "Reuters"}


def modality(doc: Doc, s: Sent, rng: random.Random) -> tuple[str, str] | None:
    """Turn a hedge, condition or report into a bare fact, or credit the wrong source."""
    text = s.text
    opts: list[tuple[str, str]] = []
    m = re.search(r",? according to ([^,.]+?)(, which[^.]*)?(,(?= )|(?=\.$))", text)
    if m and m.start() > 0:
        repl = "," if m.group(0).startswith(",") and m.group(3) == "," else ""
        new = (text[: m.start()] + repl + text[m.end() :]).replace("and,, ", "and ")
        new = new.replace(", and, ", ", and ").replace(",,", ",")
        opts.append((new, f"attribution removed: 'according to {m.group(1)}'"))
    m = re.match(r"^According to ([^,]+), (.)", text)
    if m:
        opts.append((cap(text[m.end() - 1 :]), f"attribution removed: 'According to {m.group(1)}'"))
    m = re.search(r",? (a source|the source|he|she|they|officials) (said|added)(?=\.$)", text)
    if m:
        opts.append(
            (
                text[: m.start()] + text[m.end() :],
                f"attribution removed: '{m.group(0).strip(', ')}'",
            )
        )
    m = re.search(r", said [^.]+(?=\.$)", text)
    if m:
        opts.append(
            (text[: m.start()] + text[m.end() :], f"attribution removed: '{m.group(0)[2:]}'")
        )
    m = re.search(r"\breportedly ", text)
    if m:
        opts.append((text[: m.start()] + text[m.end() :], "hedge removed: 'reportedly'"))
    m = re.search(r"\b(is|are) said to (have|be)\b", text)
    if m:
        verb = {"are have": "have", "are be": "are", "is have": "has", "is be": "is"}[
            f"{m.group(1)} {m.group(2)}"
        ]
        opts.append((text[: m.start()] + verb + text[m.end() :], f"hedge removed: '{m.group(0)}'"))
    for outlet, other in OUTLET_SWAP.items():
        if (
            re.search(rf"\b{outlet}\b", text)
            and re.search(r"report|according|told", text)
            and other not in " ".join(window(doc, s.idx))
        ):
            opts.append(
                (
                    sub_word(text, outlet, other),
                    f"report credited to the wrong party: {outlet} -> {other}",
                )
            )
    m = re.match(r"^(If|When|Unless|Where) ([^,]+), (.+)$", text)
    if m and len(m.group(3).split()) >= 5:
        rest = re.sub(r"\b(would|could|may|might)\b", "will", m.group(3), count=1)
        opts.append((cap(rest), f"condition dropped: '{m.group(1)} {m.group(2)}'"))
    m = re.search(r"\b(may|might|could|would) (not )?(\w+)", text)
    if (
        m
        and m.group(3)
        not in (
            "also",
            "still",
            "well",
            "only",
            "even",
            "wish",
            "want",
            "need",
            "prefer",
            "like",
            "choose",
        )
        and not re.search(r"\b(whether|when|told|said|saying|if|that)\b", text[: m.start()])
        and not SUBORDINATE_START.match(text)
    ):
        before = text[: m.start()]
        plural = re.search(r"\b(you|we|they|these|those|\w+s)\s+$", before) and not re.search(
            r"\b(is|this|its|was|has|process|class|access)\s+$", before
        )
        verb = m.group(3)
        if doc.corpus == "reports":
            new_v = "will " + ("not " if m.group(2) else "") + verb
        elif m.group(2):
            new_v = ("do not " if plural else "does not ") + verb
        elif plural:
            new_v = {"be": "are", "have": "have"}.get(verb, verb)
        else:
            new_v = third_person(verb)
        opts.append(
            (
                text[: m.start()] + new_v + text[m.end() :],
                f"hedge removed: '{m.group(0)}' -> '{new_v}'",
            )
        )
    m = re.search(r"\b(is|are) expected to\b", text)
    if m:
        opts.append(
            (text[: m.start()] + "will" + text[m.end() :], f"hedge removed: '{m.group(0)}'")
        )
    m = re.search(r"\b(usually|typically|generally|normally|often|mostly|probably)\b", text)
    if m and not re.search(r"\b(not|n't)\s+$", text[: m.start()]):
        opts.append(
            (
                text[: m.start()] + "always" + text[m.end() :],
                f"hedge removed: '{m.group(0)}' -> 'always'",
            )
        )
    strong = [o for o in opts if o[1] not in WEAK_MODALITY]
    if not (strong or opts):
        return None
    return rng.choice(strong or opts)


# ---------------------------------------------------------------------------
# Wrong report: a faithful claim paired with the best lexical match of another document


def best_other_window(
    claim: str, doc: Doc, docs: list[Doc], idf: dict[str, float]
) -> tuple[Doc, int, float] | None:
    """The sentence of another document (same corpus) sharing the most weighted words."""
    words = content_words(claim)
    best: tuple[float, str, int] | None = None
    by_id = {d.id: d for d in docs}
    for other in docs:
        if other.id == doc.id or other.corpus != doc.corpus:
            continue
        for t in other.sents:
            score = sum(idf.get(w, 0.0) for w in words & content_words(t.text))
            if best is None or score > best[0]:
                best = (score, other.id, t.idx)
    if best is None or best[0] <= 0:
        return None
    return by_id[best[1]], best[2], best[0]


def same_fact(claim: str, evidence: list[str]) -> bool:
    """Strict rule: an evidence sentence shares at least 60% of the claim's content words."""
    words = content_words(claim)
    return any(len(words & content_words(e)) >= 0.6 * max(1, len(words)) for e in evidence)


# ---------------------------------------------------------------------------
# LLM (paraphrase, qa), cached


PARA_SYSTEM = (
    "You rewrite one sentence. Paraphrase it faithfully as one sentence: change the "
    "wording and word order, but keep every name, number and date, and keep any "
    "hedge, condition or attribution (such as 'according to', 'said', 'reportedly', "
    "'may', 'could', 'if'). Do not add or remove information. Reply with the "
    "paraphrase only."
)
QA_SYSTEM = (
    "You are given one sentence. Write one question that the sentence answers, then "
    "answer it in one complete, self-contained sentence that uses only information in "
    "the sentence: name the subject instead of using a pronoun, keep any hedge or "
    "attribution that the sentence has (such as 'according to', 'said', 'may'), and do "
    "not add any source or attribution that the sentence does not have. Reply in "
    "exactly two lines:\nQ: <question>\nA: <answer sentence>"
)


def llm_messages(kind: str, sentence: str) -> list[dict[str, str]]:
    """The chat sent to the model for ``kind`` ('paraphrase' or 'qa')."""
    system = PARA_SYSTEM if kind == "paraphrase" else QA_SYSTEM
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Sentence: {sentence}"},
    ]


def llm_key(messages: list[dict[str, str]]) -> str:
    """Cache key of a prompt."""
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:20]


class LLM:
    """The project's default local model, loaded only when a prompt is not cached."""

    def __init__(self) -> None:
        self.cache: dict[str, dict[str, object]] = (
            json.loads(LLM_CACHE.read_text(encoding="utf-8")) if LLM_CACHE.exists() else {}
        )
        self.gen = None
        self.calls = 0

    def ask(self, kind: str, sentence: str) -> str:
        """The model's reply (from the cache when there)."""
        messages = llm_messages(kind, sentence)
        key = llm_key(messages)
        if key not in self.cache:
            if os.environ.get("BENCH_NO_LLM"):
                return ""  # development runs without the model: the row is dropped
            if self.gen is None:
                if os.environ.get("LLAMA_CPP_PATH"):  # an alternative llama-cpp-python build
                    sys.path.insert(0, os.environ["LLAMA_CPP_PATH"])
                sys.path.insert(0, str(ROOT))
                from assistant.models.files import resolve_model
                from assistant.models.generation import LlamaCppGenerator

                path = resolve_model("default", Path.home() / ".cache/reports-assistant")
                threads = int(os.environ.get("BENCH_LLM_THREADS", "2"))
                self.gen = LlamaCppGenerator(path, 4096, threads, seed=0)
                self.cache_model = path.name
            text = "".join(self.gen.stream(messages, 90))
            self.calls += 1
            self.cache[key] = {
                "kind": kind,
                "sentence": sentence,
                "model": self.cache_model,
                "output": text,
            }
            if self.calls % 5 == 0:
                self.save()
            print(f"  llm {self.calls}: {kind}: {text.strip()[:90]!r}", file=sys.stderr)
        return str(self.cache[key]["output"])

    def save(self) -> None:
        """Write the cache (sorted keys, stable)."""
        LLM_CACHE.write_text(
            json.dumps(self.cache, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )


NUM_RE = re.compile(r"\d[\d,.]*\d|\d")


def clean_reply(text: str) -> str:
    """First line of a reply, without labels or quotes."""
    text = text.strip().split("\n")[0].strip()
    text = re.sub(r"^(Paraphrase|Rewritten sentence|Sentence)\s*:\s*", "", text, flags=re.I)
    if len(text) > 2 and text[0] in "\"'" and text[-1] in "\"'":
        text = text[1:-1]
    return text.replace("`", "").strip()


def keeps_facts(source: str, claim: str, names: list[str]) -> str | None:
    """Why ``claim`` drops or adds a name, number or hedge of ``source`` (None if it keeps all)."""
    src_nums = {n.replace(",", "") for n in NUM_RE.findall(source)}
    new_nums = {n.replace(",", "") for n in NUM_RE.findall(claim)}
    if new_nums - src_nums:
        return f"new number {sorted(new_nums - src_nums)}"
    for n in names:
        if n.rstrip("()") not in claim:
            return f"dropped name {n}"
    attributed = re.compile(
        r"\b(said|says|according|reported|reportedly|told|added|claims?|"
        r"sources?)\b",
        re.I,
    )
    if attributed.search(claim) and not attributed.search(source):
        return f"added attribution '{attributed.search(claim).group(0)}'"  # type: ignore[union-attr]
    if re.search(r"\b(experts|analysts)\b", claim) and not re.search(
        r"\b(experts|analysts)\b", source
    ):
        return "added attribution 'experts'"
    for hedge in (
        "according to",
        "said",
        "reportedly",
        "may",
        "might",
        "could",
        "would",
        "if",
        "expected",
        "unless",
    ):
        if re.search(rf"\b{hedge}\b", source, re.I) and not re.search(
            r"\b(according|said|say|says|reported|reportedly|report|may|might|could|would|"
            r"if|expected|expect|unless|likely|possibl\w*|potential\w*|when|claim\w*|"
            r"sources?|told)\b",
            claim,
            re.I,
        ):
            return f"dropped hedge '{hedge}'"
    return None


PREPS = re.compile(
    r"\b(of|for|in|with|from|to|containing|that|which|whose|by|on|as|at|"
    r"where|when|if|unless|corresponding|representing|describing|taken|"
    r"allowing|defined|used|passed|responsible)\b"
)


def template_qa(sentence: str) -> tuple[str, str] | None:
    """'Return X [if Y].' -> ('What is returned [if Y]?', 'X is returned [if Y].').

    Also 'Raise X if Y.' -> 'X is raised if Y.'. Only short, comma-free sentences whose
    object starts with a determiner or a capitalised name (True, ValueError ...).
    """
    m = re.match(r"^(Return|Raise|Raises|Returns) (.+?)( (if|unless) .+)?\.$", sentence)
    if not m or "," in sentence or ";" in sentence or len(sentence.split()) > 22:
        return None
    verb = "raised" if m.group(1).startswith("Raise") else "returned"
    thing, cond = m.group(2), m.group(3) or ""
    if cond and re.search(r"\b(which|that|would|whose)\b", thing):
        return None  # the condition may belong to a relative clause
    first = thing.split()[0]
    if first in ("a", "an", "the"):
        thing = cap(thing)
    elif not first[:1].isupper():
        return None
    head = PREPS.split(thing, maxsplit=1)[0].split()
    last = head[-1] if head else thing
    be = "are" if first != "a" and re.fullmatch(r"[a-z]+[^s']s", last) else "is"
    return f"What {be} {verb}{cond}?", f"{thing} {be} {verb}{cond}."


def parse_qa(text: str) -> tuple[str, str] | None:
    """(question, answer) from a 'Q: ... / A: ...' reply."""
    q = re.search(r"Q:\s*(.+)", text)
    a = re.search(r"A:\s*(.+)", text)
    if not q or not a:
        return None
    return q.group(1).strip(), a.group(1).replace("`", "").strip()


# ---------------------------------------------------------------------------
# Assembly


def record(
    doc: Doc,
    kind: str,
    faithful: bool,
    claim: str,
    evidence: list[str],
    source: str,
    src_idx: int,
    note: str,
) -> dict[str, object]:
    """One benchmark row (the id is given at the end)."""
    return {
        "id": "",
        "split": split_of(doc.id, src_idx),
        "corpus": doc.corpus,
        "doc": doc.id,
        "kind": kind,
        "faithful": faithful,
        "claim": claim,
        "evidence": evidence,
        "source": source,
        "note": note,
    }


def pick(cands: list[tuple[Doc, Sent]], n: int, seed: str) -> list[tuple[Doc, Sent]]:
    """All report candidates, then pydoc ones drawn with a fixed seed, up to ``n``."""
    reports = [c for c in cands if c[0].corpus == "reports"]
    pydoc = sorted((c for c in cands if c[0].corpus == "pydoc"), key=lambda c: (c[0].id, c[1].idx))
    random.Random(f"{SEED}-{seed}").shuffle(pydoc)
    return reports[:n] + pydoc[: max(0, n - len(reports[:n]))]


def build(
    docs: list[Doc], llm: LLM, hand: dict[str, dict[str, dict[str, str]]]
) -> tuple[list[dict[str, object]], dict[str, int]]:
    """Every row of the benchmark, plus counts of what was dropped and why."""
    rows: list[dict[str, object]] = []
    dropped: dict[str, int] = {}
    sources = [(d, s) for d in docs for s in d.sents if s.eligible]
    pool = same_type_pool(docs)

    for d, s in pick(sources, TARGET["verbatim"], "verbatim"):
        rows.append(
            record(
                d,
                "verbatim",
                True,
                s.text,
                window(d, s.idx),
                s.text,
                s.idx,
                "source sentence as is",
            )
        )

    trims = {(d.id, s.idx): t for d, s in sources if (t := trim(s.text))}
    for d, s in pick(
        [(d, s) for d, s in sources if (d.id, s.idx) in trims], TARGET["trimmed"], "trimmed"
    ):
        new, note = trims[(d.id, s.idx)]
        rows.append(record(d, "trimmed", True, new, window(d, s.idx), s.text, s.idx, note))

    pairs = [
        (d, s)
        for d, s in sources
        if s.idx + 1 < len(d.sents)
        and d.sents[s.idx + 1].eligible
        and d.sents[s.idx + 1].para == s.para
        and len(s.text.split()) + len(d.sents[s.idx + 1].text.split()) <= 60
        and not s.text.endswith(("”", '"'))
    ]
    for d, s in pick(pairs, TARGET["merged"], "merged"):
        nxt = d.sents[s.idx + 1]
        rows.append(
            record(
                d,
                "merged",
                True,
                merge(s.text, nxt.text),
                window(d, s.idx, s.idx + 1),
                s.text + " " + nxt.text,
                s.idx,
                f"sentences {s.idx} and {s.idx + 1} joined with '; '",
            )
        )

    checked: dict[str, list[tuple[str, str]]] = {}
    llm_ok = [
        (d, s)
        for d, s in sources
        if len(s.text.split()) <= 45 and not s.text.startswith(("“", '"'))
    ]
    for kind in ("paraphrase", "qa"):
        for d, s in pick(llm_ok, TARGET[kind], kind):
            reply = llm.ask(kind, s.text)
            names = [e for e, t in s.ents if t != "literal" or len(e) > 3]
            verdict = hand.get(kind, {}).get(llm_key(llm_messages(kind, s.text)), {})
            if kind == "paraphrase":
                claim, note = clean_reply(reply), "LLM paraphrase"
                why = keeps_facts(s.text, claim, names)
            else:
                qa = parse_qa(reply)
                if qa is None:
                    dropped["qa: unparsable reply"] = dropped.get("qa: unparsable reply", 0) + 1
                    continue
                claim, note = qa[1], f"LLM answer to: {qa[0]}"
                why = keeps_facts(s.text, claim, [])
                if re.match(r"(It|They|This|These|That|He|She|Its|Their)\b", claim):
                    why = "pronoun subject: not self-contained"
                elif not re.search(
                    r"\b(is|are|was|were|be|has|have|had|can|could|must|will|"
                    r"would|should|may|might|does|do|did|\w+ed)\b|\b[a-z]+s\b",
                    claim.split(" ", 1)[-1],
                ):
                    why = "no verb: a fragment"
            similar = difflib.SequenceMatcher(None, norm(claim), norm(s.text)).ratio()
            if why is None and (len(claim.split()) < 4 or similar > 0.95):
                why = "too short or a copy of the source"
            if why:
                key = f"{kind}: auto check failed ({why.split(' ')[0]} {why.split(' ')[1]})"
                dropped[key] = dropped.get(key, 0) + 1
                continue
            checked.setdefault(kind, []).append(
                (llm_key(llm_messages(kind, s.text)), verdict.get("verdict", "unchecked"))
            )
            if verdict.get("verdict") == "unfaithful":
                key = f"{kind}: hand check found unfaithful"
                dropped[key] = dropped.get(key, 0) + 1
                continue
            if verdict:
                note += f" [hand-checked: {verdict['verdict']}]"
            rows.append(record(d, kind, True, claim, window(d, s.idx), s.text, s.idx, note))

    for kind, items in sorted(checked.items()):
        n = min(30, len(items))
        sample = random.Random(f"{SEED}-hand-{kind}").sample(sorted(items), n)
        verdicts = [v for _, v in sample]
        dropped[f"{kind}: hand-check sample of {n}: faithful"] = verdicts.count("faithful")
        dropped[f"{kind}: hand-check sample of {n}: unfaithful"] = verdicts.count("unfaithful")
        dropped[f"{kind}: hand-check sample of {n}: unchecked"] = verdicts.count("unchecked")
        dropped[f"{kind}: hand-checked in all"] = sum(v != "unchecked" for _, v in items)
    qa_made = sum(1 for r in rows if r["kind"] == "qa")
    templ = [(d, s, t) for d, s in sources if (t := template_qa(s.text))]
    templ.sort(key=lambda c: (c[0].id, c[1].idx))
    random.Random(f"{SEED}-qa-template").shuffle(templ)
    done = {(r["doc"], r["source"]) for r in rows if r["kind"] == "qa"}
    for d, s, (question, claim) in templ:
        if qa_made >= QA_TOTAL:
            break
        if (d.id, s.text) in done:
            continue
        rows.append(
            record(
                d,
                "qa",
                True,
                claim,
                window(d, s.idx),
                s.text,
                s.idx,
                f"template answer to: {question}",
            )
        )
        qa_made += 1
    perturbers = {
        "entity_swap": lambda d, s, r: entity_swap(d, s, pool, r),
        "number": change_number,
        "attribute": change_attribute,
        "invented_entity": invent_entity,
        "negation": negate,
        "modality": modality,
    }
    for kind, fn in perturbers.items():
        made: dict[tuple[str, int], tuple[str, str]] = {}
        for d, s in sources:
            out = fn(d, s, random.Random(f"{SEED}-{kind}-{d.id}-{s.idx}"))
            if out and out[0] != s.text and not stated_in(out[0], window(d, s.idx)):
                made[(d.id, s.idx)] = out
        for d, s in pick([(d, s) for d, s in sources if (d.id, s.idx) in made], TARGET[kind], kind):
            new, note = made[(d.id, s.idx)]
            rows.append(record(d, kind, False, new, window(d, s.idx), s.text, s.idx, note))

    idf = inverse_doc_freq(docs)
    wr_hand = hand.get("wrong_report", {})
    faithful_pool = [(d, s, s.text, "verbatim") for d, s in sources]
    faithful_pool += [
        (d, s, trims[(d.id, s.idx)][0], "trimmed") for d, s in sources if (d.id, s.idx) in trims
    ]
    cands = []
    for d, s, claim, origin in faithful_pool:
        if len(content_words(claim)) < 5 or not (s.ents or NUM_RE.search(claim)):
            continue  # too vague to be checked against any passage
        found = best_other_window(claim, d, docs, idf)
        if not found:
            continue
        other, j, _score = found
        ev = window(other, j)
        if same_fact(claim, ev):
            dropped["wrong_report: rule says same fact"] = (
                dropped.get("wrong_report: rule says same fact", 0) + 1
            )
            continue
        key = f"{d.id}#{s.idx}->{other.id}#{j}"
        if wr_hand.get(key, {}).get("verdict") == "same_fact":
            dropped["wrong_report: hand check says same fact"] = (
                dropped.get("wrong_report: hand check says same fact", 0) + 1
            )
            continue
        cands.append((d, s, claim, origin, other, j, ev, key))
    # one claim per source sentence (verbatim preferred), reports first
    seen: set[tuple[str, int]] = set()
    uniq = []
    for c in sorted(cands, key=lambda c: (c[0].corpus != "reports", c[3] != "verbatim")):
        if (c[0].id, c[1].idx) not in seen:
            seen.add((c[0].id, c[1].idx))
            uniq.append(c)
    by_sent = {(c[0].id, c[1].idx): c for c in uniq}
    for d, s in pick([(c[0], c[1]) for c in uniq], TARGET["wrong_report"], "wrong_report"):
        _, _, claim, origin, other, j, ev, key = by_sent[(d.id, s.idx)]
        rows.append(
            record(
                d,
                "wrong_report",
                False,
                claim,
                ev,
                s.text,
                s.idx,
                f"{origin} claim of {d.id}; evidence from {other.id} "
                f"(sentence {j}, best lexical match) [{key}]",
            )
        )
    return rows, dropped


def inverse_doc_freq(docs: list[Doc]) -> dict[str, float]:
    """IDF of content words over all sentences."""
    import math

    df: dict[str, int] = {}
    n = 0
    for d in docs:
        for s in d.sents:
            n += 1
            for w in content_words(s.text):
                df[w] = df.get(w, 0) + 1
    return {w: math.log(n / c) for w, c in df.items()}


def check_invented(docs: list[Doc]) -> None:
    """Fail when an 'invented' name actually occurs in a corpus."""
    text = " ".join(s.text for d in docs for s in d.sents)
    names = [n for ns in INVENTED_REPORTS.values() for n in ns]
    names += [n.rstrip("()") for ns in INVENTED_PYDOC.values() for n in ns] + INVENTED_SOURCES
    for name in names:
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            sys.exit(f"invented name {name!r} occurs in the corpus")


def main() -> None:
    """Build and write the benchmark, and print its counts."""
    docs = load_reports() + load_pydoc()
    check_invented(docs)
    for d in docs:
        for s in d.sents:
            LOWER_WORDS.update(w for w in re.findall(r"\b[a-z]+\b", s.text))
    hand = json.loads(HAND_CHECK.read_text(encoding="utf-8")) if HAND_CHECK.exists() else {}
    llm = LLM()
    rows, dropped = build(docs, llm, hand)
    if llm.calls:
        llm.save()
    order = {k: i for i, k in enumerate(list(TARGET))}
    rows.sort(
        key=lambda r: (
            order[str(r["kind"])],
            str(r["corpus"]),
            str(r["doc"]),
            str(r["source"]),
            str(r["claim"]),
        )
    )
    with OUT.open("w", encoding="utf-8") as f:
        for i, r in enumerate(rows, 1):
            r["id"] = f"r-{i:04d}"
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[tuple[str, str, str], int] = {}
    for r in rows:
        k = (str(r["kind"]), str(r["corpus"]), str(r["split"]))
        counts[k] = counts.get(k, 0) + 1
    print(f"{len(rows)} rows -> {OUT.relative_to(ROOT)}")
    print(f"{'kind':16} {'rep/cal':>8} {'rep/test':>8} {'py/cal':>8} {'py/test':>8} {'total':>6}")
    for kind in TARGET:
        cells = [
            counts.get((kind, c, sp), 0)
            for c in ("reports", "pydoc")
            for sp in ("calibration", "test")
        ]
        print(f"{kind:16} " + " ".join(f"{c:>8}" for c in cells) + f" {sum(cells):>6}")
    for why, n in sorted(dropped.items()):
        print(f"{'' if 'hand-check' in why else 'dropped: '}{why}: {n}")


if __name__ == "__main__":
    main()
