"""Hostile inputs to viz: a catalogue of cases, each with the exact error, a message naming the culprit,
and proof that nothing was lost or changed (the files on disk, the graph); then the defects behind it."""

from __future__ import annotations

import errno
import importlib
import math
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd import Op, Value
from autograd.compiler import Plan
from viz import checks
from viz.escape import escape_dot

RENDER = importlib.import_module("viz.render")  # the module; viz.render is the function

SVG = "{http://www.w3.org/2000/svg}"
OLD = b"<svg>the picture that was here before</svg>\n"
SECRET = b"SECRET-FILE-CONTENT-7f3a"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


# -- the world every case acts on --------------------------------------------------------------------


@dataclass
class World:
    out: Path  # watched: every file below it must be unchanged after a refused call
    scratch: Path  # not watched: fake renderers and the like
    root: Value  # the sigmoid as a graph of small steps, after backward()
    x: Value
    keep: Path  # out/keep.svg: an existing picture, mode 600
    patch: pytest.MonkeyPatch


def sigmoid(x0: float = 0.5) -> tuple[Value, Value]:
    x = Value(x0, label="x")
    f = 1 / (1 + (-x).exp())
    f.label = "f"
    return x, f


def chain(n: int) -> Value:
    y = Value(1.0, label="start")
    for _ in range(n):
        y = y + 1.0
    return y


def mlp(nin: int = 2) -> nn.MLP:
    return nn.MLP(nin, [2, 1])


def output(model: nn.MLP, x: list[float]) -> Value:
    """The model's one output for ``x``."""
    out = model(x)
    assert isinstance(out, Value)
    return out


def svg_texts(svg: bytes) -> list[str]:
    # Graphviz writes the second of two spaces as a no-break space (U+00A0) so that SVG keeps both.
    return ["".join(t.itertext()).replace("\xa0", " ") for t in ET.fromstring(svg).iter(f"{SVG}text")]


def snapshot_files(folder: Path) -> dict[str, tuple[str, bytes | str, int]]:
    found: dict[str, tuple[str, bytes | str, int]] = {}
    for path in sorted(folder.rglob("*")):
        info = os.lstat(path)
        name = path.relative_to(folder).as_posix()
        if stat.S_ISLNK(info.st_mode):
            found[name] = ("link", os.readlink(path), 0)
        elif stat.S_ISDIR(info.st_mode):
            found[name] = ("folder", "", stat.S_IMODE(info.st_mode))
        else:
            found[name] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


def snapshot_graph(root: Value) -> list[tuple[float, float, str, str, tuple[int, ...]]]:
    return [(v.data, v.grad, v.label, v.op, tuple(map(id, v.parents))) for v in ag.backward_order(root)]


def fake_renderer(world: World, body: str) -> Path:
    script = world.scratch / "fake-renderer"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    world.patch.setattr(RENDER, "find_renderer", lambda fmt="svg": script)
    return script


def full_disk(world: World) -> None:
    real_write = os.write

    def write(descriptor: int, data: bytes) -> int:  # files only: the renderer's pipes still work
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(descriptor, data)

    world.patch.setattr(os, "write", write)


def loop_at(path: Path) -> None:
    other = path.with_name(path.name + ".other")
    path.symlink_to(other)
    other.symlink_to(path)


def doubled() -> ag.Compiled:
    compiled = ag.compile(lambda x: x * 2.0)
    compiled(np.array([1.0, 2.0]))
    return compiled


def plan_of_doubled() -> Plan:
    plan = doubled().plan
    assert plan is not None
    return plan


def scoped(owner: object) -> Value:
    """y = x * x + 1 made inside ``autograd.scope(owner)``: a graph with one scope owner to collapse."""
    with ag.scope(owner):
        x = Value(2.0, label="x")
        y = x * x + 1
    return y


def explode(owner: object) -> bool:
    raise RuntimeError("boom")


def misfit() -> nn.MLP:
    """A 2-2-1 MLP whose output neuron was given three weights: its layers no longer fit together."""
    model = nn.MLP(2, [2, 1])
    model.layers[1].neurons[0].w.append(Value(0.5))
    return model


def save_gif_or_skip(world: World, *arguments: Any, **options: Any) -> Path:
    pytest.importorskip("PIL")
    return viz.save_gif(*arguments, **options)


# -- the catalogue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    act: Callable[[World], object]
    error: type[BaseException]
    culprit: str  # a regular expression the message must contain: what was wrong, named
    setup: Callable[[World], object] | None = None


