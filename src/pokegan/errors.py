"""The one exception type pokegan raises for problems a user can fix.

The CLI prints its message without a traceback and exits non-zero; the message names the file and what
was wrong and says what to do.
"""


class PokeganError(Exception):
    """A problem with the user's input or environment, explained in the message."""
