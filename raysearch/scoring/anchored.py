"""The anchored loss: the one metric that selects models (docs/design.md).

``r_i = clip(log(L_i / b_i), -C, C)`` per task with both a loss and an anchor, and the
metric is ``mean_i r_i``. ``L_i`` is the plain loss of the model on a split, ``b_i`` the
plain loss of the fixed reference predictor on the same split (shared by every trial), so
0 means "as good as the reference" and -0.69 "half its loss on average over tasks".
``C`` (default 3.0) is fixed for a whole search; it is not A3DRO's searched regret clip.
"""

from __future__ import annotations

import math

from raysearch.core.metrics import ANCHORED_CLIP

__all__ = ["anchored_loss", "log_ratio"]


def log_ratio(loss: float, reference: float, clip: float) -> float:
    """``clip(log(loss / reference), -clip, clip)``; a zero loss gives ``-clip``, +inf ``+clip``."""
    if loss == 0.0:
        return -clip
    return max(-clip, min(clip, math.log(loss) - math.log(reference)))


def anchored_loss(
    losses: dict[str, float], references: dict[str, float], clip: float = ANCHORED_CLIP
) -> tuple[float, dict[str, float]]:
    """(mean regret over tasks present in both dicts, {task: regret}).

    Raises ValueError if no task is scorable, or a loss of a scored task is NaN or
    negative, or a reference loss is zero or infinite (every problem listed at once).
    """
    if not (isinstance(clip, int | float) and clip > 0 and math.isfinite(clip)):
        raise ValueError(f"anchored_loss: clip must be a finite number > 0, got {clip!r}")
    tasks = [t for t in losses if t in references]
    if not tasks:
        raise ValueError(
            f"anchored_loss: no task is scorable: losses for {sorted(losses)}, "
            f"reference losses for {sorted(references)}"
        )
    problems = []
    for t in tasks:
        loss, reference = float(losses[t]), float(references[t])
        if math.isnan(loss) or loss < 0:
            problems.append(f"loss of {t!r} must be >= 0, got {loss!r}")
        if not (math.isfinite(reference) and reference > 0):
            problems.append(f"reference loss of {t!r} must be finite and > 0, got {reference!r}")
    if problems:
        raise ValueError("anchored_loss: " + "; ".join(problems))
    regrets = {t: log_ratio(float(losses[t]), float(references[t]), float(clip)) for t in tasks}
    return sum(regrets.values()) / len(regrets), regrets
