"""Errors a user sees. Each message says what happened and what to do about it."""


class AssistantError(Exception):
    """Base class: the CLI prints these without a traceback."""


class IndexLockedError(AssistantError):
    pass


class IndexDamagedError(AssistantError):
    pass


class EmbeddingMismatchError(AssistantError):
    pass


class QuestionError(AssistantError, ValueError):
    pass


class UnknownDocumentError(AssistantError, KeyError):
    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else ""
