"""A diagram laid out by Graphviz once and then redrawn with new numbers: a frame costs milliseconds, not a render.

Between two frames of a training run the network and a neuron's graph keep their nodes and edges; only
numbers, fill colours, edge colours, pen widths and tooltips change. Graphviz places nodes by the structure
and by the size of the texts, so :class:`FixedLayout` renders the first diagram with every number in a label
widened to at least ``-88.8888`` (digits are of one width in the usual fonts), keeps the SVG, and for each
later diagram of the same structure writes that diagram's texts and colours into the kept SVG, node by node
and edge by edge (Graphviz titles each one with its DOT name). It renders again only when the structure
changes (a node more, a dashed edge, another legend) or a text would not fit its widened place.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from viz.render import render

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

_NUMBER = re.compile(r"-?\d+\.\d+")
_STATEMENT = re.compile(r"^\s*(\"(?:[^\"\\]|\\.)*\"|[\w.]+)(?: -> (\"(?:[^\"\\]|\\.)*\"|[\w.]+))? \[(.*)\]\s*$")
_NAME = re.compile(r"\s*(\w+)=")
_PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]"]+)')
_BGCOLOR = re.compile(r'bgcolor="([^"]*)"')
_CHANGING = ("color", "penwidth", "tooltip")  # an edge's attributes redrawn in place (its label's numbers too)
# DejaVu Sans advances, in ems, for re-centring a text Graphviz anchored at its start: digits share one width.
_ADVANCE = {**dict.fromkeys("0123456789", 0.636), "-": 0.361, ".": 0.318, " ": 0.318, "=": 0.838}


@dataclass
class _Statement:
    """A node or an edge of the DOT source: its title as the SVG writes it, and what may change between frames."""

    title: str
    edge: bool
    texts: list[str]
    fills: list[str]
    attributes: dict[str, str]
    key: str


@dataclass
class _Places:
    """Where one statement's changing parts sit in the kept SVG: slot numbers of its texts, fills, edge parts."""

    texts: list[int] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    paths: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    tips: list[int] = field(default_factory=list)


@dataclass
class _Kept:
    """The laid-out SVG as text cut at its slots, each statement's slots, and each slot's room and first value."""

    key: tuple[str, ...]
    chunks: list[str]  # the SVG between slots: chunk, slot, chunk, slot, ..., chunk
    order: list[int]  # the slots in the order the SVG holds them
    places: list[_Places | None]  # by statement; None for one the SVG does not draw (an invisible edge)
    defaults: list[str]  # each slot's text in the first layout, kept where a frame does not set it
    room: dict[int, float]  # a text slot -> the width (in ems) its layout gives it


