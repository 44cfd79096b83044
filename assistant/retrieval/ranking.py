"""What a retriever hands to fusion: chunks in rank order, as paragraph keys, with each paragraph's best score."""

from __future__ import annotations

from dataclasses import dataclass, field

Key = tuple[str, int]  # (doc_id, paragraph number)


@dataclass
class Ranking:
    """One retriever's answer. `keys` repeats a paragraph once per chunk that ranked; `scores` keeps the best."""

    keys: list[Key] = field(default_factory=list)
    scores: dict[Key, float] = field(default_factory=dict)

    def add(self, key: Key, score: float) -> None:
        self.keys.append(key)
        self.scores[key] = max(self.scores.get(key, score), score)

    def paragraph_ranks(self) -> dict[Key, int]:
        """Each paragraph's rank among paragraphs: that of its best chunk, so a long paragraph split for the
        embedding model competes as one paragraph."""
        ranks: dict[Key, int] = {}
        for key in self.keys:
            ranks.setdefault(key, len(ranks))
        return ranks

