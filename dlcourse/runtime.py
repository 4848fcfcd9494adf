"""Pick the run profile once per kernel, seed everything, describe the device.

Two profiles share one notebook:

* ``fast``: CPU, continuous integration and autograding. Small offline data, few epochs.
* ``full``: a GPU (e.g. Colab). Real tensorflow-datasets sets, pretrained weights, mixed
  precision, longer training.

Default: ``full`` when TensorFlow sees a GPU, else ``fast``. The environment variable
``DLCOURSE_PROFILE`` overrides the choice (the autograder always sets it to ``fast``).

Precision: ``fast`` always computes in float32. ``full`` switches Keras to
``mixed_float16`` on a GPU; ``DLCOURSE_PRECISION`` (``float32``, ``mixed_float16`` or
``mixed_bfloat16``) overrides that choice in ``full`` only, e.g. to test the full profile's
numerics on a CPU. Under mixed precision a model's output layer stays in float32
(:func:`output_activation`, :data:`OUTPUT_DTYPE`), as Keras' mixed-precision guide asks.

Smoke runs: ``DLCOURSE_SMOKE=1`` (``full`` profile only) runs the ``full`` profile's code
paths, shapes and dtypes in minutes without a network: tensorflow-datasets sets are served
by ``tfds.testing.mock_data`` with their real feature specs (:mod:`dlcourse.data`),
pretrained weights are replaced by ``None`` (:func:`pretrained_weights`), epochs and sizes
take the ``smoke`` value a lesson gives :func:`by_profile`, and accuracy floors, which random
mock data cannot reach, are reported as skipped (:func:`dlcourse.checks.check_accuracy`).
"""

from __future__ import annotations

import os
import platform
import random

PROFILE_ENV = "DLCOURSE_PROFILE"
PROFILES = ("fast", "full")
PRECISION_ENV = "DLCOURSE_PRECISION"
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
SMOKE_ENV = "DLCOURSE_SMOKE"
# dtype of a model's last layer (the softmax) in every profile: float16 would round the
# probabilities and overflow the exponentials of the softmax and the log of the loss.
OUTPUT_DTYPE = "float32"

_profile: str | None = None


