"""Sample-quality metrics for generated glyphs, computed from feature vectors and class scores.

Everything here is plain NumPy/SciPy maths on arrays that some feature extractor or classifier
has already produced; nothing imports TensorFlow. All computations run in ``float64``.

Distribution metrics (on ``(N, D)`` feature activations, one row per image):

* :func:`frechet_distance` / :func:`frechet_distance_from_activations` -- the Fréchet distance
  between Gaussians fitted to two sets of features (FID when the features are Inception pool
  activations), Heusel et al. (2017).
* :func:`kernel_distance` -- the Kernel Inception Distance (KID): the unbiased MMD² with a cubic
  polynomial kernel, averaged over random subsets, Bińkowski et al. (2018).
* :func:`precision_recall` -- improved precision (fidelity) and recall (diversity) from k-NN
  hyperspheres, Kynkäänniemi et al. (2019).

Classifier metrics (on ``(N, C)`` class probabilities from a glyph classifier):

* :func:`legibility` -- the share of images the classifier recognizes confidently.
* :func:`class_coverage` -- how evenly the predicted classes cover the charset (mode collapse).
* :func:`content_accuracy` -- for a conditional generator, how often the classifier reads the
  syllable that was asked for.

Pixel metrics (on paired uint8 glyph images):

* :func:`ink_iou` -- how closely a generated glyph covers the strokes of the real glyph it was
  asked to imitate (the same syllable in the same font): intersection over union of their ink.

Style metrics (on uint8 glyph images, one number per glyph, to compare a style's generated
glyphs with its font's):

* :func:`stroke_width` -- the mean width of the strokes in pixels.
* :func:`ink_extent` -- the height and width of the ink as fractions of the image side.

Bad input (wrong number of dimensions, mismatched sizes, too few samples, NaN or infinity)
raises :class:`ValueError` with a message naming the argument and its shape.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, TypedDict

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg

__all__ = [
    "ClassCoverage",
    "class_coverage",
    "content_accuracy",
    "ink_extent",
    "frechet_distance",
    "frechet_distance_from_activations",
    "gaussian_statistics",
    "ink_iou",
    "kernel_distance",
    "legibility",
    "precision_recall",
    "stroke_width",
]

#: Largest tolerated imaginary part of the ``sqrtm`` result, relative to its real diagonal.
_MAX_RELATIVE_IMAG = 1e-3
#: Relative tolerance of the symmetry and positive-semi-definiteness checks on covariances.
_COV_RTOL = 1e-4


class ClassCoverage(TypedDict):
    """The result of :func:`class_coverage` (a plain ``dict`` at run time)."""

    histogram: list[int]
    entropy: float
    max_entropy: float
    normalized_entropy: float
    classes_covered: int


# --- input checking --------------------------------------------------------------------------


def _as_float_array(x: ArrayLike, name: str, ndim: int) -> np.ndarray:
    """Converts ``x`` to a finite ``float64`` array with ``ndim`` dimensions.

    Args:
        x: Array-like input.
        name: The argument name, for error messages.
        ndim: The required number of dimensions.

    Returns:
        ``x`` as a ``float64`` array (a copy only when a conversion was needed).

    Raises:
        ValueError: If ``x`` is not numeric, has the wrong number of dimensions, or holds NaN or
            infinity.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from err
    if arr.ndim != ndim:
        shape_word = {1: "(N,)", 2: "(N, D)"}.get(ndim, f"{ndim}-D")
        raise ValueError(
            f"{name} must be a {ndim}-D array {shape_word}, got shape {arr.shape} "
            f"({arr.ndim}-D)"
        )
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} (shape {arr.shape}) contains {bad} NaN or infinite value(s)")
    return arr


def _as_features(x: ArrayLike, name: str, min_rows: int) -> np.ndarray:
    """Checks an ``(N, D)`` feature matrix with ``N >= min_rows`` and ``D >= 1``."""
    arr = _as_float_array(x, name, 2)
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature column, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(
            f"{name} needs at least {min_rows} samples (rows), got shape {arr.shape}"
        )
    return arr


def _check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raises if two ``(N, D)`` feature matrices have different ``D``."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same feature dimension, got shapes "
            f"{a.shape} and {b.shape}"
        )


