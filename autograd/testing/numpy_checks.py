"""Check numpy derivations: ``gradient(*arrays)`` = ∂f/∂a for each array a, or a backward layer
``vjp(u, *arrays)`` = uᵀ ∂f/∂a, the gradient of Σ u ⊙ f(*arrays) for a random cotangent u.

The referee is the first that can run f: (1) the engine, f on numpy object arrays of Values (ufuncs
call the Values' methods, ``@`` and ``sum`` their ``*`` and ``+``), judged by ``check_gradients``;
(2) complex step, ∂f/∂x_k = Im f(x + ih e_k) / h, exact to rounding where f is analytic, since nothing
is subtracted (``np.linalg`` and ``np.log1p`` run on complex128); (3) finite differences of f. A referee
is trusted only if its slope along a random direction agrees with finite differences of f, since f may
turn Values into floats (``np.asarray(x, float)``) or leave the complex plane (``np.abs``) silently.
A hand value off only by what float64 rounding does to it (the gradient run again in long double), or
between f's one-sided slopes where f has a kink, is not blamed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Union

import numpy as np

from autograd.backward import backward_order, gradients
from autograd.engine import Value
from autograd.modes import enable_grad
from autograd.testing.checks import check_gradients
from autograd.testing.complex_step import Reference
from autograd.testing.differences import FiniteDifference
from autograd.testing.inputs import parameter_names
from autograd.testing.report import GradientReport, GradientRow
from autograd.testing.tolerances import ATOL, EPS, RTOL, HandPrecision, Tolerances
from autograd.testing.verdicts import judge

Argnums = Union[int, Sequence[int], None]
COMPLEX_STEP = 1e-20  # relative: the error is O(h²), far below rounding, and h·f' stays clear of underflow
DIRECTION_SEED = 20261204  # the random direction along which a referee is itself checked


class _RefereeError(Exception):
    """A referee that cannot judge this f, and why."""


@dataclass
class _Problem:
    """f, the hand gradient and the point, checked and named."""

    caller: str
    f: Callable[..., Any]
    gradient: Callable[..., Any]
    label: str  # f's name, as messages and titles show it
    gradient_name: str
    names: list[str]
    arrays: list[np.ndarray]
    scalar: list[bool]  # passed as a plain number, so f gets one back
    checked: tuple[int, ...]
    single: bool  # gradient returns one array, not a tuple of them
    notes: list[str]
    value: float = math.nan

    def arguments(self, arrays: Sequence[np.ndarray]) -> list[Any]:
        """Fresh copies, so that an f that changes its inputs in place cannot move the point."""
        return [a[()] if scalar else a.copy() for a, scalar in zip(arrays, self.scalar, strict=True)]

    def at(self, arrays: Sequence[np.ndarray]) -> float:
        """f at the given real arrays: a float, or a 0-d array."""
        with np.errstate(all="ignore"):  # overflow at a shifted point is an inf that the referees report
            out = self.f(*self.arguments(arrays))
        if isinstance(out, np.ndarray) and out.ndim:
            raise TypeError(f"{self.caller}: {self.label} must return a float, got an array of shape {out.shape} "
                            "(sum it into a loss, or check a vector-valued function with check_numpy_vjp)")
        return float(_reals(f"{self.caller}: the result of {self.label}", out, self.label))

    def along(self, i: int, index: tuple[int, ...]) -> Callable[[float], float]:
        """t ↦ f with element ``index`` of argument i set to t."""

        def moved(t: float) -> float:
            arrays = [a.copy() for a in self.arrays]
            arrays[i][index] = t
            return self.at(arrays)

        return moved

    def each(self, value: Callable[[int, tuple[int, ...]], float]) -> list[np.ndarray]:
        """``value(i, index)`` for every checked element, as arrays of the checked arguments' shapes."""
        shapes = [(i, self.arrays[i].shape) for i in self.checked]
        return [np.array([value(i, k) for k in np.ndindex(shape)]).reshape(shape) for i, shape in shapes]

    def rows(self) -> list[tuple[str, int, tuple[int, ...]]]:
        """(row name, argument, element) for every checked element: ``W[1,0]``, or ``b`` for a number."""
        shapes = [(i, self.arrays[i].shape) for i in self.checked]
        return [(_element(self.names[i], index), i, index) for i, shape in shapes for index in np.ndindex(shape)]


