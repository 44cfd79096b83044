"""Text as every stage reads it: the one tokenizer, stop list and sentence splitter (terms.py), citation markers
(markers.py), document furniture such as copyright lines (furniture.py), and how messages put counts and the
user's words (wording.py). Plain functions over strings; nothing here knows about indexes or answers."""
