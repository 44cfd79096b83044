"""The offline answerer never quotes a document's furniture (headings, captions, menus, copyright lines) as an
answer, but does quote a table row, whose cells state facts."""

from __future__ import annotations

from assistant.answering.extractive.quotable import is_furniture, is_heading

PAGE = """# Iran takes root in eastern Syria

Home | News | World | Contact us

Table 2: Strikes on Deir al-Zour by month

Iran has recruited local Syrians for allied militias in Deir al-Zour, paying them in cash and food.

Copyright 2022 The Daily Example. All rights reserved.
"""


def test_furniture_and_table_rows_are_told_apart():
    assert is_heading("# Iran takes root in eastern Syria") and is_heading("Iran takes root in eastern Syria")
    assert is_furniture("Home | News | World | Contact us")
    assert is_furniture("Table 2: Strikes on Deir al-Zour by month")
    assert is_furniture("Copyright 2022 The Daily Example. All rights reserved.")
    assert not is_furniture("Lighthouse: Kelvara Point | Keeper: Hanna Voss | Built: 1874")
    assert not is_furniture("Iran has recruited local Syrians for allied militias in Deir al-Zour.")


def test_the_answer_quotes_the_sentence_not_the_heading(make_assistant, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "page.md").write_text(PAGE, encoding="utf-8")
    assistant = make_assistant()
    assistant.ingest([folder])
    answer = assistant.ask("Where does Iran take root in Syria by recruiting militias?")
    assert not answer.refused and answer.citations[0].quote.startswith("Iran has recruited local Syrians"), answer.text
    lead = f"{answer.span.text} — " if answer.span and not answer.text.startswith("Iran") else ""
    assert answer.text.startswith(lead + "Iran has recruited local Syrians"), answer.text  # after the exact span
    quoted = " ".join(c.quote for c in answer.citations)
    for furniture in ("takes root in eastern Syria", "Contact us", "Table 2", "Copyright"):
        assert furniture not in quoted
