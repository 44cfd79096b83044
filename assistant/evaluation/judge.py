"""Optional LLM-judged metrics: judged_correctness (does the answer state the gold answer?) and
judged_faithfulness (is every statement supported by the paragraphs it cites?).

Why the plan/estimate/run split: judge calls cost money, so the CLI shows how many requests, how many tokens
and the estimated cost before any request is sent, and asks (or needs --yes). Questions whose verdict is
certain without a model (a declined or failed answer is not correct; an answer with no citation is not
faithful) score 0 without a call. A judge call that fails is listed in the report with its error and left out
of that metric's count, which the report shows; it is never a silent NaN. The prompts live in
prompts/judge_correctness.txt and prompts/judge_faithfulness.txt. Judged scores depend on a model and are not
part of the report's fingerprint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.evaluation.report import EvalReport

PROMPTS = {"judged_correctness": "judge_correctness", "judged_faithfulness": "judge_faithfulness"}
POSITIVE = {"judged_correctness": "correct", "judged_faithfulness": "supported"}
MAX_TOKENS = 150  # a verdict and one sentence
EXPECTED_COMPLETION = 50  # tokens per verdict, for the estimate

# complete(messages, max_tokens) -> (text, prompt_tokens, completion_tokens)
Complete = Callable[[list[dict[str, str]], int], tuple[str, int, int]]


@dataclass
class JudgeCall:
    question_id: str
    metric: str
    messages: list[dict[str, str]]


def _fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def plan(report: EvalReport, prompts: dict[str, str]) -> tuple[list[JudgeCall], dict[str, dict[str, Any]]]:
    """The requests to send, and the verdicts known without one (question id -> metric -> verdict)."""
    calls: list[JudgeCall] = []
    known: dict[str, dict[str, Any]] = {}
    for q in report.questions:
        answered = q["status"] != "error" and not q["declined"]
        if q["answerable"] and q["gold_answers"]:
            if answered:
                text = _fill(prompts[PROMPTS["judged_correctness"]], question=q["question"], answer=q["answer"],
                             gold_answers=" | ".join(q["gold_answers"]))
                calls.append(JudgeCall(q["id"], "judged_correctness", [{"role": "user", "content": text}]))
            else:
                known.setdefault(q["id"], {})["judged_correctness"] = {
                    "score": 0.0, "reason": "no answer given (declined or failed)", "called": False}
        if answered:
            if q["citations"]:
                sources = "\n\n".join(f"[{c['marker']}] {c['doc_id']} ¶{c['paragraph']}: {c['quote']}"
                                      for c in q["citations"])
                text = _fill(prompts[PROMPTS["judged_faithfulness"]], question=q["question"], answer=q["answer"],
                             sources=sources)
                calls.append(JudgeCall(q["id"], "judged_faithfulness", [{"role": "user", "content": text}]))
            else:
                known.setdefault(q["id"], {})["judged_faithfulness"] = {
                    "score": 0.0, "reason": "the answer cites nothing", "called": False}
    return calls, known


def estimate(calls: list[JudgeCall], settings) -> dict[str, Any]:
    """Requests, tokens and estimated USD before anything is sent (cost None when the price is unknown)."""
    from assistant.answering.generative.budget import cost_usd, count_messages, encoding_for

    encoding = encoding_for(settings.llm_model)
    prompt = sum(count_messages(c.messages, encoding) for c in calls)
    completion = EXPECTED_COMPLETION * len(calls)
    cost = cost_usd(settings.llm_model, prompt, completion, getattr(settings, "llm_input_price", None),
                    getattr(settings, "llm_output_price", None))
    return {"model": settings.llm_model, "calls": len(calls), "prompt_tokens": prompt,
            "completion_tokens": completion, "cost_usd": cost}


def describe_estimate(est: dict[str, Any]) -> str:
    cost = "unknown price (set ASSISTANT_LLM_INPUT_PRICE / _OUTPUT_PRICE)" if est["cost_usd"] is None \
        else f"about ${est['cost_usd']:.4f}"
    return (f"LLM judge: {est['calls']} requests to {est['model']}, ~{est['prompt_tokens']:,} prompt + "
            f"~{est['completion_tokens']:,} completion tokens, {cost}")


def client_complete(settings) -> Complete:
    """A `complete` function over the project's LLM client (same retries, timeouts and key handling)."""
    from assistant.answering.generative.llms.openai_chat import OpenAIChat

    client = OpenAIChat(settings)

    def complete(messages: list[dict[str, str]], max_tokens: int) -> tuple[str, int, int]:
        reply = client.complete(messages, max_tokens)
        return reply.text, reply.prompt_tokens, reply.completion_tokens

    return complete


def parse_verdict(text: str, metric: str) -> tuple[float, str]:
    """(1.0 or 0.0, reason) from the judge's reply; ValueError when the reply has no verdict."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    verdict, reason = None, ""
    if match:
        try:
            data = json.loads(match.group(0))
            verdict, reason = str(data.get("verdict", "")).strip().lower(), str(data.get("reason", ""))
        except (ValueError, AttributeError):
            verdict = None
    if verdict is None:  # a model that ignored the JSON instruction: accept a bare verdict word
        words = re.findall(r"[a-z]+", text.lower())
        verdict = next((w for w in words if w in ("correct", "incorrect", "supported", "unsupported")), None)
    allowed = {POSITIVE[metric], "in" + POSITIVE[metric] if metric == "judged_correctness" else "unsupported"}
    if verdict not in allowed:
        raise ValueError(f"the judge's reply has no verdict ({' or '.join(sorted(allowed))}): {text[:120]!r}")
    return float(verdict == POSITIVE[metric]), reason


def run_judge(report: EvalReport, calls: list[JudgeCall], known: dict[str, dict[str, Any]],
              complete: Complete, est: dict[str, Any], settings=None) -> EvalReport:
    """Send the planned requests one by one and add judged metrics to the report."""
    results: dict[str, dict[str, Any]] = {qid: dict(v) for qid, v in known.items()}
    errors: list[dict[str, str]] = []
    prompt_tokens = completion_tokens = 0
    for call in calls:
        try:
            text, p_tokens, c_tokens = complete(call.messages, MAX_TOKENS)
            prompt_tokens += p_tokens
            completion_tokens += c_tokens
            score, reason = parse_verdict(text, call.metric)
            results.setdefault(call.question_id, {})[call.metric] = {"score": score, "reason": reason, "called": True}
        except Exception as exc:
            errors.append({"id": call.question_id, "metric": call.metric, "error": f"{type(exc).__name__}: {exc}"})
    for q in report.questions:
        if q["id"] in results:
            q["judge"] = results[q["id"]]
    for metric in PROMPTS:
        scores = [r[metric]["score"] for r in results.values() if metric in r]
        report.metrics[metric] = round(sum(scores) / len(scores), 6) if scores else None
        report.counts[metric] = len(scores)
    cost = None
    if settings is not None:
        from assistant.answering.generative.budget import cost_usd

        cost = cost_usd(est["model"], prompt_tokens, completion_tokens, getattr(settings, "llm_input_price", None),
                        getattr(settings, "llm_output_price", None))
    report.judge = {"model": est["model"], "estimate": est, "calls": len(calls), "errors": errors,
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "cost_usd": cost}}
    if errors:
        report.warnings.append(f"{len(errors)} judge request(s) failed; those verdicts are missing (see judge.errors)")
    return report