def check_numpy_gradients(
    f: Callable[..., Any], gradient: Callable[..., Any], *arrays: Any, argnums: Argnums = None,
    eps: float = EPS, atol: float = ATOL, rtol: float = RTOL, raise_on_failure: bool = False,
) -> GradientReport:  # fmt: skip
    """Your numpy gradient ∂f/∂a against a referee, one row per element, named ``W[1,0]`` after f's arguments.

    ``f(*arrays)`` returns a float; ``gradient(*arrays)`` one array of each argument's shape, or for
    ``argnums=`` (an int or a tuple) those arguments' (one array for an int). Integer arrays are checked
    as float64. The referee is the engine, complex step or finite differences (see the module's docstring).

    >>> f = lambda W, x: np.tanh(W @ x).sum()
    >>> grad = lambda W, x: (np.outer(1 - np.tanh(W @ x) ** 2, x), W.T @ (1 - np.tanh(W @ x) ** 2))
    >>> check_numpy_gradients(f, grad, np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([0.4, 0.7])).passed
    True
    """
    __tracebackhide__ = True
    caller = "check_numpy_gradients"
    tolerances = Tolerances.of(caller, eps=eps, atol=atol, rtol=rtol)
    problem = _problem(caller, f, gradient, arrays, argnums)
    problem.value = problem.at(problem.arrays)
    report = _report(problem, tolerances, f"{caller} of {problem.label} against {problem.gradient_name}")
    return report.raise_if_failed() if raise_on_failure else report


def check_numpy_vjp(
    f: Callable[..., Any], vjp: Callable[..., Any], *arrays: Any, argnums: Argnums = None,
    seed: int | np.random.Generator = 0, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
    raise_on_failure: bool = False,
) -> GradientReport:  # fmt: skip
    """A backward layer ``vjp(u, *arrays)`` = uᵀ ∂f/∂a (one array per argument) for an array-valued f, checked
    as the gradient of Σ u ⊙ f with u ~ N(0, 1) from ``seed``. A layer that takes a cache is checked as
    ``lambda dout, x, w, b: affine_backward(dout, (x, w, b))``."""
    __tracebackhide__ = True
    caller = "check_numpy_vjp"
    tolerances = Tolerances.of(caller, eps=eps, atol=atol, rtol=rtol)
    problem = _problem(caller, f, vjp, arrays, argnums)
    with np.errstate(all="ignore"):
        output = f(*problem.arguments(problem.arrays))
    shape = _reals(f"{caller}: the result of {problem.label}", output, "f").shape
    u = (seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)).standard_normal(shape)

    def loss(*args: Any) -> Any:
        out = f(*args)
        if np.shape(out) != shape:
            raise ValueError(f"{caller}: {problem.label} returned shape {np.shape(out)} here, {shape} at the point")
        return np.sum(u * out)  # object arrays of Values sum to a Value, complex ones to a complex number

    problem.f, problem.gradient = loss, lambda *args: vjp(u.copy(), *args)
    problem.value = problem.at(problem.arrays)
    title = f"{caller} of Σ u ⊙ {problem.label} against {problem.gradient_name}, u ~ N(0, 1) of shape {shape}"
    report = _report(problem, tolerances, title)
    return report.raise_if_failed() if raise_on_failure else report