class FixedLayout:
    """Renders a diagram to SVG, laying it out again only when its structure changes (see the module's note).

    ``svg(diagram)`` takes a diagram (anything with DOT ``.source``, such as ``viz.draw_network``'s) or DOT
    text and returns SVG text whose texts, fills, edge colours, widths and tooltips are the diagram's own.
    ``renders`` counts the Graphviz renders so far.
    """

    def __init__(self) -> None:
        self.renders = 0
        self._kept: _Kept | None = None
        self._seen: dict[str, _Statement | str] = {}

    def svg(self, diagram: Any) -> str:
        """The SVG of ``diagram`` (a diagram or DOT text), from the kept layout when it still fits."""
        source = diagram if isinstance(diagram, str) else getattr(diagram, "source", None)
        if not isinstance(source, str):
            raise TypeError(f"FixedLayout.svg: expected a diagram or DOT text, got {type(diagram).__name__}")
        parsed = _parse(source, self._seen)
        if parsed is None:  # DOT this reader does not follow: render it whole, every time
            self.renders += 1
            return render(source, "svg").decode("utf-8")
        statements, key = parsed
        kept = self._kept
        if kept is None or kept.key != key or not _fits(kept, statements):
            kept = self._kept = self._layout(statements, key, source)
        values = _fill(kept, statements)
        parts = [kept.chunks[0]]
        for slot, chunk in zip(kept.order, kept.chunks[1:], strict=True):
            parts.append(values[slot])
            parts.append(chunk)
        return "".join(parts)

    def _layout(self, statements: list[_Statement], key: tuple[str, ...], source: str) -> _Kept:
        self.renders += 1
        root = ET.fromstring(render(_widened(source), "svg"))
        groups: dict[str, list[ET.Element]] = {}
        for group in root.iter(f"{{{SVG}}}g"):
            if group.get("class") in ("node", "edge"):
                title = group.find(f"{{{SVG}}}title")
                groups.setdefault("".join(title.itertext()) if title is not None else "", []).append(group)
        defaults: list[str] = []
        room: dict[int, float] = {}

        def slot(value: str) -> str:
            defaults.append(value)
            return f"\x00{len(defaults) - 1}\x00"

        def attribute_slot(element: ET.Element, names: tuple[str, ...]) -> int:
            present = "".join(f' {n}="{_attribute(element.attrib.pop(n))}"' for n in names if n in element.attrib)
            element.set("data-slot", slot(present))
            return len(defaults) - 1

        seen: dict[str, int] = {}
        places: list[_Places | None] = []
        for statement in statements:
            number = seen.get(statement.title, 0)
            seen[statement.title] = number + 1
            found = groups.get(statement.title, [])
            if number >= len(found):
                places.append(None)
                continue
            group, place = found[number], _Places()
            for text in group.iter(f"{{{SVG}}}text"):
                width = _width(text.text or "")
                if text.get("text-anchor") == "start":  # anchor the middle, so that a shorter number stays centred
                    size = float(text.get("font-size", "11"))
                    text.set("x", f"{float(text.get('x', '0')) + width * size / 2:.2f}")
                    text.set("text-anchor", "middle")
                text.text = slot(_text(text.text or ""))
                room[len(defaults) - 1] = width
                place.texts.append(len(defaults) - 1)
            if statement.fills:
                place.cells = [attribute_slot(p, ("fill", "fill-opacity")) for p in group.iter(f"{{{SVG}}}polygon")
                               if _is_cell(p)]  # fmt: skip
            if statement.edge:
                for shape in list(group.iter()):
                    if shape.tag == f"{{{SVG}}}path":
                        place.paths.append(attribute_slot(shape, ("stroke", "stroke-width", "stroke-opacity")))
                    elif shape.tag == f"{{{SVG}}}polygon":  # an arrowhead, drawn in the edge's colour
                        place.heads.append(attribute_slot(shape, ("fill", "fill-opacity", "stroke", "stroke-opacity")))
                    elif shape.tag == f"{{{SVG}}}a" and f"{{{XLINK}}}title" in shape.attrib:
                        shape.set(f"{{{XLINK}}}title", slot(_attribute(shape.get(f"{{{XLINK}}}title", ""))))
                        place.tips.append(len(defaults) - 1)
            places.append(place)
        pieces = re.split(r' data-slot="\x00(\d+)\x00"|\x00(\d+)\x00', ET.tostring(root, encoding="unicode"))
        order = [int(a or b) for a, b in zip(pieces[1::3], pieces[2::3], strict=True)]
        return _Kept(key, pieces[::3], order, places, defaults, room)


def _fill(kept: _Kept, statements: list[_Statement]) -> list[str]:
    """Each slot's text for this frame: the statement's texts, fills and edge look, escaped for SVG."""
    values = list(kept.defaults)
    for statement, place in zip(statements, kept.places, strict=True):
        if place is None:
            continue
        for slot, words in zip(place.texts, statement.texts, strict=True):
            values[slot] = _text(words)
        for slot, fill in zip(place.cells, statement.fills, strict=False):
            values[slot] = _paint("fill", fill)
        if not statement.edge:
            continue
        colour, width = statement.attributes.get("color"), statement.attributes.get("penwidth")
        if colour is not None or width is not None:
            stroke = _paint("stroke", colour) if colour is not None else ""
            if width is not None and float(width) != 1.0:  # Graphviz writes no width for its default
                stroke += f' stroke-width="{float(width):g}"'
            for slot in place.paths:
                values[slot] = stroke
        if colour is not None:
            for slot in place.heads:
                values[slot] = _paint("fill", colour) + _paint("stroke", colour)
        if "tooltip" in statement.attributes:
            for slot in place.tips:
                values[slot] = _attribute(_spaced(html.unescape(statement.attributes["tooltip"])))
    return values


def _fits(kept: _Kept, statements: list[_Statement]) -> bool:
    """Whether every text of the new frame fits the room its kept layout gave it."""
    for statement, place in zip(statements, kept.places, strict=True):
        if place is None:
            continue
        if len(place.texts) != len(statement.texts):
            return False
        for slot, words in zip(place.texts, statement.texts, strict=True):
            if _width(words) > kept.room[slot] + 1e-9:
                return False
    return True


def _width(text: str) -> float:
    """The text's width in ems, near enough to tell whether one number fits where another was laid out."""
    return sum(_ADVANCE.get(ch, 0.62) for ch in text)


def _is_cell(polygon: ET.Element) -> bool:
    """A table cell's background, as Graphviz draws a ``bgcolor``: filled, with a transparent outline."""
    return polygon.get("stroke") == "transparent" and polygon.get("fill") not in (None, "none")


def _paint(what: str, colour: str) -> str:
    """``fill`` or ``stroke`` as Graphviz writes a colour: ``#rrggbbaa`` as ``#rrggbb`` and an opacity."""
    if re.fullmatch(r"#[0-9a-fA-F]{8}", colour):
        alpha = int(colour[7:], 16)
        opacity = "" if alpha == 255 else f' {what}-opacity="{alpha / 255:f}"'
        return f' {what}="{colour[:7]}"{opacity}'
    return f' {what}="{_attribute(colour)}"'


