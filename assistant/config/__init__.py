"""Configuration: the typed settings (settings.py), the page generated from their descriptions (doc.py), and the
one way a URL setting is shown to anyone (masking.py). Everything else imports from here; this imports nothing of
ours."""
