"""Training examples for the decline model: questions the documents answer, and three kinds they do not.

Everything comes from SQuAD 2.0 *train* questions (../shared/datasets/squad2_train.qa.jsonl) and the corpora
they are asked against; the dev questions (squad2_dev, news_dev) are never read here.

- answerable   an answerable train question over the squad2_dev corpus (its gold paragraph is indexed).
- near_topic   the same question with its gold paragraph(s) hidden from retrieval; the rest of the article stays
               indexed. A question whose answer string still appears in a retrieved paragraph is left out
               (the documents may well answer it elsewhere: the label would be a guess).
- off_corpus   a train question (answerable or not) asked against a corpus that is not about it: the news_dev
               corpus (news articles) and "squad2_other" (the nine Wikipedia articles of the squad2_dev corpus
               that no SQuAD question here is about: Construction, Ctenophora, Geology, ...).
- adversarial  SQuAD 2.0's own unanswerable train questions, over the squad2_dev corpus.

With `load(heldout=True)` (tune_answerer's `--heldout-articles`) the questions of the reader's 12 held-out
squad2_train_large articles are added, asked over the squad2_dev corpus plus those articles (`heldout_set`):
1,698 answerable, 561 adversarial and their near-topic and off-corpus negatives. Measured, not shipped
(assistant/data/answerability.md says why).

Why hide instead of re-index: retrieving top_k + (hidden paragraphs) and dropping the hidden ones gives the
ranking the cut corpus would give, up to BM25's corpus statistics, in milliseconds instead of an index per
question. benchmarks/declines.py measures on a really cut corpus.

Every example goes through the real retrieval (hybrid, top_k 5) and carries its question vector and contexts, so
the answerer's own feature code computes its features. The retrieval results are cached on disk
(benchmarks/.cache/answerability/examples.pkl, keyed by the corpora's index revision) so that trying a feature
costs seconds, not minutes.
"""

from __future__ import annotations

import json
import pickle
import random
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import _common as c

KINDS = ("answerable", "near_topic", "off_corpus", "adversarial")
CACHE_FILE = c.CACHE / "answerability" / "examples.pkl"
SEED = 13
QUESTION_ARTICLES = {"1973_oil_crisis", "European_Union_law", "Harvard_University", "Huguenot", "Islamism",
                     "Normans", "Packet_switching", "Yuan_dynasty"}  # the articles squad2 questions are about
HELDOUT_CORPUS = "squad2_heldout"  # the squad2_dev corpus plus the reader's held-out articles (`heldout_set`)
HELDOUT_CORPUS_FILE = c.CACHE / "answerability" / f"{HELDOUT_CORPUS}.corpus.jsonl"


@dataclass
class Example:
    question: str
    label: int  # 1: the documents answer it
    kind: str
    corpus: str
    article: str  # the SQuAD article the question was written about (cross-validation folds)
    answers: list[str]
    vector: object = field(repr=False)
    contexts: list = field(repr=False)
    gold: set = field(default_factory=set)  # (doc_id, paragraph) of gold paragraphs in this corpus
    qid: str = ""


def other_articles_corpus(folder: Path) -> Path:
    """The squad2_dev corpus's articles that no SQuAD question in the datasets is about."""
    out = c.CACHE / "answerability" / "squad2_other.corpus.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    docs = [d for d in c.read_jsonl(folder / "squad2_dev.corpus.jsonl")
            if d["doc_id"].split(":", 1)[1] not in QUESTION_ARTICLES]
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out


def heldout_articles() -> list[str]:
    """The squad2_train_large articles the reader never trained on (its card, assistant/data/reader.json)."""
    return json.loads((c.ROOT / "assistant" / "data" / "reader.json").read_text())["heldout"]["articles"]


def heldout_set(folder: Path) -> tuple[Path, list[dict]]:
    """The reader's held-out articles as a second set of train questions: (a corpus file holding the squad2_dev
    corpus plus those articles, one document each, a SQuAD paragraph a paragraph; their questions, in the form of
    squad2_train.qa.jsonl). Twelve more articles for the decline model, whose eight would otherwise be all it
    sees (the reader's features on them are honest: it never trained on them)."""
    import gzip

    titles = set(heldout_articles())
    with gzip.open(folder / "squad2_train_large.json.gz", "rt", encoding="utf-8") as fh:
        articles = [a for a in json.load(fh)["data"] if a["title"] in titles]
    docs = c.read_jsonl(folder / "squad2_dev.corpus.jsonl")
    questions = []
    for article in sorted(articles, key=lambda a: a["title"]):
        doc_id = f"squad2:{article['title']}"
        contexts = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        docs.append({"doc_id": doc_id, "title": article["title"].replace("_", " "), "text": "\n\n".join(contexts),
                     "source": "squad2_train_large"})
        for paragraph, context in zip(article["paragraphs"], contexts):
            for q in paragraph["qas"]:
                answerable = bool(q["answers"]) and not q.get("is_impossible")
                questions.append({"id": f"heldout-{q['id']}", "question": q["question"],
                                  "answers": sorted({a["text"] for a in q["answers"]}) if answerable else [],
                                  "evidence": [{"doc_id": doc_id, "quote": context}] if answerable else [],
                                  "answerable": answerable, "meta": {"article": article["title"]}})
    HELDOUT_CORPUS_FILE.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    if not HELDOUT_CORPUS_FILE.is_file() or HELDOUT_CORPUS_FILE.read_text(encoding="utf-8") != text:
        HELDOUT_CORPUS_FILE.write_text(text, encoding="utf-8")
    return HELDOUT_CORPUS_FILE, questions


