"""The formats beyond text, HTML, PDF and Word: .pptx, .csv/.tsv, .xlsx, .epub become numbered paragraphs; slides
and PDF pages reach citations as "p. N" (CLI JSON and text). Real files, built here."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

from assistant.ingest.readers import SUPPORTED, Skipped, collect
from hostile_files import three_page_pdf
from cli_support import run


def only(path: Path):
    items = list(collect([path]))
    assert len(items) == 1, items
    assert not isinstance(items[0], Skipped), items[0]
    return items[0]


def deck(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    first = prs.slides.add_slide(prs.slide_layouts[1])
    first.shapes.title.text = "Marigold harbour plan"
    body = first.placeholders[1].text_frame
    body.text = "Dredging of the outer basin starts in March."
    body.add_paragraph().text = "The budget is four million euros."
    first.notes_slide.notes_text_frame.text = "Stress that the budget was approved."
    second = prs.slides.add_slide(prs.slide_layouts[5])
    second.shapes.title.text = "Schedule"
    box = second.shapes.add_textbox(Inches(1), Inches(1.5), Inches(8), Inches(1)).text_frame
    box.text = "The new ferry quay on Marigold island opens in October 2026."
    table = second.shapes.add_table(3, 2, Inches(1), Inches(3), Inches(6), Inches(1.5)).table
    for r, row in enumerate([["Work", "Cost"], ["Dredging", "1.2 million"], ["Quay", "2.8 million"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    prs.save(path)
    return path


def keepers_csv(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:  # Excel writes a BOM
        writer = csv.writer(fh)
        writer.writerow(["Lighthouse", "Keeper", "Built", "Notes"])
        writer.writerow(["Kelvara Point", "Hanna Voss", "1874", "granite tower, lamp electrified in 1931"])
        writer.writerow(["North Mole", "", "1902", ""])
        writer.writerow(["", "", "", ""])
        writer.writerow(["Sula Rock", "Piet Brandt", "1911", "reached by boat,\nonly in summer"])
    return path


def epub_file(path: Path, chapters: list[tuple[str, str]], title: str = "A small book",
              doctype: str = "") -> Path:
    """A minimal EPUB 3: container, package document (spine in reverse manifest order), nav, chapters."""
    manifest = "".join(f'<item id="c{n}" href="text/c{n}.xhtml" media-type="application/xhtml+xml"/>'
                       for n in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
    opf = (f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
           f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
           f'<dc:title>{title}</dc:title></metadata><manifest><item id="nav" href="nav.xhtml" '
           f'media-type="application/xhtml+xml" properties="nav"/>{manifest}</manifest>'
           f'<spine><itemref idref="nav"/>{spine}</spine></package>')
    nav = ('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><nav><ol>'
           + "".join(f"<li>{name}</li>" for name, _ in chapters) + "</ol></nav></body></html>")
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" xmlns='
                      '"urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path='
                      '"OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
        book.writestr("OEBPS/content.opf", opf)
        book.writestr("OEBPS/nav.xhtml", nav)
        for n, (name, body) in enumerate(chapters):
            book.writestr(f"OEBPS/text/c{n}.xhtml", f'<?xml version="1.0"?>{doctype}<html xmlns='
                          f'"http://www.w3.org/1999/xhtml"><head><title>{name}</title></head><body><section>'
                          f"<header><h1>{name}</h1></header>{body}</section></body></html>")
    return path


def test_the_new_formats_are_listed_for_the_cli_and_the_upload_box():
    assert {".pptx", ".csv", ".tsv", ".xlsx", ".epub"} <= set(SUPPORTED)
    assert ".pptx" in run(["ingest", "--help"], {}).stdout


def test_pptx_text_boxes_table_rows_and_notes_are_paragraphs_with_their_slide_as_page(tmp_path):
    doc = only(deck(tmp_path / "plan.pptx"))
    assert doc.title == "Marigold harbour plan"
    assert [(p.page, p.text) for p in doc.paragraphs] == [
        (1, "Marigold harbour plan"),
        (1, "Dredging of the outer basin starts in March.\nThe budget is four million euros."),
        (1, "Speaker notes: Stress that the budget was approved."),
        (2, "Schedule"),
        (2, "The new ferry quay on Marigold island opens in October 2026."),
        (2, "Work: Dredging | Cost: 1.2 million"),
        (2, "Work: Quay | Cost: 2.8 million")]
    for p in doc.paragraphs:
        assert doc.text[p.start:p.end] == p.text


def test_csv_rows_are_paragraphs_with_their_header(tmp_path):
    doc = only(keepers_csv(tmp_path / "keepers.csv"))
    assert doc.title == "keepers"
    assert [p.text for p in doc.paragraphs] == [
        "Lighthouse: Kelvara Point | Keeper: Hanna Voss | Built: 1874 | Notes: granite tower, lamp electrified in 1931",
        "Lighthouse: North Mole | Built: 1902",
        "Lighthouse: Sula Rock | Keeper: Piet Brandt | Built: 1911 | Notes: reached by boat, only in summer"]


def test_semicolon_csv_and_tsv_are_sniffed_or_known(tmp_path):
    (tmp_path / "prices.csv").write_text("Item;Price\nBread;2,10\nMilk;1,05\n", encoding="utf-8")
    (tmp_path / "towns.tsv").write_text("Town\tPeople\nKelvara\t1,204\n", encoding="utf-8")
    assert [p.text for p in only(tmp_path / "prices.csv").paragraphs] == ["Item: Bread | Price: 2,10",
                                                                           "Item: Milk | Price: 1,05"]
    assert [p.text for p in only(tmp_path / "towns.tsv").paragraphs] == ["Town: Kelvara | People: 1,204"]


def test_xlsx_rows_of_every_sheet_are_paragraphs_with_their_header(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "2024"
    first.append(["Region", "Revenue", None])
    first.append(["North", 12, "record year"])
    first.append(["South", 0.5, None])
    first.append([None, None, None])
    second = book.create_sheet("2025")
    second.append(["Region", "Revenue"])
    second.append(["East", 7])
    book.save(tmp_path / "revenue.xlsx")
    doc = only(tmp_path / "revenue.xlsx")
    assert [p.text for p in doc.paragraphs] == [
        "Region: North | Revenue: 12 | record year", "Region: South | Revenue: 0.5", "Region: East | Revenue: 7"]


def test_epub_chapters_in_spine_order_with_their_headings(tmp_path):
    path = epub_file(tmp_path / "voyage.epub", title="The voyage", chapters=[
        ("Departure", "<p>The ship left Kelvara at dawn.</p><p>Nobody waved.</p>"),
        ("Arrival", "<p>Sula Rock appeared on the third day.</p>")])
    doc = only(path)
    assert doc.title == "The voyage"
    assert [p.text for p in doc.paragraphs] == [
        "Departure", "The ship left Kelvara at dawn.", "Nobody waved.", "Arrival",
        "Sula Rock appeared on the third day."]


def test_html_furniture_is_not_indexed(tmp_path):
    path = tmp_path / "article.html"
    path.write_text("""<html><head><title>Harbour news</title></head><body>
      <header><a href="/">Kelvara Times</a> <nav><a>Home</a> <a>Sport</a></nav></header>
      <div id="cookie-banner"><p>We use cookies to improve your experience.</p><button>Accept</button></div>
      <main><article><header><h1>Quay opens</h1><p>By Ana Silva</p></header>
        <p>The ferry quay opened on Monday.</p><aside><p>Related: Lighthouse repairs</p></aside>
        <p hidden>Hidden teaser</p><p>It cost 2.8 million euros.</p></article></main>
      <footer><p>© 2025 Kelvara Times. All rights reserved.</p><p>Contact us</p></footer>
      <script>track()</script></body></html>""", encoding="utf-8")
    doc = only(path)
    assert [p.text for p in doc.paragraphs] == [
        "Quay opens", "By Ana Silva", "The ferry quay opened on Monday.", "It cost 2.8 million euros."]
    for p in doc.paragraphs:
        assert doc.text[p.start:p.end] == p.text


def test_page_without_main_keeps_its_content_but_not_its_navigation_or_copyright(tmp_path):
    path = tmp_path / "plain.html"
    path.write_text("<body><div role='navigation'>Menu</div><h2>Opening hours</h2><p>Daily 9 to 5.</p>"
                    "<table><tr><th>Day</th><th>Hours</th></tr><tr><td>Mon</td><td><b>closed</b></td></tr></table>"
                    "<table><tr><td><p>Layout cell one.</p></td><td><p>Layout cell two.</p></td></tr></table>"
                    "<ol><li>(c) Closed on holidays.</li></ol><p>Copyright 2025 Town hall</p><p>(c) 2025 Town hall</p>"
                    "</body>", encoding="utf-8")
    assert [p.text for p in only(path).paragraphs] == [
        "Opening hours", "Daily 9 to 5.", "Day | Hours", "Mon | closed", "Layout cell one.", "Layout cell two.",
        "(c) Closed on holidays."]  # a list label, not a copyright line


def test_pptx_csv_and_pdf_are_ingested_and_cited_with_their_page(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    deck(folder / "plan.pptx")
    keepers_csv(folder / "keepers.csv")
    three_page_pdf(folder / "survey.pdf", title="Lighthouse survey", pages=[
        "The survey covered three lighthouses on the northern coast.",
        "The Kelvara Point lamp was converted to solar power in 2019.",
        "All three towers need new paint before the winter storms."])
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CORPUS_DIR": str(tmp_path / "none")}
    assert "3 added" in run(["ingest", str(folder), "--quiet"], env).stdout

    def cited(question: str) -> dict:
        answer = json.loads(run(["ask", question, "--json"], env).stdout)
        assert not answer["refused"], answer
        return answer["citations"][0]

    quay = cited("When does the new ferry quay on Marigold island open?")
    assert (quay["doc_id"], quay["paragraph"], quay["page"]) == ("plan.pptx", 5, 2)
    keeper = cited("Who is the keeper of the Kelvara Point lighthouse?")
    assert keeper["doc_id"] == "keepers.csv" and keeper["paragraph"] == 1 and "Hanna Voss" in keeper["text"]
    solar = cited("When was the Kelvara Point lamp converted to solar power?")
    assert (solar["doc_id"], solar["paragraph"], solar["page"]) == ("survey.pdf", 2, 2)
    text = run(["ask", "When was the Kelvara Point lamp converted to solar power?"], env).stdout
    assert "Lighthouse survey ¶2, p. 2 (survey.pdf)" in text
