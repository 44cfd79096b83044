"""Conversations: history in the shapes callers have it, follow-up rewriting, and a chat session object.

Why rewrite follow-ups: retrieval sees one question. "And who ordered them?" retrieves nothing useful on its
own, so before retrieval it becomes a standalone question (kept in `Answer.question`). In llm mode the model
rewrites it (prompts/condense.txt). Offline, and whenever the LLM fails, `condense_heuristic` does:

1. A question is a *follow-up* when it opens with a connective ("and", "but", "so", "also", "what about",
   "how about", ...), uses a pronoun that points back ("he", "she", "it", "they", "them", "his", "her", "its",
   "their", "this", "these", "those", "that" at the end, "there" at the end), has no content word ("Why?",
   "How many?") or is at most two words long ("Which year?").
2. A standalone question is left alone.
3. A follow-up keeps its own words (the connective dropped, first letter capitalised) and gets the earlier
   question(s) it follows appended as context: "Who ordered them? (follow-up to: Where were the strikes?)".
   The context is the most recent user question plus, while those were follow-ups too, the ones before it
   (at most three). Both retrievers use the added words: BM25 its terms, the embedding its meaning.
It is deliberately simple: no pronoun resolution, so the context words help retrieval rather than rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from assistant.text.markers import has_marker, strip_markers
from assistant.text.terms import terms
from assistant.types import Question

if TYPE_CHECKING:
    from assistant.types import Answer

MAX_CONTEXT_QUESTIONS = 3
_CONNECTIVE = re.compile(
    r"^\s*(?:and|but|so|also|or|then|plus|ok(?:ay)?|what\s+about|how\s+about|and\s+what\s+about)\b[\s,]*",
    re.IGNORECASE,
)
_POINTER = re.compile(r"\b(?:he|she|it|they|them|him|his|her|hers|its|their|theirs|this|these|those|"
                      r"the\s+same|the\s+former|the\s+latter)\b", re.IGNORECASE)
_END_POINTER = re.compile(r"\b(?:that|there|then)\s*[?.!]*\s*$", re.IGNORECASE)


@dataclass(kw_only=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str
    carried: tuple[str, ...] = ()  # a user turn that was a rewritten follow-up: the questions it carried


def normalize_history(history: Sequence[Any] | None) -> list[Turn]:
    """Turns from any of: OpenAI/gradio message dicts, (user, assistant) pairs, Answer objects, Turns, or plain
    strings (earlier questions of the user's)."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str):  # an earlier question of the user's, with no answer kept
            if item.strip():
                turns.append(Turn(role="user", content=item))
        elif isinstance(item, dict):
            content = item.get("content")
            if isinstance(content, list):  # multimodal content parts: keep the text parts
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            if isinstance(content, str) and content.strip() and item.get("role") in ("user", "assistant"):
                turns.append(Turn(role=item["role"], content=content))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            user, reply = item
            if isinstance(user, str) and user.strip():
                turns.append(Turn(role="user", content=user))
            if isinstance(reply, str) and reply.strip():
                turns.append(Turn(role="assistant", content=reply))
        elif hasattr(item, "question") and hasattr(item, "text"):  # an Answer
            asked = getattr(item, "standalone", None)
            if isinstance(asked, Question):
                turns.append(Turn(role="user", content=asked.asked, carried=asked.carried))
            elif item.question:
                turns.append(Turn(role="user", content=item.question))
            turns.append(Turn(role="assistant", content=item.text))
    return turns


def format_history(turns: list[Turn], max_turns: int, max_chars: int = 600) -> str:
    """The last turns as 'User: ...' / 'Assistant: ...' lines for the condense prompt, markers removed."""
    lines = []
    for turn in turns[-2 * max_turns:]:
        text = " ".join(strip_markers(turn.content).split())
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " ..."
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def is_follow_up(question: str) -> bool:
    """Does the question lean on the conversation (see the module docstring for the rule)?"""
    return bool(_CONNECTIVE.match(question) or _POINTER.search(question) or _END_POINTER.search(question)
                or not terms(question) or len(question.split()) <= 2)


def condense_heuristic(question: str, turns: list[Turn]) -> Question:
    """The offline rewrite of a follow-up into a standalone question (documented in the module docstring)."""
    question = " ".join(question.split())
    previous = [t for t in turns if t.role == "user"]
    if not previous or not is_follow_up(question):
        return Question(asked=question)
    context: list[str] = []
    for earlier in reversed(previous):
        base, carried = " ".join(earlier.content.split()), list(earlier.carried)
        context.append(_CONNECTIVE.sub("", base).strip() or base)
        if carried:  # an earlier rewrite already says what it followed
            context.extend(carried)
            break
        if not is_follow_up(base):
            break
    context = list(dict.fromkeys(context))[:MAX_CONTEXT_QUESTIONS]
    own = _CONNECTIVE.sub("", question).strip() or question
    own = own[0].upper() + own[1:]
    return Question(asked=own, carried=tuple(context))


def clean_condensed(text: str, fallback: Question) -> Question:
    """The LLM's rewrite, trimmed to the question (it stands alone: it carries nothing); the fallback when it
    gave nothing usable."""
    text = text.strip().strip("`").strip()
    text = re.sub(r"^(?:standalone\s+question\s*:|question\s*:)\s*", "", text, flags=re.IGNORECASE)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = line.strip('"“”').strip()
    if not line or len(line) > 600 or has_marker(line):
        return fallback
    return Question(asked=line)


class Asker(Protocol):
    """What a conversation needs from the assistant (`assistant.api.Assistant` is one): asking with a history.
    A protocol, not an import, so that this module stays below api.py."""

    def ask(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None) -> "Answer": ...

    def stream(self, question: str, history: Sequence[Any] | None = None,
               top_k: int | None = None) -> Iterator["str | Answer"]: ...


class ChatSession:
    """A conversation with the assistant: every turn's follow-up is rewritten, every turn's citations checked.

    >>> chat = ChatSession(assistant)
    >>> chat.ask("Where were the strikes?").text
    >>> chat.ask("and who ordered them?").question   # the standalone question that was retrieved for
    """

    def __init__(self, assistant: Asker, top_k: int | None = None) -> None:
        self.assistant = assistant
        self.top_k = top_k
        self.answers: list["Answer"] = []
        self._asked: list[str] = []  # what the user typed, turn by turn

    @property
    def history(self) -> list[dict[str, str]]:
        """The conversation as OpenAI/gradio-style messages (the user's own words, the answers' text)."""
        messages: list[dict[str, str]] = []
        for asked, answer in zip(self._asked, self.answers):
            messages.append({"role": "user", "content": asked})
            messages.append({"role": "assistant", "content": answer.text})
        return messages

    def ask(self, question: str) -> "Answer":
        answer = self.assistant.ask(question, history=self.history, top_k=self.top_k)
        self._record(question, answer)
        return answer

    def stream(self, question: str) -> Iterator["str | Answer"]:
        for item in self.assistant.stream(question, history=self.history, top_k=self.top_k):
            if not isinstance(item, str):
                self._record(question, item)
            yield item

    def _record(self, question: str, answer: "Answer") -> None:
        self._asked.append(question)
        self.answers.append(answer)

    def reset(self) -> None:
        self.answers.clear()
        self._asked.clear()
