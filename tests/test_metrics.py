"""Tests for :mod:`korean_gan.evaluation.metrics` against closed forms and hand-computed values."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import linalg

from korean_gan.evaluation import metrics
from korean_gan.evaluation.metrics import (
    class_coverage,
    content_accuracy,
    frechet_distance,
    frechet_distance_from_activations,
    gaussian_statistics,
    ink_iou,
    kernel_distance,
    legibility,
    precision_recall,
)

METHODS = ("eigh", "sqrtm")


def random_spd(rng: np.random.Generator, dim: int) -> np.ndarray:
    """A random, well-conditioned symmetric positive definite matrix."""
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + 0.5 * np.eye(dim)


def rotation(theta: float) -> np.ndarray:
    return np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


# --- gaussian_statistics ---------------------------------------------------------------------


def test_gaussian_statistics_matches_numpy() -> None:
    x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    mu, sigma = gaussian_statistics(x)
    assert mu.dtype == sigma.dtype == np.float64
    assert mu.shape == (3,) and sigma.shape == (3, 3)
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-12)


def test_gaussian_statistics_two_points_by_hand() -> None:
    mu, sigma = gaussian_statistics([[0.0, 1.0], [2.0, 5.0]])
    np.testing.assert_array_equal(mu, [1.0, 3.0])
    # ddof=1: deviations (-1, -2) and (1, 2), summed outer products / (2 - 1).
    np.testing.assert_array_equal(sigma, [[2.0, 4.0], [4.0, 8.0]])


# --- Fréchet distance ------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_frechet_identical_statistics_is_zero(method: str) -> None:
    rng = np.random.default_rng(1)
    mu, sigma = rng.normal(size=6), random_spd(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma, method=method) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_frechet_mean_shift_only(method: str) -> None:
    rng = np.random.default_rng(2)
    sigma = random_spd(rng, 5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    expected = float(np.sum((mu1 - mu2) ** 2))
    got = frechet_distance(mu1, sigma, mu2, sigma, method=method)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_frechet_diagonal_closed_form(method: str) -> None:
    a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 2.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
    # sum (sqrt a - sqrt b)^2 = 1 + 1 + 0 + 1 = 3; ||dmu||^2 = 1 + 0 + 4 + 0 = 5.
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b), method=method)
    assert got == pytest.approx(8.0, rel=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_frechet_commuting_rotated_covariances(method: str) -> None:
    # S1 = R diag(a) R^T and S2 = R diag(b) R^T commute, so (S1 S2)^(1/2) = R diag(sqrt(ab)) R^T
    # and the distance has the same closed form as the diagonal case.
    r = rotation(0.7)
    a, b = np.array([2.0, 0.5]), np.array([0.5, 3.0])
    s1, s2 = r @ np.diag(a) @ r.T, r @ np.diag(b) @ r.T
    assert abs(s1[0, 1]) > 0.1  # really not diagonal
    mu1, mu2 = np.array([1.0, -1.0]), np.array([0.0, 1.0])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) + 1.0 + 4.0
    assert frechet_distance(mu1, s1, mu2, s2, method=method) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_frechet_non_commuting_2x2_closed_form(method: str) -> None:
    # For 2x2 matrices with eigenvalues l1, l2 >= 0 of S1 S2:
    # Tr((S1 S2)^(1/2))^2 = l1 + l2 + 2 sqrt(l1 l2) = Tr(S1 S2) + 2 sqrt(det S1 det S2).
    s1 = np.array([[2.0, 1.0], [1.0, 2.0]])  # det 3
    s2 = np.array([[1.0, 0.0], [0.0, 3.0]])  # det 3
    # S1 S2 = [[2, 3], [1, 6]]: trace 8, so Tr sqrt = sqrt(8 + 2 * 3) = sqrt(14).
    assert not np.allclose(s1 @ s2, s2 @ s1)
    mu1, mu2 = np.zeros(2), np.array([0.0, 2.0])
    expected = 4.0 + 4.0 - 2.0 * math.sqrt(14.0) + 4.0
    assert frechet_distance(mu1, s1, mu2, s2, method=method) == pytest.approx(expected, rel=1e-12)


def test_frechet_methods_agree_and_are_symmetric() -> None:
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    s1, s2 = random_spd(rng, 8), random_spd(rng, 8)
    forward = frechet_distance(mu1, s1, mu2, s2)
    assert forward > 0
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(forward, rel=1e-10)
    assert frechet_distance(mu1, s1, mu2, s2, method="sqrtm") == pytest.approx(forward, rel=1e-8)


def test_frechet_from_activations_large_sample() -> None:
    # N(0, I) against N(m, 4 I) in d = 4: ||m||^2 + sum_i (sqrt(1) - sqrt(4))^2 = ||m||^2 + d.
    # Sampling error with n = 200,000 per set: the mean term fluctuates by about
    # 2 ||m|| sqrt((1 + 4) / n) = 0.01; each variance term by about
    # sqrt((1 * sqrt(2/n))^2 + (0.5 * 4 * sqrt(2/n))^2) = 0.007, so 0.014 over 4 dims; the
    # estimator's bias is O(d^2 / n) ~ 1e-4. Total standard deviation ~0.017: tolerance 0.1
    # is about 6 sigma (and the seed is fixed).
    rng = np.random.default_rng(4)
    m = np.array([1.0, 0.5, 0.0, -0.5])
    n, d = 200_000, 4
    x = rng.normal(size=(n, d))
    y = m + 2.0 * rng.normal(size=(n, d))
    expected = float(m @ m) + d * (1.0 - 2.0) ** 2  # 1.5 + 4 = 5.5
    assert frechet_distance_from_activations(x, y) == pytest.approx(expected, abs=0.1)


def test_frechet_from_activations_equals_statistics_path() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 1.0
    expected = frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))
    assert frechet_distance_from_activations(a, b) == expected
    assert frechet_distance_from_activations(b, a) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_frechet_singular_covariances(method: str) -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(5, 10)), rng.normal(size=(6, 10))  # N < D: rank <= N - 1
    mu1, s1 = gaussian_statistics(a)
    mu2, s2 = gaussian_statistics(b)
    assert np.linalg.matrix_rank(s1) == 4
    value = frechet_distance(mu1, s1, mu2, s2, method=method)
    assert math.isfinite(value) and value >= 0.0
    assert frechet_distance_from_activations(a, b) == pytest.approx(
        frechet_distance(mu1, s1, mu2, s2), rel=1e-12)


def test_frechet_constant_features_give_zero() -> None:
    constant = np.ones((4, 3))
    assert frechet_distance_from_activations(constant, constant) == 0.0
    assert frechet_distance_from_activations(constant, constant + 2.0) == pytest.approx(12.0)


def test_frechet_sqrtm_retries_with_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    real_sqrtm = linalg.sqrtm
    calls: list[np.ndarray] = []

    def flaky_sqrtm(matrix, *args, **kwargs):
        calls.append(matrix)
        if len(calls) == 1:
            return np.full_like(matrix, np.inf)
        return real_sqrtm(matrix, *args, **kwargs)

    monkeypatch.setattr(metrics.linalg, "sqrtm", flaky_sqrtm)
    a, b, eps = np.array([1.0, 4.0]), np.array([9.0, 1.0]), 1e-3
    got = frechet_distance(np.zeros(2), np.diag(a), np.zeros(2), np.diag(b), eps=eps,
                           method="sqrtm")
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], np.diag((a + eps) * (b + eps)), rtol=1e-15)
    # As the reference code: traces of the given covariances, square root of the offset ones.
    expected = np.sum(a + b) - 2.0 * np.sum(np.sqrt((a + eps) * (b + eps)))
    assert got == pytest.approx(expected, rel=1e-12)


def test_frechet_eigh_retries_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    real = metrics._trace_sqrt_product_eigh
    calls: list[np.ndarray] = []

    def flaky(s1, s2):
        calls.append(s1)
        if len(calls) == 1:
            raise np.linalg.LinAlgError("did not converge")
        return real(s1, s2)

    monkeypatch.setattr(metrics, "_trace_sqrt_product_eigh", flaky)
    eye = np.eye(3)
    assert frechet_distance(np.zeros(3), eye, np.zeros(3), eye) == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_array_equal(calls[1], eye * (1.0 + 1e-6))

    monkeypatch.setattr(metrics, "_trace_sqrt_product_eigh", lambda s1, s2: math.nan)
    with pytest.raises(ValueError, match="even after adding"):
        frechet_distance(np.zeros(3), eye, np.zeros(3), eye)


def test_frechet_sqrtm_large_imaginary_part_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics.linalg, "sqrtm", lambda m, *a, **k: m + 1j * np.eye(len(m)))
    with pytest.raises(ValueError, match="imaginary component"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), method="sqrtm")
    # A tiny imaginary part is discarded.
    monkeypatch.setattr(metrics.linalg, "sqrtm", lambda m, *a, **k: m + 1e-9j * np.eye(len(m)))
    assert frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2),
                            method="sqrtm") == pytest.approx(0.0, abs=1e-12)


# --- kernel distance (KID) -------------------------------------------------------------------


def test_kid_hand_computed_tiny_case() -> None:
    # m = n = 3 points in d = 1, so k(u, v) = (u * v / 1 + 1)^3. Exact rational arithmetic.
    xs = [Fraction(0), Fraction(1, 2), Fraction(1)]
    ys = [Fraction(2), Fraction(3, 2), Fraction(5, 2)]

    def k(u: Fraction, v: Fraction) -> Fraction:
        return (u * v + 1) ** 3

    m = n = 3
    xx = sum(k(xs[i], xs[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(ys[i], ys[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(u, v) for u in xs for v in ys) / (m * n)
    # By hand: off-diagonal X pairs 1, 1, 1.5^3 (each twice) -> 2 * 5.375 / 6 = 43/24;
    # Y pairs 4^3, 6^3, 4.75^3 -> 2 * 387.171875 / 6 = 24779/192;
    # cross terms 3 + (8 + 1.75^3 + 2.25^3) + (27 + 2.5^3 + 3.5^3) = 113.25 -> / 9 = 151/12.
    assert (xx, yy, xy) == (Fraction(43, 24), Fraction(24779, 192), Fraction(151, 12))
    expected = xx + yy - 2 * xy
    assert expected == Fraction(20291, 192)  # 105.682291666...
    a = np.array([[float(v)] for v in xs])
    b = np.array([[float(v)] for v in ys])
    mean, std = kernel_distance(a, b, num_subsets=1, subset_size=3)
    assert mean == pytest.approx(float(expected), abs=1e-12)
    assert std == 0.0
    # Every subset is the whole set (in some order), so more subsets change nothing.
    mean5, std5 = kernel_distance(a, b, num_subsets=5, subset_size=100)
    assert mean5 == pytest.approx(float(expected), abs=1e-12)
    assert std5 == pytest.approx(0.0, abs=1e-12)


def test_kid_of_a_sample_with_itself_is_negative() -> None:
    # Unbiased: with X = Y the cross term keeps the diagonal k(x, x) that the others leave out,
    # MMD^2_u = 2 (sum_{i != j} K_ij / (m (m-1)) - sum_{i,j} K_ij / m^2) < 0.
    x = np.random.default_rng(7).normal(size=(20, 4))
    kern = (x @ x.T / 4 + 1.0) ** 3
    m = 20
    expected = 2 * ((kern.sum() - np.trace(kern)) / (m * (m - 1)) - kern.sum() / m**2)
    mean, _ = kernel_distance(x, x, num_subsets=1, subset_size=m)
    assert expected < 0
    assert mean == pytest.approx(expected, rel=1e-10)


def test_kid_same_distribution_near_zero_shifted_clearly_positive() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    shifted = rng.normal(size=(400, 8)) + 0.5
    same_mean, _ = kernel_distance(a, b, num_subsets=5, subset_size=200)
    shift_mean, shift_std = kernel_distance(a, shifted, num_subsets=5, subset_size=200)
    assert shift_mean > 5 * shift_std > 0
    assert abs(same_mean) < 0.05 * shift_mean


def test_kid_is_seeded() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(100, 5)), rng.normal(size=(90, 5)) + 0.2
    first = kernel_distance(a, b, num_subsets=4, subset_size=30, seed=3)
    assert kernel_distance(a, b, num_subsets=4, subset_size=30, seed=3) == first
    assert kernel_distance(a, b, num_subsets=4, subset_size=30, seed=4) != first


# --- precision and recall --------------------------------------------------------------------


def grid(n: int) -> np.ndarray:
    """The n x n integer grid in 2-D, as (n*n, 2) points."""
    i, j = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    return np.stack([i.ravel(), j.ravel()], axis=1)


def naive_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Direct O(N M D) reference with explicit differences."""

    def radii(x: np.ndarray) -> np.ndarray:
        d = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    def share(probe: np.ndarray, centers: np.ndarray, r: np.ndarray) -> float:
        d = np.linalg.norm(probe[:, None, :] - centers[None, :, :], axis=2)
        return float(np.mean((d <= r[None, :]).any(axis=1)))

    return share(fake, real, radii(real)), share(real, fake, radii(fake))


