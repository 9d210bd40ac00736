"""rt_math (the freestanding maths both renderers share) against glibc's libm."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

finite = st.floats(allow_nan=False, allow_infinity=False)


def ulp_diff(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / math.ulp(b if b != 0 else 5e-324)


@given(st.floats(min_value=0.0, allow_infinity=False))
def test_sqrt_correctly_rounded(povlib, x):
    assert povlib.rt_sqrt(x) == math.sqrt(x)


@given(finite)
def test_floor_ceil_fabs_exact(povlib, x):
    assert povlib.rt_floor(x) == math.floor(x) if abs(x) < 2**62 else povlib.rt_floor(x) == x
    assert povlib.rt_ceil(x) == (math.ceil(x) if abs(x) < 2**62 else x)
    assert povlib.rt_fabs(x) == abs(x)


@given(finite, finite)
def test_fmin_fmax(povlib, a, b):
    assert povlib.rt_fmin(a, b) == min(a, b)
    assert povlib.rt_fmax(a, b) == max(a, b)


@settings(max_examples=500)
@given(st.floats(min_value=-745.0, max_value=709.0))
def test_exp_within_one_ulp(povlib, x):
    want = math.exp(x)
    if want < 2.3e-308:  # subnormal results: compare absolutely
        assert abs(povlib.rt_exp(x) - want) <= 2 * 5e-324
    else:
        assert ulp_diff(povlib.rt_exp(x), want) <= 1


@settings(max_examples=500)
@given(st.floats(min_value=5e-324, allow_infinity=False))
def test_log_within_one_ulp(povlib, x):
    assert ulp_diff(povlib.rt_log(x), math.log(x)) <= 1


@settings(max_examples=500)
@given(st.floats(min_value=-1e5, max_value=1e5))
def test_sin_cos_within_two_ulp(povlib, x):
    for ours, ref in ((povlib.rt_sin(x), math.sin(x)), (povlib.rt_cos(x), math.cos(x))):
        assert ulp_diff(ours, ref) <= 2 or abs(ours - ref) <= 1e-300


@settings(max_examples=500)
@given(st.floats(min_value=-1e4, max_value=1e4))
def test_tan_within_four_ulp(povlib, x):
    assert ulp_diff(povlib.rt_tan(x), math.tan(x)) <= 4


@settings(max_examples=1000)
@given(st.floats(min_value=1e-6, max_value=1e6), st.floats(min_value=-200, max_value=200))
def test_pow_within_two_ulp(povlib, x, y):
    try:
        want = math.pow(x, y)
    except OverflowError:
        assert povlib.rt_pow(x, y) == math.inf
        return
    if want < 2.3e-308:
        assert abs(povlib.rt_pow(x, y) - want) <= 4 * 5e-324
    else:
        assert ulp_diff(povlib.rt_pow(x, y), want) <= 2


@given(st.floats(min_value=0.0, max_value=1.0), st.integers(min_value=1, max_value=40))
def test_pow_shading_exponents(povlib, x, n):
    """(N.L)^brilliance, (R.L)^phong_size: bases in [0, 1], integer exponents."""
    assert ulp_diff(povlib.rt_pow(x, float(n)), math.pow(x, n)) <= 2 or math.pow(x, n) < 1e-300


def test_special_values(povlib):
    inf = math.inf
    assert povlib.rt_exp(-inf) == 0.0 and povlib.rt_exp(inf) == inf
    assert povlib.rt_exp(710.0) == inf and povlib.rt_exp(-746.0) == 0.0
    assert povlib.rt_log(0.0) == -inf and math.isnan(povlib.rt_log(-1.0))
    assert povlib.rt_pow(0.0, 2.0) == 0.0 and povlib.rt_pow(2.0, 0.0) == 1.0
    assert povlib.rt_pow(-2.0, 3.0) == -8.0 and math.isnan(povlib.rt_pow(-2.0, 0.5))
    assert povlib.rt_pow(0.0, -1.0) == inf
    assert math.isnan(povlib.rt_sin(inf)) and math.isnan(povlib.rt_cos(math.nan))
    assert povlib.rt_floor(-0.5) == -1.0 and povlib.rt_floor(-0.0) == 0.0
