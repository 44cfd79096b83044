"""Suite files: the shipped suites load and map to the right paragraphs; the three formats agree; every kind of
malformed row gets an error naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.evidence import map_evidence, match_quote
from assistant.evaluation.suites import SuiteError, load_suite
from assistant.types import Document
from assistant.ingest.readers import collect

ROOT = Path(__file__).resolve().parents[3]
SUITES = ROOT / "benchmarks" / "suites"
SEED_SUITE = SUITES / "seed_article.qa.jsonl"
SQUAD_SUITE = SUITES / "squad2_subset.qa.jsonl"
SEED_DOC = "000_f1b9941059cdcad5.txt"


def documents(corpus: Path) -> list[Document]:
    return [d for d in collect([corpus]) if isinstance(d, Document)]


@pytest.fixture(scope="module")
def seed_docs():
    return documents(ROOT / "seeds")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(tmp_path: Path, rows: list, name: str = "s.jsonl") -> Path:
    return write(tmp_path, name, "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def problems_of(path: Path) -> list[tuple]:
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    for f, _line, fld, msg in info.value.problems:  # every problem names the file and the field
        assert f == str(path) and fld and msg
    return info.value.problems


# --- the shipped suites ------------------------------------------------------------------------------------
def test_seed_suite_loads_and_its_quotes_map_to_the_numbered_paragraphs(seed_docs):
    suite = load_suite(SEED_SUITE)
    assert len(suite.cases) == 60 and suite.answerable == 42
    follow_ups = [c for c in suite.cases if c.history]
    assert len(follow_ups) >= 10 and all(t["role"] == "user" for c in follow_ups for t in c.history)
    assert suite.corpus_path() == (ROOT / "seeds").resolve()  # "seeds/" found in a parent of the suite's folder
    keys = map_evidence(suite, seed_docs)
    for case in suite.cases:  # the suite's meta.paragraphs were numbered by hand: the text match must agree
        assert keys[case.id] == [(SEED_DOC, n) for n in case.meta.get("paragraphs", [])], case.id


def test_squad_subset_is_shipped_with_its_licence_and_maps_completely():
    suite = load_suite(SQUAD_SUITE)
    assert suite.name == "squad2_subset" and len(suite.cases) == 40
    assert 0 < suite.answerable < 40  # answerable and unanswerable questions
    assert suite.info["licence"] == "CC BY-SA 4.0" and "Rajpurkar" in suite.info["attribution"]
    assert all(c.meta["licence"] == "CC BY-SA 4.0" for c in suite.cases)
    corpus = suite.corpus_path()
    assert corpus == (SUITES / "squad2_subset.corpus.jsonl").resolve()
    docs = documents(corpus)
    assert all("CC BY-SA 4.0" in json.loads(line)["source"] for line in corpus.read_text().splitlines())
    keys = map_evidence(suite, docs, corpus)
    for case in suite.cases:
        assert len(keys[case.id]) == (1 if case.answerable else 0), case.id  # each quote is one whole paragraph
    readme = (SUITES / "README.md").read_text()
    assert "CC BY-SA 4.0" in readme and "Rajpurkar" in readme


def test_no_news_data_is_shipped():
    news = ROOT.parent / "shared" / "datasets" / "news_dev.corpus.jsonl"  # beside the checkout, as on CI
    if not news.is_file():
        pytest.skip("the shared news data set is not on this machine")
    first_paragraph = json.loads(news.read_text().splitlines()[0])["text"].split("\n\n")[0]
    for path in SUITES.iterdir():
        assert first_paragraph not in path.read_text(encoding="utf-8", errors="ignore"), path


# --- the three formats ---------------------------------------------------------------------------------------
def test_csv_and_yaml_suites_mean_the_same_as_jsonl(tmp_path, seed_docs):
    para2 = next(p.text for d in seed_docs for p in d.paragraphs if p.number == 2)
    jl = jsonl(tmp_path, [
        {"id": "q1", "question": "Where?", "answers": ["Deir al-Zour", "Syria"], "answerable": True,
         "evidence": [{"doc_id": SEED_DOC, "quote": para2}]},
        {"id": "q2", "question": "Who won in 2030?", "answers": [], "evidence": [], "answerable": False},
    ])
    csv = write(tmp_path, "s.csv", "id,question,answers,answerable,doc_id,paragraph,quote\n"
                                   f"q1,Where?,Deir al-Zour|Syria,yes,{SEED_DOC},2,\n"
                                   "q2,Who won in 2030?,,false,,,\n")
    yml = write(tmp_path, "s.yaml", f"""
name: hand-written
corpus: {ROOT / "seeds"}
licence: CC0
questions:
  - id: q1
    question: Where?
    answers: [Deir al-Zour, Syria]
    evidence: [{{doc_id: {SEED_DOC}, paragraph: 2}}]
  - id: q2
    question: Who won in 2030?
    answerable: false