CASES: list[Case] = [
    # draw_graph / draw_dot: wrong types and values
    Case("graph of a str", lambda w: viz.draw_graph("f"), TypeError, "got str"),  # type: ignore[arg-type]
    Case("graph of None", lambda w: viz.draw_dot(None), TypeError, "got NoneType"),  # type: ignore[arg-type]
    Case("graph of a list with a float", lambda w: viz.draw_graph([w.root, 2.0]), TypeError, "got float"),  # type: ignore[list-item]
    Case("graph of an empty list", lambda w: viz.draw_graph([]), TypeError, "got list"),
    Case("unknown rankdir", lambda w: viz.draw_graph(w.root, rankdir="XY"), ValueError, "rankdir .* got 'XY'"),
    Case("negative precision", lambda w: viz.draw_graph(w.root, precision=-1), ValueError, "precision .* got -1"),
    Case("float precision", lambda w: viz.draw_graph(w.root, precision=2.5), ValueError, "precision .* got 2.5"),  # type: ignore[arg-type]
    Case("unknown format", lambda w: viz.draw_dot(w.root, format="exe"), ValueError, "format .* got 'exe'"),
    Case("max_nodes a str", lambda w: viz.draw_graph(w.root, max_nodes="500"), TypeError, "max_nodes .* got str"),  # type: ignore[arg-type]
    Case("max_nodes a bool", lambda w: viz.draw_graph(w.root, max_nodes=True), TypeError, "max_nodes .* got bool"),
    Case("max_nodes zero", lambda w: viz.draw_graph(w.root, max_nodes=0), ValueError, "max_nodes .* got 0"),
    Case("max_nodes negative", lambda w: viz.draw_graph(w.root, max_nodes=-5), ValueError, "max_nodes .* got -5"),
    Case("collapse a number", lambda w: viz.draw_graph(w.root, collapse=3), TypeError, "collapse must be .* got 3"),  # type: ignore[arg-type]
    Case("title not a str", lambda w: viz.draw_graph(w.root, title=b"t"), TypeError, "title must be a str, got bytes"),  # type: ignore[arg-type]
    # huge graphs against max_nodes
    Case("a 20,000-node chain", lambda w: viz.draw_graph(chain(20_000)), viz.GraphTooLargeError, "max_nodes=500"),
    Case("a chain over a small limit", lambda w: viz.draw_graph(w.root, max_nodes=3), viz.GraphTooLargeError,
         "more than max_nodes=3"),
    Case("many roots", lambda w: viz.draw_graph([chain(10) for _ in range(100)]), viz.GraphTooLargeError,
         "max_nodes=500"),
    # draw_network
    Case("network of a Value", lambda w: viz.draw_network(w.root), TypeError, "got Value"),
    Case("network without neurons", lambda w: viz.draw_network(SimpleNamespace(layers=[])), ValueError, "no neurons"),
    Case("input names as one str", lambda w: viz.draw_network(mlp(), "ab"), TypeError, "got one str 'ab'"),
    Case("an input name that is an int", lambda w: viz.draw_network(mlp(), ["a", 7]), TypeError,  # type: ignore[list-item]
         r"input_names\[1\] must be a str, got int 7"),
    Case("an input name that is None", lambda w: viz.draw_network(mlp(), [None, "b"]), TypeError,  # type: ignore[list-item]
         r"input_names\[0\] must be a str, got NoneType"),
    Case("too many input names", lambda w: viz.draw_network(mlp(), ["a", "b", "c"]), ValueError,
         "3 input names for a model with 2 inputs"),
    # draw_plan
    Case("plan of a Value", lambda w: viz.draw_plan(w.root), TypeError, "expected an autograd Plan .*got Value"),  # type: ignore[arg-type]
    Case("plan of a compiled function", lambda w: viz.draw_plan(doubled()), TypeError,  # type: ignore[arg-type]
         "got Compiled; pass compiled.plan"),
    Case("plan beside a str", lambda w: viz.draw_plan(plan_of_doubled(), beside="f"), TypeError,  # type: ignore[arg-type]
         "beside must be a Value .*got str"),
    Case("plan of a negative batch", lambda w: viz.draw_plan(plan_of_doubled(), batch=-3), ValueError,
         "batch must be at least 1, got -3"),
    Case("plan too large", lambda w: viz.draw_plan(plan_of_doubled(), max_nodes=1), viz.GraphTooLargeError,
         "more than max_nodes=1"),
    # backward_steps and draw_step
    Case("steps of a float", lambda w: viz.backward_steps(3.0), TypeError, "root must be a Value, got float"),  # type: ignore[arg-type]
    Case("step index past the end", lambda w: viz.draw_step(w.root, viz.backward_steps(w.root), 99), IndexError,
         "index 99 is outside 0..4"),
    Case("negative step index", lambda w: viz.draw_step(w.root, viz.backward_steps(w.root), -1), IndexError,
         "index -1"),
    Case("step index a str", lambda w: viz.draw_step(w.root, viz.backward_steps(w.root), "1"), TypeError,  # type: ignore[arg-type]
         "index must be an int, got str"),
    Case("step with a bad option", lambda w: viz.draw_step(w.root, viz.backward_steps(w.root), 0, rankdir="up"),
         ValueError, "got 'up'"),
    # save_diagram: formats, paths, what is already there
    Case("unknown suffix", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.out / "g.exe"), viz.RenderError,
         "'g.exe'"),
    Case("no suffix", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.out / "picture"), viz.RenderError,
         "'picture'"),
    Case("save a str", lambda w: viz.save_diagram("digraph {}", w.out / "g.svg"), TypeError, "got str"),
    Case("save to an int path", lambda w: viz.save_diagram(viz.draw_graph(w.root), 3), TypeError, "path .* got int"),  # type: ignore[arg-type]
    Case("a folder where the file should be", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.out / "d.svg"),
         IsADirectoryError, "d.svg is a directory", setup=lambda w: (w.out / "d.svg").mkdir()),
    Case("a file where the folder should be", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.keep / "g.svg"),
         FileExistsError, "keep.svg"),
    Case("a symlink loop at the path", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.out / "loop.svg"),
         OSError, "loop.svg is a symlink loop", setup=lambda w: loop_at(w.out / "loop.svg")),
    Case("a full disk over an existing picture", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.keep),
         OSError, "No space left on device", setup=full_disk),
    Case("pdf without Graphviz", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.out / "g.pdf"),
         viz.RenderError, "pdf output needs the Graphviz dot program",
         setup=lambda w: w.patch.setattr(RENDER, "find_renderer", lambda fmt="svg": None)),
    pytest.param(  # type: ignore[list-item]
        Case("a read-only folder", lambda w: viz.save_diagram(viz.draw_graph(w.root), w.out / "ro" / "g.svg"),
             PermissionError, "ro", setup=lambda w: (w.out / "ro").mkdir(mode=0o555)),
        marks=pytest.mark.skipif(ROOT_USER, reason="permission bits do not stop root"),
    ),
    # render
    Case("render to jpg", lambda w: viz.render("digraph {}", "jpg"), viz.RenderError, "unknown format 'jpg'"),
    Case("render bytes", lambda w: viz.render(b"digraph {}"), TypeError, "source must be DOT text .* got bytes"),  # type: ignore[arg-type]
    Case("render broken DOT", lambda w: viz.render("digraph { a -> "), viz.RenderError, "could not render"),
    Case("a renderer that hangs", lambda w: viz.render("digraph {}"), viz.RenderError,
         "fake-renderer took more than 0.3 s",
         setup=lambda w: (fake_renderer(w, "sleep 30"), w.patch.setattr(RENDER, "RENDER_TIMEOUT", 0.3))),
    Case("a renderer that cannot run", lambda w: viz.render("digraph {}"), viz.RenderError, "cannot run .*nowhere",
         setup=lambda w: w.patch.setattr(RENDER, "find_renderer", lambda fmt="svg": w.scratch / "nowhere")),
    Case("a renderer that fails", lambda w: viz.render("digraph {}"), viz.RenderError, "broken on purpose",
         setup=lambda w: fake_renderer(w, "echo broken on purpose >&2; exit 3")),
    # save_steps
    Case("frames in an unknown format", lambda w: viz.save_steps(w.root, w.out / "frames", fmt="exe"),
         viz.RenderError, "unknown format 'exe'"),
    Case("frames into a file", lambda w: viz.save_steps(w.root, w.keep), FileExistsError, "keep.svg"),
    Case("frames of a float", lambda w: viz.save_steps(1.0, w.out / "frames"), TypeError, "got float"),  # type: ignore[arg-type]
    Case("frames with a bad option", lambda w: viz.save_steps(w.root, w.out / "frames", precision=99), ValueError,
         "precision .* got 99"),
    # save_gif
    Case("gif with zero seconds", lambda w: save_gif_or_skip(w, w.root, w.out / "a.gif", seconds_per_step=0),
         ValueError, "seconds_per_step .* got 0"),
    Case("gif with NaN seconds", lambda w: save_gif_or_skip(w, w.root, w.out / "a.gif", seconds_per_step=math.nan),
         ValueError, "seconds_per_step .* got nan"),
    Case("gif with str seconds", lambda w: save_gif_or_skip(w, w.root, w.out / "a.gif", seconds_per_step="1"),
         TypeError, "seconds_per_step must be a number, got str"),
    Case("gif over a folder", lambda w: save_gif_or_skip(w, w.root, w.out / "g.gif"), IsADirectoryError,
         "g.gif is a directory", setup=lambda w: (w.out / "g.gif").mkdir()),
    Case("gif on a full disk over a good gif", lambda w: save_gif_or_skip(w, w.root, w.keep), OSError,
         "No space left on device", setup=full_disk),
    Case("gif through a symlink loop", lambda w: save_gif_or_skip(w, w.root, w.out / "l.gif"), OSError,
         "l.gif is a symlink loop", setup=lambda w: loop_at(w.out / "l.gif")),
    # draw_graph's flags take True or False only: "no" would count as true
    Case("show_grad a str", lambda w: viz.draw_graph(w.root, show_grad="no"), TypeError,  # type: ignore[arg-type]
         "^draw_graph: show_grad must be True or False, got str$"),
    Case("edge_labels 'no'", lambda w: viz.draw_dot(w.root, edge_labels="no"), TypeError,  # type: ignore[arg-type]
         "^draw_graph: edge_labels must be True or False, got str$"),
    Case("color an int", lambda w: viz.draw_graph(w.root, color=1), TypeError,  # type: ignore[arg-type]
         "^draw_graph: color must be True or False, got int$"),
    Case("clusters None", lambda w: viz.draw_graph(w.root, clusters=None), TypeError,  # type: ignore[arg-type]
         "^draw_graph: clusters must be True or False, got NoneType$"),
    Case("a step frame with show_grad a str", lambda w: viz.save_steps(w.root, w.out / "f", show_grad="yes"),
         TypeError, "^draw_graph: show_grad must be True or False, got str$"),
    # collapse= a predicate that raises: its error, saying where
    Case("collapse a predicate that raises", lambda w: viz.draw_graph(scoped("layer 0"), collapse=explode),
         RuntimeError, "^draw_graph: collapse raised RuntimeError on the scope owner 'layer 0': boom$"),
    # precision past what a float holds
    Case("a huge precision", lambda w: viz.draw_graph(w.root, precision=10**6), ValueError,
         "^draw_graph: precision must be an int from 0 to 17, got 1000000$"),
    Case("a network with a huge precision", lambda w: viz.draw_network(mlp(), precision=10**6), ValueError,
         "^draw_network: precision must be an int from 0 to 17, got 1000000$"),
    Case("a network with precision a str", lambda w: viz.draw_network(mlp(), precision="2"), ValueError,  # type: ignore[arg-type]
         "^draw_network: precision must be an int from 0 to 17, got '2'$"),
    # draw_network of models with nothing to draw, or layers that do not fit
    Case("a network of an MLP with 0 layers", lambda w: viz.draw_network(SimpleNamespace(layers=())), ValueError,
         "^draw_network: the model has no layers, so no neurons to draw$"),
    Case("a network with an empty layer", lambda w: viz.draw_network(SimpleNamespace(layers=[SimpleNamespace(
         neurons=[])])), ValueError, "^draw_network: layer 0 has no neurons$"),
    Case("a network whose layers do not fit", lambda w: viz.draw_network(misfit()), ValueError,
         "^draw_network: neuron 0 of layer 1 has 3 weights, but the outputs of layer 0 are 2$"),
]


