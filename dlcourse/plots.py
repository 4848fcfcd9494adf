"""Figures the lessons show: image and filter grids, feature maps, training curves.

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