def _visible_gpus() -> list:
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def get_profile() -> str:
    """Return ``"fast"`` or ``"full"``, deciding once per process.

    Returns:
        The profile name. ``DLCOURSE_PROFILE`` wins; otherwise ``full`` iff a GPU is visible.

    Raises:
        ValueError: if ``DLCOURSE_PROFILE`` holds something other than ``fast``/``full``.
    """
    global _profile
    if _profile is None:
        requested = os.environ.get(PROFILE_ENV, "").strip().lower()
        if requested:
            if requested not in PROFILES:
                raise ValueError(
                    f"{PROFILE_ENV} must be one of {PROFILES}, received {requested!r}"
                )
            _profile = requested
        else:
            _profile = "full" if _visible_gpus() else "fast"
    return _profile


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras so a lesson reruns identically.

    Args:
        seed: any non-negative integer.
    """
    import keras
    import numpy as np

    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, received {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # seeds TensorFlow's global generator too


def device_summary() -> str:
    """One line naming the profile, library versions and the compute device."""
    import keras
    import tensorflow as tf

    gpus = _visible_gpus()
    device = f"GPU x{len(gpus)}" if gpus else f"CPU x{os.cpu_count()}"
    return (
        f"profile={get_profile()} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
        f" | Python {platform.python_version()} | {device}"
    )


def precision_policy(profile: str | None = None) -> str:
    """The Keras dtype policy :func:`setup` uses for a profile.

    ``fast``: always ``float32`` (CI and grading see the same numbers everywhere; a
    ``DLCOURSE_PRECISION`` in the environment is ignored). ``full``: ``DLCOURSE_PRECISION``
    if set, else ``mixed_float16`` when a GPU is visible and ``float32`` without one (on a
    CPU float16 only slows training down).

    Raises:
        ValueError: if ``DLCOURSE_PRECISION`` is not one of :data:`PRECISIONS`.
    """
    profile = get_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, received {profile!r}")
    if profile == "fast":
        return "float32"
    requested = os.environ.get(PRECISION_ENV, "").strip().lower()
    if requested:
        if requested not in PRECISIONS:
            raise ValueError(
                f"{PRECISION_ENV} must be one of {PRECISIONS}, received {requested!r}")
        return requested
    return "mixed_float16" if _visible_gpus() else "float32"


def output_activation(activation: str = "softmax", name: str | None = None):
    """A model's output activation as its own layer, computed in float32.

    Keras' mixed-precision guide: keep the last layer (the softmax) in float32, so the
    probabilities and the loss are not rounded to float16. Use it after a ``Dense`` layer
    without activation, ``outputs = runtime.output_activation()(layers.Dense(10)(x))``,
    or give the output layer the dtype yourself,
    ``layers.Dense(10, activation="softmax", dtype=runtime.OUTPUT_DTYPE)``, which keeps the
    layer table of a one-layer head. Under ``float32`` both are the usual layers.

    Args:
        activation: the activation's name, e.g. ``"softmax"`` or ``"sigmoid"``.
        name: the layer's name.
    """
    import keras

    return keras.layers.Activation(activation, dtype=OUTPUT_DTYPE, name=name)


def setup(seed: int = 0, verbose: bool = True) -> str:
    """Everything a lesson's setup cell needs: profile, seeds, precision policy.

    The policy is :func:`precision_policy`'s: mixed precision only in the ``full`` profile
    on a GPU (or where ``DLCOURSE_PRECISION`` asks for it), where it speeds training up; on
    a CPU it would only slow it down and change the numbers.

    Args:
        seed: seed passed to :func:`seed_everything`.
        verbose: print the one-line device summary.

    Returns:
        The profile name, ``"fast"`` or ``"full"``.
    """
    import keras

    profile = get_profile()
    seed_everything(seed)
    policy = precision_policy(profile)
    keras.mixed_precision.set_global_policy(policy)
    if verbose:
        smoke = " | smoke run: mock data, no pretrained weights" if smoke_run() else ""
        print(device_summary() + f" | precision={policy} | seed={seed}{smoke}")
    return profile


def smoke_run() -> bool:
    """True in a smoke run of the ``full`` profile (``DLCOURSE_SMOKE=1``, see the module's
    docstring); always False in ``fast``, whose data never comes from the network.

    Raises:
        ValueError: if ``DLCOURSE_SMOKE`` holds something other than ``0``/``1`` (or empty).
    """
    requested = os.environ.get(SMOKE_ENV, "").strip()
    if requested not in ("", "0", "1"):
        raise ValueError(f"{SMOKE_ENV} must be 0 or 1, received {requested!r}")
    return requested == "1" and get_profile() == "full"


_FULL = object()  # by_profile's "no smoke value given": the full value


def clear_session() -> None:
    """``keras.backend.clear_session()`` keeping the precision policy.

    Keras keeps its global dtype policy in the state ``clear_session`` clears, so after it
    a ``full`` run on a GPU would go on in float32. Frees the models built so far, as
    Keras' does, then sets the policy back.
    """
    import keras

    policy = keras.mixed_precision.global_policy()
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(policy)


def by_profile(fast, full, smoke=_FULL):
    """Return ``fast`` or ``full`` according to the current profile (e.g. epoch counts).

    Args:
        fast: the value in the ``fast`` profile.
        full: the value in the ``full`` profile.
        smoke: the value in a smoke run of ``full`` (:func:`smoke_run`): give it to epoch
            counts, training steps and generated-set sizes, so that the run takes seconds
            while shapes stay those of ``full``; defaults to ``full``.
    """
    if get_profile() != "full":
        return fast
    return full if smoke is _FULL or not smoke_run() else smoke


def pretrained_weights(weights: str = "imagenet"):
    """The ``weights`` argument of a ``keras.applications`` network: ``weights`` (e.g.
    ``"imagenet"``) in ``full``; ``None`` in ``fast`` and in smoke runs (never downloaded)."""
    return weights if get_profile() == "full" and not smoke_run() else None