def test_pr_identical_sets() -> None:
    real = np.random.default_rng(10).normal(size=(200, 8))
    assert precision_recall(real, real.copy()) == (1.0, 1.0)


def test_pr_far_away_fakes() -> None:
    rng = np.random.default_rng(11)
    real = rng.normal(size=(100, 8))
    assert precision_recall(real, rng.normal(size=(80, 8)) + 1000.0) == (0.0, 0.0)


def test_pr_grid_half_inside_half_far() -> None:
    # Real: the 10 x 10 unit grid; every real radius (3rd neighbour) is 1 (sqrt 2 at corners).
    # Fakes: the 81 cell centres, at distance sqrt(0.5) ~ 0.71 < 1 from their cell's corners,
    # and 81 copies of them moved 100 away. Precision 81 / 162 = 0.5. The centres form a
    # 9 x 9 unit grid (fake radii >= 1) and every real point is a corner of a cell at 0.71,
    # so recall is 1.
    real = grid(10)
    centres = grid(9) + 0.5
    fake = np.concatenate([centres, centres + 100.0])
    assert precision_recall(real, fake, k=3) == (0.5, 1.0)


def test_pr_mode_collapse() -> None:
    # All 20 fakes sit on the real point (3, 4): each is inside that point's sphere, so precision
    # is 1. The fake radii are 0 (their neighbours are duplicates), so only the real point that
    # coincides with them is covered: recall = 1 / 100.
    real = grid(10)
    fake = np.tile([[3.0, 4.0]], (20, 1))
    assert precision_recall(real, fake, k=3) == (1.0, 0.01)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_pr_matches_naive_reference_and_batching(k: int) -> None:
    rng = np.random.default_rng(12 + k)
    real = rng.normal(size=(150, 16))
    fake = 0.4 + 1.3 * rng.normal(size=(120, 16))
    expected = naive_precision_recall(real, fake, k)
    assert 0.0 < expected[0] < 1.0 and 0.0 < expected[1] < 1.0  # a non-trivial case
    assert precision_recall(real, fake, k=k, batch=10_000) == expected
    assert precision_recall(real, fake, k=k, batch=7) == expected
    assert precision_recall(real, fake, k=k, batch=1) == expected


