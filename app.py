"""Start the chat page and the API: `python app.py`, then open http://127.0.0.1:7860 (the same server as
`assistant serve`; see assistant/server/run.py and the README for the options)."""

import sys

from assistant.server.run import serve

if __name__ == "__main__":
    sys.exit(serve())
