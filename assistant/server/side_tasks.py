"""Open WebUI's side tasks, answered as tasks rather than as questions about the documents.

Open WebUI (and clients like it) send their own prompts through the same /v1/chat/completions route: a title for
the chat, tags, suggested follow-ups, queries for its own retrieval, autocompletion. Each is a user message that
starts "### Task:" and ends with the chat so far in <chat_history> (lines "USER: ..." / "ASSISTANT: ..."), and asks
for a JSON object. Answered as a question, each got "The documents do not say ...", so every chat was titled that.

Recognised here by the JSON key the prompt asks for (`{ "title": ... }`, `"tags"`, `"follow_ups"`, `"queries"`,
autocompletion's `"text"`), and answered offline in that shape:
- title: the first question's content words, at most five;
- tags: the titles of the documents the first question retrieves;
- follow_ups: questions about the names and rare terms of the paragraphs next to the ones the last answer cites;
- queries: the last question made standalone (a follow-up with what it follows), as the assistant searches it;
- autocompletion: nothing (`{"text": ""}`): the documents do not predict what a user types.
With an LLM configured, the prompt goes to the LLM as it is (the caller does that).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant.text.terms import STOPWORDS, Idf, terms

_KINDS = [("title", r'"title"\s*:'), ("tags", r'"tags"\s*:'), ("follow_ups", r'"follow_ups"\s*:'),
          ("queries", r'"queries"\s*:'), ("autocomplete", r"autocompletion system")]
_HISTORY = re.compile(r"<chat_history>\s*(.*?)\s*</chat_history>", re.DOTALL)
_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM):\s?", re.MULTILINE)
_NAME = re.compile(r"\b[A-Z][\w'’\-]+(?:\s+(?:of\s+|al-|de\s+)?[A-Z][\w'’\-]+)*")
TITLE_WORDS = 5


@dataclass
class SideTask:
    kind: str
    history: list[dict[str, str]]  # the chat the task is about, oldest first

    @property
    def questions(self) -> list[str]:
        return [m["content"] for m in self.history if m["role"] == "user"]

    @property
    def before_last_question(self) -> list[dict[str, str]]:
        """The conversation before its last question (what that question follows)."""
        last = max((i for i, m in enumerate(self.history) if m["role"] == "user"), default=0)
        return [m for m in self.history[:last] if m["role"] in ("user", "assistant")]


def recognise(text: str) -> SideTask | None:
    """The side task this user message is, or None for a question."""
    head = text.lstrip()
    if not head.startswith("### Task:") and "<chat_history>" not in text:
        return None
    kind = next((name for name, pattern in _KINDS if re.search(pattern, text)), None)
    if kind is None:
        return None
    found = _HISTORY.search(text)
    history: list[dict[str, str]] = []
    if found:
        parts = _TURN.split(found.group(1))
        for role, content in zip(parts[1::2], parts[2::2]):
            if content.strip():
                history.append({"role": role.lower(), "content": content.strip()})
    return SideTask(kind, history)


def title(question: str) -> str:
    words = [w for w in re.findall(r"[\w'’\-]+", question) if w.lower() not in STOPWORDS]
    picked = words[:TITLE_WORDS] or ["Questions about the documents"]
    return " ".join(w if w[:1].isupper() else w.capitalize() for w in picked)


def tags(titles: list[str]) -> list[str]:
    """The names in the titles of the documents a chat draws on (a title that names none: its first words)."""
    found: list[str] = []
    for text in titles:
        names = [n for n in _NAME.findall(text) if n.lower() not in STOPWORDS]
        found += names[1:] if names and text.startswith(names[0]) and len(names) > 1 else names
        if not names:
            found.append(" ".join(text.split()[:3]).rstrip("…,.:"))
    return list(dict.fromkeys(t for t in found if t))[:5] or ["General"]


def follow_ups(assistant, task: SideTask) -> list[str]:
    """Questions about what stands next to the paragraphs the last answer cites: a name there, or its rarest
    word, that the conversation has not mentioned yet."""
    answer = assistant.ask(task.questions[-1], history=task.before_last_question or None, mode="offline")
    said = set(terms(" ".join(m["content"] for m in task.history)))
    idf = assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    asked: list[str] = []
    for cited in answer.citations or answer.contexts[:2]:
        for neighbour in assistant.paragraphs(cited.doc_id, cited.paragraph, context=1):
            if neighbour.number == cited.paragraph:
                continue
            names = [n for n in _NAME.findall(neighbour.text)[1:] if not set(terms(n)) <= said]  # [0]: sentence start
            if names:
                asked.append(f"What do the documents say about {names[0]}?")
                continue
            rare = sorted((t for t in set(terms(neighbour.text)) - said), key=idf, reverse=True)
            word = next((w for w in re.findall(r"[\w'’\-]+", neighbour.text) if terms(w) and terms(w)[0] == rare[0]),
                        None) if rare else None
            if word:
                asked.append(f"What do the documents say about {word}?")
    return list(dict.fromkeys(asked))[:5]


def answer(task: SideTask, assistant) -> str:
    """The JSON the task's prompt asks for."""
    from assistant.conversation import condense_heuristic, normalize_history

    questions = task.questions
    if task.kind == "autocomplete":
        return json.dumps({"text": ""})
    if not questions:
        empty = {"title": {"title": "New chat"}, "tags": {"tags": ["General"]}}
        return json.dumps(empty.get(task.kind, {task.kind: []}))
    if task.kind == "title":
        return json.dumps({"title": title(questions[0])}, ensure_ascii=False)
    if task.kind == "tags":
        titles = list(dict.fromkeys(c.title for c in assistant.retrieve(questions[0])))[:3]
        return json.dumps({"tags": tags(titles)}, ensure_ascii=False)
    if task.kind == "queries":
        turns = normalize_history(task.before_last_question)
        return json.dumps({"queries": [condense_heuristic(questions[-1], turns).text]}, ensure_ascii=False)
    return json.dumps({"follow_ups": follow_ups(assistant, task)}, ensure_ascii=False)