def plot_cases() -> list[Case]:
    from viz import plots

    return [
        Case("empty history", lambda w: plots.plot_history({}), ValueError, "history is empty"),
        Case("1-D points", lambda w: plots.decision_regions(lambda p: 0.0, [1.0, 2.0]), ValueError,
             r"shape \(n, 2\) with n at least 1, got \(2,\)"),
        Case("mismatched gradient check", lambda w: plots.plot_gradient_check([1.0, 2.0, 3.0], [1.0, 2.0]),
             ValueError, "3 analytic values but 2 numeric"),
        Case("a history of empty lists", lambda w: plots.plot_history({"loss": [], "accuracy": []}), ValueError,
             "^plot_history: the history is empty$"),
        Case("a history that is a str", lambda w: plots.plot_history("loss"), TypeError,  # type: ignore[arg-type]
             "^plot_history: history must map names to one number per epoch, or be a list of per-epoch records, "
             "got str$"),
        Case("records that name different numbers", lambda w: plots.plot_history([{"loss": 1.0}, {"acc": 0.5}]),
             ValueError, r"^plot_history: record 1 has \['acc'\], record 0 has \['loss'\]: every epoch's record "
             "must name the same numbers$"),
        Case("a loss that is not a number", lambda w: plots.plot_history({"loss": [1.0, "x"]}), TypeError,  # type: ignore[list-item]
             "^plot_history: 'loss' at epoch 2 is not a number: 'x'$"),
        Case("a NaN point", lambda w: plots.plot_decision_boundary(lambda p: 0.0, [[0.0, math.nan], [1.0, 1.0]],
             [0, 1]), ValueError, r"^plot_decision_boundary: point 0 is \[0.0, nan\]; every coordinate must be "
             "finite$"),
        Case("no points", lambda w: plots.decision_regions(lambda p: 0.0, np.zeros((0, 2))), ValueError,
             r"^decision_regions: points must have shape \(n, 2\) with n at least 1, got \(0, 2\)$"),
        Case("labels for fewer points", lambda w: plots.plot_decision_boundary(lambda p: 0.0, [[0.0, 0.0],
             [1.0, 1.0]], [0]), ValueError, r"^plot_decision_boundary: 2 points but labels of shape \(1,\)$"),
        Case("a resolution of 0", lambda w: plots.decision_regions(lambda p: 0.0, [[0.0, 0.0], [1.0, 1.0]],
             resolution=0), ValueError, "^decision_regions: resolution must be an int of at least 2, got 0$"),
        Case("names for fewer values", lambda w: plots.plot_gradient_check([1.0, 2.0], [1.0, 2.0], names=["a"]),
             ValueError, "^plot_gradient_check: 2 values but 1 names; give one name per value$"),
    ]


