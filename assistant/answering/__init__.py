"""Answerers turn a question and retrieved paragraphs into an Answer with citations."""
