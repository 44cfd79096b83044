"""CSS and the one small script of the web UI (served inline: the page loads nothing from outside the server)."""

CSS = """
.gradio-container { max-width: 1400px !important; }
#app-header h1 { margin: 0 0 2px 0; font-size: 1.6rem; font-weight: 600; }
#app-header p { margin: 0; color: var(--body-text-color-subdued); }
#status-line { font-size: .85rem; color: var(--body-text-color-subdued); text-align: right; align-self: flex-end; }
#new-chat, #ask-button { white-space: nowrap; }
#chatbot .answer { line-height: 1.55; }
#chatbot .declined { font-style: italic; color: var(--body-text-color-subdued); }
#chatbot .error { color: var(--error-text-color, #b91c1c); }
a.cite { display: inline-block; min-width: 1.35em; padding: 0 .35em; margin: 0 1px; border-radius: 9px;
  font-size: .75em; line-height: 1.5; font-weight: 600; text-align: center; vertical-align: super;
  text-decoration: none !important; background: var(--color-accent-soft); color: var(--color-accent) !important;
  border: 1px solid var(--color-accent); cursor: pointer; }
a.cite:hover { background: var(--color-accent); color: white !important; }
a.cite.unverified { border-style: dashed; background: #fff4e5; color: #9a5b00 !important; border-color: #d98e04; }
.cite-list { margin-top: .5em; font-size: .8em; color: var(--body-text-color-subdued); }
.cite-list a.cite-ref { text-decoration: none !important; color: inherit !important; cursor: pointer; }
.cite-list a.cite-ref b { color: var(--color-accent); }
.cite-list a.cite-ref:hover { text-decoration: underline !important; }
.warn { color: #9a5b00; }
/* The panel grows with what it holds (gradio gives the block a fixed height and visible overflow, so a second
   card and the earlier answers used to spill past its border); the page scrolls instead. */
#sources-box { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 12px;
  background: var(--background-fill-secondary); min-height: 300px; height: auto !important;
  max-height: none !important; }
.src-doc-group { margin: 0 0 12px 0; }
.src-doc-head { display: flex; flex-direction: column; margin: 0 0 6px 2px; }
.src-doc-head .src-doc { margin: 0; }
#sources-title h3 { margin: 0; }
.muted p, .src-empty, .muted { color: var(--body-text-color-subdued); font-size: .9rem; }
.src-question { font-weight: 600; margin-bottom: 8px; }
.src-question.pending { font-weight: 400; color: var(--body-text-color-subdued); }
.src-meta { font-weight: 400; font-size: .8rem; color: var(--body-text-color-subdued); }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px; margin: 0 0 10px 0;
  background: var(--background-fill-primary); transition: box-shadow .3s, border-color .3s; scroll-margin: 12px; }
.src-card.is-target { border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); }
.src-card.unverified { border-color: #d98e04; border-style: dashed; }
.src-head { display: flex; gap: 8px; align-items: baseline; }
.src-marker { background: var(--color-accent); color: white; border-radius: 9px; padding: 0 .5em; font-size: .8rem;
  font-weight: 700; }
.src-title { font-weight: 600; overflow-wrap: anywhere; }
.src-para-no { margin-left: auto; font-size: .85rem; color: var(--body-text-color-subdued); white-space: nowrap; }
.src-doc { font-size: .75rem; color: var(--body-text-color-subdued); margin: 2px 0 6px 0; overflow-wrap: anywhere; }
.src-para { font-size: .92rem; line-height: 1.55; white-space: pre-wrap; }
.src-para mark { background: #fde68a; color: inherit; padding: 1px 2px; border-radius: 3px; }
.dark .src-para mark { background: #854d0e; color: #fff; }
.src-para mark .answer-span { background: #f59e0b; border-radius: 3px; padding: 0 2px; font-weight: 700; }
.dark .src-para mark .answer-span { background: #b45309; }
.src-para mark.weak, .dark .src-para mark.weak { background: transparent; color: inherit;
  border-bottom: 2px dotted #d98e04; border-radius: 0; }
.quote-missing { margin-top: 6px; font-size: .85rem; color: #9a5b00; }
.badge.warn { display: inline-block; font-size: .78rem; background: #fff4e5; border: 1px solid #d98e04; color: #9a5b00;
  border-radius: 6px; padding: 1px 6px; margin-bottom: 6px; }
.badge.block { display: block; margin-bottom: 10px; }
.note { font-size: .85rem; background: var(--background-fill-primary); border-left: 3px solid var(--color-accent);
  padding: 4px 8px; margin-bottom: 8px; }
.declined-box { border: 1px solid var(--border-color-primary); border-left: 4px solid #6b7280; border-radius: 8px;
  padding: 10px 12px; background: var(--background-fill-primary); margin-bottom: 8px; }
details.closest summary, details.src-earlier summary { cursor: pointer; font-size: .9rem; }
details.closest ul { font-size: .85rem; padding-left: 1.2em; }
.src-earlier-title { margin: 14px 0 6px 0; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--body-text-color-subdued); }
details.src-earlier { border-top: 1px solid var(--border-color-primary); padding: 6px 0; }
details.src-earlier[open] summary { margin-bottom: 8px; font-weight: 600; }
#documents-table table.docs { width: 100%; border-collapse: collapse; font-size: .9rem; border: 0 !important;
  margin-bottom: 6px; }
#documents-table table.docs tr { border: 0 !important; background: transparent !important; }
#documents-table table.docs th,
#documents-table table.docs td { text-align: left; padding: 6px 8px; border: 0 !important;
  border-bottom: 1px solid var(--border-color-primary) !important; background: transparent; }
#documents-table table.docs th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em;
  color: var(--body-text-color-subdued); }
#documents-table table.docs .num { text-align: right !important; }
table.docs .doc-id { font-family: var(--font-mono); font-size: .8rem; white-space: nowrap; }  /* never cut mid-word */
#documents-table { overflow-x: auto; }
.origin { font-size: .75rem; border-radius: 6px; padding: 1px 6px; background: var(--background-fill-secondary); }
.origin.uploaded { background: var(--color-accent-soft); color: var(--color-accent); }
ul.upload-results { list-style: none; padding: 0; margin: 0; }
ul.upload-results li { padding: 4px 0; }
ul.upload-results li.ok .icon { color: #15803d; font-weight: 700; margin-right: 6px; }
ul.upload-results li.bad .icon { color: #b91c1c; font-weight: 700; margin-right: 6px; }
ul.upload-results li.bad { color: #b91c1c; }
#backend-info { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 10px 14px;
  background: var(--background-fill-secondary); }
#backend-info code { font-size: .85rem; }
#backend-info h4 { margin: 0 0 6px 0; }
#chatbot .answer { white-space: pre-wrap; }
.support.weak { margin-top: .5em; font-size: .85rem; color: #9a5b00; border-left: 3px solid #d98e04; padding-left: 6px; }
.confidence.weak { color: #9a5b00; }
.copy-row { margin: 4px 0 8px; }
button.copy-markdown { font-size: .8rem; padding: 2px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); color: inherit; }
button.copy-markdown:hover { border-color: var(--color-accent); color: var(--color-accent); }
button.more-context { margin-top: 6px; font-size: .75rem; padding: 1px 8px; border-radius: 6px; cursor: pointer;
  background: transparent; border: 1px solid var(--border-color-primary); color: var(--body-text-color-subdued); }
button.more-context:hover { border-color: var(--color-accent); color: var(--color-accent); }
.src-neighbour { margin: 6px 0; padding-left: 8px; border-left: 2px solid var(--border-color-primary);
  font-size: .85rem; line-height: 1.5; white-space: pre-wrap; color: var(--body-text-color-subdued); }
.src-neighbour-no, .src-context-error { font-size: .8rem; font-weight: 600; margin-right: 6px; }
.src-context-error { color: #b91c1c; }
"""


def head(page_key: str) -> str:
    """What the page adds to its <head>: the page key and the page's one small script (templates/head.html.j2)."""
    from assistant.ui.render import TEMPLATES

    return TEMPLATES.get_template("head.html.j2").render(page_key=page_key)
