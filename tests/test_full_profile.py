"""The ``full`` profile, on a CPU: mixed precision forced, tensorflow-datasets mocked.

In ``full`` on a GPU, ``runtime.setup`` switches Keras to ``mixed_float16``. Here
``DLCOURSE_PROFILE=full`` and ``DLCOURSE_PRECISION=mixed_float16`` force that policy without
a GPU; the solutions' checks that compare with a Keras reference must still pass (the
reference is built in float32, ``checks.float32_reference``), and the lessons' models must
keep their softmax in float32. The data tests load mocked tfds sets with their real
feature specs: ``tf_flowers`` has images of varying sizes, which must be resized before
they are batched.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder import notebooks  # noqa: E402
from autograder.judge_plan import plan  # noqa: E402
from dlcourse import data, runtime  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

# lesson -> (solution cells to run, graded test cells comparing them with a Keras reference)
REFERENCE_CHECKS = {
    "03_volumes_pooling": (["pool2d", "conv_layer_forward"],
                           ["test_pool2d", "test_pool2d_hidden", "test_conv_layer_forward",
                            "test_conv_layer_forward_hidden"]),
    "06_residual_networks": (["residual_forward"],
                             ["test_residual_forward", "test_residual_forward_hidden"]),
    "07_inception": (["conv1x1"], ["test_conv1x1", "test_conv1x1_hidden"]),
}

# lesson -> (solution cells defining a classifier, an expression building it)
CLASSIFIERS = {
    "03_volumes_pooling": (["one_conv_net"], "build_one_conv_net((8, 8, 1), 10)"),
    "06_residual_networks": (["digit_net"], "digit_net(2, 8, True, (16, 16, 1))"),
    "07_inception": (["inception_module", "mini_googlenet"],
                     "build_mini_googlenet((16, 16, 1), 10)"),
}


@pytest.fixture
def mixed_precision(monkeypatch):
    """The full profile with mixed_float16 forced (no GPU needed); float32 again after."""
    monkeypatch.setenv(runtime.PROFILE_ENV, "full")
    monkeypatch.setenv(runtime.PRECISION_ENV, "mixed_float16")
    monkeypatch.setattr(runtime, "_profile", None)
    try:
        yield
    finally:
        runtime._profile = None
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()


def _source(lesson: str):
    return notebooks.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb")


def _cell(nb, grade_id: str):
    (cell,) = [c for c in nb.cells if notebooks.grade_id(c) == grade_id]
    return cell


def _kernel(nb, solution_cells) -> dict:
    """A namespace like the student's kernel: the setup cell, then the given solutions."""
    namespace = {"__name__": "__main__"}
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert "runtime.setup(" in setup.source, "the first code cell should be the setup cell"
    exec(compile(setup.source, "setup", "exec"), namespace)
    for grade_id in solution_cells:
        exec(compile(_cell(nb, grade_id).source, grade_id, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("lesson", sorted(REFERENCE_CHECKS))
def test_reference_checks_pass_under_mixed_float16(lesson, mixed_precision):
    """Each check runs twice: in the kernel's namespace (the student's own Jupyter) and as
    the grader's judge runs it (its plan's trusted statements, the student's names bound
    from the kernel), with mixed_float16 as the global policy."""
    nb = _source(lesson)
    solutions, tests = REFERENCE_CHECKS[lesson]
    kernel = _kernel(nb, solutions)
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert kernel["PROFILE"] == "full"
    judge_plan = plan(nb)
    failures = {}
    for grade_id in tests:
        cell = _cell(nb, grade_id)
        assert notebooks.is_graded_test(cell)
        try:
            exec(compile(cell.source, grade_id, "exec"), dict(kernel))
        except AssertionError as error:
            failures[f"{grade_id} (kernel)"] = str(error)[:300]
        step = judge_plan.steps[grade_id]
        judge = {"__name__": "__judge__"}
        for index in step.prelude:
            exec(compile(judge_plan.statements[index], f"statement {index}", "exec"), judge)
        judge.update({name: kernel[name] for name in step.kernel_names if name in kernel})
        try:
            exec(compile(step.source, grade_id, "exec"), judge)
        except AssertionError as error:
            failures[f"{grade_id} (judge)"] = str(error)[:300]
        assert keras.mixed_precision.global_policy().name == "mixed_float16", (
            f"{grade_id} left the global policy changed")
    assert not failures, failures


@pytest.mark.parametrize("lesson", sorted(CLASSIFIERS))
def test_classifiers_keep_their_softmax_in_float32(lesson, mixed_precision):
    nb = _source(lesson)
    solutions, build = CLASSIFIERS[lesson]
    kernel = _kernel(nb, solutions)
    model = eval(build, kernel)
    hidden = [layer for layer in model.layers if layer.dtype_policy.name == "mixed_float16"]
    assert hidden, "the model should compute in mixed_float16 (is the policy forced?)"
    assert model.layers[-1].dtype_policy.name == "float32"
    assert keras.backend.standardize_dtype(model.output.dtype) == "float32"
    sample = np.zeros((2, *model.input_shape[1:]), "float32")
    assert keras.backend.standardize_dtype(model(sample).dtype) == "float32"


def test_output_activation_is_float32_under_mixed_precision(mixed_precision):
    runtime.setup(seed=0, verbose=False)
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    inputs = keras.Input((4,))
    logits = keras.layers.Dense(3)(inputs)
    outputs = runtime.output_activation(name="probabilities")(logits)
    assert keras.backend.standardize_dtype(logits.dtype) == "float16"
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"
    probabilities = keras.Model(inputs, outputs)(np.ones((2, 4), "float32"))
    np.testing.assert_allclose(np.sum(probabilities, axis=-1), 1.0, rtol=1e-6)


@pytest.mark.usefixtures("tfds_scratch")
def test_variable_size_images_are_resized_before_batching():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=9):
        features = tfds.builder("tf_flowers").info.features
        assert features["image"].shape == (None, None, 3)       # its real feature spec
        raw = tfds.as_numpy(tfds.load("tf_flowers", split="train", as_supervised=True))
        raw_shapes = {image.shape for image, _ in raw}
        assert len(raw_shapes) > 1, "the mock should give images of several sizes"
        images, labels = data.tfds_arrays("tf_flowers", "train", size=40, channels=3)
        grey, _ = data.tfds_arrays("tf_flowers", "train", size=20, channels=1)
        batches = data.tfds_dataset("tf_flowers", "train", size=32, channels=3,
                                    batch_size=4)
        batch_shapes = [tuple(x.shape) for x, _ in batches]
    assert images.shape == (9, 40, 40, 3) and images.dtype == np.float32
    assert labels.shape == (9,) and labels.dtype == np.int64
    assert set(labels) <= set(range(features["label"].num_classes))
    assert 0 <= images.min() and images.max() <= 1 and images.std() > 0
    assert grey.shape == (9, 20, 20, 1)
    assert batch_shapes == [(4, 32, 32, 3), (4, 32, 32, 3), (1, 32, 32, 3)]


@pytest.mark.usefixtures("tfds_scratch")
def test_cifar10_through_the_pipeline_keeps_pixels_and_order():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=10):
        raw = list(tfds.as_numpy(tfds.load("cifar10", split="test", as_supervised=True)))
        images, labels = data.tfds_arrays("cifar10", "test", size=32, channels=3)
        small, _ = data.tfds_arrays("cifar10", "test", size=16, channels=1, batch_size=3)
    np.testing.assert_array_equal(labels, [label for _, label in raw])
    np.testing.assert_allclose(images, np.stack([image for image, _ in raw]) / 255.0,
                               atol=1e-6)      # 32x32 stays 32x32: only the scaling
    assert small.shape == (10, 16, 16, 1)
    np.testing.assert_allclose(small.mean(), images.mean(), atol=0.02)


