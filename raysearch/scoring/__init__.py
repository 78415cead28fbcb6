"""How a prediction is scored: the plain per-task loss (``plain``), the ZINB likelihood
(``zinb``) and the anchored loss that selects models (``anchored``), with the clamp that
passes the gradient pointing back inside (``clamps``) that the ZINB and ``kendall`` share.

The data layer scores the reference predictors with these (the b_i), the trainer scores
the model with the same code (the L_i): one definition behind both sides of the ratio.
"""
