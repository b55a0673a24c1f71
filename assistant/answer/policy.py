"""Every threshold, weight and limit of answering, with what it does and where it came from.

The claim verifier's own tunables are in :class:`assistant.verify.VerifierPolicy`.
Scores are of two kinds, so each threshold says which scale it is on:

* *cosine*: MiniLM cosine similarity (another embedding model needs a refit);
* *rank score*: :class:`assistant.answer.evidence.SentenceRanker`'s score, the share of
  the question's content words a sentence holds plus its cosine to the question
  (about 0.3-1.6).

"Calibration" below is ``tests/data/questions.jsonl`` (67 questions),
``tests/data/comparison_questions.jsonl`` (8) and
``tests/data/verifier_questions.jsonl`` (26); the fresh split
``tests/data/answering_fresh.jsonl`` (47) is never used to choose a value. Refit
with ``assistant calibrate CAL.jsonl ... --test FRESH.jsonl --write policy.json``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.settings import Settings


@dataclass(frozen=True)
class AnswerPolicy:
    """The knobs of the answering stage (``Settings`` overrides the two gate values)."""

    # The named fallbacks of the decide step that are on (:data:`FALLBACKS`). Each one's
    # effect on held-out questions is scored by ``assistant eval`` ("decide steps").
    fallbacks: tuple[str, ...] = ("chosen", "recheck", "shown", "named", "entity", "said",
                                  "settle", "likely_yes", "accounts", "other_reports")
    """The decide step's fallbacks that run: ``chosen`` (the model's passage, when
    nothing it wrote holds), ``recheck`` (the one other sentence of the cited passages
    that holds the answer check's words, when the quoted one lacks them), ``shown`` (the
    cited sentence itself, when the answer's own words lack a figure or name that the
    answer check found in it), ``named`` (the sentence
    before, naming who a who-question asks for, when the answer's sentence only refers back),
    ``entity`` (for a who / which / where / when question left unanswered, the name a
    passage sentence gives in the asked role, or as an example of the asked noun),
    ``said`` (for "What did <person> say ...?", the best-ranked sentence in which that
    person speaks),
    ``settle`` (for a yes/no question whose answer does not settle it, a best-ranked
    sentence that does, with its yes or no first),
    ``likely_yes`` (for a yes/no question nothing settles in code, the sentence the model
    most likely reads as saying yes, when likely enough),
    ``accounts`` (each report's line for a question about several reports),
    ``other_reports`` (other reports' quotes beside an answer)."""

    # The gate, before the model runs.
    min_relevance: float = 0.1
    """Cosine between the question and the best retrieved sentence below which the
    question is refused without the model, unless one of its names, figures or code
    names stands verbatim in a retrieved passage (:mod:`assistant.answer.gate`).
    Fitted by ``assistant calibrate`` on calibration (388 questions: the team's, fresh,
    blind1-5, verifier and comparison questions; session 21): the highest bar every
    answerable one passes. There, 0 of 73 unanswerable questions fell below any bar
    that every answerable one passes, and 16 answerable ones had been refused at the
    earlier 0.4 (fitted on 101 questions; before that 0.3, chosen by hand): the gate
    now stops only questions about nothing in the reports."""

    # Quoting a sentence without the model (other reports' accounts beside an answer).
    extractive_threshold: float = 1.4
    """Rank score a passage sentence needs to be quoted without the model, as another
    report's account beside an answer. Fitted by ``assistant calibrate`` on calibration
    (101 questions): the lowest bar no unanswerable question's best sentence reaches
    (the rule of the extractive answer, removed since, which answered such questions).
    It was 1.05 by the same rule on the first 67. On 388 questions (session 21) the
    rule gives 1.6; that refit is not applied: these quotes stand only beside an
    answer, never in place of a refusal, so the rule no longer measures their risk,
    and at 1.6 none of the other-report quotes the tests expect is shown. A rule of
    their own is still to be measured."""
    min_matched: int = 2
    """Question content words such a sentence must contain: one shared word (say
    "H200") is no evidence that it answers. Chosen by hand, not fitted."""
    account_bar: float = 0.4
    """Rank score a report's sentence needs, for a question about several reports, to be
    shown labelled as that report's account. Fitted, with ``account_sentences`` and
    ``account_matched``, offline on the 51 calibration questions about several reports
    (blind1-6, fresh, comparison and verifier questions; no model run; answer checks met
    by the accounts alone): 10/51 at the earlier 0.8, one sentence and two words;
    0.0: 32, 0.4: 31, 0.6: 27, 0.8: 18 with two sentences and one word. 0.4 keeps a
    relevance bar at one answer's cost. No calibration unanswerable question is about
    several reports, so the refusals are unmeasured there."""
    account_sentences: int = 2
    """Sentences per report in those accounts (best-ranked first): 1 gives 22/51 at bar
    0.0, 2 gives 32/51, 3 gives 30/51 without verification (fitted as above)."""
    account_matched: int = 1
    """Question words each account sentence must hold: 2 gives 21/51, 1 gives 32/51 with
    two sentences at bar 0.0 (fitted as above)."""
    account_margin: float = 0.1
    """How much better a report's best-ranked sentence for a question about several
    reports must rank than the line the model wrote for that report to replace it.
    Fitted on the 24 comparison questions of the first four blind splits (their recorded
    answers, regraded offline): 6/24 as recorded, 10/24 at 0.0 and at 0.1, 9/24 at 0.2,
    7/24 at 0.3; the larger of the two best keeps the model's line when it is close."""

    window_sentences: int = 5
    """With the passages retrieved per question (a folder too large to be read whole),
    the model reads only the windows around this many best-ranked sentences of them
    (:meth:`AnswerBuilder.windows`); 0 reads whole passages. Chosen in session 32 at 5
    before measuring, not fitted (the number of passages retrieved). On by default since
    session 34, once ``chosen_min_score`` was set (the first window always holds the
    best-ranked sentence of all the passages, so a reply naming passage 1 and copying
    nothing was answered by that sentence; a scripted injection's was). Measured against
    whole passages, calibration split blind19 in retrieved mode: answers 32/40 both,
    refusals 45/48 both, shown with a name or number their quote lacks 1/78 against 0/69,
    first token p50 15.2 s against 24.1 s (s34 against s32); the 40-page documentation
    folder (bench/docs_folder.py): answers 26/32 against 25/32, refusals 37/41 both,
    0/38 against 2/60, first token p50 9.9 s against 21.3 s (s34 against s31). Narrower
    settings were counted in session 35 (bench/window_reach.py, no model: questions whose
    draft prompts still hold their key's answer), on blind19 in retrieved mode: 5 and 1
    28/40 at 520 tokens; 4 and 1, 3 and 1, 8 and 0: 26/40; 5 and 0: 25/40. So 5 and 1
    stay."""
    window_around: int = 1
    """Sentences kept on either side of each of those sentences, in its own passage (a
    sentence that refers back, "he said", keeps the one it refers to). Chosen, not fitted."""
    entity_sentences: int = 5
    """Best-ranked sentences searched for the name a who / which / where / when
    question asks for (:meth:`AnswerBuilder.entity`). Chosen by hand, not fitted: the
    top-5 of retrieval's own default cut-off."""
    said_sentences: int = 2
    """Sentences of one statement a person makes: the best-ranked sentence in which
    the person speaks and the one next to it in the same passage when the person
    speaks there too ("..., said Randy Abrams" and "..., he added";
    :meth:`AnswerBuilder.said`). Set in session 26 from calibration questions blind9
    k-33 and blind11 n-34, whose expected answers hold both sentences of his."""
    settle_sentences: int = 8
    """Best-ranked sentences (each with ``min_matched`` question words) searched for one
    that settles a yes/no question (:meth:`AnswerBuilder.settled`). Refitted in session 22
    on the 56 yes/no questions of the calibration splits (no model run): settled right
    9 at 5, 11 at 8 and at 10, wrong 0 at each; 8 is the smallest best value (a quote
    "..., he told journalists" ranks 6th for what he is asked to have said)."""
    core_share: int = 3
    """A yes/no question with a relative clause is also settled without it ("Is the H200
    more capable than the H20 that Nvidia built?" by a sentence on the two chips), unless
    the clause held more than this many times the words left ("Is one of the restrictions
    regulators are weighing a ban on ...?" is not "One is of the restrictions."). Fitted
    in session 23 on the 56 yes/no questions of the calibration splits (no model run):
    settled right/wrong 16/1 without the rule, 15/0 at 2, 17/0 at 3 (with the statement
    fixes of that session)."""
    yes_sentences: int = 4
    """Best-ranked sentences that bear on a yes/no question's statement, each scored by
    the model for a yes (:meth:`AnswerBuilder.settled`). Chosen by hand: half of
    ``settle_sentences``, each costing one scoring call."""
    min_yes_probability: float = 0.70
    """The model's probability that a sentence says yes to the question, from which an
    unsettled yes/no question is answered "Yes — <that sentence>". Refitted in session 28
    on the 60 yes/no questions of the calibration splits (through blind13) that the code
    leaves unsettled (default model, the question as asked, the best of the first
    ``yes_sentences`` bearing sentences): gold yes answered 13/33 at 0.75, 17/33 at 0.70,
    20/33 at 0.65; gold no answered yes 0/19 at 0.70 and 0.75, 1/19 at 0.65 (the highest
    gold no scored 0.68). 0.70 is the lowest bar (in steps of 0.05) at which no gold no
    is answered yes. It was 0.75 (session 24, on 43 such questions: 8/19 and 0/24; 0.70
    was then judged too close to that 0.68). The statement form ("The H200 is ...")
    scored lower and separated worse (6/19 at 0.60). No yes/no question of the
    calibration splits is unanswerable, so the risk for those is not measured."""
    entity_clause_words: int = 1
    """Question words besides its verb that the clause of such a name must hold (the
    sentence holds ``min_matched``). Chosen by hand: the verb and one more word tie
    the clause to the question, as ``min_matched`` ties a sentence to it."""

    # Checking the model's answer.
    recite_margin: float = 0.2
    """Verifier coverage by which another passage must support a sentence better
    than the one the model cited before the sentence is re-cited to it. Chosen by
    hand."""
    extract_coverage: float = 0.6
    """Share of the answer check's content words that must stand in the supporting
    sentences for the check to confirm the answer. Chosen by hand."""
    chosen_min_score: float = 0.335
    """Rank score the sentence quoted for the model's chosen passage (the ``chosen``
    fallback) needs: below it, the reply stays a refusal. Fitted in session 34 by
    ``bench/fit_chosen_bar.py`` on the recorded calibration runs in
    ``bench/results/answering`` (every file but the dev ones, runs up to session 33: 697
    firings on 356 questions; their scores are those of the ranker of each run's time),
    by the rule of ``min_relevance``: the highest bar every right answer the fallback
    gave passes: blind12 p-03, whose trace shows 0.34, rounded to two places, so the bar
    is 0.005 lower (first set at 0.34, which could have refused that answer). There it
    costs no right answer and refuses nothing shown (the one firing below it, 0.23,
    ended refused). Session 34's runs, made with the bar, add 35 firings and leave the
    fit as it is. It matters
    with ``window_sentences``: the first window always holds the best-ranked sentence of
    all the passages, so a reply naming passage 1 and copying nothing (a scripted
    injection's) would be answered by whatever that sentence is."""
    copied_coverage: float = 0.6
    """Share of a refused reply's content words (weighted as in sentence ranking) a
    sentence must hold to count as what the reply was copied from, so that its
    passage counts as the model's choice too. Chosen by hand: the value of
    ``extract_coverage``, the same question (are these the model's source words?)."""

    # Summaries (:mod:`assistant.answer.summary`).
    summary_sentences: int = 4
    """Sentences of a report's lead (or, for a summary about a topic, of its best-ranked
    sentences on it) quoted as its summary; the issue asks for 2-4. Fitted on the 23
    summary requests of the calibration splits (blind1-6 and the team's questions,
    session 21; offline, no model): 12 right at 2, 14 at 3 (the lead-3 of news
    summarisation, chosen by hand before), 15 at 4."""
    source_sentences: int = 3
    """Sentences of a report quoted for whom it credits (:meth:`AnswerBuilder.sourced`),
    each naming a source not quoted before. Chosen by hand, not fitted: the 2-4
    sentences the issue asks of a summary, at its middle."""
    summary_min_words: int = 8
    """Words a sentence needs (with a verb) to count as saying something, so that
    section labels, bylines and "Reading Time: 2 minutes" are skipped. Chosen by hand."""

    # Limits.
    check_reply_tokens: int = 48
    """Tokens of the answer check's reply (the words that answer)."""
    closest_passages: int = 3
    """Retrieved passages a refusal offers (CLI and UI)."""
    history_messages: int = 4
    """Earlier turns given to the model, when the conversation step could not make the
    question stand alone (a follow-up it rewrote is asked alone)."""
    history_chars: int = 600
    """Characters kept of each earlier turn given to the model."""
    before_chars: int = 600
    """How far back (characters) the sentence before a cited one is looked for."""


FALLBACKS = frozenset({"chosen", "recheck", "shown", "named", "entity", "said", "settle",
                       "likely_yes", "accounts", "other_reports"})
# Removed: "judge" (the second opinion: rank plus the model's probability that a sentence,
# shown alone, answers the question, against the answer's own). On the first runs of
# blind5-8 it changed 10 answers: 1 made right, 3 made wrong (session 24).
# Removed: "recovered" (the passage sentence holding the answer check's words, put in
# place of the answer). On held-out questions it changed 3 answers of the fresh split
# (0 made right, 0 made wrong) and 2 of the blind split (0 right, 1 wrong).
DEFAULT_POLICY = AnswerPolicy()


def save_policy(policy: AnswerPolicy, path: Path) -> None:
    """Write ``policy`` as JSON (what ``assistant calibrate --write`` produces)."""
    path.write_text(json.dumps(dataclasses.asdict(policy), indent=1) + "\n", encoding="utf-8")


def load_policy(path: Path, base: AnswerPolicy = DEFAULT_POLICY) -> AnswerPolicy:
    """``base`` with the values of a JSON policy file (unknown or mistyped keys refused)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the answer policy {path.name} ({exc.strerror})") from None
    except ValueError:
        raise ConfigError(f"the answer policy {path.name} is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"the answer policy {path.name} must be a JSON object")
    kinds = {f.name: type(getattr(base, f.name)) for f in dataclasses.fields(base)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in kinds:
            raise ConfigError(f"the answer policy {path.name} has an unknown key {key!r}")
        if key == "fallbacks":
            if not isinstance(value, list) or not set(value) <= FALLBACKS:
                raise ConfigError(f"the answer policy {path.name}: fallbacks must be a list "
                                  f"of {', '.join(sorted(FALLBACKS))}")
            values[key] = tuple(value)
            continue
        kind = kinds[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind is int and not isinstance(value, int)):
            raise ConfigError(f"the answer policy {path.name}: {key} must be a {kind.__name__}")
        values[key] = kind(value)
    return dataclasses.replace(base, **values)


def from_settings(settings: Settings) -> AnswerPolicy:
    """The answering policy of ``settings``: defaults, then its policy file, then the gate.

    ``min_relevance`` and ``extractive_threshold`` of the settings (a variable or a
    flag) override the file when they are set.
    """
    policy = (load_policy(settings.answer_policy_file) if settings.answer_policy_file
              else DEFAULT_POLICY)
    if settings.min_relevance is not None:
        policy = dataclasses.replace(policy, min_relevance=settings.min_relevance)
    if settings.extractive_threshold is not None:
        policy = dataclasses.replace(policy, extractive_threshold=settings.extractive_threshold)
    return policy
