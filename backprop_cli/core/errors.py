"""Typed errors that carry an exit code and, where known, the place in the source."""

from __future__ import annotations

from dataclasses import dataclass

from backprop_cli.core.source import Source, printable


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a program's text: [start, end) character offsets."""

    source: Source
    start: int
    end: int


class BackpropError(Exception):
    """Base of every error shown to a user: a one-line message, then details."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, span: Span | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    @property
    def line(self) -> int | None:
        """1-based line of the error, when it has a place."""
        return self.span.source.line_col(self.span.start)[0] if self.span else None

    @property
    def column(self) -> int | None:
        """1-based column (in characters) of the error, when it has a place."""
        return self.span.source.line_col(self.span.start)[1] if self.span else None

    def headline(self) -> str:
        """The one line that says what went wrong and where."""
        if self.span is None:
            return f"{self.kind}: {self.message}"
        return f"{self.kind} {self.span.source.where(self.span.start)}: {self.message}"

    def details(self) -> list[str]:
        """Lines after the headline: the source line, a caret, a hint."""
        lines = self.span.source.excerpt(self.span.start, self.span.end) if self.span else []
        return lines + ([printable(self.hint)] if self.hint else [])

    def render(self) -> str:
        """The headline and its details, ready for stderr."""
        # A name or value quoted in the message may hold control characters too.
        return "\n".join([printable(self.headline()), *self.details()])


class UsageError(BackpropError):
    """Bad command-line use: a malformed or duplicate binding, an unreadable file."""

    exit_code = 2
    kind = "usage error"


class ProgramSyntaxError(BackpropError):
    """The program is not in the language, or names an unknown function."""

    exit_code = 2
    kind = "syntax error"


class EvaluationError(BackpropError):
    """The program parses but cannot be evaluated: an unbound name, a domain error."""

    exit_code = 1
    kind = "evaluation error"
