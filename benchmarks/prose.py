"""Generated prose for size and memory benchmarks: `write_prose(path, megabytes)` writes a plain-text file of
English-like paragraphs (seeded, so every run writes the same bytes). No dataset is copied: the words are drawn
from the small vocabulary below, in sentence patterns, so paragraphs look and tokenise like prose (3-9
sentences, about 60-200 words; one in twenty runs past the embedding model's 256 tokens and is cut into windows).

`write_prose_jsonl(path, megabytes)` writes the same prose as a JSON Lines corpus of short articles.

    python benchmarks/prose.py OUT.txt [--megabytes 50]      # OUT.jsonl: a JSON Lines corpus

Used by benchmarks/ingest_memory.py (peak memory of one huge file, or of one large corpus file) and the soak
benchmark.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SUBJECTS = ("the council", "the harbour master", "a committee of growers", "the railway company", "the old mill",
            "the district nurse", "the weather station", "a group of students", "the museum", "the ferry crew",
            "the regional court", "the mayor", "the cooperative bank", "a survey team", "the archive")
VERBS = ("recorded", "rebuilt", "questioned", "postponed", "inspected", "funded", "measured", "announced",
         "rejected", "extended", "repaired", "published", "doubled", "closed", "reopened")
OBJECTS = ("the northern bridge", "a new timetable", "the flood defences", "the grain market", "twelve barges",
           "the school roof", "its annual report", "the copper mine", "the coastal path", "the water supply",
           "a record harvest", "the winter festival", "the lighthouse", "the tram line", "the city walls")
WHEN = ("in the spring of {y}", "after the storm of {y}", "late in {y}", "during the census of {y}",
        "before the election of {y}", "in the dry summer of {y}", "on the first of March {y}")
WHY = ("because the costs had risen by {n} per cent", "after {n} residents signed a petition",
       "although only {n} people attended", "to save about {n} thousand crowns a year",
       "when {n} workers went on strike", "as {n} ships waited outside the harbour")


def sentence(rng: random.Random) -> str:
    text = (f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(WHEN).format(y=rng.randint(1850, 2024))}")
    if rng.random() < 0.6:
        text += " " + rng.choice(WHY).format(n=rng.randint(2, 95))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random) -> str:
    count = rng.randint(12, 20) if rng.random() < 0.05 else rng.randint(3, 9)
    return " ".join(sentence(rng) for _ in range(count))


def write_prose(path: Path, megabytes: float = 50.0, seed: int = 0) -> Path:
    """Write about `megabytes` MB of paragraphs separated by blank lines; returns the path."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    path = Path(path)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            block = "\n\n".join(paragraph(rng) for _ in range(200)) + "\n\n"
            out.write(block)
            written += len(block)
    return path


def write_prose_jsonl(path: Path, megabytes: float = 15.0, seed: int = 0) -> Path:
    """Write about `megabytes` MB of a JSON Lines corpus: one {"doc_id", "title", "text"} record per line, each a
    short article of 3-12 paragraphs of the prose above (seeded, the same bytes every run)."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    path = Path(path)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        number = 0
        while written < target:
            number += 1
            record = {"doc_id": f"article-{number:06d}", "title": f"Article {number}",
                      "text": "\n\n".join(paragraph(rng) for _ in range(rng.randint(3, 12)))}
            line = json.dumps(record) + "\n"
            out.write(line)
            written += len(line)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--megabytes", type=float, default=50.0)
    args = parser.parse_args()
    write = write_prose_jsonl if args.out.suffix == ".jsonl" else write_prose
    print(write(args.out, args.megabytes))
