"""Typical wrong answers for lesson 05 (classic networks: LeNet-5, AlexNet, ZFNet, VGG).

Each wrong cell is the solution cell with one edit, written below as (old text -> new
text); ``_wrong`` refuses an edit whose old text is not in the solution exactly once, so
the catalogue cannot silently drift away from the lesson.

Cascades (a later exercise that fails because an earlier one is wrong or blank):
- ``trace_sides`` (exercise 5.5b) calls ``output_side`` (5.1): a wrong ``output_side`` also
  fails ``test_alexnet_arithmetic_hidden`` (random stacks hit non-exact divisions).
- ``build_alexnet`` (5.5a) uses ``LocalResponseNormalization`` (5.4): a blank LRN fails the
  AlexNet checks too; a numerically wrong LRN does not (it has no parameters or shape
  effect).
- The training run (5.3b) trains the model of ``build_simple_lenet`` (5.3a): a blank
  builder fails ``test_train_classifier``; the wrong architectures below still train above
  the floor, so they fail only the 5.3a checks.
"""

from __future__ import annotations

from pathlib import Path

from autograder import notebooks
from tests.mistakes import Mistake

LESSON = "05_classic_networks"

_SOURCE = Path(__file__).resolve().parents[2] / "solutions" / LESSON / f"{LESSON}.ipynb"
_ANSWERS = {notebooks.grade_id(cell): notebooks.solution_code(cell.source)
            for cell in notebooks.read(_SOURCE).cells if notebooks.is_solution(cell)}


def _wrong(cell: str, *edits: tuple[str, str]) -> str:
    """The solution of ``cell`` with each ``(old, new)`` edit applied (old must occur once)."""
    code = _ANSWERS[cell]
    for old, new in edits:
        if code.count(old) != 1:
            raise ValueError(f"{cell}: expected {old!r} once in the solution, found it "
                             f"{code.count(old)} times")
        code = code.replace(old, new)
    return code


