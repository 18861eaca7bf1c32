"""Shared set-up of the sensitivity analyses: load several trained networks and cut them at one layer."""

from __future__ import annotations

from collections.abc import Sequence

from v1mtl.analysis.reconstruction import FeatureFn
from v1mtl.common.errors import InputError
from v1mtl.models.trunk import frozen_trunk, parse_layer
from v1mtl.training import LoadedNetwork, load_network


def load_networks(
    checkpoints: Sequence[str], names: Sequence[str] | None, device: str = "cpu"
) -> list[LoadedNetwork]:
    """Load every checkpoint onto ``device``; names default to the run folders' names and must be unique."""
    if names and len(names) != len(checkpoints):
        raise InputError(f"{len(names)} names for {len(checkpoints)} checkpoints", field="names")
    loaded = [load_network(c, names[i] if names else None, device) for i, c in enumerate(checkpoints)]
    labels = [n.name for n in loaded]
    if len(set(labels)) != len(labels):
        raise InputError(f"model names repeat ({labels}); give --names", field="names")
    first = loaded[0]
    for other in loaded[1:]:
        if (other.mean, other.std) != (first.mean, first.std):
            raise InputError(
                f"input normalization differs from {first.name}'s ({other.mean}, {other.std} vs {first.mean}, "
                f"{first.std}): budgets would not be comparable",
                path=other.path,
                field="normalization",
            )
    return loaded


def extractors_at(
    loaded: Sequence[LoadedNetwork], layer: str | None
) -> tuple[dict[str, FeatureFn], dict[str, dict]]:
    """Frozen trunks of every network cut at ``layer`` (default: each network's shared layer).

    Returns ``(extractors, layers)`` with ``layers[name] = {"layer": name, "layer_index": k}``.
    """
    extractors, info = {}, {}
    for n in loaded:
        chosen = parse_layer(layer) if layer is not None else n.model_cfg.shared_layer
        extractor, k, lname = frozen_trunk(n.net, n.model_cfg, chosen)
        extractors[n.name] = extractor
        info[n.name] = {"layer": lname, "layer_index": k, "checkpoint": n.path}
    return extractors, info
