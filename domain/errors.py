"""Domain errors. The command layer turns each into a clear answer for the user."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain can give."""


class NotFound(DomainError):
    """The thing asked for does not exist (or the actor may not see it)."""


class NotAllowed(DomainError):
    """The actor's role does not permit the action."""


class InvalidTransition(DomainError):
    """A state change that the workflow does not allow from the current state."""

    def __init__(self, current: str, wanted: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{current} -> {wanted} not allowed; allowed: {', '.join(allowed) or 'none'}")
        self.current = current
        self.wanted = wanted
        self.allowed = allowed


class ExtensionRefused(DomainError):
    """A prórroga that the law or the workflow does not allow."""

    def __init__(self, reason: str, limit: object | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class InvalidInput(DomainError):
    """A value that cannot be used (unknown type, empty text, …). `code` names the problem for the
    catalogues (`input.<code>`), `value` is the offending value when there is one; the message
    stays English for logs."""

    def __init__(self, message: str, *, code: str | None = None, value: object | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.value = value


class CauseRefused(DomainError):
    """A cause that is not in the configured list (`unknown`), or a close without a cause where
    one is required (`required`). `allowed` lists the configured causes."""

    def __init__(self, reason: str, allowed: tuple[str, ...], value: str | None = None) -> None:
        super().__init__(f"{reason}: {value or ''} (allowed: {', '.join(allowed)})")
        self.reason = reason
        self.allowed = allowed
        self.value = value