# --- classifier metrics ----------------------------------------------------------------------


def test_legibility() -> None:
    probs = np.array([
        [0.95, 0.05, 0.00],  # legible
        [0.90, 0.10, 0.00],  # exactly at the threshold: legible
        [0.50, 0.30, 0.20],
        [0.10, 0.00, 0.90],  # legible
    ])
    assert legibility(probs) == 0.75
    assert legibility(probs, threshold=0.95) == 0.25
    assert legibility(probs, threshold=0.5) == 1.0
    assert legibility(probs, threshold=0.0) == 1.0


def test_class_coverage_uniform() -> None:
    result = class_coverage([0, 1, 2, 3, 3, 2, 1, 0], num_classes=4)
    assert result["histogram"] == [2, 2, 2, 2]
    assert result["entropy"] == pytest.approx(math.log(4), rel=1e-15)
    assert result["max_entropy"] == pytest.approx(math.log(4), rel=1e-15)
    assert result["normalized_entropy"] == pytest.approx(1.0, rel=1e-15)
    assert result["classes_covered"] == 4


def test_class_coverage_single_class_from_probs() -> None:
    probs = np.tile([0.1, 0.7, 0.1, 0.1], (5, 1))
    result = class_coverage(probs, num_classes=4)
    assert result == {
        "histogram": [0, 5, 0, 0],
        "entropy": 0.0,
        "max_entropy": math.log(4),
        "normalized_entropy": 0.0,
        "classes_covered": 1,
    }
    assert all(type(c) is int for c in result["histogram"])