@pytest.mark.usefixtures("tfds_scratch")
def test_digit_images_in_full_uses_the_pipeline():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        (x_train, y_train), (x_test, _) = data.digit_images("full", size=20, channels=3)
    assert x_train.shape == (6, 20, 20, 3) and x_test.shape == (6, 20, 20, 3)
    for channel in (1, 2):                                       # grey repeated to RGB
        np.testing.assert_array_equal(x_train[..., channel], x_train[..., 0])
    assert x_train.std() > 0
    assert y_train.dtype == np.int64


@pytest.fixture
def smoke_run(monkeypatch):
    """A smoke run of the full profile (DLCOURSE_SMOKE=1), as tools/full_profile.py sets it."""
    monkeypatch.setenv(runtime.PROFILE_ENV, "full")
    monkeypatch.setenv(runtime.SMOKE_ENV, "1")
    monkeypatch.setattr(runtime, "_profile", None)
    yield
    runtime._profile = None


def test_smoke_values_only_in_a_smoke_run_of_full(monkeypatch, smoke_run):
    assert runtime.smoke_run()
    assert runtime.by_profile(fast=8, full=30, smoke=1) == 1
    assert runtime.by_profile(fast=8, full=30) == 30          # no smoke value: full's
    assert runtime.by_profile(fast=8, full=30, smoke=None) is None
    assert runtime.pretrained_weights() is None               # never downloaded
    monkeypatch.setenv(runtime.SMOKE_ENV, "0")
    assert not runtime.smoke_run()
    assert runtime.by_profile(fast=8, full=30, smoke=1) == 30
    assert runtime.pretrained_weights() == "imagenet"
    monkeypatch.setenv(runtime.SMOKE_ENV, "yes")
    with pytest.raises(ValueError, match="DLCOURSE_SMOKE must be 0 or 1"):
        runtime.smoke_run()
    monkeypatch.setenv(runtime.SMOKE_ENV, "1")
    monkeypatch.setenv(runtime.PROFILE_ENV, "fast")           # fast never smokes
    runtime._profile = None
    assert not runtime.smoke_run()
    assert runtime.by_profile(fast=8, full=30, smoke=1) == 8
    assert runtime.pretrained_weights() is None