def _as_probs(probs: ArrayLike, name: str = "probs") -> np.ndarray:
    """Checks an ``(N, C)`` matrix of class scores with ``N >= 1`` and ``C >= 1``."""
    arr = _as_float_array(probs, name, 2)
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name} must be a non-empty (N, C) array of class probabilities, got shape "
            f"{arr.shape}"
        )
    return arr


def _as_labels(labels: ArrayLike, name: str, num_classes: int) -> np.ndarray:
    """Checks a 1-D array of integer class labels in ``[0, num_classes)``.

    Float arrays are accepted when every value is a whole number.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array (N,), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} (shape {arr.shape}) contains NaN or infinite values")
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"{name} must hold whole-number class labels, got fractions")
    out = arr.astype(np.int64)
    if out.min() < 0 or out.max() >= num_classes:
        raise ValueError(
            f"{name} must lie in [0, {num_classes}), got values from {int(out.min())} to "
            f"{int(out.max())}"
        )
    return out


def _check_covariance(sigma: np.ndarray, name: str) -> np.ndarray:
    """Checks that ``sigma`` is symmetric positive semi-definite and returns it symmetrized.

    Both checks are lenient (relative tolerance ``_COV_RTOL``): they catch a wrong matrix, not
    the rounding of a covariance that was computed or stored in single precision.
    """
    scale = float(np.abs(sigma).max()) if sigma.size else 0.0
    if float(np.abs(sigma - sigma.T).max(initial=0.0)) > _COV_RTOL * scale:
        raise ValueError(f"{name} (shape {sigma.shape}) is not symmetric")
    sym = 0.5 * (sigma + sigma.T)
    eigvals = np.linalg.eigvalsh(sym)
    if eigvals.size and eigvals.min() < -_COV_RTOL * max(abs(eigvals).max(), 0.0):
        raise ValueError(
            f"{name} (shape {sigma.shape}) is not positive semi-definite: smallest eigenvalue "
            f"{eigvals.min():.3g}"
        )
    return sym


# --- Fréchet distance ------------------------------------------------------------------------


def gaussian_statistics(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a set of feature vectors (the Gaussian fitted by FID).

    Args:
        features: ``(N, D)`` activations, one row per sample, ``N >= 2``.

    Returns:
        ``(mu, sigma)``: the ``(D,)`` mean and the ``(D, D)`` unbiased sample covariance
        (``rowvar=False``, ``ddof=1``, as ``np.cov``), both ``float64``.

    Raises:
        ValueError: If ``features`` is not 2-D, has fewer than 2 rows, or is not finite.
    """
    x = _as_features(features, "features", min_rows=2)
    mu = x.mean(axis=0)
    centered = x - mu
    sigma = centered.T @ centered / (x.shape[0] - 1)
    sigma = 0.5 * (sigma + sigma.T)  # exactly symmetric despite BLAS rounding
    return mu, sigma