def _report(problem: _Problem, tolerances: Tolerances, title: str) -> GradientReport:
    """The hand values judged by the first referee that can run f; the notes say why the others could not."""
    hand, notes, rows, used = _hand(problem), list(problem.notes), None, tolerances
    for referee, run in (("the engine (f run on arrays of Values)", _by_engine),
                         ("complex step on f (the engine column is Im f(x + ih) / h)", _by_complex_step)):  # fmt: skip
        try:
            rows, extra, used = run(problem, hand, tolerances)
            title, notes = f"{title}, referee: {referee}", notes + extra
            break
        except _RefereeError as why:
            notes.append(f"{referee.split(' (')[0]} cannot referee: {why}")
    if rows is None:
        rows = [_measured(problem, name, i, k, hand[i][k], None, tolerances) for name, i, k in problem.rows()]
        title += ", referee: finite differences of f (the engine column is their estimate)"
    elements = {name: (i, k) for name, i, k in problem.rows()}
    wobble = _float_rounding(problem, hand) if any(row.kind == "hand" for row in rows) else {}
    rows = [_second_look(problem, row, *elements[row.name], wobble, tolerances)
            if row.kind == "hand" and row.name in elements else row for row in rows]  # fmt: skip
    return GradientReport(title, tuple(rows), tuple(notes), used)


def _second_look(problem: _Problem, row: GradientRow, i: int, index: tuple[int, ...],
                 wobble: dict[int, np.ndarray], tolerances: Tolerances) -> GradientRow:  # fmt: skip
    """A hand value blamed where float64 rounding alone moves it that far, or where f itself has a kink along
    this element (a tie in np.maximum, np.abs or np.where, which the graph records as one branch), is no slip."""
    hand, allowance = row.expected if row.expected is not None else math.nan, 4 * float(wobble[i][index])
    if abs(hand - row.engine) <= allowance:
        return dataclasses.replace(row, kind="ok", verdict=f"ok, within the ±{allowance:.1e} by which float64 "
                                   f"rounding moves {problem.gradient_name}'s value here (long double agrees)")
    x = float(problem.arrays[i][index])
    slopes = FiniteDifference(problem.along(i, index), x, problem.value, tolerances.step(x)).one_sided_slopes()
    (left_h, right_h, _), (left, right, rounding) = ([(math.nan, math.nan, 0.0)] * 2 + slopes)[-2:]
    steady = abs(left - left_h) + abs(right - right_h) <= 1e-6 * (abs(left) + abs(right)) + 2 * rounding
    margin = tolerances.atol + tolerances.rtol * max(abs(left), abs(right)) + rounding
    if steady and abs(left - right) > margin and min(left, right) - margin <= hand <= max(left, right) + margin:
        return dataclasses.replace(row, kind="kink", verdict=f"kink: f's one-sided slopes here are {left:.6g} and "
                                   f"{right:.6g} (a tie in np.maximum, np.abs, np.where?); hand lies between")
    return row


