"""Pictures of computation graphs: diagrams with data and gradients, the backward pass step by step."""

from viz.graph import GraphTooLargeError, draw_dot, draw_graph, path
from viz.render import Diagram, RenderError, find_renderer, render, save

__all__ = [
    "Diagram",
    "GraphTooLargeError",
    "RenderError",
    "draw_dot",
    "draw_graph",
    "find_renderer",
    "path",
    "render",
    "save",
]
