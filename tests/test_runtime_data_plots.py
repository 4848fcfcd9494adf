"""dlcourse.runtime, dlcourse.data (offline loaders and the tfds path) and dlcourse.plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse import data, plots, runtime  # noqa: E402


@pytest.fixture
def fresh_profile(monkeypatch):
    monkeypatch.setattr(runtime, "_profile", None)
    yield monkeypatch
    runtime._profile = None


def test_profile_env_override_and_validation(fresh_profile):
    fresh_profile.setenv("DLCOURSE_PROFILE", "full")
    assert runtime.get_profile() == "full"
    fresh_profile.setattr(runtime, "_profile", None)
    fresh_profile.setenv("DLCOURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match="received 'turbo'"):
        runtime.get_profile()


def test_profile_follows_gpu_visibility(fresh_profile):
    fresh_profile.delenv("DLCOURSE_PROFILE", raising=False)
    fresh_profile.setattr(runtime, "_visible_gpus", lambda: ["GPU:0"])
    assert runtime.get_profile() == "full"
    fresh_profile.setattr(runtime, "_profile", None)
    fresh_profile.setattr(runtime, "_visible_gpus", lambda: [])
    assert runtime.get_profile() == "fast"
    assert runtime.by_profile(fast=2, full=30) == 2


def test_setup_seeds_reproducibly_and_keeps_float32_on_cpu(fresh_profile, capsys):
    fresh_profile.setenv("DLCOURSE_PROFILE", "fast")
    assert runtime.setup(seed=3) == "fast"
    first = (np.random.rand(), keras.random.uniform((2,)).numpy())
    runtime.setup(seed=3)
    second = (np.random.rand(), keras.random.uniform((2,)).numpy())
    assert first[0] == second[0] and np.array_equal(first[1], second[1])
    assert keras.mixed_precision.global_policy().name == "float32"
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("profile=fast | TensorFlow") and "seed=3" in line
    with pytest.raises(ValueError, match="received -1"):
        runtime.seed_everything(-1)


def test_setup_uses_mixed_precision_only_in_full_on_gpu(fresh_profile):
    fresh_profile.setenv("DLCOURSE_PROFILE", "full")
    fresh_profile.setattr(runtime, "_visible_gpus", lambda: ["GPU:0"])
    try:
        runtime.setup(seed=0, verbose=False)
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_precision_override_applies_in_full_only(fresh_profile):
    fresh_profile.setattr(runtime, "_visible_gpus", lambda: [])
    fresh_profile.setenv("DLCOURSE_PRECISION", "mixed_float16")
    fresh_profile.setenv("DLCOURSE_PROFILE", "fast")
    assert runtime.precision_policy() == "float32"   # grading and CI never see it
    fresh_profile.setattr(runtime, "_profile", None)
    fresh_profile.setenv("DLCOURSE_PROFILE", "full")
    try:
        assert runtime.setup(seed=0, verbose=False) == "full"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    fresh_profile.setenv("DLCOURSE_PRECISION", "float32")
    fresh_profile.setattr(runtime, "_visible_gpus", lambda: ["GPU:0"])
    assert runtime.precision_policy() == "float32"   # the override wins over the GPU
    fresh_profile.delenv("DLCOURSE_PRECISION")
    assert runtime.precision_policy() == "mixed_float16"
    fresh_profile.setenv("DLCOURSE_PRECISION", "float8")
    with pytest.raises(ValueError, match="received 'float8'"):
        runtime.precision_policy()


def test_output_activation_is_a_float32_layer():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = runtime.output_activation("sigmoid", name="out")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert layer.name == "out" and layer.dtype_policy.name == runtime.OUTPUT_DTYPE == "float32"
    assert layer.get_config()["activation"] == "sigmoid"


def test_offline_images_and_digits():
    camera = data.load_camera(size=64)
    assert camera.shape == (64, 64) and camera.dtype == np.float32
    assert 0 <= camera.min() and camera.max() <= 1
    assert data.load_rgb_photo("coffee", size=32).shape == (32, 32, 3)
    with pytest.raises(ValueError, match="received 'dog'"):
        data.load_rgb_photo("dog")
    (x_train, y_train), (x_test, y_test) = data.load_digits(size=16)
    assert x_train.shape[1:] == (16, 16, 1) and len(x_train) + len(x_test) == 1797
    assert set(np.unique(y_test)) == set(range(10))
    (x3, _), _ = data.digit_images("fast", size=32, channels=3)
    assert x3.shape[1:] == (32, 32, 3)
    with pytest.raises(ValueError, match="received 'slow'"):
        data.digit_images("slow")


@pytest.mark.usefixtures("tfds_scratch")
def test_full_profile_path_with_mocked_tfds():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        (x_train, y_train), (x_test, y_test) = data.digit_images("full", size=32, channels=3)
        assert x_train.shape == (12, 32, 32, 3) and y_test.shape == (12,)
        images, labels = data.tfds_arrays("cifar10", "test", size=24, channels=1)
        assert images.shape == (12, 24, 24, 1) and 0 <= images.min() and images.max() <= 1


def test_failed_download_names_the_offline_alternative(monkeypatch):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.digit_images("full")
    message = str(info.value)
    assert "'mnist'" in message and "DLCOURSE_PROFILE=fast" in message
    assert "no network" in message


def test_plots_return_figures():
    import matplotlib.pyplot as plt

    fig = plots.show_images([np.zeros((4, 4)), np.ones((4, 4, 3))], titles=["a", "b"])
    assert len(fig.axes) == 2
    fig = plots.show_filters(np.random.rand(3, 3, 1, 5))
    assert sum(ax.get_title().startswith("filter") for ax in fig.axes) == 5
    assert plots.show_feature_maps(np.random.rand(1, 8, 8, 20), max_maps=6)
    history = {"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
    fig = plots.plot_history({"plain": history, "residual": history})
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        plots.show_images([np.zeros((2, 2))] * 2, titles=["x"])
    with pytest.raises(ValueError, match="received \\(3, 3\\)"):
        plots.show_filters(np.zeros((3, 3)))
    weights = np.full((2, 3), 1 / 3)
    fig = plots.show_attention(weights, ["a", "b"], ["x", "y", "z"], title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert len(fig.axes) == 2 and ax.get_title() == "t"        # the heat map and its colour bar
    np.testing.assert_array_equal(ax.images[0].get_array(), weights)
    fig, axes = plt.subplots(1, 2)
    assert plots.show_attention(weights.T, "xyz", "ab", ax=axes[1], key_name="source") is fig
    assert len(fig.axes) == 2 and axes[1].get_xlabel() == "source" and not axes[0].images
    with pytest.raises(ValueError, match="shape \\(3, 3\\), received \\(2, 3\\)"):
        plots.show_attention(weights, "abc", "xyz")
    plt.close("all")


def test_date_data_is_seeded_and_decodes_to_the_same_date():
    import datetime

    source, target = data.make_date_data(50, seed=3)
    assert source.shape == (50, data.DATE_SOURCE_LEN) and target.shape == (50, data.DATE_TARGET_LEN)
    assert source.dtype == target.dtype == np.int32
    again, _ = data.make_date_data(50, seed=3)
    assert np.array_equal(source, again)
    assert not np.array_equal(source, data.make_date_data(50, seed=4)[0])
    for row in range(50):
        iso = "".join(data.DATE_TARGET_CHARS[t] for t in target[row])
        date = datetime.date.fromisoformat(iso)
        text = "".join(data.DATE_SOURCE_CHARS[t - 1] for t in source[row] if t)
        assert text in [data.human_date(date, style) for style in range(4)]
        assert np.all(source[row, len(text):] == 0)
    assert data.human_date(datetime.date(1998, 3, 3), 1) == "march 3, 1998"
    decoder_input = data.shift_right(target)
    assert np.all(decoder_input[:, 0] == data.DATE_START_ID)
    assert np.array_equal(decoder_input[:, 1:], target[:, :-1])
    with pytest.raises(ValueError, match="received 4"):
        data.human_date(datetime.date(2000, 1, 1), 4)