def _trace_sqrt_product_eigh(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((S1 S2)^{1/2})`` from the eigenvalues of the symmetric ``S1^{1/2} S2 S1^{1/2}``.

    ``S1 S2`` and ``S1^{1/2} S2 S1^{1/2}`` have the same eigenvalues (``AB`` and ``BA`` share
    their spectrum), and the latter is symmetric positive semi-definite, so its eigenvalues are
    real and non-negative; the trace of the square root is the sum of their square roots.
    Rounding may leave tiny negative eigenvalues, which are clamped to 0.
    """
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = root1 @ sigma2 @ root1
    inner = 0.5 * (inner + inner.T)
    eigvals = np.linalg.eigvalsh(inner)
    return float(np.sqrt(np.clip(eigvals, 0.0, None)).sum())


def _trace_sqrt_product_sqrtm(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((S1 S2)^{1/2})`` with ``scipy.linalg.sqrtm`` of the product, as the reference code.

    Returns NaN when ``sqrtm`` fails or gives a non-finite matrix (the caller then retries with
    a regularized covariance).

    Raises:
        ValueError: If the square root has a large imaginary part (more than
            ``_MAX_RELATIVE_IMAG`` of its largest real diagonal entry).
    """
    with warnings.catch_warnings():
        # Singular products warn; a non-finite result is handled by the caller's retry.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        try:
            covmean = linalg.sqrtm(sigma1 @ sigma2)
        except (linalg.LinAlgError, ValueError):
            return math.nan
    covmean = np.asarray(covmean)
    if not np.isfinite(covmean).all():
        return math.nan
    diag = np.diagonal(covmean)
    if np.iscomplexobj(covmean):
        imag = float(np.abs(diag.imag).max(initial=0.0))
        scale = float(np.abs(diag.real).max(initial=0.0))
        if imag > _MAX_RELATIVE_IMAG * max(scale, np.finfo(np.float64).tiny):
            raise ValueError(
                f"sqrtm(sigma1 @ sigma2) has a large imaginary component ({imag:.3g} against "
                f"a real diagonal of up to {scale:.3g}); the covariances are ill-conditioned"
            )
    return float(np.sum(diag.real))


# Heusel et al. (2017), "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
# Equilibrium", https://arxiv.org/abs/1706.08500 (FID: eq. 6 / section "Fréchet Inception
# Distance"); regularization as in https://github.com/bioinf-jku/TTUR and pytorch-fid.
def frechet_distance(
    mu1: ArrayLike,
    sigma1: ArrayLike,
    mu2: ArrayLike,
    sigma2: ArrayLike,
    *,
    eps: float = 1e-6,
    method: Literal["eigh", "sqrtm"] = "eigh",
) -> float:
    """Fréchet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``d² = ||mu1 - mu2||² + Tr(S1 + S2 - 2 (S1 S2)^{1/2})``.

    The matrix square root enters only through its trace. With ``method="eigh"`` (default)
    that trace is the sum of the square roots of the eigenvalues of the symmetric positive
    semi-definite ``S1^{1/2} S2 S1^{1/2}`` (``S1^{1/2}`` from a symmetric eigendecomposition);
    this needs only symmetric eigensolvers, is always real, and handles singular covariances.
    ``method="sqrtm"`` follows the reference TTUR / pytorch-fid code: ``scipy.linalg.sqrtm`` of
    the non-symmetric product ``S1 S2``, discarding a tiny imaginary part. Either way, if the
    first attempt is not finite, ``eps * I`` is added to both covariances and it is retried.
    A result that rounding made slightly negative is clamped to 0 (the exact value is >= 0).

    Args:
        mu1: ``(D,)`` mean of the first Gaussian.
        sigma1: ``(D, D)`` covariance of the first Gaussian (symmetric positive semi-definite).
        mu2: ``(D,)`` mean of the second Gaussian.
        sigma2: ``(D, D)`` covariance of the second Gaussian.
        eps: Diagonal offset added to both covariances when the first attempt is not finite.
        method: ``"eigh"`` (default) or ``"sqrtm"``, see above.

    Returns:
        The squared Fréchet distance (what is reported as FID), a non-negative float.

    Raises:
        ValueError: On wrong shapes, mismatched dimensions, non-finite values, a covariance
            that is not symmetric positive semi-definite, an unknown ``method``, a large
            imaginary part of ``sqrtm`` (``method="sqrtm"``), or if the retry fails too.
    """
    if method not in ("eigh", "sqrtm"):
        raise ValueError(f"method must be 'eigh' or 'sqrtm', got {method!r}")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    m1 = _as_float_array(mu1, "mu1", 1)
    m2 = _as_float_array(mu2, "mu2", 1)
    s1 = _as_float_array(sigma1, "sigma1", 2)
    s2 = _as_float_array(sigma2, "sigma2", 2)
    dim = m1.shape[0]
    if dim < 1:
        raise ValueError(f"mu1 must not be empty, got shape {m1.shape}")
    if m2.shape != m1.shape:
        raise ValueError(f"mu1 and mu2 must have the same shape, got {m1.shape} and {m2.shape}")
    for name, s in (("sigma1", s1), ("sigma2", s2)):
        if s.shape != (dim, dim):
            raise ValueError(
                f"{name} must have shape (D, D) = {(dim, dim)} to match mu1 {m1.shape}, "
                f"got {s.shape}"
            )
    s1 = _check_covariance(s1, "sigma1")
    s2 = _check_covariance(s2, "sigma2")

    trace_sqrt = _trace_sqrt_product_eigh if method == "eigh" else _trace_sqrt_product_sqrtm

    def attempt(a: np.ndarray, b: np.ndarray) -> float:
        try:
            return trace_sqrt(a, b)
        except np.linalg.LinAlgError:
            return math.nan

    tr_covmean = attempt(s1, s2)
    if not math.isfinite(tr_covmean):
        offset = np.eye(dim) * eps
        tr_covmean = attempt(s1 + offset, s2 + offset)
        if not math.isfinite(tr_covmean):
            raise ValueError(
                f"could not compute the square root of sigma1 @ sigma2 (shape {s1.shape}), "
                f"even after adding {eps:g} * I to both covariances"
            )
    diff = m1 - m2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(value, 0.0)


def frechet_distance_from_activations(a: ArrayLike, b: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to two sets of activations (FID).

    Args:
        a: ``(N, D)`` features of the first set (e.g. real images), ``N >= 2``.
        b: ``(M, D)`` features of the second set (e.g. generated images), ``M >= 2``.

    Returns:
        ``frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))``.

    Raises:
        ValueError: On wrong shapes, mismatched feature dimensions, fewer than 2 rows or
            non-finite values.
    """
    x = _as_features(a, "a", min_rows=2)
    y = _as_features(b, "b", min_rows=2)
    _check_same_dim(x, y, "a", "b")
    mu1, sigma1 = gaussian_statistics(x)
    mu2, sigma2 = gaussian_statistics(y)
    return frechet_distance(mu1, sigma1, mu2, sigma2)


# --- kernel distance (KID) -------------------------------------------------------------------


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The cubic polynomial kernel ``k(x, y) = (x . y / d + 1)^3`` for all row pairs."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² between two samples (diagonal terms of ``k(X, X)``, ``k(Y, Y)`` left out).

    ``MMD²_u = sum_{i != j} k(x_i, x_j) / (m (m-1)) + sum_{i != j} k(y_i, y_j) / (n (n-1))
    - 2 sum_{i, j} k(x_i, y_j) / (m n)``.
    """
    m, n = x.shape[0], y.shape[0]
    k_xx = _polynomial_kernel(x, x)
    k_yy = _polynomial_kernel(y, y)
    k_xy = _polynomial_kernel(x, y)
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    term_xy = k_xy.sum() / (m * n)
    return float(term_xx + term_yy - 2.0 * term_xy)


