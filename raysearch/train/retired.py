"""A checkpoint written while the model still had the uncertainty head, resumed without it.

The HAN drops the head's weights (``model.han.RETIRED_KEYS``) whenever a state dict is
loaded into it; a resume also restores the optimiser, whose first parameter group holds
the model's parameters in order, the head's among them. ``without_retired_weights`` takes
those keys out of an origin's saved model and best model, and the head's entries out of
its saved optimiser, so the rest loads as it was saved. A checkpoint without those keys,
or a model that has them, leaves the checkpoint as it is.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from raysearch.model.han import RETIRED_KEYS

__all__ = ["without_retired_weights"]


def without_retired_weights(origin: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """``origin`` (one origin's saved state: ``model``, ``optimizer``, ``best_state``, ...)
    without the weights ``RETIRED_KEYS`` names that ``model`` does not have."""
    saved: dict[str, Any] = origin["model"]
    ours = model.state_dict()
    retired = [key for key in RETIRED_KEYS if key in saved and key not in ours]
    if not retired:
        return origin
    names = {name for name, _ in model.named_parameters()}
    # the saved model's parameters in the optimiser's order (its state dict's order)
    saved_params = [key for key in saved if key in names or key in retired]
    optimizer = dict(origin["optimizer"])
    groups = [dict(group) for group in optimizer["param_groups"]]
    ids = list(groups[0]["params"])
    if len(ids) == len(saved_params):  # else load_state_dict refuses it, as it would have
        dropped = {ids[i] for i, key in enumerate(saved_params) if key in retired}
        groups[0]["params"] = [i for i in ids if i not in dropped]
        optimizer["param_groups"] = groups
        optimizer["state"] = {i: s for i, s in optimizer["state"].items() if i not in dropped}
    best = origin.get("best_state") or {}
    return {
        **origin,
        "model": {k: v for k, v in saved.items() if k not in retired},
        "optimizer": optimizer,
        "best_state": {k: v for k, v in best.items() if k not in retired},
    }