MISTAKES = [
    # 5.1 output sizes and connections
    Mistake(
        name="connections without the bias",
        solution_cell="connections",
        code=_wrong("connections", (
            "np.sum(kernel_size * kernel_size * inputs_per_map + 1)",
            "np.sum(kernel_size * kernel_size * inputs_per_map)")),
        failing_tests=("test_connections", "test_connections_hidden"),
        message="+ 1 for the bias",
    ),
    Mistake(
        name="true division in the output-size formula",
        solution_cell="connections",
        code=_wrong("connections", ("return (n + 2 * p - f) // s + 1",
                                    "return (n + 2 * p - f) / s + 1")),
        failing_tests=("test_connections_hidden", "test_alexnet_arithmetic_hidden"),
        message="floor((n + 2p - f) / s) + 1",
    ),
    # 5.2 LeNet-5 as published
    Mistake(
        name="full C3 instead of the sparse connection table",
        solution_cell="lenet5",
        code=_wrong("lenet5", (
            'SparseConv2D(16, 5, LENET5_C3_TABLE, activation="tanh", name="C3")',
            'SparseConv2D(16, 5, np.ones((6, 16), dtype=bool), activation="tanh", name="C3")')),
        failing_tests=("test_lenet5", "test_lenet5_hidden"),
        message="that is a full 6-to-16 convolution",
    ),
    Mistake(
        name="trainable RBF prototypes",
        solution_cell="lenet5",
        code=_wrong("lenet5", ("trainable=False, name=\"centers\")",
                               "trainable=True, name=\"centers\")")),
        failing_tests=("test_lenet5", "test_lenet5_hidden"),
        message="trainable=False",
    ),
    Mistake(
        name="LeNet-5 with ReLU instead of tanh (right numbers, another network)",
        solution_cell="lenet5",
        code=_wrong("lenet5", *[(f'activation="tanh", name="{n}")', f'activation="relu", name="{n}")')
                               for n in ("C1", "S2", "C3", "S4", "C5", "F6")]),
        failing_tests=("test_lenet5", "test_lenet5_hidden"),
        message="LeNet-5 as published uses tanh",
    ),
    Mistake(
        name="Subsampling over a partial block at the border ('same' pooling)",
        solution_cell="lenet5",
        code=_wrong("lenet5", ('ops.average_pool(inputs, size, strides=size, padding="valid")',
                               'ops.average_pool(inputs, size, strides=size, padding="same")')),
        failing_tests=("test_lenet5_hidden",),
        message="a partial block at the border is left out",
    ),
    # 5.3a the simplified LeNet
    Mistake(
        name="'same' instead of 'valid' padding in the first convolution",
        solution_cell="simple_lenet",
        code=_wrong("simple_lenet", (
            'layers.Conv2D(6, 5, activation="relu", name="conv1")',
            'layers.Conv2D(6, 5, padding="same", activation="relu", name="conv1")')),
        failing_tests=("test_simple_lenet", "test_simple_lenet_hidden"),
        message="'valid' vs 'same'",
    ),
    Mistake(
        name="convolutions without a bias",
        solution_cell="simple_lenet",
        code=_wrong("simple_lenet",
                    ('layers.Conv2D(6, 5, activation="relu", name="conv1")',
                     'layers.Conv2D(6, 5, activation="relu", use_bias=False, name="conv1")'),
                    ('layers.Conv2D(16, 5, activation="relu", name="conv2")',
                     'layers.Conv2D(16, 5, activation="relu", use_bias=False, name="conv2")')),
        failing_tests=("test_simple_lenet", "test_simple_lenet_hidden"),
        message="count the bias",
    ),
    Mistake(
        name="output layer in float16 (mixed precision reaches the softmax)",
        solution_cell="simple_lenet",
        code=_wrong("simple_lenet", ('name="predictions",\n                           dtype="float32")',
                                     'name="predictions",\n                           dtype="mixed_float16")')),
        failing_tests=("test_simple_lenet", "test_simple_lenet_hidden"),
        message="computes in float16",
    ),
    # 5.3b training
    Mistake(
        name="fit without validation_data",
        solution_cell="train_classifier",
        code=_wrong("train_classifier", ("validation_data=validation_data, epochs=num_epochs",
                                         "epochs=num_epochs")),
        failing_tests=("test_train_classifier", "test_train_classifier_hidden"),
        message="validation_data",
    ),
    Mistake(
        name="num_epochs not passed to fit (one epoch)",
        solution_cell="train_classifier",
        code=_wrong("train_classifier", ("validation_data=validation_data, epochs=num_epochs",
                                         "validation_data=validation_data")),
        failing_tests=("test_train_classifier", "test_train_classifier_hidden"),
        message="epochs=num_epochs",
    ),
    # 5.4 local response normalisation
    Mistake(
        name="LRN with alpha divided by n (PyTorch/Caffe convention)",
        solution_cell="lrn",
        code=_wrong("lrn", ("self.bias + self.alpha * window_sum",
                            "self.bias + self.alpha / (2 * radius + 1) * window_sum")),
        failing_tests=("test_lrn", "test_lrn_hidden"),
        message="alpha divided by n = 5",
    ),
    Mistake(
        name="LRN normalising each channel by its own square only",
        solution_cell="lrn",
        code=_wrong("lrn", ("self.bias + self.alpha * window_sum",
                            "self.bias + self.alpha * squares")),
        failing_tests=("test_lrn", "test_lrn_hidden"),
        message="differ beyond the tolerance",
    ),
    # 5.5a AlexNet
    Mistake(
        name="groups forgotten (a single tower)",
        solution_cell="alexnet",
        code=_wrong("alexnet",
                    ('padding="same", groups=groups, activation="relu", name="conv2"',
                     'padding="same", activation="relu", name="conv2"'),
                    ('padding="same", groups=groups, activation="relu", name="conv4"',
                     'padding="same", activation="relu", name="conv4"'),
                    ('padding="same", groups=groups, activation="relu", name="conv5"',
                     'padding="same", activation="relu", name="conv5"')),
        failing_tests=("test_alexnet", "test_alexnet_hidden"),
        message="that is the single-tower count",
    ),
    Mistake(
        name="'same' padding in AlexNet's first layer",
        solution_cell="alexnet",
        code=_wrong("alexnet", ('strides=first_stride, activation="relu"',
                                'strides=first_stride, padding="same", activation="relu"')),
        failing_tests=("test_alexnet", "test_alexnet_hidden"),
        message="'valid' vs 'same'",
    ),
    # 5.5b small AlexNet sizes and augmentation
    Mistake(
        name="augmentation factor without the flips",
        solution_cell="alexnet_arithmetic",
        code=_wrong("alexnet_arithmetic", ("return offsets * offsets * flips",
                                           "return offsets * offsets")),
        failing_tests=("test_alexnet_arithmetic", "test_alexnet_arithmetic_hidden"),
        message="times 2 for the horizontal flips",
    ),
    # 5.6a VGG
    Mistake(
        name="configuration C written like D (no 1x1 convolutions)",
        solution_cell="vgg",
        code=_wrong("vgg", (
            '''    "C": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M",
          512, 512, (512, 1), "M", 512, 512, (512, 1), "M"],''',
            '''    "C": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
          512, 512, 512, "M", 512, 512, 512, "M"],''')),
        failing_tests=("test_vgg", "test_vgg_hidden"),
        message="that is configuration D's count",
    ),
    Mistake(
        name="build_vgg always reads configuration D (wrong letter)",
        solution_cell="vgg",
        code=_wrong("vgg", ("for item in VGG_CONFIGS[config]:",
                            'for item in VGG_CONFIGS["D"]:')),
        failing_tests=("test_vgg", "test_vgg_hidden"),
        message="reads the configuration it is given",
    ),
    Mistake(
        name="VGG A with its first pooling moved after the second convolution (same total)",
        solution_cell="vgg",
        code=_wrong("vgg", ('"A": [64, "M", 128, "M", 256, 256,', '"A": [64, 128, "M", "M", 256, 256,')),
        failing_tests=("test_vgg", "test_vgg_hidden"),
        message="the pooling layers are at positions",
    ),
    Mistake(
        name="VGG B with a pooling moved into the 256 block (same total)",
        solution_cell="vgg",
        code=_wrong("vgg", ('"B": [64, 64, "M", 128, 128, "M", 256, 256, "M",',
                            '"B": [64, 64, "M", 128, 128, 256, "M", 256, "M",')),
        failing_tests=("test_vgg", "test_vgg_hidden"),
        message="a pooling layer in another place",
    ),
    # 5.6b receptive field
    Mistake(
        name="receptive field n*f instead of n*(f-1)+1",
        solution_cell="receptive_field",
        code=_wrong("receptive_field", ("field, jump = 1, 1", "field, jump = 0, 1"),
                    ("field += (kernel - 1) * jump", "field += kernel * jump")),
        failing_tests=("test_receptive_field", "test_receptive_field_hidden"),
        message="not n*f",
    ),
    Mistake(
        name="stacked weights counting the biases",
        solution_cell="receptive_field",
        code=_wrong("receptive_field", (
            "return num_layers * kernel_size * kernel_size * channels * channels",
            "return num_layers * (kernel_size * kernel_size * channels + 1) * channels")),
        failing_tests=("test_receptive_field", "test_receptive_field_hidden"),
        message="biases are not counted",
    ),
]
