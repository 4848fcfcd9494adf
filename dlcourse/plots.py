"""Figures the lessons show: image and filter grids, feature maps, training curves,
attention weights.

Every function draws into a new matplotlib figure and returns it, so a notebook can show it
and a test can inspect or close it.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


def _grid(count: int, ncols: int | None):
    if count < 1:
        raise ValueError(f"need at least one image, received {count}")
    ncols = ncols or min(count, 8)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.8 * ncols, 1.8 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def show_images(images, titles=None, ncols: int | None = None, cmap: str = "gray",
                symmetric: bool = False, title: str | None = None):
    """Show images side by side.

    Args:
        images: a sequence of ``(H, W)`` or ``(H, W, C)`` arrays (C = 1 or 3).
        titles: optional captions, one per image.
        ncols: images per row (default: up to 8).
        cmap: colormap for single-channel images.
        symmetric: centre the colour scale on 0 (for signed responses such as edges).
        title: a title over the whole figure.

    Returns:
        The matplotlib figure.
    """
    images = [np.asarray(im) for im in images]
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    fig, axes = _grid(len(images), ncols)
    for i, (ax, image) in enumerate(zip(axes, images)):
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        kwargs = {}
        if image.ndim == 2:
            kwargs["cmap"] = cmap
            if symmetric:
                limit = float(np.max(np.abs(image))) or 1.0
                kwargs.update(vmin=-limit, vmax=limit)
        ax.imshow(image, **kwargs)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)  # before tight_layout, which then leaves room for it
    fig.tight_layout()
    return fig


def show_filters(kernel, ncols: int | None = None, title: str | None = None):
    """Show the filters of a convolution kernel of shape ``(f, f, in, out)``.

    Single-channel filters are shown in grey with a scale centred on 0; three-channel
    filters (a first RGB layer) are rescaled to [0, 1] and shown in colour.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must have shape (f, f, in, out), received {kernel.shape}")
    filters = [kernel[..., i] for i in range(kernel.shape[-1])]
    if kernel.shape[2] == 3:
        filters = [(f - f.min()) / (np.ptp(f) or 1.0) for f in filters]
    else:
        filters = [f[..., 0] for f in filters]
    return show_images(filters, titles=[f"filter {i}" for i in range(len(filters))],
                       ncols=ncols, cmap="RdBu_r", symmetric=kernel.shape[2] != 3, title=title)


def show_feature_maps(maps, ncols: int | None = None, max_maps: int = 16,
                      title: str | None = None):
    """Show the channels of one activation tensor ``(H, W, C)`` (or ``(1, H, W, C)``)."""
    maps = np.asarray(maps)
    if maps.ndim == 4:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"feature maps must have shape (H, W, C), received {maps.shape}")
    count = min(maps.shape[-1], max_maps)
    return show_images([maps[..., i] for i in range(count)],
                       titles=[f"channel {i}" for i in range(count)], ncols=ncols,
                       cmap="viridis", title=title)


def plot_history(histories, metrics=("loss", "accuracy"), title: str | None = None):
    """Training curves of one or several ``fit`` runs, one panel per metric.

    Args:
        histories: a ``keras.callbacks.History``/dict, or a dict ``{label: history}`` to
            compare runs (e.g. plain vs residual).
        metrics: metric names; ``val_<metric>`` is drawn dashed when present.
    """
    def as_dict(history):
        return history.history if hasattr(history, "history") else dict(history)

    if hasattr(histories, "history") or (
            isinstance(histories, dict) and histories
            and all(isinstance(v, (list, tuple, np.ndarray)) for v in histories.values())):
        histories = {"": histories}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        for label, history in histories.items():
            values = as_dict(history)
            prefix = f"{label} " if label else ""
            if metric in values:
                line, = ax.plot(np.arange(1, len(values[metric]) + 1), values[metric],
                                label=f"{prefix}train")
                if f"val_{metric}" in values:
                    ax.plot(np.arange(1, len(values[f"val_{metric}"]) + 1),
                            values[f"val_{metric}"], "--", color=line.get_color(),
                            label=f"{prefix}validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)  # before tight_layout, which then leaves room for it
    fig.tight_layout()
    return fig


def show_attention(weights, query_labels, key_labels, title: str | None = None, ax=None,
                   query_name: str = "query", key_name: str = "key", cmap: str = "viridis"):
    """An attention weight matrix as a heat map: queries as rows, keys as columns.

    Args:
        weights: array of shape (T_q, T_k), each row a distribution over the keys.
        query_labels: T_q names for the rows (tokens, output characters).
        key_labels: T_k names for the columns.
        title: optional title.
        ax: a matplotlib axes to draw into (one panel of a figure of several examples);
            by default a new figure of its own, with a colour bar.
        query_name, key_name: the axis labels.
        cmap: the colour map; weights are drawn on the fixed range [0, 1].

    Returns:
        The matplotlib figure.
    """
    weights = np.asarray(weights)
    if weights.shape != (len(query_labels), len(key_labels)):
        raise ValueError(f"weights must have shape ({len(query_labels)}, {len(key_labels)}), "
                         f"received {weights.shape}")
    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(0.5 * len(key_labels) + 2.0,
                                      0.45 * len(query_labels) + 1.2))
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(key_labels)), list(key_labels),
                  rotation=45 if own_figure else 0, ha="right" if own_figure else "center")
    ax.set_yticks(range(len(query_labels)), list(query_labels))
    ax.set_xlabel(key_name)
    ax.set_ylabel(query_name)
    if title:
        ax.set_title(title, fontsize=None if own_figure else 10)
    if own_figure:
        ax.figure.colorbar(image, ax=ax, fraction=0.05)
        ax.figure.tight_layout()
    return ax.figure