CASES += plot_cases()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    keep = out / "keep.svg"
    keep.write_bytes(OLD)
    keep.chmod(0o600)
    x, f = sigmoid()
    f.backward()
    return World(out, scratch, f, x, keep, monkeypatch)


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES if isinstance(case, Case)}) == sum(isinstance(c, Case) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_input_is_refused_by_name_and_changes_nothing(case: Case, world: World):
    if case.setup is not None:
        case.setup(world)
    files, graph = snapshot_files(world.out), snapshot_graph(world.root)
    with pytest.raises(case.error) as caught:
        case.act(world)
    world.patch.undo()  # the real os.write etc. again, before looking at the disk
    assert type(caught.value) is case.error, f"{type(caught.value).__name__}: {caught.value}"
    assert re.search(case.culprit, str(caught.value)), str(caught.value)
    assert snapshot_files(world.out) == files
    assert snapshot_graph(world.root) == graph


# -- the argument checks draw_graph and draw_plan share ----------------------------------------------

REFUSALS: list[tuple[Callable[[object], object], object, type[Exception], str]] = [  # check, argument, refusal
    (partial(checks.check_max_nodes, "f"), True, TypeError, "f: max_nodes must be an int or None (no limit), got bool"),
    (partial(checks.check_max_nodes, "f"), 2.0, TypeError, "f: max_nodes must be an int or None (no limit), got float"),
    (partial(checks.check_max_nodes, "f"), 0, ValueError,
     "f: max_nodes must be at least 1, or None for no limit, got 0"),
    (partial(checks.check_title, "f"), b"t", TypeError, "f: title must be a str, got bytes"),
    (partial(checks.check_flag, "f", "edge_labels"), "no", TypeError, "f: edge_labels must be True or False, got str"),
    (partial(checks.check_flag, "f", "edge_labels"), 1, TypeError, "f: edge_labels must be True or False, got int"),
    (partial(checks.check_batch, "f"), np.bool_(True), TypeError, "f: batch must be an int or None, got bool"),
    (partial(checks.check_batch, "f"), 4.0, TypeError, "f: batch must be an int or None, got float"),
    (partial(checks.check_batch, "f"), np.int8(0), ValueError, "f: batch must be at least 1, got 0"),
    (partial(checks.check_precision, "f"), 18, ValueError, "f: precision must be an int from 0 to 17, got 18"),
    (partial(checks.check_precision, "f"), "4", ValueError, "f: precision must be an int from 0 to 17, got '4'"),
    (partial(checks.check_rankdir, "f"), "lr", ValueError, "f: rankdir must be 'LR' or 'TB', got 'lr'"),
    (partial(checks.check_rankdir, "f"), ["LR"], ValueError, "f: rankdir must be 'LR' or 'TB', got ['LR']"),
    (partial(checks.check_format, "f"), "SVG", ValueError, "f: format must be 'svg', 'png' or 'pdf', got 'SVG'"),
    (partial(checks.check_format, "f"), None, ValueError, "f: format must be 'svg', 'png' or 'pdf', got None"),
]


@pytest.mark.parametrize(("check", "argument", "error", "message"), REFUSALS, ids=[r[3][3:] for r in REFUSALS])
def test_each_shared_check_refuses_with_its_one_wording(
    check: Callable[[object], object], argument: object, error: type[Exception], message: str
):
    with pytest.raises(error) as caught:
        check(argument)
    assert type(caught.value) is error and str(caught.value) == message


def test_the_shared_checks_pass_on_what_the_drawing_uses():
    batch = checks.check_batch("f", np.int64(32))
    assert batch == 32 and type(batch) is int  # a numpy int becomes the int the title prints
    assert checks.check_batch("f", None) is None and checks.check_max_nodes("f", None) is None
    assert checks.check_max_nodes("f", 1) == 1 and checks.check_precision("f", 0) == 0
    assert [checks.check_rankdir("f", r) for r in ("LR", "TB", "RL", "BT")] == ["LR", "TB", "RL", "BT"]
    assert checks.check_flag("f", "edge_labels", False) is False and checks.check_title("f", None) is None


@pytest.mark.parametrize("options", [{"max_nodes": 0}, {"max_nodes": "9"}, {"max_nodes": False}, {"title": 3}])
def test_draw_graph_and_draw_plan_refuse_an_option_they_share_in_the_same_words(options: dict[str, object]):
    def refusal(draw: Callable[..., object], subject: object) -> tuple[type[BaseException], str]:
        with pytest.raises((TypeError, ValueError)) as caught:
            draw(subject, **options)
        return type(caught.value), str(caught.value).split(": ", 1)[1]

    graph_error = refusal(viz.draw_graph, sigmoid()[1])
    assert graph_error == refusal(viz.draw_plan, plan_of_doubled())
    assert graph_error[1].startswith(next(iter(options)))  # the option named first


# -- hostile inputs that must be drawn, not refused --------------------------------------------------

LABELS = [
    '<<TABLE><TR><TD><IMG SRC="{secret}"/></TD></TR></TABLE>>',
    '<IMG SRC="{secret}"/>',
    "<b>x</b>",
    "\\N \\G \\E \\H \\T \\L x\\l y\\r z\\n",
    "ends with a backslash \\",
    'say "hi"; x [label=pwn]',
    "it's & &amp; &#60; <!-- -->",
    "]]> <![CDATA[ x",
    "{a|b} <port>",
    "中文 ∂L/∂w 🙂",
]
UNPRINTABLE = {  # text that SVG cannot hold -> what the picture shows instead
    "bell\x07here": "bell\\x07here",
    "nul\x00here": "nul\\x00here",
    "lone \ud800 surrogate": "lone \\ud800 surrogate",
    "del\x7f c1\x85": "del\\x7f c1\\x85",
    "tab\there": "tab here",
    "not a char \uffff": "not a char \\uffff",
    # invisible characters that would make a label read other than it is: shown as escapes
    "rlo \u202egnp.exe": "rlo \\u202egnp.exe",
    "bom\ufeffhere": "bom\\ufeffhere",
    "zero\u200bwidth": "zero\\u200bwidth",
    "isolates \u2066a\u2069 \u2067b\u2069 \u2068c\u2069": "isolates \\u2066a\\u2069 \\u2067b\\u2069 \\u2068c\\u2069",
    "marks \u200e \u200f \u061c": "marks \\u200e \\u200f \\u061c",
    "embeddings \u202a \u202b \u202c \u202d": "embeddings \\u202a \\u202b \\u202c \\u202d",
    "line\u2028and\u2029paragraph": "line\\u2028and\\u2029paragraph",
    "soft\xadhyphen, word\u2060joiner": "soft\\xadhyphen, word\\u2060joiner",
    "tag \U000e0041": "tag \\U000e0041",
    "joined \U0001f468\u200d\U0001f469 \u0645\u06cc\u200c\u062e": "joined \U0001f468\u200d\U0001f469 \u0645\u06cc\u200c"
    "\u062e",
}


def hostile_labels(secret: Path) -> dict[str, str]:
    """Label -> the text the picture must show for it."""
    shown = {label.replace("{secret}", str(secret)): label.replace("{secret}", str(secret)) for label in LABELS}
    return shown | UNPRINTABLE


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    # A real PNG, which Graphviz would embed as an <image>, followed by a marker that must never leak.
    from tests.test_viz import sigmoid_graph

    png = viz.render(viz.draw_graph(sigmoid_graph()[1]).source, "png")
    path = tmp_path / "private.png"
    path.write_bytes(png + SECRET)
    return path


def assert_shown_literally(svg: bytes, expected: list[str]) -> None:
    root = ET.fromstring(svg)  # well-formed XML, whatever the labels held
    texts = svg_texts(svg)
    for text in expected:
        assert text in texts, (text, texts)
    assert not [e for e in root.iter() if e.tag.endswith("image")]
    assert SECRET not in svg and b"<b>" not in svg and b"pwn</text>" not in svg


def test_hostile_labels_in_draw_graph_appear_as_text(secret: Path):
    labels = hostile_labels(secret)
    values = [Value(float(i), label=label) for i, label in enumerate(labels)]
    total = ag.sum(values)
    total.backward()
    assert_shown_literally(viz.render(viz.draw_graph(total).source, "svg"), list(labels.values()))


def test_hostile_input_names_in_draw_network_appear_as_text(secret: Path):
    labels = hostile_labels(secret)
    model = nn.MLP(len(labels), [1])
    for neuron in model.layers[0].neurons:
        neuron.activation = "<b>act</b>\\N"  # any text reaching DOT is escaped
    svg = viz.render(viz.draw_network(model, list(labels)).source, "svg")
    assert_shown_literally(svg, [*labels.values(), "<b>act</b>\\N"])
    tooltips = [a.get("{http://www.w3.org/1999/xlink}title") for a in ET.fromstring(svg).iter(f"{SVG}a")]
    assert any(t and t.startswith("w") for t in tooltips)


def test_hostile_op_names_labels_and_titles_in_draw_plan_appear_as_text(secret: Path):
    labels = list(hostile_labels(secret).items())
    ops = [Op(label, lambda x: x + 1.0, lambda g, x, out: (g,)) for label, _ in labels]
    weights = [Value(0.5, label=label) for label, _ in labels]

    def f(x: Value) -> Value:
        y = x
        for op in ops:
            z = op(y)
            assert isinstance(z, Value)
            y = z
        return y * weights[0]

    compiled = ag.compile(f)
    compiled(np.array([1.0, 2.0]))
    assert compiled.plan is not None
    beside = ag.sum(weights)
    svg = viz.render(viz.draw_plan(compiled.plan, beside=beside, title=labels[0][0]).source, "svg")
    shown = [text for _, text in labels]
    assert_shown_literally(svg, [*shown, f"parameter {shown[0]}"])
    for text in shown:  # each op's box: "1 <name> node → one <name> (B×1)"
        assert f"1 {text} node → one {text} (B×1)" in svg_texts(svg), text


def test_hostile_titles_scopes_and_formulas_appear_as_text(secret: Path):
    owner = SimpleNamespace(name='<IMG SRC="x"/> \\G scope')
    with ag.scope(owner):
        x = Value(2.0, label="<i>x</i>\\N")
        y = x * x
    y.label = "y & \\L"
    steps = viz.backward_steps(y)
    svg = viz.render(viz.draw_step(y, steps, 1).source, "svg")
    texts = svg_texts(svg)
    assert '<IMG SRC="x"/> \\G scope' in texts and "<i>x</i>\\N" in texts
    assert any(t.startswith("step 2 of 2:  dy & \\L/d<i>x</i>\\N") for t in texts), texts
    assert_shown_literally(svg, [])


def test_the_escaping_is_the_same_on_every_run(secret: Path):
    labels = list(hostile_labels(secret))
    first = viz.draw_graph(ag.sum([Value(1.0, label=label) for label in labels])).source
    second = viz.draw_graph(ag.sum([Value(1.0, label=label) for label in labels])).source
    assert first == second
    assert escape_dot("a\\N<b>\n'") == "a\\\\N&lt;b&gt;<br/>&#39;"
    assert escape_dot('a\\N"\nb', quoted=True) == "a\\\\N&quot; b"
    with pytest.raises(TypeError, match="escape_dot: text must be a str, got int"):
        escape_dot(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: [Value(math.nan, label="n") * Value(math.inf, label="i")], id="nan and inf data"),
        pytest.param(lambda: [Value(-math.inf) + Value(1e308) * 10], id="overflow to inf"),
    ],
)
def test_non_finite_data_and_grads_are_drawn(make: Callable[[], list[Value]]):
    [root] = make()
    root.backward()
    for v in ag.backward_order(root):
        v.grad = math.nan if v.op else math.inf
    texts = svg_texts(viz.render(viz.draw_graph(root).source, "svg"))
    assert any("nan" in t for t in texts) and any("inf" in t for t in texts)


