"""A tour of the engine: the sigmoid as a graph of small steps, backward step by step, and higher derivatives.

Run: python examples/engine_tour.py
"""

from __future__ import annotations

import math

import autograd as ag
from autograd import Value


def sigmoid_graph(x: Value) -> Value:
    """sigma(x) = 1 / (1 + e^-x), one node per step as chain-rule tutorials draw it.

    A = -x, B = e^A, C = B + 1, F = 1 / C.
    """
    a = -x
    a.label = "A = -x"
    b = a.exp()
    b.label = "B = e^A"
    c = b + 1
    c.label = "C = B + 1"
    f = 1 / c
    f.label = "F = 1 / C"
    return f


def rosenbrock(a: float, b: float) -> float:
    return (1 - a) ** 2 + 100 * (b - a**2) ** 2


def main() -> None:
    x = Value(0.0, label="x")
    f = sigmoid_graph(x)
    f.backward()
    print("forward, then backward, on sigma(x) at x = 0")
    for node in reversed(ag.backward_order(f)):
        print(f"  {node.label:10} data = {node.data + 0.0:+.4f}   dF/d(node) = {node.grad:+.4f}")  # + 0.0: no -0
    print(f"  check: sigma(0) (1 - sigma(0)) = {0.5 * 0.5:.4f}")

    print("\nhigher derivatives of sigma at x = 0.5, by nesting grad")
    derivative = ag.sigmoid
    for order in range(1, 4):
        derivative = ag.grad(derivative)
        print(f"  order {order}: {derivative(0.5):+.6f}")

    print("\nNewton's method on the Rosenbrock function from (-1.2, 1.0)")
    point = [-1.2, 1.0]
    for step in range(7):
        g = ag.grad(rosenbrock, argnums=(0, 1))(*point)
        (h11, h12), (h21, h22) = ag.hessian(rosenbrock, argnums=(0, 1))(*point)
        det = h11 * h22 - h12 * h21
        point = [point[0] - (h22 * g[0] - h12 * g[1]) / det, point[1] - (-h21 * g[0] + h11 * g[1]) / det]
        print(f"  step {step + 1}: ({point[0]:+.6f}, {point[1]:+.6f})  f = {rosenbrock(*point):.3e}")

    deep = Value(1.0)
    y = deep
    for _ in range(200_000):
        y = y * 1.000001
    y.backward()
    print(f"\na 200,000-node chain backpropagates without recursion: dy/dx = {deep.grad:.6f} "
          f"(exact {math.exp(200_000 * math.log1p(1e-6)):.6f})")


if __name__ == "__main__":
    main()
