"""The pieces behind LLM answers, on real inputs: marker parsing, the support check with the real MiniLM model,
the tiktoken budget and prices, refusal detection, follow-up rewriting, key redaction."""

from __future__ import annotations

import pytest

from assistant.answering.generative.budget import cost_usd, count_messages, encoding_for, fit_sources, price_of
from assistant.answering.citations import CitationChecker, SentenceVectors, split_claims
from assistant.text.markers import find_markers
from assistant.answering.generative.answerer import build_messages, is_refusal
from assistant.answering.generative.llms.base import redact
from assistant.text.terms import Idf
from assistant.conversation import condense_heuristic, is_follow_up, normalize_history
from assistant.answering.extractive.ranking import QuestionTerms
from assistant.types import Answer, Context, Question


@pytest.mark.parametrize("text, numbers", [
    ("Fact [1].", [[1]]),
    ("Fact [1][2].", [[1], [2]]),
    ("Fact [1, 3].", [[1, 3]]),
    ("Fact [2-4].", [[2, 3, 4]]),
    ("Fact [^1] and [Source 2] and 【3】.", [[1], [2], [3]]),
    ("No markers [a] [] (1).", []),
    ("Pointing nowhere [-1] and [0].", [[-1], [0]]),  # markers all the same: the check removes them
])
def test_markers_are_parsed_in_the_forms_models_write(text, numbers):
    assert [m.numbers for m in find_markers(text)] == numbers


def test_markers_belong_to_the_sentence_they_close():
    claims, uncited = split_claims("Fact one.[1] Fact two is longer [2]. [3] Then an uncited sentence.")
    assert [(c.text, c.numbers) for c in claims] == [("Fact one.", [1]), ("Fact two is longer.", [2, 3])]
    assert uncited == 1


def test_a_mid_sentence_marker_cuts_the_claim():
    claims, _ = split_claims("The firm was founded in Berlin in 1900 [1], and it moved to Paris in 1950 [2].")
    assert claims[0].text == "The firm was founded in Berlin in 1900" and claims[0].numbers == [1]
    assert claims[1].text.endswith("it moved to Paris in 1950.") and claims[1].numbers == [2]


@pytest.fixture(scope="module")
def checker(seed_assistant):
    idf = seed_assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    return CitationChecker(SentenceVectors(seed_assistant.embedder), idf)


@pytest.fixture(scope="module")
def sources(seed_assistant):
    return seed_assistant.retrieve("In which province were the airstrikes carried out?")


def test_support_is_high_for_the_right_paragraph_and_low_for_a_neighbour(checker, sources):
    paragraphs = [c.text for c in sources]
    right = next(i for i, c in enumerate(sources) if c.paragraph == 2)
    wrong = next(i for i, c in enumerate(sources) if c.paragraph == 1)
    rows = checker.features("The strikes hit the eastern province of Deir al-Zour.", paragraphs)
    assert checker.probability(rows[right]) >= checker.threshold > checker.probability(rows[wrong])


def test_the_quote_is_the_supporting_sentence_of_the_cited_paragraph(checker):
    paragraph = ("Today’s strikes were necessary to protect and defend US personnel, Col. Joe Buccino said. "
                 "The United States does not seek conflict, he added.")
    start, end = checker.quote_span("The US does not want a conflict.", paragraph)
    assert paragraph[start:end] == "The United States does not seek conflict, he added."
    # a claim that needs both sentences (who said it) gets both
    start, end = checker.quote_span("Buccino said the US does not seek conflict.", paragraph)
    assert paragraph[start:end] == paragraph


def test_check_never_crashes_on_markers_pointing_nowhere(checker, sources):
    result = checker.check("Deir al-Zour [0]. Something [17]. [ ] [x]", sources)
    assert result.citations == [] and result.unsupported
    assert result.out_of_range == [0, 17] and "[0]" not in result.text and "[17]" not in result.text


def test_check_with_no_sources_at_all(checker):
    result = checker.check("Deir al-Zour [1].", [])
    assert result.citations == [] and result.unsupported and result.out_of_range == [1]


