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


# Examples per split a smoke run's mocked tensorflow-datasets set holds: enough for a
# validation split and a few batches, few enough to generate in a second or two.
SMOKE_EXAMPLES = 256


def load_tfds(name: str, split, offline_alternative: str = "the fast profile", **kwargs):
    """Load a tensorflow-datasets set; raise one clear error when it cannot be fetched.

    Args:
        name: the tfds name, e.g. ``"mnist"`` or ``"cifar10"``.
        split: the tfds split specification.
        offline_alternative: what to use instead, named in the error message.
        **kwargs: passed to ``tfds.load`` (e.g. ``as_supervised=True``).

    In a smoke run (``DLCOURSE_SMOKE=1``, :func:`dlcourse.runtime.smoke_run`) nothing is
    downloaded: ``tfds.testing.mock_data`` serves :data:`SMOKE_EXAMPLES` random examples per
    split, generated from the set's real feature spec (images of varying sizes where the
    real set has them).

    Raises:
        DatasetUnavailableError: when download or preparation fails (e.g. no network).
    """
    import tensorflow_datasets as tfds

    from dlcourse import runtime

    try:
        if runtime.smoke_run():
            with tfds.testing.mock_data(num_examples=SMOKE_EXAMPLES,
                                        policy=tfds.testing.MockPolicy.USE_CODE):
                return tfds.load(name, split=split, **kwargs)
        return tfds.load(name, split=split, **kwargs)
    except Exception as error:  # tfds raises many kinds; the learner needs one message
        raise DatasetUnavailableError(
            f"Could not load the tensorflow-datasets set {name!r} ({type(error).__name__}: "
            f"{error}). It needs a network connection the first time. Offline, use "
            f"{offline_alternative}: set DLCOURSE_PROFILE=fast before starting the kernel."
        ) from error


def _channels_to(image, wanted: int):
    """An image tensor (H, W, C) with C in {1, 3} brought to ``wanted`` channels: grey
    repeated to three, colour averaged to one."""
    import tensorflow as tf

    have = image.shape[-1]
    if have not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels (a known last axis), received "
                         f"shape {tuple(image.shape)}")
    if have == wanted:
        return image
    if wanted == 3:
        return tf.repeat(image, 3, axis=-1)
    return tf.reduce_mean(image, axis=-1, keepdims=True)


def tfds_dataset(name: str, split: str, size: int, channels: int, batch_size: int = 256,
                 shuffle_buffer: int = 0, seed: int = 0):
    """A tensorflow-datasets image classification split as a batched ``tf.data`` pipeline.

    The ``full`` profile's input path: decode (tfds decodes each JPEG/PNG as it is read)
    → scale to [0, 1] → resize every image to ``size x size`` → set the channels → batch →
    prefetch. Images are resized *one by one, before batching*, so sets whose images differ
    in size (``tf_flowers``, ``oxford_iiit_pet``) load as well as fixed-size ones (``mnist``,
    ``cifar10``). Nothing is held in memory beyond a few batches; feed it to ``fit``.

    Args:
        name: tfds name with ``image``/``label`` features, e.g. ``"cifar10"``, ``"tf_flowers"``.
        split: e.g. ``"train"`` or ``"train[:80%]"``.
        size: side of the square output images.
        channels: 1 or 3; grey sets are repeated to 3 channels, colour sets averaged to 1.
        batch_size: images per batch (the last batch may be smaller).
        shuffle_buffer: shuffle examples through a buffer of this many (0: keep the order).
        seed: seed of the shuffle.

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches: float32 in [0, 1] of shape
        ``(batch, size, size, channels)``, int64.

    Raises:
        DatasetUnavailableError: when the set cannot be downloaded or prepared.
    """
    import tensorflow as tf

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, received {channels}")
    if size < 1 or batch_size < 1:
        raise ValueError(f"size and batch_size must be positive, received size={size}, "
                         f"batch_size={batch_size}")
    ds = load_tfds(name, split, offline_alternative="the fast profile's offline data",
                   as_supervised=True)

    def prepare(image, label):
        image = tf.image.convert_image_dtype(image, tf.float32)   # uint8 -> [0, 1]
        image = tf.image.resize(image, (size, size))              # one image: any size
        return _channels_to(image, channels), tf.cast(label, tf.int64)

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def tfds_arrays(name: str, split: str, size: int, channels: int, batch_size: int = 1024):
    """A tensorflow-datasets image classification split as NumPy arrays (``full`` profile).

    Collects the batches of :func:`tfds_dataset` (resized image by image, so variable-size
    sets such as ``tf_flowers`` work) into two arrays. For sets too large for memory, feed
    :func:`tfds_dataset` to ``fit`` instead.

    Args:
        name: tfds name with ``image``/``label`` features, e.g. ``"mnist"``, ``"cifar10"``.
        split: e.g. ``"train"`` or ``"test[:20%]"``.
        size: images are resized to ``size x size``.
        channels: 1 or 3; grey sets are repeated to 3 channels, colour sets averaged to 1.
        batch_size: images per batch while collecting.

    Returns:
        ``(images, labels)``: float32 in [0, 1] of shape ``(N, size, size, channels)``, int64.
    """
    import tensorflow_datasets as tfds

    image_batches, label_batches = [], []
    # Batches, not batch_size=-1: that needs a known cardinality (mocked sets lack one).
    for images, labels in tfds.as_numpy(tfds_dataset(name, split, size, channels,
                                                     batch_size=batch_size)):
        image_batches.append(images)
        label_batches.append(labels)
    if not image_batches:
        return (np.zeros((0, size, size, channels), np.float32), np.zeros((0,), np.int64))
    return (np.concatenate(image_batches).astype(np.float32),
            np.concatenate(label_batches).astype(np.int64))


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


