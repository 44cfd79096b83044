"""The model each browser tab answers with: the shared Assistant, or a view of it that talks to a model the tab
chose in its Settings. The API key from the environment goes only to the configured server, never to a typed one."""

from __future__ import annotations

import threading
from collections import OrderedDict

SESSION_MODELS_KEPT = 16  # LLM clients kept for the models typed into Settings tabs


class SessionModels:
    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self._views: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def answerer(self, mode: str, choice: dict | None):
        """The Assistant a tab in `mode` with model `choice` ({"base_url", "model"} or None) answers with."""
        if mode != "llm" or not choice:
            return self.assistant
        settings = self.assistant.settings
        base_url = choice.get("base_url") or settings.openai_base_url
        key = (base_url, choice["model"])
        with self._lock:
            view = self._views.get(key)
            if view is None:
                same_server = base_url == settings.openai_base_url
                view = self.assistant.using(openai_base_url=base_url, llm_model=choice["model"],
                                            openai_api_key=settings.openai_api_key if same_server else None)
                self._views[key] = view
                while len(self._views) > SESSION_MODELS_KEPT:
                    self._views.popitem(last=False)
            self._views.move_to_end(key)
            return view
