"""Follow-up questions for fitting: how much a follow-up's carried terms count in sentence ranking.

`tune_answerer.py` step 1 (`context_weight` in `assistant/data/answerer.json`). A follow-up ("and who ordered
them?") carries the earlier questions (`assistant.conversation`); the ranker weighs their terms `context_weight`
as much as the user's own (`ranking.QuestionTerms`). Here: conversations made from pairs of train questions about
one paragraph, and the weight that best puts the second question's answer first.
"""

from __future__ import annotations

import random
import re

from benchmarks import _common as c
from training import answerability_data as data


def follow_ups(examples, seed: int = 5) -> list[tuple]:
    """Two-turn conversations made from pairs of answerable train questions on one gold paragraph: the second
    question's words that the first also has are replaced by "it" ("When did the 1973 oil crisis begin?" after
    "Why did the oil crisis start?" becomes "When did the 1973 it begin?"), as a user leans on the earlier
    turn; it is then rewritten and retrieved as the assistant does (`chat.condense_heuristic`). Crude English,
    but the thing asked is the second question's and the topic is carried by the first. Each conversation is
    (the second question's example, the condensed Question, its vector, the retrieved contexts)."""
    from assistant.conversation import Turn, condense_heuristic, is_follow_up
    from assistant.retrieval.fusion import retrieve
    from assistant.text.terms import terms

    squad = c.assistant_for(c.datasets_dir() / "squad2_dev.corpus.jsonl")
    by_paragraph: dict = {}
    for e in examples:
        if e.kind == "answerable" and e.corpus == "squad2_dev":  # the corpus `squad` retrieves from
            for key in e.gold:
                by_paragraph.setdefault(key, []).append(e)
    rng = random.Random(seed)
    out = []
    for _, group in sorted(by_paragraph.items()):
        for _ in range(2 if len(group) > 1 else 0):
            first, second = rng.sample(group, 2)
            shared = set(terms(first.question)) & set(terms(second.question))
            tokens, replaced = [], False
            for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*|[^\sA-Za-z0-9]", second.question):
                stem = terms(token)
                if stem and stem[0] in shared:
                    tokens += [] if replaced else ["it"]
                    replaced = True
                else:
                    tokens.append(token)
                    replaced = replaced and not stem
            follow = re.sub(r"\s+([?.,;:!])", r"\1", " ".join(tokens))
            if not shared or not is_follow_up(follow) or not terms(follow):
                continue
            question = condense_heuristic(follow, [Turn(role="user", content=first.question)])
            vector = squad.embedder.embed([question.text])[0]
            s = squad.settings
            out.append((second, question, vector,
                        retrieve(squad.index, question.text, vector, s.top_k, s.candidates, s.rrf_k)))
    return out


def choose_context_weight(conversations, ranking_for) -> tuple[float, dict]:
    """The weight of a follow-up's carried terms that best puts the second question's answer in the first quoted
    sentence, from the right paragraph (the sum of the two rates). `ranking_for(weight)`: the weights being
    fitted, as `weights.RankingWeights` with that context weight."""
    from assistant.answering.extractive.ranking import QuestionTerms, score_sentences
    from assistant.evaluation.metrics import answer_match

    idf = data.idf_for("squad2_dev")
    table = {}
    for weight in (0.25, 0.35, 0.5, 0.75, 1.0):
        first = cited = 0
        ranking = ranking_for(weight)
        for second, question, vector, contexts in conversations:
            ranked = score_sentences(QuestionTerms.of(question, weight), vector, contexts, None, idf, ranking)
            first += bool(ranked) and answer_match(ranked[0].text, second.answers)
            cited += bool(ranked) and (ranked[0].context.doc_id, ranked[0].context.paragraph) in second.gold
        table[weight] = {"answer_in_first_sentence": round(first / len(conversations), 4),
                         "first_sentence_from_gold_paragraph": round(cited / len(conversations), 4)}
    best = max(table, key=lambda w: sum(table[w].values()))
    return best, {"conversations": len(conversations), "by context weight": table}
