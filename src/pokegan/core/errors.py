"""The exceptions pokegan raises for problems a user can fix, and how a user's text is shown.

The CLI prints the message without a traceback and exits with the error's code (2: the request or its
input is wrong; 1: it ran, and nothing usable came of it); the message names the file and what was
wrong and says what to do.
"""


class PokeganError(Exception):
    """A problem with the user's input or environment, explained in the message."""

    exit_code = 2


class NothingUsable(PokeganError):
    """The command ran and found nothing to work with (every input file skipped)."""

    exit_code = 1


def shown(text: str, limit: int = 300) -> str:
    """A file name or other user text made safe to print: bytes that are not UTF-8 (a name's surrogate
    escapes) as \\udcXX, control characters and terminal escapes as \\xNN, at most `limit` characters."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    out = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."