def test_the_same_value_twice_and_a_graph_under_no_grad():
    x, f = sigmoid()
    once = viz.draw_graph(f).source
    assert viz.draw_graph([f, f]).source == once
    assert viz.draw_graph([f, x]).source.count("data 0.5000") == 1
    with ag.no_grad():
        y = x * 3
    svg = viz.render(viz.draw_graph(y).source, "svg")
    assert len([g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "node"]) >= 1
    assert len(viz.backward_steps(y)) == len(ag.backward_order(y))


def test_every_format_character_of_this_python_is_shown_as_an_escape():
    import unicodedata

    hidden = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp")]
    joiners = {"\u200c", "\u200d"}  # they shape Persian, Indic scripts and emoji: kept
    for char in hidden:
        code = ord(char)
        escape = f"x{code:02x}" if code <= 0xFF else f"u{code:04x}" if code <= 0xFFFF else f"U{code:08x}"
        expected = f"a{char}b" if char in joiners else f"a\\\\{escape}b"  # the backslash doubled for DOT
        assert escape_dot(f"a{char}b") == expected, hex(code)


@pytest.mark.parametrize(("text", "shown"), list(UNPRINTABLE.items())[-10:], ids=lambda t: t.encode().hex()[:24])
def test_invisible_characters_are_shown_in_every_kind_of_text(text: str, shown: str):
    with ag.scope(SimpleNamespace(name=f"scope {text}")):
        x = Value(2.0, label=f"x {text}")
        y = x * x
    y.label = f"y {text}"
    steps = viz.backward_steps(y)
    texts = svg_texts(viz.render(viz.draw_step(y, steps, 1).source, "svg"))  # a title, a cluster, labels
    assert f"scope {shown}" in texts and f"x {shown}" in texts
    assert any(t.startswith(f"step 2 of 2:  dy {shown}/dx {shown}") for t in texts), texts
    boxed = svg_texts(viz.render(viz.draw_graph(y, collapse=lambda owner: True, title=text).source, "svg"))
    assert shown in boxed and f"scope {shown}" in boxed  # the title, and a collapsed box's name
    plan = svg_texts(viz.render(viz.draw_plan(plan_of_doubled(), title=text).source, "svg"))
    assert shown in plan
    model = nn.MLP(1, [1])
    model.layers[0].neurons[0].activation = text
    network = svg_texts(viz.render(viz.draw_network(model, [text]).source, "svg"))
    assert shown in network and network.count(shown) == 2  # the input's name and the activation


