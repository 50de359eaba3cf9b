"""Student-provided text made safe to print: control characters become visible escapes.

A failure message, a loading note or a file name comes from the submission. Printed raw, its
ANSI escapes, carriage returns and backspaces could erase lines of the report and draw a fake
``Score: 40 / 40``. :func:`printable` is the one place that escapes them, for everything
``tfcourse grade`` prints, the CSV and the feedback files.
"""

from __future__ import annotations

import re
import unicodedata

# Categories escaped: controls (C0, DEL, C1), format characters (bidirectional overrides,
# zero-width characters), lone surrogates (unprintable), and the line and paragraph
# separators (a line break to ``str.splitlines`` and some terminals).
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SUSPECT_MULTILINE = re.compile(r"[^\x20-\x7e\n\t]")  # only these need a closer look
_SUSPECT_ONE_LINE = re.compile(r"[^\x20-\x7e]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in NAMED:
        return NAMED[ch]
    if unicodedata.category(ch) not in ESCAPED_CATEGORIES:
        return ch  # a printable non-ASCII character: é, 😀
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, multiline: bool = True) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``, ``\\r``).

    Args:
        text: text that may come from a submission.
        multiline: keep newlines and tabs (a message); ``False`` escapes them too (a name, a
            file name, a CSV cell: one line).

    Returns:
        Text that moves the cursor only by printing characters and, if ``multiline``, by
        ``\\n`` and ``\\t``.
    """
    suspect = _SUSPECT_MULTILINE if multiline else _SUSPECT_ONE_LINE
    return suspect.sub(_escape, text)
