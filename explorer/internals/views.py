"""Weight-sharing views of a model, so per-call settings never touch a shared model.

The app keeps one instance of each model in a process-wide cache, shared by every
browser session. Some views need a different *configuration* for one call: GPT-2
needs ``config.pad_token_id`` to find the last real token of a padded batch, and
attention maps need the ``eager`` attention implementation (``sdpa`` returns no
attention weights). Changing the shared model, even briefly, would change what
other sessions' predictions do at the same moment.

:func:`config_view` deep-copies the module tree and its config but *not* the
parameters and buffers (they are put in the copy's memo), so it costs a few
milliseconds and no memory for weights, and changes to the view's config stay in
the view.
"""

from __future__ import annotations

import copy
from typing import Any

import torch


def config_view(model: torch.nn.Module, **config: Any) -> torch.nn.Module:
    """A copy of ``model`` that shares its weights but owns its config.

    Args:
        model: Any ``PreTrainedModel``.
        **config: Config attributes to set on the view, e.g. ``pad_token_id=0``.
            ``attn_implementation="eager"`` switches the view's attention.

    Returns:
        The view, in the same train/eval mode as ``model``.
    """
    shared = {id(t): t for t in [*model.parameters(), *model.buffers()]}
    view = copy.deepcopy(model, shared)
    attn = config.pop("attn_implementation", None)
    if attn is not None:
        view.set_attn_implementation(attn)
    for key, value in config.items():
        setattr(view.config, key, value)
    return view