def test_class_coverage_partial() -> None:
    # Histogram [2, 1, 1, 0, 0, 0, 0, 0]: p = (1/2, 1/4, 1/4), H = 1.5 log 2, log 8 = 3 log 2.
    probs = np.zeros((4, 8))
    probs[[0, 1, 2, 3], [0, 0, 1, 2]] = 1.0
    result = class_coverage(probs, num_classes=8)
    assert result["histogram"] == [2, 1, 1, 0, 0, 0, 0, 0]
    assert result["entropy"] == pytest.approx(1.5 * math.log(2), rel=1e-14)
    assert result["normalized_entropy"] == pytest.approx(0.5, rel=1e-14)
    assert result["classes_covered"] == 3


def test_content_accuracy() -> None:
    probs = np.array([[0.8, 0.2, 0.0], [0.1, 0.6, 0.3], [0.2, 0.3, 0.5], [0.4, 0.5, 0.1]])
    assert content_accuracy(probs, [0, 1, 2, 0]) == 0.75
    assert content_accuracy(probs, np.array([1, 0, 0, 2])) == 0.0
    assert content_accuracy(probs, np.array([0.0, 1.0, 2.0, 1.0])) == 1.0


def test_ink_iou() -> None:
    paper = np.full((4, 4), 255, np.uint8)
    a = paper.copy()
    a[0, :] = 0  # 4 ink pixels
    b = paper.copy()
    b[0, :2] = 0  # 2 of them
    b[3, 3] = 100  # and 1 more: 2 shared of 5 inked
    c = paper.copy()
    c[2, 2] = 0  # none shared
    result = ink_iou(np.stack([a, a, a, paper]), np.stack([a, b, c, paper]))
    assert result.tolist() == [1.0, 0.4, 0.0, 1.0]
    # The threshold decides what counts as ink: at 100 the grey pixel is paper.
    assert ink_iou(b[None], a[None], threshold=100).tolist() == [0.5]
    with pytest.raises(ValueError, match=r"same shape, got \(1, 4, 4\) and \(2, 4, 4\)"):
        ink_iou(a[None], np.stack([a, b]))
    with pytest.raises(ValueError, match="generated must be a 3-D array"):
        ink_iou(a, a)