def _by_engine(problem: _Problem, hand: dict[int, np.ndarray],
               tolerances: Tolerances) -> tuple[list[GradientRow], list[str], Tolerances]:  # fmt: skip
    """f on arrays of Values, judged by check_gradients; elements f's graph does not reach have derivative 0."""
    leaves: dict[tuple[int, tuple[int, ...]], Value] = {}
    values: list[Any] = []
    for i, (array, scalar) in enumerate(zip(problem.arrays, problem.scalar, strict=True)):
        cells = np.empty(array.shape, dtype=object)
        for index, x in np.ndenumerate(array):
            cells[index] = leaves[i, index] = Value(float(x), label=_element(problem.names[i], index))
        values.append(cells.item() if scalar else cells)
    try:
        with enable_grad(), np.errstate(all="ignore"):
            out = problem.f(*values)
    except Exception as error:  # f ran on floats, so what failed is running it on Values
        raise _RefereeError(f"{problem.label} fails on arrays of Values ({type(error).__name__}: {error})") from None
    out = out.item() if isinstance(out, np.ndarray) and out.ndim == 0 else out
    if not isinstance(out, Value):
        raise _RefereeError(f"{problem.label} on arrays of Values returns {type(out).__name__}, not a Value: "
                            "it turns them into numbers (float(), np.asarray(x, float)?)")  # fmt: skip
    if not math.isclose(out.data, problem.value, rel_tol=1e-8, abs_tol=1e-13):
        raise _RefereeError(f"{problem.label} on arrays of Values gives {out.data!r}, on floats {problem.value!r}")
    checked = [leaves[i, index] for _, i, index in problem.rows()]
    derivative = dict(zip(checked, gradients(out, checked), strict=True))
    _trusted(problem, problem.each(lambda i, k: float(derivative[leaves[i, k]])), tolerances, "its graph")
    reached = set(backward_order(out))
    expected = {leaves[i, k]: float(hand[i][k]) for _, i, k in problem.rows() if leaves[i, k] in reached}
    # digits=17: a numpy gradient is a computed value, every digit meant, not a number typed to a few digits
    report = check_gradients(out, expected, eps=tolerances.eps, atol=tolerances.atol, rtol=tolerances.rtol,
                             digits=17) if expected else GradientReport("", (), (), tolerances)  # fmt: skip
    judged, notes, used = {row.name: row for row in report.rows}, list(report.notes), report.tolerances or tolerances
    rows = []
    for name, i, k in problem.rows():
        row = judged.pop(name, None)  # f's graph does not reach the others: the engine's derivative is 0
        rows.append(row if row is not None else _measured(problem, name, i, k, float(hand[i][k]), 0.0, tolerances))
    rows += judged.values()  # the audit's rows, for an op rule that disagrees with its forward
    return rows, notes, used


