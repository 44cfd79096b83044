"""LLM mode: chat models behind one interface (llms/), prompts rendered from templates (prompts.py), the token
budget and prices (budget.py), and the generated answer with its refusals and usage (answerer.py). Its
citations are checked by assistant/answering/citations.py, shared with the offline answerer."""
