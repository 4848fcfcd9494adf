"""Offline data for the ``fast`` profile and tensorflow-datasets for the ``full`` one.

Offline sources ship inside packages that install from PyPI: scikit-image's sample photos
and scikit-learn's 8x8 handwritten digits. Nothing here touches the network unless a
``full``-profile loader is called.
"""

from __future__ import annotations

import numpy as np


class DatasetUnavailableError(RuntimeError):
    """A data set could not be loaded (usually: no network); the message names the way out."""


def load_camera(size: int | None = None) -> np.ndarray:
    """scikit-image's 512x512 grey 'cameraman' photo as float32 in [0, 1].

    Args:
        size: if given, resize (anti-aliased) to ``size x size``.

    Returns:
        Array of shape ``(H, W)``.
    """
    from skimage import data, transform

    image = data.camera().astype(np.float32) / 255.0
    if size is not None:
        image = transform.resize(image, (size, size), anti_aliasing=True).astype(np.float32)
    return image


def load_rgb_photo(name: str = "astronaut", size: int | None = None) -> np.ndarray:
    """An RGB sample photo shipped with scikit-image, float32 in [0, 1], shape (H, W, 3).

    Args:
        name: one of ``astronaut``, ``coffee``, ``chelsea`` (a cat), ``rocket``.
        size: if given, resize to ``size x size``.
    """
    from skimage import data, transform

    choices = ("astronaut", "coffee", "chelsea", "rocket")
    if name not in choices:
        raise ValueError(f"name must be one of {choices}, received {name!r}")
    image = getattr(data, name)().astype(np.float32) / 255.0
    if size is not None:
        image = transform.resize(image, (size, size), anti_aliasing=True).astype(np.float32)
    return image


def load_digits(size: int = 8, test_fraction: float = 0.25, seed: int = 0):
    """scikit-learn's 1,797 handwritten digits, optionally resized, split train/test.

    Args:
        size: side of the square images (8 is the original; 32 suits LeNet-style nets).
        test_fraction: share of the images held out, stratified by class.
        seed: seed of the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with images float32 in [0, 1] of shape
        ``(N, size, size, 1)`` and integer labels 0-9.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    if size < 8:
        raise ValueError(f"size must be at least 8, received {size}")
    bunch = sk_load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    if size != 8:
        from skimage.transform import resize

        images = np.stack(
            [resize(im, (size, size), order=1, anti_aliasing=False) for im in images]
        ).astype(np.float32)
    images = images[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, bunch.target, test_size=test_fraction, random_state=seed, stratify=bunch.target
    )
    return (x_train, y_train.astype(np.int64)), (x_test, y_test.astype(np.int64))


def load_tfds(name: str, split, offline_alternative: str = "the fast profile", **kwargs):
    """Load a tensorflow-datasets set; raise one clear error when it cannot be fetched.

    Args:
        name: the tfds name, e.g. ``"mnist"`` or ``"cifar10"``.
        split: the tfds split specification.
        offline_alternative: what to use instead, named in the error message.
        **kwargs: passed to ``tfds.load`` (e.g. ``as_supervised=True``).

    Raises:
        DatasetUnavailableError: when download or preparation fails (e.g. no network).
    """
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, split=split, **kwargs)
    except Exception as error:  # tfds raises many kinds; the learner needs one message
        raise DatasetUnavailableError(
            f"Could not load the tensorflow-datasets set {name!r} ({type(error).__name__}: "
            f"{error}). It needs a network connection the first time. Offline, use "
            f"{offline_alternative}: set DLCOURSE_PROFILE=fast before starting the kernel."
        ) from error


def tfds_arrays(name: str, split: str, size: int, channels: int):
    """A tensorflow-datasets image classification split as NumPy arrays (``full`` profile).

    Args:
        name: tfds name with ``image``/``label`` features, e.g. ``"mnist"``, ``"cifar10"``.
        split: e.g. ``"train"`` or ``"test[:20%]"``.
        size: images are resized to ``size x size``.
        channels: 1 or 3; grey sets are repeated to 3 channels, colour sets averaged to 1.

    Returns:
        ``(images, labels)``: float32 in [0, 1] of shape ``(N, size, size, channels)``, int64.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, received {channels}")
    ds = load_tfds(name, split, offline_alternative="the fast profile's offline data",
                   as_supervised=True)
    # Batches, not batch_size=-1: that needs a known cardinality (mocked sets lack one).
    image_batches, label_batches = [], []
    for images, labels in tfds.as_numpy(ds.batch(4096)):
        image_batches.append(tf.image.resize(images.astype(np.float32) / 255.0,
                                             (size, size)).numpy())
        label_batches.append(labels)
    images, labels = np.concatenate(image_batches), np.concatenate(label_batches)
    if images.shape[-1] == 1 and channels == 3:
        images = np.repeat(images, 3, axis=-1)
    elif images.shape[-1] == 3 and channels == 1:
        images = images.mean(axis=-1, keepdims=True)
    return images, labels.astype(np.int64)


def digit_images(profile: str, size: int = 32, channels: int = 1, seed: int = 0,
                 full_dataset: str = "mnist"):
    """Images for the CNN lessons: offline digits in ``fast``, a tfds set in ``full``.

    Args:
        profile: ``"fast"`` (scikit-learn's digits resized to ``size``) or ``"full"``
            (``full_dataset`` via tensorflow-datasets, resized to ``size``).
        size: image side.
        channels: 1, or 3 (grey repeated; for networks drawn for RGB input).
        seed: seed of the offline split.
        full_dataset: the tfds set used in ``full``, e.g. ``"mnist"`` or ``"cifar10"``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as NumPy arrays, images float32 in [0, 1],
        10 classes in both profiles.
    """
    if profile not in ("fast", "full"):
        raise ValueError(f"profile must be 'fast' or 'full', received {profile!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, received {channels}")
    if profile == "full":
        return (tfds_arrays(full_dataset, "train", size, channels),
                tfds_arrays(full_dataset, "test", size, channels))
    (x_train, y_train), (x_test, y_test) = load_digits(size=size, seed=seed)
    if channels == 3:
        x_train, x_test = np.repeat(x_train, 3, axis=-1), np.repeat(x_test, 3, axis=-1)
    return (x_train, y_train), (x_test, y_test)
