"""The learned style space of the conditional model: new styles drawn from the fonts' styles.

Pure NumPy on ``(F, D)`` tables of style vectors (one row per training font); used by the
trainer's sample grids and by :class:`korean_gan.generate.Handwriting`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["convex_weights", "mixed_styles", "random_styles", "style_gaussian"]


def style_gaussian(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (float64) of the fonts' style vectors ``(F, D)``
    (the identity covariance for a single font)."""
    table = np.asarray(table, dtype=np.float64)
    cov = np.cov(table, rowvar=False) if len(table) > 1 else np.eye(table.shape[1])
    return table.mean(axis=0), np.atleast_2d(cov)


def random_styles(table: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` new style vectors from a Gaussian fitted to the rows of ``table`` (the fonts'
    learned styles), so new styles lie where the training fonts do.

    Args:
        table: ``(F, D)`` style vectors.
        n: How many to draw.
        seed: Seed of the draw.

    Returns:
        ``(n, D)`` float32.
    """
    mean, cov = style_gaussian(table)
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(mean, cov, size=n, method="eigh").astype(np.float32)


# A blend of two real styles, as mixup blends two examples (Zhang et al. 2018,
# https://arxiv.org/abs/1710.09412), here in the learned style space: new styles that stay on
# the segments between training fonts, where the generator learned to write.
def mixed_styles(table: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` new style vectors, each a convex blend ``(1 - t) a + t b`` of two different rows
    ``a``, ``b`` of ``table`` (the fonts' learned styles) drawn at random, ``t ~ U(0, 1)``.

    Args:
        table: ``(F, D)`` style vectors (one row gives that row ``n`` times).
        n: How many to make.
        seed: Seed of the draw.

    Returns:
        ``(n, D)`` float32.
    """
    table = np.asarray(table, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if len(table) < 2:
        return np.repeat(table[:1], n, axis=0).astype(np.float32)
    first = rng.integers(len(table), size=n)
    # A second font other than the first: shift by 1..F-1 places.
    second = (first + rng.integers(1, len(table), size=n)) % len(table)
    t = rng.uniform(size=(n, 1))
    return ((1.0 - t) * table[first] + t * table[second]).astype(np.float32)


# A new style gets no font file of its own; laid out as the same blend of the fonts' layout
# metrics (korean_gan.data.metrics.MetricsTable.blend), it needs the blend's weights.
def convex_weights(vectors: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """The convex weights that best express each vector as a blend of the basis rows.

    For each row ``v`` of ``vectors``, the weights ``w >= 0`` with ``sum(w) = 1`` that minimise
    ``|w @ basis - v|`` (least squares). A new style's metrics are then taken as the same blend
    of the fonts' metrics. Solved with :func:`scipy.optimize.nnls` on the system augmented with
    a heavily weighted row of ones (the sum-to-one constraint), then renormalised. A vector
    equal to a basis row (a font's own style) is that row alone, without a solve.

    Args:
        vectors: ``(n, D)`` vectors, e.g. new style vectors.
        basis: ``(F, D)`` basis rows, e.g. the fonts' style vectors.

    Returns:
        ``(n, F)`` float64 weights; each row is non-negative and sums to 1.

    Raises:
        ValueError: the arrays are not 2-D, differ in ``D``, are empty or hold NaN/inf.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    if vectors.ndim != 2 or basis.ndim != 2 or vectors.shape[1] != basis.shape[1]:
        raise ValueError(f"vectors must be (n, D) and basis (F, D); got {vectors.shape} and "
                         f"{basis.shape}")
    if basis.shape[0] == 0 or basis.shape[1] == 0:
        raise ValueError(f"basis must have at least one row and one column; got {basis.shape}")
    if not (np.isfinite(vectors).all() and np.isfinite(basis).all()):
        raise ValueError("vectors and basis must be finite (no NaN or inf)")
    count = basis.shape[0]
    # Heavy enough that the constraint wins over any residual, on the data's own scale.
    penalty = 1e3 * max(float(np.abs(basis).max()), float(np.abs(vectors).max(initial=0.0)), 1e-12)
    system = np.vstack([basis.T, np.full((1, count), penalty)])
    weights = np.zeros((len(vectors), count))
    exact = (vectors[:, None, :] == basis[None, :, :]).all(axis=2)  # (n, F)
    for i, vector in enumerate(vectors):
        if exact[i].any():
            weights[i, np.argmax(exact[i])] = 1.0
            continue
        from scipy.optimize import nnls  # a second and a half to import: only when needed

        solution, _ = nnls(system, np.append(vector, penalty))
        total = solution.sum()
        weights[i] = solution / total if total > 0 else np.full(count, 1.0 / count)
    return weights