# -- the dates task of lessons 14 and 15 (generated, no download) ------------------------
DATE_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december")
DATE_SOURCE_CHARS = " ,.0123456789abcdefghijklmnopqrstuvwxyz"   # token i + 1; 0 = padding
DATE_TARGET_CHARS = "0123456789-"                               # token i; len() = <s>
DATE_SOURCE_LEN = len("september 30, 2049")                     # the longest source
DATE_TARGET_LEN = len("1998-03-03")
DATE_START_ID = len(DATE_TARGET_CHARS)


def human_date(date, style: int) -> str:
    """Write a ``datetime.date`` the way people do, in lower case.

    Styles: 0 "3 march 1998", 1 "march 3, 1998", 2 "3 mar 1998", 3 "03.03.1998".
    """
    month = DATE_MONTHS[date.month - 1]
    styles = {0: f"{date.day} {month} {date.year}", 1: f"{month} {date.day}, {date.year}",
              2: f"{date.day} {month[:3]} {date.year}",
              3: f"{date.day:02d}.{date.month:02d}.{date.year}"}
    if style not in styles:
        raise ValueError(f"style must be 0, 1, 2 or 3, received {style!r}")
    return styles[style]


def encode_date_sources(texts) -> np.ndarray:
    """Source strings as int32 tokens (N, DATE_SOURCE_LEN), post-padded with 0."""
    tokens = np.zeros((len(texts), DATE_SOURCE_LEN), dtype=np.int32)
    for row, text in enumerate(texts):
        if len(text) > DATE_SOURCE_LEN or not set(text) <= set(DATE_SOURCE_CHARS):
            raise ValueError(f"not a date source of at most {DATE_SOURCE_LEN} characters "
                             f"of {DATE_SOURCE_CHARS!r}: {text!r}")
        tokens[row, :len(text)] = [DATE_SOURCE_CHARS.index(char) + 1 for char in text]
    return tokens


def make_date_data(num_examples: int, seed: int = 0):
    """Random dates between 1950 and 2049 written by people, and their ISO form.

    Returns:
        ``(source, target)``: int32 arrays (N, DATE_SOURCE_LEN), the human-written date
        post-padded with 0, and (N, DATE_TARGET_LEN), the ISO date as indices into
        ``DATE_TARGET_CHARS``. The same seed gives the same pairs.
    """
    import datetime

    first, last = datetime.date(1950, 1, 1).toordinal(), datetime.date(2049, 12, 31).toordinal()
    rng = np.random.default_rng(seed)
    days = rng.integers(first, last + 1, size=num_examples)
    styles = rng.integers(0, 4, size=num_examples)
    dates = [datetime.date.fromordinal(int(day)) for day in days]
    source = encode_date_sources([human_date(d, int(s)) for d, s in zip(dates, styles)])
    target = np.array([[DATE_TARGET_CHARS.index(c) for c in d.isoformat()] for d in dates],
                      dtype=np.int32).reshape(num_examples, DATE_TARGET_LEN)
    return source, target


def shift_right(target, start_id: int = DATE_START_ID) -> np.ndarray:
    """Teacher forcing: the decoder input is the target shifted right behind a start token."""
    target = np.asarray(target)
    start = np.full((len(target), 1), start_id, dtype=target.dtype)
    return np.concatenate([start, target[:, :-1]], axis=1)