def retrieve_without(assistant, text: str, vector, hidden: set) -> list:
    """The top_k contexts as if the `hidden` paragraphs were not indexed."""
    from assistant.retrieval.fusion import retrieve

    s = assistant.settings
    contexts = retrieve(assistant.index, text, vector, s.top_k + len(hidden), s.candidates, s.rrf_k)
    return [ctx for ctx in contexts if (ctx.doc_id, ctx.paragraph) not in hidden][:s.top_k]


def _folded(text: str) -> str:
    from assistant.evaluation.metrics import normalize_answer

    return f" {normalize_answer(text)} "


def build(folder: Path, heldout: bool = False) -> list[Example]:
    others = c.assistant_for(other_articles_corpus(folder), name="squad2_other")
    news = c.assistant_for(folder / "news_dev.corpus.jsonl")
    sets = [("squad2_dev", c.assistant_for(folder / "squad2_dev.corpus.jsonl"),
             c.read_jsonl(folder / "squad2_train.qa.jsonl"))]
    if heldout:
        corpus_file, questions = heldout_set(folder)
        sets.append((HELDOUT_CORPUS, c.assistant_for(corpus_file, name=HELDOUT_CORPUS), questions))
    rng = random.Random(SEED)
    out: list[Example] = []
    for corpus, squad, questions in sets:
        out += build_set(corpus, squad, questions, others, news, rng)
    return out


def build_set(corpus: str, squad, questions: list[dict], others, news, rng: random.Random) -> list[Example]:
    """The examples of one set of questions, asked over `squad` (the corpus holding their articles)."""
    texts = [" ".join(q["question"].split()) for q in questions]
    vectors = squad.embedder.embed(texts)  # once: the examples (vectors included) are cached whole by `load`
    out: list[Example] = []
    for q, text, vector in zip(questions, texts, vectors):
        article = q["meta"]["article"]

        def example(label, kind, corpus, contexts, gold=frozenset()):
            return Example(text, label, kind, corpus, article, q["answers"], vector, contexts, set(gold), q["id"])

        if q["answerable"]:
            gold = c.gold_keys(squad, q)
            out.append(example(1, "answerable", corpus, retrieve_without(squad, text, vector, set()), gold))
            contexts = retrieve_without(squad, text, vector, gold)
            answers = [_folded(a) for a in q["answers"] if _folded(a).strip()]
            if not any(a in _folded(ctx.text) for ctx in contexts for a in answers):
                out.append(example(0, "near_topic", corpus, contexts))
        else:
            out.append(example(0, "adversarial", corpus, retrieve_without(squad, text, vector, set())))
        # off-corpus: every question once, against one of the two foreign corpora (alternating at random)
        foreign, name = (news, "news_dev") if rng.random() < 0.5 else (others, "squad2_other")
        out.append(example(0, "off_corpus", name, retrieve_without(foreign, text, vector, set())))
    return out


_IDF: dict = {}


def idf_for(corpus: str):
    """The IDF table of one of the example corpora (as the answerer computes it over that index)."""
    if corpus not in _IDF:
        from assistant.text.terms import Idf

        folder = c.datasets_dir()
        if corpus == "squad2_other":
            assistant = c.assistant_for(other_articles_corpus(folder), name=corpus)
        elif corpus == HELDOUT_CORPUS:  # written by `heldout_set` when its examples were built
            corpus_file = HELDOUT_CORPUS_FILE if HELDOUT_CORPUS_FILE.is_file() else heldout_set(folder)[0]
            assistant = c.assistant_for(corpus_file, name=corpus)
        else:
            assistant = c.assistant_for(folder / f"{corpus}.corpus.jsonl")
        _IDF[corpus] = assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    return _IDF[corpus]


def load(folder: Path | None = None, heldout: bool = False) -> list[Example]:
    """The examples, from the cache when the corpora's indexes have not changed since it was written. `heldout`:
    add the questions of the reader's held-out articles (`heldout_set`; tune_answerer's `--heldout-articles`)."""
    folder = folder or c.require("squad2_train.qa.jsonl", "squad2_dev.corpus.jsonl", "news_dev.corpus.jsonl")
    key = {"train": (folder / "squad2_train.qa.jsonl").stat().st_size, "seed": SEED,
           "heldout": heldout_articles() if heldout else None}
    cache_file = CACHE_FILE.with_name("examples-heldout.pkl") if heldout else CACHE_FILE
    if cache_file.is_file():
        try:
            with cache_file.open("rb") as fh:
                cached = pickle.load(fh)
        except (ImportError, AttributeError, EOFError, pickle.UnpicklingError) as exc:  # written by older code
            print(f"rebuilding {cache_file} ({type(exc).__name__}: {exc})")
            cached = {}
        if cached.get("key") == key:
            return [Example(**fields) for fields in cached["examples"]]
    examples = build(folder, heldout)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    with cache_file.open("wb") as fh:
        pickle.dump({"key": key, "examples": [vars(e) for e in examples]}, fh)  # plain dicts: any importer reads them
    return examples


if __name__ == "__main__":
    from collections import Counter

    data = load()
    print(Counter((e.kind, e.corpus) for e in data))
