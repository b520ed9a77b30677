"""The one way text reaches DOT: every label, title, cluster name and tooltip goes through :func:`escape_dot`.

User text (labels, input names, activation and module names) is never markup. Graphviz reads two kinds
of strings, and both are covered:

- HTML-like labels (``<...>``): ``&``, ``<``, ``>``, ``"`` and ``'`` become entities, so no ``<IMG SRC=...>``
  (which would read a local file into the picture), ``<b>`` or ``<table>`` is ever interpreted; line
  breaks become ``<br/>``.
- quoted strings (``"..."``, e.g. tooltips): the same entities; line breaks become spaces.

In both, every backslash is doubled: Graphviz expands ``\\N`` (the node's name), ``\\G``, ``\\E``,
``\\H``, ``\\T`` and ``\\L`` even inside HTML-like labels, and ``\\l``, ``\\r``, ``\\n`` in quoted
strings; a doubled backslash comes out as one, so they all stay literal text.

Characters that XML (and so SVG) cannot hold, the C0 and C1 control characters, lone surrogates such as
``"\\ud800"`` and the non-characters U+FFFE and U+FFFF, are shown as visible escapes (``\\x01``,
``\\ud800``) instead of breaking the output. Tabs become spaces. The result depends only on the text,
so DOT output stays the same on every run.
"""

from __future__ import annotations

import re

# Allowed unchanged: tab/newline/CR (handled below), printable ASCII, and the XML 1.0 character ranges
# minus the C1 controls (U+007F-U+009F) and the surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_MARKUP = re.compile("[&<>\"']")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_dot(text: str, *, quoted: bool = False) -> str:
    """``text`` made safe to put inside an HTML-like Graphviz label, or (``quoted=True``) a quoted string.

    Markup characters become entities; line breaks (``\\n``, ``\\r\\n``, ``\\r``) become ``<br/>`` in a
    label and a space in a quoted string; backslashes are doubled; control
    characters and lone surrogates become visible escapes such as ``\\x07`` or ``\\ud800``.
    Raises TypeError if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"escape_dot: text must be a str, got {type(text).__name__} ({text!r:.60})")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _UNSAFE.sub(_visible, text)
    text = text.replace("\\", "\\\\")  # Graphviz expands \N and \G even inside HTML-like labels
    if quoted:
        text = text.replace("\n", " ")
    text = _MARKUP.sub(lambda m: _ENTITIES[m.group()], text)
    return text if quoted else text.replace("\n", "<br/>")


def html_label(text: str) -> str:
    """A complete HTML-like label (``<...>``) that shows ``text`` exactly, escaped by :func:`escape_dot`."""
    return f"<{escape_dot(text)}>"
