"""The executor's quick finiteness test (a batch's sum) never changes a result: a batch of large finite
numbers whose sum overflows is judged by the scalar rules, which find nothing, and a non-finite one is
still refused by them, naming the sample."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
from autograd import Value
from tests.test_compile import assert_same_as_scalar


def test_large_finite_results_whose_sum_overflows_are_kept():
    w = Value(1.0)
    points = np.full(4, 709.0)  # exp(709) = 8.2e307: four of them overflow a float64 sum, each is finite
    assert_same_as_scalar(lambda x: (w * x).exp() * 1e-300, [points], [w], reduce="sum")
    outputs = ag.compile(lambda x: (w * x).exp(), reduce=None)(points).data
    assert np.all(outputs == math.exp(709.0))


def test_a_result_that_does_not_fit_is_refused_by_the_scalar_rule_naming_the_sample():
    w = Value(1.0)
    with pytest.raises(OverflowError, match="sample #2"):
        ag.compile(lambda x: (w * x).exp(), reduce="sum")(np.array([1.0, 2.0, 710.0]))
    with pytest.raises(OverflowError):
        (w * 710.0).exp()  # the scalar engine refuses it too