def _text(words: str) -> str:
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;")


# -- reading the DOT the diagram builders write -------------------------------------------------


def _parse(source: str, seen: dict[str, _Statement | str]) -> tuple[list[_Statement], tuple[str, ...]] | None:
    """The nodes and edges of ``source`` and its structure (every line, numbers and changing colours masked);
    None for a line this reader does not follow (a statement split over lines).

    ``seen`` holds the lines read before: most lines of a frame are those of the frame before (a weight's
    edge keeps its colour and width to two digits over many steps), and are not read again.
    """
    statements: list[_Statement] = []
    key: list[str] = []
    for line in source.splitlines():
        known = seen.get(line)
        if known is None:
            known = _line(line)
            if known is None:
                return None
            if len(seen) > _SEEN_LINES:
                seen.clear()
            seen[line] = known
        if isinstance(known, str):
            key.append(known)
        else:
            statements.append(known)
            key.append(known.key)
    return statements, tuple(key)


_SEEN_LINES = 50_000


def _line(line: str) -> _Statement | str | None:
    """One line of DOT: a node or edge statement, or another line's structure; None if it cannot be read."""
    found = _STATEMENT.match(line)
    if found is None or found.group(1) in ("graph", "node", "edge"):
        bare = line.replace(" -> ", " ")
        if bare.count("<") != bare.count(">"):  # an HTML label that goes on over lines
            return None
        return _NUMBER.sub("0", line)
    attributes = _attributes(found.group(3))
    if attributes is None:
        return None
    edge = found.group(2) is not None
    title = _unquoted(found.group(1)) + (f"->{_unquoted(found.group(2))}" if edge else "")
    label = attributes.get("label", "")
    html_label = label.startswith("<") and label.endswith(">")
    texts = _label_texts(label[1:-1]) if html_label else ([_unescaped(label)] if label else [])
    fills = _BGCOLOR.findall(label)
    fixed = {k: v for k, v in attributes.items() if k != "label" and not (edge and k in _CHANGING)}
    masked_label = _BGCOLOR.sub('bgcolor=""', _NUMBER.sub("0", label))
    return _Statement(title, edge, texts, fills, attributes, f"{title} {sorted(fixed.items())} {masked_label}")


def _attributes(text: str) -> dict[str, str] | None:
    """``name=value`` pairs of a DOT attribute list: values bare, "quoted" or <HTML>, nested brackets kept."""
    if "<" not in text:  # the common case, an edge's or a plain node's attributes: one regex
        pairs = _PAIR.findall(text)
        return {name: _unquoted(value) if value.startswith('"') else value for name, value in pairs}
    found: dict[str, str] = {}
    position = 0
    while position < len(text):
        name = _NAME.match(text, position)
        if name is None:
            return None if text[position:].strip() else found
        position = name.end()
        if text.startswith('"', position):
            end = position + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            value, position = text[position : end + 1], end + 1
        elif text.startswith("<", position):
            depth, end = 0, position
            while end < len(text):
                depth += {"<": 1, ">": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            value, position = text[position:end], end
        else:
            bare = re.match(r"[^\s\]]+", text[position:])
            if bare is None:
                return None
            value, position = bare.group(0), position + bare.end()
        found[name.group(1)] = _unquoted(value) if value.startswith('"') else value
    return found


def _unquoted(name: str) -> str:
    if not name.startswith('"'):
        return name
    return re.sub(r"\\(.)", r"\1", name[1:-1]) if "\\" in name else name[1:-1]


def _unescaped(text: str) -> str:
    return html.unescape(text).replace("\\n", " ")


def _label_texts(inner: str) -> list[str]:
    """The texts of an HTML label in order, as Graphviz writes one SVG text for each run between tags: a
    doubled backslash as one (``viz.escape`` doubles them), the second and later of several spaces as
    no-break spaces (so that SVG keeps them)."""
    runs = re.findall(r"(?:^|>)([^<>]*)(?=<|$)", inner)
    return [_spaced(html.unescape(run).replace("\\\\", "\\")) for run in runs if run.strip()]


def _spaced(text: str) -> str:
    return re.sub(r" {2,}", lambda spaces: " " + "\xa0" * (len(spaces.group(0)) - 1), text)


def _widened(source: str) -> str:
    """``source`` with every number in a label as wide as ``-88.8888`` or wider, for a layout that fits them all."""

    def widen(number: re.Match[str]) -> str:
        whole, _, decimals = number.group(0).lstrip("-").partition(".")
        return "-" + "8" * max(len(whole), 2) + "." + "8" * len(decimals)

    def in_label(found: re.Match[str]) -> str:
        return found.group(1) + _NUMBER.sub(widen, found.group(2))

    return re.sub(r"(\blabel=<)(.*?)(?=> [\w]+=|>\]|>$)", in_label, source, flags=re.M)