def test_a_label_with_line_breaks_is_drawn_on_several_lines():
    x = Value(1.0, label="first\nsecond\r\nthird\rfourth")
    texts = svg_texts(viz.render(viz.draw_graph(x * 2).source, "svg"))
    assert [t for t in texts if t in ("first", "second", "third", "fourth")] == ["first", "second", "third", "fourth"]


def test_very_long_text_is_cut_and_says_how_much_was_left_out():
    x = Value(1.0, label="a" * 20_000)
    model = nn.MLP(1, [1])
    cut = f"{'a' * 400}… (19,600 more characters)"
    texts = svg_texts(viz.render(viz.draw_graph(x * 2, title="<" * 30_000).source, "svg"))
    assert cut in texts and f"{'<' * 400}… (29,600 more characters)" in texts
    assert cut in svg_texts(viz.render(viz.draw_network(model, ["a" * 20_000]).source, "svg"))
    assert cut in svg_texts(viz.render(viz.draw_plan(plan_of_doubled(), title="a" * 20_000).source, "svg"))
    worst = "\U000e0041" * 5_000  # each shown as 10 characters: still within Graphviz's 16,384 per label
    assert any(t.endswith("(4,600 more characters)") for t in svg_texts(viz.render(viz.draw_graph(
        Value(1.0, label=worst) * 2, title=worst).source, "svg")))


