"""``Module``: the parameter bookkeeping every layer shares."""

from __future__ import annotations

import reprlib
from collections.abc import Iterator, Mapping
from typing import Any

from autograd import Value
from nn.checks import check_number, shorten


class Module:
    """Base class: finds the parameters (Values) among a module's attributes, however nested.

    Attributes that are Values, Modules, or lists of either are walked in the order they were
    assigned, which gives every parameter a stable dotted name such as ``layers.0.neurons.1.w.0``.
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a fixed order.

        Each object is visited once: a module that refers to itself, or two modules that refer to each
        other, are walked once, and a tied parameter (the same Value in two places) is listed once,
        under the first name met, so an optimiser moves it once per step.
        """
        found: list[tuple[str, Value]] = []
        seen: set[int] = set()
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:
            prefix, item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, Value):
                found.append((prefix, item))
                continue
            children = vars(item).items() if isinstance(item, Module) else enumerate(item)
            entries = [
                (f"{prefix}.{key}" if prefix else str(key), child)
                for key, child in children
                if id(child) not in seen and _walked(child)
            ]
            stack.extend(reversed(entries))  # reversed: the stack pops them back in order
        return found

    def parameters(self) -> list[Value]:
        """Every parameter (weights and biases), in the order of :meth:`named_parameters`.

        The same walk without building the names, which a 266,610-parameter network would spend most
        of a second on.
        """
        found: list[Value] = []
        seen: set[int] = set()
        stack: list[Any] = [self]
        while stack:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, Value):
                found.append(item)
                continue
            if not isinstance(item, Module) and all(type(x) is Value for x in item):  # a neuron's weights: in place
                for x in item:
                    if id(x) not in seen:
                        seen.add(id(x))
                        found.append(x)
                continue
            children = vars(item).values() if isinstance(item, Module) else item
            stack.extend(reversed([child for child in children if id(child) not in seen and _walked(child)]))
        return found

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (call before each backward pass)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """The parameters' values by name: plain floats, safe to serialise."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from ``state``; names and numbers are all checked before anything changes."""
        named = dict(self.named_parameters())
        missing = sorted(set(named) - set(state))
        unexpected = sorted(set(state) - set(named))
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: the names do not match this {type(self).__name__}"
                + (f"; missing {_few(missing)}" if missing else "")
                + (f"; unexpected {_few(unexpected)}" if unexpected else "")
            )
        values: dict[str, float] = {}
        for name, number in state.items():
            values[name] = check_number(number, f"load_state_dict: {shorten(str(name))}")
        for name, p in named.items():
            p.data = values[name]

    @reprlib.recursive_repr("<cycle>")
    def __repr__(self) -> str:
        lines = [self.describe()]
        for name, child in _submodules(self):
            lines.extend("  " + line for line in f"({name}): {child!r}".splitlines())
        return "\n".join(lines)

    def describe(self) -> str:
        """One line about this module itself (the repr adds its children below)."""
        return f"{type(self).__name__}({len(self.parameters())} parameters)"


def _walked(child: object) -> bool:
    """Whether ``named_parameters`` looks inside ``child``: a Value, a Module, or a list or tuple of them."""
    return isinstance(child, (Value, Module)) or (isinstance(child, (list, tuple)) and _holds_parameters(child))


def _holds_parameters(items: list[Any] | tuple[Any, ...]) -> bool:
    return bool(items) and all(isinstance(x, (Value, Module)) for x in items)


def _submodules(module: Module) -> Iterator[tuple[str, Module]]:
    for key, child in vars(module).items():
        if isinstance(child, Module):
            yield key, child
        elif isinstance(child, (list, tuple)) and child and all(isinstance(x, Module) for x in child):
            yield from ((f"{key}.{i}", x) for i, x in enumerate(child))


def _few(names: list[str]) -> str:
    shown = ", ".join(shorten(str(name)) for name in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")

