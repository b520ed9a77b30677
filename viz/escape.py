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
``\\ud800``) instead of breaking the output. So are the invisible format characters that would make a
label read other than it is: the bidirectional controls (U+202E, right-to-left override, turns
``"x\\u202egnp.exe"`` into what looks like ``"xexe.png"``), zero-width spaces, the byte-order mark U+FEFF,
the soft hyphen, and the line and paragraph separators: every character of Unicode's categories Cf, Zl
and Zp except the two joiners U+200C and U+200D, which shape Persian, Indic scripts and emoji.
Tabs become spaces. Text longer than ``LONGEST`` characters is cut there, and says how much was
left out: Graphviz refuses an HTML-like label longer than 16,384 characters, and a picture could
not show it anyway. The result depends only on the text, so DOT output stays the same on every run.
"""

from __future__ import annotations

import re

# Allowed unchanged: tab/newline/CR (handled below), printable ASCII, and the XML 1.0 character ranges
# minus the C1 controls (U+007F-U+009F) and the surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Unicode 15's Cf, Zl and Zp, written out rather than read from unicodedata, so that the escaping does
# not change with the Python version; tests/test_hostile_viz.py checks it covers the running Python's.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
LONGEST = 400
"""The most characters of one text a picture shows; escaped, they stay far below Graphviz's 16,384."""
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_MARKUP = re.compile("[&<>\"']")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_dot(text: str, *, quoted: bool = False) -> str:
    """``text`` made safe to put inside an HTML-like Graphviz label, or (``quoted=True``) a quoted string.

    Markup characters become entities; line breaks (``\\n``, ``\\r\\n``, ``\\r``) become ``<br/>`` in a
    label and a space in a quoted string; backslashes are doubled; control
    characters, lone surrogates and invisible format characters become visible escapes such as ``\\x07``,
    ``\\ud800`` or ``\\u202e``; text past ``LONGEST`` characters becomes "… (1,234 more characters)".
    Raises TypeError if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"escape_dot: text must be a str, got {type(text).__name__} ({text!r:.60})")
    if len(text) > LONGEST:
        text = f"{text[:LONGEST]}… ({len(text) - LONGEST:,} more characters)"
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _INVISIBLE.sub(_visible, _UNSAFE.sub(_visible, text))
    text = text.replace("\\", "\\\\")  # Graphviz expands \N and \G even inside HTML-like labels
    if quoted:
        text = text.replace("\n", " ")
    text = _MARKUP.sub(lambda m: _ENTITIES[m.group()], text)
    return text if quoted else text.replace("\n", "<br/>")


def html_label(text: str) -> str:
    """A complete HTML-like label (``<...>``) that shows ``text`` exactly, escaped by :func:`escape_dot`."""
    return f"<{escape_dot(text)}>"
