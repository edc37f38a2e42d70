"""Bootstrap resampling, done in the two ways that make intervals cheap.

* **Row draws.** A bootstrap resample of ``n`` rows is the ``n`` row indices drawn. Metrics are
  counts and sums over the drawn rows (see :mod:`.weighted`): confusion counts and, for ROC AUC and
  average precision, counts per distinct score level are one ``bincount`` over a batch of
  resamples, so no (resamples × rows) weight matrix is built. Used for score-based metrics (ROC AUC
  needs the rows) and for paired comparisons, where the *same* draws are applied to two versions'
  predictions.
* **Cell counts.** Every rate metric (selection rate, TPR, FPR, …) is a function of the confusion
  counts per group. Resampling rows draws those counts from a multinomial over the (group × cell)
  table, exactly, so 1,000 resamples of every group's rates cost one multinomial draw over a few
  dozen cells, whatever the number of rows.

Intervals are percentile intervals. A resample in which a metric is undefined (a group with no
positives drawn) is left out; the share of defined resamples is reported, and below
:data:`MIN_DEFINED_SHARE` no interval is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from modelgov.manifest import Interval

#: Below this share of defined resamples an interval would describe a different population.
MIN_DEFINED_SHARE = 0.5

#: Upper bound on resamples × rows held in memory at once (one batch of draws): 8 MB of indices,
#: whatever the table's size. The draws do not depend on it (see :func:`row_draws`).
MAX_DRAW_CELLS = 1_000_000

ROW_METHOD = "percentile bootstrap over rows"
CELL_METHOD = "percentile bootstrap over rows (multinomial draw of the confusion counts)"


@dataclass(frozen=True)
class Resampling:
    """How intervals are computed: ``resamples == 0`` turns them off."""

    resamples: int = 1000
    level: float = 0.95
    seed: int = 0

    @property
    def enabled(self) -> bool:
        return self.resamples > 0


DEFAULT_RESAMPLING = Resampling()


def row_draws(n: int, resampling: Resampling) -> Iterator[np.ndarray]:
    """Batches of bootstrap resamples, each of shape (batch, n): the row indices each resample drew.

    Resample ``i`` is the ``i``-th draw of ``n`` indices from one generator seeded with
    ``resampling.seed``, whatever the batch size, so two calls with the same settings and ``n`` give
    the same resamples (paired comparisons rely on it) and memory can be bounded freely
    (:data:`MAX_DRAW_CELLS`) without changing a figure.
    """
    rng = np.random.default_rng(resampling.seed)
    batch = max(1, min(resampling.resamples, MAX_DRAW_CELLS // max(n, 1)))
    done = 0
    while done < resampling.resamples:
        size = min(batch, resampling.resamples - done)
        drawn = np.empty((size, n), dtype=np.int64)
        for row in drawn:  # one call per resample: the stream does not depend on the batch size
            row[:] = rng.integers(0, n, size=n)
        yield drawn
        done += size


def counts(codes: np.ndarray, draws: np.ndarray, k: int) -> np.ndarray:
    """(batch, k) counts of each code in ``0..k-1`` among each resample's drawn rows."""
    batch = len(draws)
    picked = codes[draws] + (np.arange(batch, dtype=np.int64) * k)[:, None]
    return np.bincount(picked.ravel(), minlength=batch * k).reshape(batch, k).astype(np.float64)


def identity(n: int) -> np.ndarray:
    """The one "resample" that draws every row once: the point estimate."""
    return np.arange(n, dtype=np.int64)[None, :]


def cell_counts(counts: np.ndarray, resampling: Resampling) -> np.ndarray:
    """Resampled counts of a table of cells (any shape), shape (resamples, *counts.shape)."""
    rng = np.random.default_rng(resampling.seed)
    flat = counts.ravel().astype(np.int64)
    total = int(flat.sum())
    if total == 0:
        return np.zeros((resampling.resamples, *counts.shape))
    draws = rng.multinomial(total, flat / total, size=resampling.resamples)
    return draws.reshape(resampling.resamples, *counts.shape).astype(np.float64)


def percentile_interval(samples: np.ndarray, resampling: Resampling, method: str) -> Interval:
    """The central ``level`` interval of the defined (finite) samples."""
    samples = np.asarray(samples, dtype=float)
    finite = samples[np.isfinite(samples)]
    share = len(finite) / len(samples) if len(samples) else 0.0
    low = high = None
    if len(finite) and share >= MIN_DEFINED_SHARE:
        tail = (1 - resampling.level) / 2 * 100
        low, high = (float(v) for v in np.percentile(finite, [tail, 100 - tail]))
    return Interval(
        low=low,
        high=high,
        level=resampling.level,
        resamples=len(samples),
        method=method,
        defined_share=round(share, 6),
    )


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio with NaN (undefined) where the denominator is zero."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