def nan_and_inf_mlp() -> nn.MLP:
    """A 2-3-1 MLP with a NaN weight, an infinite weight and biases of NaN and -inf: on [0.5, 1.0], its first
    neuron gives NaN and its second +inf."""
    model = nn.MLP(2, [3, 1], seed=0)
    first, second, third = model.layers[0].neurons
    first.w[0].data, first.b.data = math.nan, math.nan
    second.w[1].data = math.inf
    third.b.data = -math.inf
    return model


def nan_plan() -> Plan:
    compiled = ag.compile(lambda x: (x * math.inf) + x * math.nan)
    compiled(np.array([1.0, 2.0]))
    assert compiled.plan is not None
    return compiled.plan


@pytest.mark.parametrize("kind", ["graph", "collapsed graph", "network", "step", "plan"])
def test_nan_and_inf_are_drawn_in_every_kind_of_diagram(kind: str):
    model = nan_and_inf_mlp()
    out = output(model, [0.5, 1.0])
    out.backward()
    for v in ag.backward_order(out):
        v.grad = math.nan if v.op else v.grad
    if kind == "graph":
        diagram = viz.draw_graph(out, edge_labels=True)
    elif kind == "collapsed graph":
        diagram = viz.draw_graph(out, collapse=nn.Neuron)
    elif kind == "network":
        diagram = viz.draw_network(model)
    elif kind == "step":
        diagram = viz.draw_step(out, viz.backward_steps(out), 3)
    else:
        diagram = viz.draw_plan(nan_plan(), beside=out)
    texts = " ".join(svg_texts(viz.render(diagram.source, "svg")))
    assert "nan" in texts and "inf" in texts


def test_a_network_draws_a_weight_that_is_not_finite_as_a_grey_dashed_edge():
    svg = viz.render(viz.draw_network(nan_and_inf_mlp()).source, "svg")
    dashed = [e for e in ET.fromstring(svg).iter(f"{SVG}g") if e.get("class") == "edge"
              and any(p.get("stroke-dasharray") for p in e.iter(f"{SVG}path"))]  # fmt: skip
    assert len(dashed) == 2  # the NaN weight and the infinite one; the biases are written out
    texts = " ".join(svg_texts(svg))
    assert "grey dashed: NaN or infinite" in texts and "b=nan" in texts and "b=-inf" in texts


def test_the_smallest_graphs_one_node_a_leaf_root_and_a_root_given_twice(tmp_path: Path):
    x = Value(3.0, label="x")
    texts = svg_texts(viz.render(viz.draw_graph(x).source, "svg"))
    assert texts[:2] == ["x", "data 3.0000"]
    [step] = viz.backward_steps(x)
    assert step.grad == 1.0 and step.formula() == "dx/dx = 1 (the start of the backward pass)"
    assert "step 1 of 1:  dx/dx = 1 (the start of the backward pass)" in svg_texts(
        viz.render(viz.draw_step(x, [step], 0).source, "svg"))
    assert [p.name for p in viz.save_steps(x, tmp_path / "frames")] == ["step_1.svg"]
    out = output(nn.MLP(2, [2, 1], seed=0), [0.5, -1.0])
    assert viz.draw_graph([out, out], collapse=nn.Neuron).source == viz.draw_graph(out, collapse=nn.Neuron).source
    assert viz.draw_graph([x, x], collapse=nn.Neuron).source == viz.draw_graph(x).source


def test_a_node_that_gets_no_gradient_has_a_step_that_says_so():
    x, y = Value(1.0, label="x"), Value(1.0, label="y")
    index = y * 1.0
    index.label = "i"
    picked = ag.pick([x, x * 2], index)  # pick passes no gradient back to its index
    picked.label = "p"
    steps = viz.backward_steps(picked)
    grads = {step.node.label: step.grad for step in steps if step.node.label}
    assert grads == {"p": 1.0, "i": 0.0, "y": 0.0, "x": 2.0}  # dp/dx = 2 through x * 2, chosen by i = 1
    assert next(s for s in steps if s.node is index).formula() == "dp/di = 0 (no op passes a gradient back to i)"
    assert next(s for s in steps if s.node is y).formula() == "dp/dy = dp/di · di/dy = 0 × 1 = 0"
    frame = svg_texts(viz.render(viz.draw_step(picked, steps, len(steps) - 1).source, "svg"))
    assert "grad ?" not in frame and frame.count("grad 0.0000") == 2  # i and y: zero, and shown as such
    assert x.grad == 0.0 and y.grad == 0.0  # nothing written to .grad