# --- bad input -------------------------------------------------------------------------------


def test_bad_input_raises() -> None:
    ok = np.zeros((5, 3))
    cases = [
        (lambda: gaussian_statistics(np.zeros(5)), r"2-D array \(N, D\), got shape \(5,\)"),
        (lambda: gaussian_statistics(np.zeros((1, 3))), r"at least 2 samples.*\(1, 3\)"),
        (lambda: gaussian_statistics([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (lambda: frechet_distance_from_activations(ok, np.zeros((5, 4))),
         r"same feature dimension.*\(5, 3\) and \(5, 4\)"),
        (lambda: frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)),
         "mu1 and mu2 must have the same shape"),
        (lambda: frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
         r"sigma1 must have shape \(D, D\) = \(2, 2\)"),
        (lambda: frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2)),
         "sigma2 .* not positive semi-definite"),
        (lambda: frechet_distance(np.zeros(2), [[1.0, 0.5], [0.0, 1.0]], np.zeros(2), np.eye(2)),
         "sigma1 .* not symmetric"),
        (lambda: frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), method="x"),
         "method must be"),
        (lambda: kernel_distance(ok, ok, num_subsets=0), "num_subsets"),
        (lambda: kernel_distance(ok, np.zeros((1, 3))), r"b needs at least 2 samples"),
        (lambda: kernel_distance(ok, np.full((5, 3), np.inf)), "infinite"),
        (lambda: precision_recall(ok, ok, k=0), "k must be a positive integer"),
        (lambda: precision_recall(np.zeros((3, 3)), ok, k=3),
         r"real needs at least 4 samples.*\(3, 3\)"),
        (lambda: precision_recall(ok, np.zeros((5, 2))), "same feature dimension"),
        (lambda: precision_recall(ok, ok, batch=0), "batch"),
        (lambda: legibility(np.ones(4)), r"probs must be a 2-D array"),
        (lambda: legibility(np.ones((2, 2)), threshold=1.5), "threshold"),
        (lambda: class_coverage(np.ones((2, 3)), num_classes=4), "3 columns, expected"),
        (lambda: class_coverage([0, 4], num_classes=4), r"in \[0, 4\)"),
        (lambda: class_coverage([0.5, 1.0], num_classes=4), "whole-number"),
        (lambda: class_coverage(np.zeros((2, 2, 2)), num_classes=2), r"got shape \(2, 2, 2\)"),
        (lambda: class_coverage([], num_classes=2), "must not be empty"),
        (lambda: class_coverage([0], num_classes=0), "num_classes"),
        (lambda: content_accuracy(np.ones((3, 2)), [0, 1]),
         r"same number of rows.*\(3, 2\) and \(2,\)"),
        (lambda: content_accuracy(np.ones((2, 2)), [0, 2]), r"labels must lie in \[0, 2\)"),
    ]
    for call, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            call()


