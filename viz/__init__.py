"""Pictures of computation graphs: diagrams with data and gradients, the backward pass step by step.

Plots (``viz.plots``) need matplotlib: ``pip install 'chainrule[plots]'``.
"""

from viz.graph import GraphTooLargeError, draw_dot, draw_graph, path
from viz.network import draw_network
from viz.render import Diagram, RenderError, find_renderer, render, save
from viz.steps import Step, Term, backward_steps, draw_step, save_gif, save_steps, step_slider

__all__ = [
    "Diagram",
    "GraphTooLargeError",
    "RenderError",
    "Step",
    "Term",
    "backward_steps",
    "draw_dot",
    "draw_graph",
    "draw_network",
    "draw_step",
    "find_renderer",
    "path",
    "render",
    "save",
    "save_gif",
    "save_steps",
    "step_slider",
]
