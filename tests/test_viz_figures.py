"""The pictures the README and the docs show are made by the code shown next to them, and are what it draws."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SVG = "{http://www.w3.org/2000/svg}"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# Pictures whose page does not show docs/make_figures.py's block above them yet: the page's new text
# is on its way. They are expected to fail, not required to; every other picture must pass.
PENDING: set[tuple[str, str]] = set()  # (page, picture) pairs whose page does not show the block yet


FIGURES = load_script("docs/make_figures.py")


def svg_texts(svg: bytes) -> Counter[str]:
    """Every text of the picture, counted: what it says, wherever the renderer put it."""
    # Graphviz writes the second of two spaces as a no-break space (U+00A0) so that SVG keeps both.
    return Counter("".join(t.itertext()).replace("\xa0", " ") for t in ET.fromstring(svg).iter(f"{SVG}text"))


def shown_pictures(page: Path) -> list[tuple[int, str]]:
    """(offset, file name) of each picture of docs/images the page shows."""
    link = re.compile(r"\]\((?:\.\./)*(?:docs/)?images/([\w.-]+)\)")
    return [(m.start(), m.group(1)) for m in link.finditer(page.read_text())]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    with contextlib.redirect_stdout(io.StringIO()):  # the blocks print what the README shows they print
        return dict(FIGURES.draw(tmp_path_factory.mktemp("figures")))


def test_every_block_writes_its_pictures_and_every_picture_has_a_block(drawn: dict[str, Path]):
    made = {picture for block in FIGURES.BLOCKS for picture in block.pictures.values()}
    assert set(drawn) == made
    committed = {path.name for path in IMAGES.iterdir()}
    assert committed == made | set(FIGURES.MADE_ELSEWHERE)
    shown = {name for page in PAGES for _, name in shown_pictures(page)}
    assert shown == committed  # every picture shown is committed, and every committed one is shown


@pytest.mark.parametrize("picture", ["sigmoid_graph.svg", "neurons_clusters.svg", "neurons_collapsed.svg",
                                     "compiled_plan.svg"])  # fmt: skip
def test_each_committed_picture_says_what_its_code_draws(drawn: dict[str, Path], picture: str):
    committed, fresh = svg_texts((IMAGES / picture).read_bytes()), svg_texts(drawn[picture].read_bytes())
    assert committed == fresh, f"docs/images/{picture} is out of date: run python docs/make_figures.py"


def test_the_sigmoid_picture_names_the_nodes_its_code_names():
    texts = svg_texts((IMAGES / "sigmoid_graph.svg").read_bytes())
    assert [texts[name] for name in ("x", "A", "B", "C", "F")] == [1, 1, 1, 1, 1]
    assert all(f'.label = "{name}"' in FIGURES.SIGMOID for name in ("A", "B", "C", "F"))


def test_the_committed_animation_has_a_frame_per_step_of_its_code(drawn: dict[str, Path]):
    pytest.importorskip("PIL")
    from PIL import Image

    with Image.open(IMAGES / "sigmoid_backward.gif") as committed, Image.open(drawn["sigmoid_backward.gif"]) as fresh:
        assert committed.n_frames == fresh.n_frames == 5


def shown_with_code() -> list[object]:
    """(page, picture) for each picture a block of docs/make_figures.py makes, on every page that shows it."""
    made = {picture for block in FIGURES.BLOCKS for picture in block.pictures.values()}
    found: list[object] = []
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        for _, picture in shown_pictures(page):
            if picture in made:
                marks = [pytest.mark.xfail(reason=f"{name} is to show the code above {picture}")] * (
                    (name, picture) in PENDING
                )
                found.append(pytest.param(page, picture, marks=marks, id=f"{name}:{picture}"))
    return found


@pytest.mark.parametrize(("page", "picture"), shown_with_code())
def test_each_page_shows_the_code_that_makes_its_pictures(page: Path, picture: str):
    text = page.read_text()
    [block] = [block for block in FIGURES.BLOCKS if picture in block.pictures.values()]
    offset = next(offset for offset, name in shown_pictures(page) if name == picture)
    above = [m.group(2) for m in FENCE.finditer(text) if m.group(1) == "python" and m.end() < offset]
    assert above and above[-1] == block.code, f"{page.name}: the code above {picture} is not the code that makes it"
    if block.after is not None:  # its page must have run the block it goes on with
        [before] = [b.code for b in FIGURES.BLOCKS if b.name == block.after]
        assert before in above[:-1], f"{page.name}: {picture}'s code goes on from the {block.after} block, not shown"