# --- style metrics ------------------------------------------------------------------------------

def _bars(widths, length=56, size=64):
    """uint8 glyphs (255 = paper), each one horizontal bar ``length`` long, ``w`` pixels wide."""
    images = np.full((len(widths), size, size), 255, np.uint8)
    for i, w in enumerate(widths):
        top = (size - w) // 2
        images[i, top:top + w, 4:4 + length] = 0
    return images


def test_stroke_width_of_bars_is_their_width():
    widths = metrics.stroke_width(_bars([1, 2, 3, 4, 6]))
    # A bar's ends add area but no skeleton: within 12% of the true width, and in order.
    np.testing.assert_allclose(widths, [1, 2, 3, 4, 6], rtol=0.12)
    assert np.all(np.diff(widths) > 0)


def test_stroke_width_reads_a_thicker_pen_of_the_same_glyph_wider(two_fonts):
    from scipy import ndimage

    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig

    face = load_faces(two_fonts[:1])[0]
    renderer = GlyphRenderer(face, RenderConfig(size=64))
    glyphs = np.stack([renderer.render(c) for c in "가를"])
    thicker = np.stack([np.where(ndimage.binary_dilation(g < 128, iterations=1), 0, 255)
                        for g in glyphs]).astype(np.uint8)
    thin, thick = metrics.stroke_width(glyphs), metrics.stroke_width(thicker)
    # One pixel of dilation on each side adds about 2 pixels of width (up to 3 where it also
    # closes gaps between strokes and shortens the skeleton).
    assert np.all((thick - thin > 1.5) & (thick - thin < 3.5)), (thin, thick)
    assert np.all((thin > 1) & (thin < 8))


def test_ink_extent_and_blank_glyphs():
    images = _bars([3, 5])
    images = np.concatenate([images, np.full((1, 64, 64), 255, np.uint8)])
    extent = metrics.ink_extent(images)
    np.testing.assert_allclose(extent[:2], [[3 / 64, 56 / 64], [5 / 64, 56 / 64]])
    assert np.isnan(extent[2]).all()
    assert np.isnan(metrics.stroke_width(images)[2])
    with pytest.raises(ValueError, match="images"):
        metrics.stroke_width(np.zeros((64, 64)))
