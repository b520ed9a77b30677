"""Pictures of computation graphs: diagrams with data and gradients, the backward pass step by step, and
the plan ``autograd.compile`` makes of a graph (``draw_plan``); any diagram as TikZ for LaTeX (``to_tikz``,
or ``save_diagram`` to a .tex file) and the backward pass as an animated SVG (``backward_animation``, or
``save_diagram(root, "f.svg", animate=True)``);
a training run as one self-contained HTML page (``TrainingRecorder``, ``training_page``), or drawn live
in Jupyter while it runs (``LiveView``).

Plots (``viz.plots``) need matplotlib: ``pip install matplotlib`` (or this package's ``plots`` extra).
"""

from viz.animation import backward_animation, save_animation
from viz.backward import Step, Term, backward_steps
from viz.graph import GraphTooLargeError, draw_dot, draw_graph, nodes_on_paths
from viz.live import LiveView
from viz.network import draw_network
from viz.plan import draw_plan
from viz.render import Diagram, RenderError, find_renderer, render
from viz.saving import save_diagram
from viz.steps import draw_step, save_gif, save_steps, step_slider
from viz.tikz import TikzError, escape_latex, to_tikz
from viz.training import TrainingRecorder, save_training_page, training_page

__all__ = [
    "Diagram",
    "GraphTooLargeError",
    "LiveView",
    "RenderError",
    "Step",
    "Term",
    "TikzError",
    "TrainingRecorder",
    "backward_animation",
    "backward_steps",
    "draw_dot",
    "draw_graph",
    "draw_network",
    "draw_plan",
    "draw_step",
    "escape_latex",
    "find_renderer",
    "nodes_on_paths",
    "render",
    "save_animation",
    "save_diagram",
    "save_gif",
    "save_steps",
    "save_training_page",
    "step_slider",
    "to_tikz",
    "training_page",
]