def test_prices_and_costs():
    assert price_of("gpt-4o-mini") == price_of("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("llama3.2:1b", 1000, 1000) is None
    assert cost_usd("llama3.2:1b", 1_000_000, 0, input_price=0.2) == pytest.approx(0.2)


def test_sources_are_kept_in_rank_order_while_they_fit():
    enc = encoding_for("gpt-4o-mini")
    contexts = [Context(doc_id="d", title="Doc", paragraph=i, text="word " * 100, score=1.0) for i in range(1, 6)]
    blocks, budget = fit_sources(contexts, fixed_tokens=100, context_window=500, max_answer_tokens=100,
                                 encoding=enc)
    assert [c.paragraph for c in budget.sources] == [1, 2]
    assert budget.dropped == 3 and blocks[0].startswith("[1] Doc ¶1\n")
    tight_blocks, tight = fit_sources(contexts, fixed_tokens=100, context_window=260, max_answer_tokens=100,
                                      encoding=enc)
    assert tight.truncated and len(tight.sources) == 1  # the best paragraph, cut to fit
    assert tight_blocks[0].startswith("[1] Doc ¶1\n") and len(enc.encode(tight_blocks[0])) <= tight.available


def test_the_built_prompt_fits_the_window(seed_assistant):
    settings = seed_assistant.settings.model_copy(update={"llm_context_window": 900, "llm_max_answer_tokens": 200})
    contexts = seed_assistant.retrieve("Who attacked the Tanf outpost?", top_k=10)
    messages, budget = build_messages(seed_assistant.prompts, "Who attacked the Tanf outpost?", contexts, settings)
    assert count_messages(messages, encoding_for("gpt-4o-mini")) <= 900 - 200
    assert 0 < len(budget.sources) < 10


@pytest.mark.parametrize("text, refused", [
    ("NOT_IN_SOURCES", True),
    ("**NOT IN SOURCES**", True),
    ("The sources do not mention the weather.", True),
    ("I cannot find that in the documents.", True),
    ("The sources do not mention the date, but the strikes were in Deir al-Zour [1].", False),
    ("The strikes were in Deir al-Zour [1].", False),
])
def test_refusals_are_recognised(text, refused):
    assert is_refusal(text) is refused


@pytest.mark.parametrize("question, follow_up", [
    ("and who ordered them?", True),
    ("What about Iraq?", True),
    ("Why?", True),
    ("When was it built?", True),
    ("Where were the airstrikes carried out?", False),
    ("Who is the director of communications for US Central Command?", False),
])
def test_follow_up_detection(question, follow_up):
    assert is_follow_up(question) is follow_up


def test_the_heuristic_carries_the_earlier_questions():
    turns = normalize_history([("Where were the strikes?", "In Deir al-Zour [1]."),
                               ("and who ordered them?", "Biden [1].")])
    when = condense_heuristic("when?", turns)
    assert when.asked == "When?" and when.carried == ("who ordered them?", "Where were the strikes?")
    assert when.text == "When? (follow-up to: who ordered them?; Where were the strikes?)"
    assert condense_heuristic("What did Buccino say?", turns) == Question(asked="What did Buccino say?")
    assert condense_heuristic("and who?", []) == Question(asked="and who?")


def test_a_follow_up_carries_its_context_as_data_not_text():
    """What a follow-up carries travels as a field: a question that merely contains the words of the tag is read
    as the user typed it, and an earlier Answer's follow-up is continued from its typed question."""
    typed = "Who ordered them? (follow-up to: Where were the strikes?)"
    read = QuestionTerms.of(condense_heuristic(typed, []), context_weight=0.5)
    assert read.asked == typed and read.carried == ()
    first = condense_heuristic("and who ordered them?", normalize_history(["Where were the strikes?"]))
    earlier = Answer(text="Biden [1].", question=first.text, standalone=first)
    then = condense_heuristic("when?", normalize_history([earlier]))
    assert then.carried == ("Who ordered them?", "Where were the strikes?")


def test_history_accepts_message_dicts_and_skips_what_is_not_text():
    turns = normalize_history([{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                               {"role": "user", "content": {"path": "file.png"}}, {"role": "system", "content": "x"}])
    assert [(t.role, t.content) for t in turns] == [("user", "Q1"), ("assistant", "A1")]


def test_redaction_removes_keys_in_any_form():
    key = "sk-proj-abcdef1234567890"
    text = f"bad key {key}, header Bearer {key}, also sk-other123456 and {key[3:]}"
    cleaned = redact(text, [key])
    assert key not in cleaned and "sk-other123456" not in cleaned and "abcdef1234567890" not in cleaned
