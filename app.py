"""Start the web UI: `python app.py`, then open http://127.0.0.1:7860 (see assistant/ui/__init__.py for options)."""

import sys

from assistant.ui import main

if __name__ == "__main__":
    sys.exit(main())