# Bińkowski et al. (2018), "Demystifying MMD GANs", https://arxiv.org/abs/1801.01401
# (KID: section 4, unbiased MMD² estimator of eq. 2 with the kernel k(x, y) = (x.y/d + 1)^3).
def kernel_distance(
    a: ArrayLike,
    b: ArrayLike,
    num_subsets: int = 10,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance: unbiased MMD² with a cubic kernel, averaged over subsets.

    Each of ``num_subsets`` rounds draws ``s = min(subset_size, len(a), len(b))`` rows of ``a``
    and ``s`` rows of ``b`` without replacement and computes the unbiased MMD² between them.
    The estimator is unbiased, so for two samples of the same distribution it scatters around
    0 and can be slightly negative.

    Args:
        a: ``(N, D)`` features of the first set (e.g. real images).
        b: ``(M, D)`` features of the second set (e.g. generated images).
        num_subsets: Number of random subsets to average over, ``>= 1``.
        subset_size: Rows per subset (capped by ``N`` and ``M``); the result needs ``>= 2``.
        seed: Seed of the NumPy generator that draws the subsets (same seed, same result).

    Returns:
        ``(mean, std)`` of the per-subset MMD² values (``std`` with ``ddof=0``; 0 for one
        subset).

    Raises:
        ValueError: On wrong shapes, mismatched feature dimensions, non-finite values,
            ``num_subsets < 1`` or fewer than 2 rows per subset.
    """
    x = _as_features(a, "a", min_rows=2)
    y = _as_features(b, "b", min_rows=2)
    _check_same_dim(x, y, "a", "b")
    if int(num_subsets) != num_subsets or num_subsets < 1:
        raise ValueError(f"num_subsets must be a positive integer, got {num_subsets!r}")
    if int(subset_size) != subset_size or subset_size < 2:
        raise ValueError(f"subset_size must be an integer >= 2, got {subset_size!r}")
    size = min(int(subset_size), x.shape[0], y.shape[0])
    rng = np.random.default_rng(seed)
    values = np.empty(int(num_subsets))
    for i in range(int(num_subsets)):
        idx_x = rng.choice(x.shape[0], size, replace=False)
        idx_y = rng.choice(y.shape[0], size, replace=False)
        values[i] = _mmd2_unbiased(x[idx_x], y[idx_y])
    return float(values.mean()), float(values.std())


# --- improved precision and recall -----------------------------------------------------------


def _squared_distances(
    x: np.ndarray, y: np.ndarray, sq_x: np.ndarray, sq_y: np.ndarray
) -> np.ndarray:
    """Pairwise squared Euclidean distances ``||x_i - y_j||²`` by ``|x|² + |y|² - 2 x.y``.

    Values within rounding error of 0 (relative to ``|x|² + |y|²``) are set to exactly 0, so
    that duplicate points are at distance 0 and nothing is negative.
    """
    # In place, so that a block needs two (rows, cols) float arrays at a time.
    norms = sq_x[:, None] + sq_y[None, :]
    d2 = x @ y.T
    d2 *= -2.0
    d2 += norms
    norms *= 4.0 * x.shape[1] * np.finfo(np.float64).eps  # now the rounding tolerance
    d2[d2 <= norms] = 0.0
    return d2


def _knn_radii2(x: np.ndarray, sq_x: np.ndarray, k: int, batch: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its ``k``-th nearest other row."""
    n = x.shape[0]
    radii2 = np.empty(n)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        d2 = _squared_distances(x[start:stop], x, sq_x[start:stop], sq_x)
        rows = np.arange(stop - start)
        d2[rows, rows + start] = np.inf  # exclude the point itself (not its duplicates)
        d2.partition(k - 1, axis=1)  # in place
        radii2[start:stop] = d2[:, k - 1]
        del d2  # free the block before the next one is computed
    return radii2


def _share_inside(
    probe: np.ndarray,
    sq_probe: np.ndarray,
    centers: np.ndarray,
    sq_centers: np.ndarray,
    radii2: np.ndarray,
    batch: int,
) -> float:
    """Share of ``probe`` rows within (<=) the radius of at least one ``centers`` row."""
    inside = 0
    for start in range(0, probe.shape[0], batch):
        stop = min(start + batch, probe.shape[0])
        d2 = _squared_distances(probe[start:stop], centers, sq_probe[start:stop], sq_centers)
        inside += int(np.count_nonzero((d2 <= radii2[None, :]).any(axis=1)))
        del d2  # free the block before the next one is computed
    return inside / probe.shape[0]


# Kynkäänniemi et al. (2019), "Improved Precision and Recall Metric for Assessing Generative
# Models", https://arxiv.org/abs/1904.06991 (section 2, eqs. 1-2; k = 3 as in the paper).
def precision_recall(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 3,
    batch: int = 1024,
) -> tuple[float, float]:
    """Improved precision and recall of generated features against real ones.

    Each real point gets a hypersphere whose radius is the distance to its ``k``-th nearest
    other real point; together they approximate the real manifold. Precision is the share of
    fake points inside at least one real hypersphere (boundary included). Recall is the same
    with the roles swapped: the share of real points inside at least one fake hypersphere, the
    fake radii coming from the fake points' own ``k``-th nearest neighbours.

    Distances are computed ``batch`` rows at a time with the expansion
    ``|x|² + |y|² - 2 x.y`` (after centering both sets on the real mean, which reduces
    cancellation), so the working memory is about two ``(batch, max(N, M))`` ``float64``
    blocks (about 160 MB for 10,000 points and the default ``batch``), whatever the feature
    dimension, on top of a centered ``float64`` copy of both inputs.

    Args:
        real: ``(N, D)`` real features, ``N > k``.
        fake: ``(M, D)`` generated features, ``M > k``.
        k: Which nearest neighbour sets the radius, ``>= 1``.
        batch: Rows per distance block, ``>= 1``; does not change the result.

    Returns:
        ``(precision, recall)``, each in ``[0, 1]``.

    Raises:
        ValueError: On wrong shapes, mismatched feature dimensions, non-finite values, ``k < 1``,
            ``batch < 1`` or too few points for ``k`` neighbours.
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    k, batch = int(k), int(batch)
    x = _as_features(real, "real", min_rows=k + 1)
    y = _as_features(fake, "fake", min_rows=k + 1)
    _check_same_dim(x, y, "real", "fake")
    center = x.mean(axis=0)
    x = x - center
    y = y - center
    sq_x = np.einsum("ij,ij->i", x, x)
    sq_y = np.einsum("ij,ij->i", y, y)
    real_radii2 = _knn_radii2(x, sq_x, k, batch)
    fake_radii2 = _knn_radii2(y, sq_y, k, batch)
    precision = _share_inside(y, sq_y, x, sq_x, real_radii2, batch)
    recall = _share_inside(x, sq_x, y, sq_y, fake_radii2, batch)
    return precision, recall


# --- classifier-based metrics ----------------------------------------------------------------


def legibility(probs: ArrayLike, threshold: float = 0.9) -> float:
    """Share of images a classifier recognizes confidently (max probability >= ``threshold``).

    Args:
        probs: ``(N, C)`` class probabilities (e.g. softmax outputs), one row per image.
        threshold: Confidence needed to count an image as legible, in ``[0, 1]``.

    Returns:
        The share of rows whose largest probability is ``>= threshold``, in ``[0, 1]``.

    Raises:
        ValueError: If ``probs`` is not a non-empty finite 2-D array or ``threshold`` is
            outside ``[0, 1]``.
    """
    p = _as_probs(probs)
    if not (0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    return float(np.mean(p.max(axis=1) >= threshold))


def class_coverage(probs_or_labels: ArrayLike, num_classes: int) -> ClassCoverage:
    """How evenly the predicted classes of a set of images cover ``num_classes`` classes.

    A generator that has collapsed onto a few syllables gives a peaked histogram: low entropy
    and few classes covered.

    Args:
        probs_or_labels: ``(N, C)`` class probabilities with ``C == num_classes`` (each row's
            argmax is its predicted class) or ``(N,)`` integer class labels.
        num_classes: Number of classes, ``>= 1``.

    Returns:
        A dict with ``histogram`` (``num_classes`` ints: images per predicted class),
        ``entropy`` (natural log) of the normalized histogram, ``max_entropy`` =
        ``log(num_classes)``, ``normalized_entropy`` = ``entropy / max_entropy`` (1.0 for a
        uniform histogram, 0.0 when one class takes everything; 1.0 when ``num_classes == 1``,
        where the single class is trivially uniform), and ``classes_covered`` (classes predicted
        at least once).

    Raises:
        ValueError: On a wrong number of dimensions, an empty or non-finite input, a column
            count other than ``num_classes``, labels outside ``[0, num_classes)`` or
            ``num_classes < 1``.
    """
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)
    arr = np.asarray(probs_or_labels)
    if arr.ndim == 2:
        p = _as_probs(arr, "probs_or_labels")
        if p.shape[1] != num_classes:
            raise ValueError(
                f"probs_or_labels has {p.shape[1]} columns, expected num_classes = "
                f"{num_classes}, got shape {p.shape}"
            )
        labels = p.argmax(axis=1)
    elif arr.ndim == 1:
        labels = _as_labels(arr, "probs_or_labels", num_classes)
    else:
        raise ValueError(
            "probs_or_labels must be (N, C) probabilities or (N,) labels, got shape "
            f"{arr.shape}"
        )
    histogram = np.bincount(labels, minlength=num_classes)
    share = histogram[histogram > 0] / histogram.sum()
    entropy = float(-(share * np.log(share)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0
    max_entropy = math.log(num_classes)
    normalized = entropy / max_entropy if num_classes > 1 else 1.0
    return {
        "histogram": [int(c) for c in histogram],
        "entropy": entropy,
        "max_entropy": max_entropy,
        "normalized_entropy": normalized,
        "classes_covered": int(np.count_nonzero(histogram)),
    }


def content_accuracy(probs: ArrayLike, labels: ArrayLike) -> float:
    """Share of images whose predicted class (argmax) is the class they were generated for.

    Args:
        probs: ``(N, C)`` class probabilities from a classifier.
        labels: ``(N,)`` intended class of each image (the generator's condition), in
            ``[0, C)``.

    Returns:
        The accuracy, in ``[0, 1]``.

    Raises:
        ValueError: On wrong shapes, mismatched ``N``, non-finite values or labels outside
            ``[0, C)``.
    """
    p = _as_probs(probs)
    y = _as_labels(labels, "labels", p.shape[1])
    if y.shape[0] != p.shape[0]:
        raise ValueError(
            f"probs and labels must have the same number of rows, got shapes {p.shape} and "
            f"{y.shape}"
        )
    return float(np.mean(p.argmax(axis=1) == y))


def ink_iou(generated: ArrayLike, real: ArrayLike, threshold: int = 128) -> np.ndarray:
    """Per pair of glyphs, the intersection over union of their ink (the Jaccard index of the
    pixels darker than ``threshold``): 1 when the strokes coincide, 0 when they do not touch.

    A conditional generator asked for a training font's syllable should draw that font's
    glyph; this says how closely it does, one number per glyph, where content accuracy only
    says whether the syllable can be read. Two blank glyphs count as 1 (nothing to miss).

    Args:
        generated: ``(N, H, W)`` glyphs, 0 = ink, 255 = paper (uint8 or numbers in that range).
        real: ``(N, H, W)`` the glyphs they imitate, in the same order.
        threshold: Grey level below which a pixel is ink.

    Returns:
        ``(N,)`` float64 in ``[0, 1]``.

    Raises:
        ValueError: On shapes that are not ``(N, H, W)`` or differ, or non-finite values.
    """
    a = _as_float_array(generated, "generated", 3)
    b = _as_float_array(real, "real", 3)
    if a.shape != b.shape:
        raise ValueError(f"generated and real must have the same shape, got {a.shape} and "
                         f"{b.shape}")
    ink_a, ink_b = a < threshold, b < threshold
    union = (ink_a | ink_b).sum(axis=(1, 2))
    both = (ink_a & ink_b).sum(axis=(1, 2))
    return np.where(union > 0, both / np.maximum(union, 1), 1.0)


def stroke_width(images: ArrayLike, threshold: int = 128) -> np.ndarray:
    """Per glyph, the mean width of its strokes in pixels: the ink's area over the length of
    its skeleton (the one-pixel-wide centre lines of the strokes, by Zhang and Suen's thinning,
    https://doi.org/10.1145/357994.358023), counted in pixels.

    A pen's width, not a glyph's size: a thin pen scaled up to a large box reads wider. Short,
    thick strokes read a little wider than they are (a stroke's ends add area but little
    skeleton), the same for a generated glyph and the real one it is compared with.

    Args:
        images: ``(N, H, W)`` glyphs, 0 = ink, 255 = paper (uint8 or numbers in that range).
        threshold: Grey level below which a pixel is ink.

    Returns:
        ``(N,)`` float64; NaN for a blank glyph.

    Raises:
        ValueError: On a shape that is not ``(N, H, W)`` or non-finite values.
    """
    from skimage.morphology import skeletonize

    ink = _as_float_array(images, "images", 3) < threshold
    widths = np.full(len(ink), np.nan)
    for i, glyph in enumerate(ink):
        length = skeletonize(glyph).sum()
        if length:
            widths[i] = glyph.sum() / length
    return widths


def ink_extent(images: ArrayLike, threshold: int = 128) -> np.ndarray:
    """Per glyph, the height and width of its ink's bounding box as fractions of the image's
    height and width (how large the glyph is drawn, where :func:`stroke_width` says how thick).

    Args:
        images: ``(N, H, W)`` glyphs, 0 = ink, 255 = paper.
        threshold: Grey level below which a pixel is ink.

    Returns:
        ``(N, 2)`` float64 (height, width) in ``(0, 1]``; NaN for a blank glyph.

    Raises:
        ValueError: On a shape that is not ``(N, H, W)`` or non-finite values.
    """
    ink = _as_float_array(images, "images", 3) < threshold
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    out = np.full((len(ink), 2), np.nan)
    for i in range(len(ink)):
        r, c = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
        if r.size:
            out[i] = ((r[-1] - r[0] + 1) / ink.shape[1], (c[-1] - c[0] + 1) / ink.shape[2])
    return out