""")
    mapped = []
    for path in (jl, csv, yml):
        suite = load_suite(path)
        assert [(c.id, c.question, c.answers, c.answerable) for c in suite.cases] == [
            ("q1", "Where?", ["Deir al-Zour", "Syria"], True), ("q2", "Who won in 2030?", [], False)]
        mapped.append(map_evidence(suite, seed_docs))
    assert mapped[0] == mapped[1] == mapped[2] == {"q1": [(SEED_DOC, 2)], "q2": []}
    yaml_suite = load_suite(yml)
    assert yaml_suite.name == "hand-written" and yaml_suite.info == {"licence": "CC0"}
    assert yaml_suite.corpus_path() == (ROOT / "seeds").resolve()


def test_history_makes_a_question_a_follow_up_in_every_format(tmp_path):
    jl = jsonl(tmp_path, [
        {"id": "q1", "question": "And Loveluck?", "answers": ["Baghdad"], "history": ["Where did Pannett report from?"]},
        {"id": "q2", "question": "And Loveluck?", "answers": ["Baghdad"], "history": [
            {"role": "user", "content": "Where did Pannett report from?"}, {"role": "assistant", "content": "Sydney."}]},
    ])
    csv = write(tmp_path, "s.csv", "id,question,answers,history\nq1,And Loveluck?,Baghdad,Where did Pannett report from?\n")
    first = {"role": "user", "content": "Where did Pannett report from?"}
    assert load_suite(jl).cases[0].history == [first] == load_suite(csv).cases[0].history
    assert load_suite(jl).cases[1].history == [first, {"role": "assistant", "content": "Sydney."}]
    bad = jsonl(tmp_path, [{"question": "q?", "answers": ["a"], "history": "not a list"},
                           {"question": "q?", "answers": ["a"], "history": [{"role": "system", "content": "x"}]}],
                name="bad.qa.jsonl")
    with pytest.raises(SuiteError) as err:
        load_suite(bad)
    assert [(line, fld) for _, line, fld, _ in err.value.problems] == [(1, "history"), (2, "history[0]")]


def test_sidecar_names_corpus_and_licence(tmp_path):
    jsonl(tmp_path, [{"question": "q?", "answers": ["a"]}], name="mine.qa.jsonl")
    (tmp_path / "corpus").mkdir()
    write(tmp_path, "mine.suite.json", json.dumps({"name": "Mine", "corpus": "corpus", "license": "MIT"}))
    suite = load_suite(tmp_path / "mine.qa.jsonl")
    assert suite.name == "Mine" and suite.info == {"licence": "MIT"}
    assert suite.corpus_path() == (tmp_path / "corpus").resolve()
    assert suite.cases[0].id == "line-1"  # rows without an id are named by their line
    assert suite.corpus_path(tmp_path) == tmp_path.resolve()  # --corpus wins


def test_corpus_problems(tmp_path):
    suite = load_suite(jsonl(tmp_path, [{"question": "q?", "answers": ["a"]}]))
    with pytest.raises(SuiteError, match="names no corpus"):
        suite.corpus_path()
    with pytest.raises(FileNotFoundError, match="corpus not found"):
        suite.corpus_path(tmp_path / "missing")
    named = load_suite(jsonl(tmp_path, [{"question": "q?", "answers": ["a"], "meta": {"corpus": "nowhere-xyz/"}}],
                             name="n.jsonl"))
    with pytest.raises(FileNotFoundError, match="nowhere-xyz"):
        named.corpus_path()


# --- malformed files ----------------------------------------------------------------------------------------
def test_malformed_jsonl_names_file_line_and_field(tmp_path):
    path = jsonl(tmp_path, [
        {"id": "ok", "question": "fine?", "answers": ["yes"]},
        '{"question": "broken", ',
        {"id": "a", "answers": ["x"]},
        {"id": "b", "question": "q", "answers": "fine as one string", "answer": ["typo"]},
        {"id": "c", "question": "q", "answers": [1, ""]},
        {"id": "d", "question": "q", "answers": ["x"], "answerable": "yes"},
        {"id": "e", "question": "q", "answers": ["x"], "answerable": False},
        {"id": "f", "question": "q", "answerable": True},
        {"id": "g", "question": "q", "evidence": [{"quote": "text"}, {"doc_id": "d", "quote": "t", "paragraph": 2},
                                                   {"doc_id": "d"}, {"doc_id": "d", "paragraph": 0}, "x"]},
        {"id": "ok", "question": "again?", "answers": ["yes"]},
        ["not", "an", "object"],
        {"id": "h", "question": "q", "answers": ["x"], "meta": {"corpus": "one/"}},
        {"id": "i", "question": "q", "answers": ["x"], "meta": {"corpus": "two/"}},
    ])
    found = {(line, fld) for _, line, fld, _ in problems_of(path)}
    assert found == {
        (2, "json"), (3, "question"), (4, "answer"), (5, "answers"), (6, "answerable"), (7, "answerable"),
        (8, "answerable"), (9, "evidence[0].doc_id"), (9, "evidence[1]"), (9, "evidence[2]"),
        (9, "evidence[3].paragraph"), (9, "evidence[4]"), (10, "id"), (11, "row"), (13, "meta.corpus"),
    }
    message = str(pytest.raises(SuiteError, load_suite, path).value)
    assert f"{path}:4: answer: unknown field 'answer' (did you mean 'answers'?)" in message
    assert f"{path}:10: id: 'ok' is already used on line 1" in message


def test_malformed_csv_and_yaml(tmp_path):
    bad_header = write(tmp_path, "h.csv", "id,question,answer\nq1,Where?,x\n")
    assert [(line, fld) for _, line, fld, _ in problems_of(bad_header)] == [(1, "answer")]
    bad_rows = write(tmp_path, "r.csv", "question,answers,answerable,doc_id,paragraph\n"
                                        "Where?,x,maybe,,\n"
                                        ",x,,,\n"
                                        "Which?,x,true,doc,two\n")
    assert {(line, fld) for _, line, fld, _ in problems_of(bad_rows)} == {
        (2, "answerable"), (3, "question"), (4, "evidence[0].paragraph")}
    syntax = write(tmp_path, "y.yaml", "questions:\n  - question: [unclosed\n    answers: x\n")
    assert problems_of(syntax)[0][2] == "yaml"
    fields = write(tmp_path, "f.yaml", "corpuss: x\nquestions:\n  - question: fine?\n    answers: [a]\n"
                                       "  - question: ''\n    answers: [a]\n")
    assert {(line, fld) for _, line, fld, _ in problems_of(fields)} == {(1, "corpuss"), (5, "question")}
    assert "did you mean 'corpus'" in str(pytest.raises(SuiteError, load_suite, fields).value)
    not_a_list = write(tmp_path, "n.yaml", "just a string\n")
    assert problems_of(not_a_list)[0][2] == "file"


def test_unusable_files(tmp_path):
    assert problems_of(write(tmp_path, "empty.jsonl", "\n\n"))[0][3] == "the suite has no questions"
    assert "unknown suite format" in problems_of(write(tmp_path, "s.txt", "x"))[0][3]
    (tmp_path / "latin1.jsonl").write_bytes('{"question": "caf\xe9"}'.encode("latin-1"))
    assert "not UTF-8" in problems_of(tmp_path / "latin1.jsonl")[0][3]
    with pytest.raises(FileNotFoundError):
        load_suite(tmp_path / "missing.jsonl")
    jsonl(tmp_path, [{"question": "q?", "answers": ["a"]}], name="x.qa.jsonl")
    write(tmp_path, "x.suite.json", "[1, 2]")
    with pytest.raises(SuiteError) as info:
        load_suite(tmp_path / "x.qa.jsonl")
    assert info.value.problems[0][:3] == (str(tmp_path / "x.suite.json"), None, "file")


def test_evidence_that_matches_no_paragraph_is_an_error(tmp_path, seed_docs):
    path = jsonl(tmp_path, [
        {"id": "a", "question": "q", "evidence": [{"doc_id": "000_f1b9941059cdcad5.tx", "quote": "x"}]},
        {"id": "b", "question": "q", "evidence": [{"doc_id": SEED_DOC, "quote": "Words that are not in it."}]},
        {"id": "c", "question": "q", "evidence": [{"doc_id": SEED_DOC, "paragraph": 999}]},
    ])
    with pytest.raises(SuiteError) as info:
        map_evidence(load_suite(path), seed_docs, "seeds/")
    assert [(p[1], p[2]) for p in info.value.problems] == [
        (1, "evidence[0].doc_id"), (2, "evidence[0].quote"), (3, "evidence[0].paragraph")]
    assert f"did you mean '{SEED_DOC}'" in str(info.value)
    assert "past the end" in str(info.value)


def test_quote_matching_falls_back_from_exact_to_containment():
    doc = next(d for d in collect([ROOT / "seeds"]) if isinstance(d, Document))
    p2, p3 = doc.paragraphs[1].text, doc.paragraphs[2].text
    assert match_quote(p2, doc) == [2]  # exact
    assert match_quote("  " + p2.replace(" ", "\n  ") + "\n", doc) == [2]  # whitespace differs
    sentence = p3.split(". ")[0]
    assert match_quote(sentence, doc) == [3]  # a sentence of the paragraph
    assert match_quote(p2 + "\n\n" + p3, doc) == [2, 3]  # a quote spanning two paragraphs
    assert match_quote("No such text anywhere.", doc) == []