def _float_rounding(problem: _Problem, hand: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """|hand - the gradient run in long double|: how far float64 rounding moves the hand values (σ(z)(1 - σ(z))
    keeps eight digits at z = 19); zero where long double is no wider, or the gradient will not run on it."""
    if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps:
        try:
            with np.errstate(all="ignore"):
                out = problem.gradient(*problem.arguments([a.astype(np.longdouble) for a in problem.arrays]))
            out = (out,) if problem.single and not isinstance(out, (tuple, list)) else out
            return {i: np.abs(np.asarray(given, np.longdouble) - hand[i]).astype(np.float64).reshape(hand[i].shape)
                    for i, given in zip(problem.checked, out, strict=True)}  # fmt: skip
        except Exception:  # a gradient that will not run in long double gets no allowance
            pass
    return {i: np.zeros(array.shape) for i, array in hand.items()}


def _by_complex_step(problem: _Problem, hand: dict[int, np.ndarray],
                     tolerances: Tolerances) -> tuple[list[GradientRow], list[str], Tolerances]:  # fmt: skip
    """Im f(x + ih e_k) / h for every checked element, each row judged against finite differences."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.filterwarnings("error", message="Casting complex values to real")  # f dropped the imaginary part
        slopes = problem.each(functools.partial(_complex_slope, problem))
    _trusted(problem, slopes, tolerances, "its complex step")
    # a numpy gradient's every digit is meant; what rounding inside f and the gradient may do is allowed for
    floor = 1e-10 * max(float(np.max(np.abs(slope))) for slope in slopes) + tolerances.atol
    exact = {(i, k): float(slopes[problem.checked.index(i)][k]) for _, i, k in problem.rows()}
    rows = [_measured(problem, name, i, k, float(hand[i][k]), exact[i, k], tolerances,
                      Reference(exact[i, k], 1e-8 * abs(exact[i, k]) + floor)) for name, i, k in problem.rows()]
    return rows, [], tolerances


def _complex_slope(problem: _Problem, i: int, index: tuple[int, ...]) -> float:
    arrays = [a.astype(complex) for a in problem.arrays]
    h = COMPLEX_STEP * max(1.0, abs(float(problem.arrays[i][index])))
    arrays[i][index] += 1j * h
    try:
        out = problem.f(*problem.arguments(arrays))
    except Exception as error:  # f ran on floats, so what failed is running it on complex numbers
        raise _RefereeError(f"{problem.label} fails on complex arrays ({type(error).__name__}: {error})") from None
    out = out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out
    if not isinstance(out, (complex, np.complexfloating)):
        raise _RefereeError(f"{problem.label} on complex arrays returns {type(out).__name__}: no imaginary part")
    value = complex(out)
    if not (math.isfinite(value.imag) and math.isclose(value.real, problem.value, rel_tol=1e-9, abs_tol=1e-300)):
        raise _RefereeError(f"{problem.label} on complex arrays returns {value}, on floats {problem.value!r}")
    return value.imag / h


def _trusted(problem: _Problem, slopes: list[np.ndarray], tolerances: Tolerances, what: str) -> None:
    """Refuse a referee whose slope along a random direction v, Σ ∂f/∂x · v, finite differences of f contradict."""
    rng = np.random.default_rng(DIRECTION_SEED)
    direction = [rng.standard_normal(slope.shape) for slope in slopes]
    shift = dict(zip(problem.checked, direction, strict=True))
    along = sum(float(np.sum(s * v)) for s, v in zip(slopes, direction, strict=True))
    rounding = 1e-9 * sum(float(np.sum(np.abs(s * v))) for s, v in zip(slopes, direction, strict=True))
    largest = max(float(np.max(np.abs(problem.arrays[i]))) for i in problem.checked)
    longest = max(float(np.max(np.abs(v))) for v in direction)

    def moved(t: float) -> float:
        return problem.at([a + t * shift[j] if j in shift else a for j, a in enumerate(problem.arrays)])

    measure = FiniteDifference(moved, 0.0, problem.value, tolerances.eps * max(1.0, largest) / longest)
    if tolerances.agree(along, measure.quick.central, rounding):
        return
    careful = measure.careful
    # only a measurement that settled may overrule a referee; near a kink the referee stands
    if careful.settled and math.isfinite(careful.central) and not tolerances.agree(
            along, careful.central, rounding + 2 * careful.error):  # fmt: skip
        raise _RefereeError(f"along a random direction {what} gives the slope {along:.10g}, finite differences of "
                            f"{problem.label} {careful.central:.10g}: {problem.label} leaves it somewhere")  # fmt: skip


def _measured(problem: _Problem, name: str, i: int, index: tuple[int, ...], hand: float, reference: float | None,
              tolerances: Tolerances, exact: Reference | None = None) -> GradientRow:  # fmt: skip
    """A row judged by the complex step ``exact``, else against finite differences of f; with no ``reference``
    (the engine's or the complex step's value), they are the referee too."""
    x = float(problem.arrays[i][index])
    measure = FiniteDifference(problem.along(i, index), x, problem.value, tolerances.step(x))
    if reference is None:  # the hand value stands in for the reference where the measurements cannot tell them apart
        reference = hand
        if not tolerances.agree(hand, measure.quick.central):
            careful = measure.careful
            if not math.isfinite(careful.central):
                verdict = f"inconclusive: cannot decide: finite differences cannot be taken here: {careful.trouble}"
                return GradientRow(name, math.nan, math.nan, hand, verdict, "undefined")
            if not tolerances.agree(hand, careful.central, 2 * careful.error):
                reference = careful.central
    return judge(name, reference, hand, measure, lambda: "", tolerances, None, exact, HandPrecision.of(hand, 17))


def _problem(caller: str, f: Any, gradient: Any, arrays: tuple[Any, ...], argnums: Argnums) -> _Problem:
    """The arguments as float64 arrays, named after f's parameters, with the arguments to check."""
    role = "gradient" if caller.endswith("gradients") else "vjp"
    for who, function in (("f", f), (role, gradient)):
        if not callable(function):
            raise TypeError(f"{caller}: {who} must be a function, got {type(function).__name__}")
    if not arrays:
        raise ValueError(f"{caller}: give the arrays at which to check {_name(f, 'f')}")
    names, notes, converted = parameter_names(f, len(arrays)), [], []
    for name, array in zip(names, arrays, strict=True):
        what = f"{caller}: argument {name} of {_name(f, 'f')}"
        converted.append(_reals(what, array, name))
        if np.asarray(array).dtype != np.float64:  # an int array's gradient is that of its float64 twin
            notes.append(f"{name} ({np.asarray(array).dtype}) is checked as float64")
        if converted[-1].size == 0:
            raise ValueError(f"{what} is empty (shape {converted[-1].shape}): nothing to check")
    scalar = [not isinstance(array, np.ndarray) for array in arrays]
    checked, single = _argnums(caller, argnums, len(arrays))
    return _Problem(caller, f, gradient, _name(f, "f"), _name(gradient, role), names, converted, scalar, checked,
                    single, notes)  # fmt: skip


def _argnums(caller: str, argnums: Argnums, count: int) -> tuple[tuple[int, ...], bool]:
    """The checked arguments' positions, and whether the gradient returns a single array."""
    single = isinstance(argnums, (int, np.integer))
    given: Any = range(count) if argnums is None else [argnums] if single else argnums
    if not isinstance(given, (list, tuple, range)) or not given:
        raise TypeError(f"{caller}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    ints = all(isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) for k in given)
    checked = tuple(int(k) % count for k in given) if ints and all(-count <= k < count for k in given) else ()
    if len(set(checked)) < len(given):
        raise ValueError(f"{caller}: argnums {argnums!r} must be positions of the {count} arrays, each once")
    return checked, single or (argnums is None and count == 1)


def _hand(problem: _Problem) -> dict[int, np.ndarray]:
    """The gradient's arrays by argument position: as many as checked, each of its argument's shape, finite."""
    who = f"{problem.caller}: {problem.gradient_name}"
    wanted = [problem.names[i] for i in problem.checked]
    with np.errstate(all="ignore"):
        out = problem.gradient(*problem.arguments(problem.arrays))
    out = (out,) if problem.single and not isinstance(out, (tuple, list)) else out
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{who} must return a tuple of arrays, one for each of {', '.join(wanted)}; "
                        f"got {type(out).__name__}")  # fmt: skip
    if len(out) != len(wanted):
        missing = f": nothing for {', '.join(wanted[len(out) :])}" if len(out) < len(wanted) else ""
        raise ValueError(f"{who} returned {len(out)} arrays for the {len(wanted)} arguments "
                         f"{', '.join(wanted)}{missing}")  # fmt: skip
    hand = {}
    for i, given in zip(problem.checked, out, strict=True):
        name, shape = problem.names[i], problem.arrays[i].shape
        array = _reals(f"{who}'s gradient for {name}", given, name)
        if array.shape != shape:
            raise ValueError(f"{who} returned shape {array.shape} for {name}, expected {shape}, the shape of {name}"
                             + (" (transposed?)" if array.shape == shape[::-1] else ""))  # fmt: skip
        hand[i] = array
    return hand


def _reals(what: str, value: Any, name: str) -> np.ndarray:
    """``value``, an array or a real number, as float64: a TypeError or ValueError naming ``what`` if it is
    not real or not finite, with the first bad element named after ``name`` (``W[1,0]``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (np.ndarray, Real, np.number)):
        raise TypeError(f"{what} must be a numpy array or a real number, got {type(value).__name__}")
    if np.asarray(value).dtype.kind not in "iuf":
        raise TypeError(f"{what} must hold real numbers, got dtype {np.asarray(value).dtype}")
    array: np.ndarray = np.asarray(value, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        index = tuple(int(k) for k in bad[0])
        raise ValueError(f"{what} holds {array[index]} at {_element(name, index)}; give finite numbers")
    return array


def _element(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{','.join(map(str, index))}]" if index else name


def _name(function: Any, unnamed: str) -> str:
    name = getattr(function, "__name__", None) or type(function).__name__
    return unnamed if name == "<lambda>" else name