def test_floors_are_reported_as_skipped_in_a_smoke_run_not_passed(smoke_run, capsys):
    from dlcourse import checks

    before = len(checks.floors_checked())
    checks.check_accuracy(0.1, 0.85, what="test accuracy")
    assert "SKIPPED in a smoke run" in capsys.readouterr().out
    record = checks.floors_checked()[before]
    assert (record.value, record.floor, record.profile, record.skipped) == (0.1, 0.85,
                                                                            "full", True)
    runtime._profile = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(runtime.PROFILE_ENV, "fast")
        with pytest.raises(AssertionError, match="below the floor 0.850 of the fast profile"):
            checks.check_accuracy(0.1, 0.85)
        assert not checks.floors_checked()[-1].skipped


@pytest.mark.usefixtures("tfds_scratch")
def test_a_smoke_run_serves_mock_sets_with_their_real_feature_spec(smoke_run):
    # data.load_tfds mocks by itself: no tfds.testing in the caller, no network.
    images, labels = data.tfds_arrays("tf_flowers", "train", size=24, channels=3)
    assert images.shape == (data.SMOKE_EXAMPLES, 24, 24, 3)
    assert set(labels) <= set(range(5))
    pets = data.load_tfds("oxford_iiit_pet", "test[:10%]")
    example = next(iter(pets))
    assert example["image"].shape[-1] == 3 and example["segmentation_mask"].shape[-1] == 1
    assert len(list(pets)) == data.SMOKE_EXAMPLES   # the mock ignores slices: a fixed size


def test_gpu_benchmark_script_runs_a_lesson_with_xla_on_and_off():
    """benchmarks/gpu_full_profile.py on this CPU (it says so), mock data, lesson 02: one row
    per XLA setting, both passing, and the total time."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_full_profile.py"), "02", "--mock-data",
         "--xla", "both"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "no GPU visible: running on the CPU" in lines[0]
    rows = [line.split() for line in lines if line.startswith("02_padding_stride")]
    assert [row[1] for row in rows] == ["on", "off"], result.stdout
    assert all("passed" in row for row in rows), result.stdout
    assert "all lessons:" in lines[-1] and "0 failed run(s)" in lines[-1]