def test_collapse_raising_an_error_that_takes_other_arguments_reaches_the_caller_with_a_note():
    class RefusalError(Exception):
        def __init__(self, code: int, reason: str) -> None:
            super().__init__(f"{code}: {reason}")

    def refuse(owner: object) -> bool:
        raise RefusalError(7, "no")

    with pytest.raises(RefusalError) as caught:
        viz.draw_graph(scoped("layer 0"), collapse=refuse)
    assert str(caught.value) == "7: no"
    note = "draw_graph: collapse raised RefusalError on the scope owner 'layer 0': 7: no"
    assert getattr(caught.value, "__notes__", [note]) == [note]  # notes exist from Python 3.11


# -- the renderer's timeout kills the whole process group -------------------------------------------


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as status:
            return status.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only unreaped
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_timeout_kills_the_renderer_and_everything_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pids = tmp_path / "pids"
    script = tmp_path / "slow-renderer"
    # The renderer starts a helper (holding the output pipe open) and then hangs itself.
    script.write_text(f"#!/bin/sh\nsleep 60 &\necho $$ $! > {pids}\nsleep 60\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(RENDER, "find_renderer", lambda fmt="svg": script)
    monkeypatch.setattr(RENDER, "RENDER_TIMEOUT", 0.5)
    started = time.monotonic()
    with pytest.raises(viz.RenderError, match=r"slow-renderer took more than 0.5 s and was stopped"):
        viz.render("digraph { a }", "svg")
    assert time.monotonic() - started < 10  # not the helper's 60 s
    child, grandchild = map(int, pids.read_text().split())
    deadline = time.monotonic() + 5
    while (alive(child) or alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child) and not alive(grandchild)
    assert os.getpgid(0) != child  # the renderer had a group of its own, not ours


def test_the_renderer_runs_in_a_session_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    script = tmp_path / "reporting-renderer"
    script.write_text("#!/bin/sh\ncat > /dev/null\nps -o pgid= -p $$ | tr -d ' '\necho $$\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(RENDER, "find_renderer", lambda fmt="svg": script)
    group, pid = viz.render("digraph {}", "svg").decode().split()
    assert group == pid  # the renderer leads its own process group
    assert int(group) != os.getpgid(0)


# -- max_nodes: None, and refusing a huge graph without walking it ----------------------------------


def test_max_nodes_none_means_no_limit():
    big = chain(300)  # 901 nodes to draw
    with pytest.raises(viz.GraphTooLargeError):
        viz.draw_graph(big)
    source = viz.draw_graph(big, max_nodes=None).source
    assert source.count("label=<+>") == 300


def test_a_huge_graph_is_refused_without_walking_it(monkeypatch: pytest.MonkeyPatch):
    big = chain(300_000)

    def whole_walk(root: Value) -> list[Value]:
        raise AssertionError("draw_graph walked the whole graph before refusing it")

    monkeypatch.setattr(ag, "backward_order", whole_walk)  # how the layout walks every node
    with pytest.raises(viz.GraphTooLargeError, match=r"more than max_nodes=500 .*counting stopped at 50\d"):
        viz.draw_graph(big)


def test_counting_respects_collapse():
    # 50 neurons of 40 nodes each: too many drawn alone, few enough collapsed into one box per neuron.
    owners = [SimpleNamespace(name=f"n{i}") for i in range(50)]
    outputs = []
    for owner in owners:
        with ag.scope(owner):
            outputs.append(chain(20))
    total = ag.sum(outputs)
    with pytest.raises(viz.GraphTooLargeError):
        viz.draw_graph(total)
    collapsed = viz.draw_graph(total, collapse=lambda o: o in owners)
    assert collapsed.source.count("nodes inside") == 50


# -- save_gif is atomic ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_save_gif_on_a_full_disk_keeps_the_good_gif(tmp_path: Path):
    pytest.importorskip("PIL")
    good = tmp_path / "backward.gif"
    good.write_bytes(b"GIF89a the good animation")
    # A real limit on file size: every write past 2 KB fails with EFBIG, whichever code writes.
    program = f"""
import resource, signal, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
import viz
from tests.test_viz import sigmoid_graph
root = sigmoid_graph()[1]
root.backward()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
try:
    viz.save_gif(root, {str(good)!r})
except OSError as error:
    print("refused:", error.errno)
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"refused: {errno.EFBIG}"
    assert good.read_bytes() == b"GIF89a the good animation"
    assert os.listdir(tmp_path) == ["backward.gif"]


def test_save_gif_and_save_steps_keep_permissions_and_symlinks(tmp_path: Path):
    pytest.importorskip("PIL")
    _, f = sigmoid()
    real = tmp_path / "real.gif"
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "link.gif"
    link.symlink_to(real)
    viz.save_gif(f, link)
    assert link.is_symlink() and real.read_bytes().startswith(b"GIF8")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    frames = viz.save_steps(f, tmp_path / "frames")
    frames[0].chmod(0o600)
    viz.save_steps(f, tmp_path / "frames")
    assert stat.S_IMODE(frames[0].stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [p.name for p in frames]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_while_rendering_kills_the_renderer_and_everything_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pids = tmp_path / "pids"
    script = tmp_path / "slow-renderer"
    script.write_text(f"#!/bin/sh\nsleep 60 &\necho $$ $! > {pids}\nsleep 60\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(RENDER, "find_renderer", lambda fmt="svg": script)
    # Aimed at the main thread, which waits on the renderer: a signal the kernel hands to another
    # thread would only set Python's flag, and the wait would go on until the renderer exits.
    main = threading.main_thread().ident
    assert main is not None
    interrupt = threading.Timer(1.0, lambda: signal.pthread_kill(main, signal.SIGINT))
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            viz.render("digraph { a }", "svg")
    finally:
        interrupt.cancel()
    child, grandchild = map(int, pids.read_text().split())
    deadline = time.monotonic() + 5
    while (alive(child) or alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child) and not alive(grandchild)
