"""Typical wrong answers for lesson 07 (1x1 convolutions and Inception).

Cascades (listed in ``failing_tests``): ``bottleneck_multiplies`` calls ``conv_multiplies``,
so a wrong ``conv_multiplies`` also fails the bottleneck checks; ``build_mini_googlenet``
and the training cell use ``inception_module``, so a module that cannot be built fails
the mini GoogLeNet and training checks too. Wrong modules that still build (missing
projection, missing ReLU) and a Flatten head still train above the floor.
"""

from tests.mistakes import Mistake

LESSON = "07_inception"

_CONV_COST = [
    "test_conv_multiplies", "test_conv_multiplies_hidden",
    "test_bottleneck_multiplies", "test_bottleneck_multiplies_hidden",
]
_MODULE_CRASH = (
    "test_inception_module", "test_inception_module_hidden",
    "test_mini_googlenet", "test_mini_googlenet_hidden",
    "test_train_mini_googlenet", "test_train_mini_googlenet_hidden",
)

_INCEPTION_TEMPLATE = '''
def inception_module(x, filters_1x1, filters_3x3_reduce, filters_3x3, filters_5x5_reduce,
                     filters_5x5, filters_pool_proj, name="inception"):
    """Inception module (student attempt)."""
    branch_1x1 = layers.Conv2D(filters_1x1, 1, activation="relu", name=f"{name}_1x1")(x)
    branch_3x3 = layers.Conv2D(filters_3x3_reduce, 1, REDUCE_ACTIVATION
                               name=f"{name}_3x3_reduce")(x)
    branch_3x3 = layers.Conv2D(filters_3x3, 3, padding=SPATIAL_PADDING, activation="relu",
                               name=f"{name}_3x3")(branch_3x3)
    branch_5x5 = layers.Conv2D(filters_5x5_reduce, 1, REDUCE_ACTIVATION
                               name=f"{name}_5x5_reduce")(x)
    branch_5x5 = layers.Conv2D(filters_5x5, 5, padding=SPATIAL_PADDING, activation="relu",
                               name=f"{name}_5x5")(branch_5x5)
    branch_pool = layers.MaxPooling2D(3, POOL_STRIDES padding="same", name=f"{name}_pool")(x)
    PROJECTION
    return layers.Concatenate(axis=-1, name=f"{name}_concat")(
        [branch_1x1, branch_3x3, branch_5x5, branch_pool])
'''
_PROJECTION = ('branch_pool = layers.Conv2D(filters_pool_proj, 1, activation="relu", '
               'name=f"{name}_pool_proj")(branch_pool)')


def _inception(reduce_activation='activation="relu",', spatial_padding='"same"',
               pool_strides="strides=1,", projection=_PROJECTION):
    return (_INCEPTION_TEMPLATE.replace("REDUCE_ACTIVATION", reduce_activation)
            .replace("SPATIAL_PADDING", spatial_padding)
            .replace("POOL_STRIDES", pool_strides)
            .replace("PROJECTION", projection))


_CONV_BN = '''
def conv_bn(x, filters, kernel_size, name):
    """Conv, BN, ReLU (student attempt)."""
    BODY


def factorised_5x5(x, filters, name):
    """Two 3x3 units."""
    x = conv_bn(x, filters, 3, name=f"{name}_a")
    return conv_bn(x, filters, 3, name=f"{name}_b")


def factorised_nxn(x, filters, n, name):
    """1 x n then n x 1."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, received {n!r}")
    x = conv_bn(x, filters, (1, n), name=f"{name}_1x{n}")
    return conv_bn(x, filters, SECOND_KERNEL, name=f"{name}_{n}x1")
'''
_GOOD_BODY = '''x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)'''

_MINI = '''
MINI_GOOGLENET = {
    "3a": (16, 16, 24, 4, 8, 8),
    "3b": (24, 24, 32, 4, 8, 8),
    "4a": (32, 24, 48, 8, 16, 16),
}
STEM_FILTERS = 32
DROPOUT_RATE = 0.2


def build_mini_googlenet(input_shape, num_classes):
    """Mini GoogLeNet (student attempt)."""
    if len(tuple(input_shape)) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), received {input_shape!r}")
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(STEM_FILTERS, 3, padding="same", activation="relu", name="stem_conv")(inputs)
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = inception_module(x, *MINI_GOOGLENET["3a"], name="inception_3a")
    x = inception_module(x, *MINI_GOOGLENET["3b"], name="inception_3b")
    POOL_3
    x = inception_module(x, *MINI_GOOGLENET["4a"], name="inception_4a")
    HEAD
    x = layers.Dropout(DROPOUT_RATE, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mini_googlenet")
'''
_POOL_3 = 'x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool_3")(x)'
_GAP = 'x = layers.GlobalAveragePooling2D(name="avg_pool")(x)'

_TRAIN = '''
SEED = 0
NUM_EPOCHS = runtime.by_profile(fast=6, full=15)
BATCH_SIZE = runtime.by_profile(fast=32, full=128)
LEARNING_RATE = 3e-3
LABEL_SMOOTHING = 0.1

keras.utils.set_random_seed(SEED)
y_train_onehot = keras.utils.to_categorical(y_train, NUM_CLASSES)
y_test_onehot = keras.utils.to_categorical(y_test, NUM_CLASSES)
model = build_mini_googlenet((IMAGE_SIZE, IMAGE_SIZE, 1), NUM_CLASSES)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
              loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
              metrics=["accuracy"])
history = model.fit(x_train, TRAIN_TARGETS, batch_size=BATCH_SIZE, epochs=EPOCHS,
                    validation_data=(x_test, y_test_onehot), verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test_onehot, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
'''

MISTAKES = [
    # -- Exercise 7.1: conv1x1 ----------------------------------------------------------
    Mistake(
        name="1x1 convolution without the bias",
        solution_cell="conv1x1",
        code='''
def conv1x1(volume, kernel, bias):
    """1x1 convolution (student attempt)."""
    return np.asarray(volume) @ np.asarray(kernel)[0, 0]
''',
        failing_tests=("test_conv1x1", "test_conv1x1_hidden"),
        message="differ beyond the tolerance",
    ),
    Mistake(
        name="tensordot keeps the 1x1 axes of the kernel",
        solution_cell="conv1x1",
        code='''
def conv1x1(volume, kernel, bias):
    """1x1 convolution (student attempt)."""
    return np.tensordot(volume, kernel, axes=([3], [2])) + bias
''',
        failing_tests=("test_conv1x1", "test_conv1x1_hidden"),
        message="shape expected",
    ),
    # -- Exercise 7.2: costs ------------------------------------------------------------
    Mistake(
        name="convolution cost without the input channels",
        solution_cell="conv_multiplies",
        code='''
def conv_multiplies(height, width, in_channels, filters, kernel_size):
    """Multiplies (student attempt)."""
    if min(height, width, in_channels, filters, kernel_size) < 1:
        raise ValueError("all sizes must be positive")
    return height * width * filters * kernel_size * kernel_size
''',
        failing_tests=tuple(_CONV_COST),
        message="kernel_size*kernel_size*in_channels multiplies",
    ),
    Mistake(
        name="kernel size not squared",
        solution_cell="conv_multiplies",
        code='''
def conv_multiplies(height, width, in_channels, filters, kernel_size):
    """Multiplies (student attempt)."""
    if min(height, width, in_channels, filters, kernel_size) < 1:
        raise ValueError("all sizes must be positive")
    return height * width * filters * kernel_size * in_channels
''',
        failing_tests=tuple(_CONV_COST),
        message="kernel_size*kernel_size*in_channels multiplies",
    ),
    Mistake(
        name="1x1 reduction counted without its input channels",
        solution_cell="bottleneck_multiplies",
        code='''
def bottleneck_multiplies(height, width, in_channels, bottleneck_channels, filters, kernel_size):
    """Bottleneck cost (student attempt)."""
    reduce = height * width * bottleneck_channels
    return reduce + conv_multiplies(height, width, bottleneck_channels, filters, kernel_size)
''',
        failing_tests=("test_bottleneck_multiplies", "test_bottleneck_multiplies_hidden"),
        message="in_channels multiplies each",
    ),
    Mistake(
        name="bottleneck cost without the 1x1 layer",
        solution_cell="bottleneck_multiplies",
        code='''
def bottleneck_multiplies(height, width, in_channels, bottleneck_channels, filters, kernel_size):
    """Bottleneck cost (student attempt)."""
    return conv_multiplies(height, width, bottleneck_channels, filters, kernel_size)
''',
        failing_tests=("test_bottleneck_multiplies", "test_bottleneck_multiplies_hidden"),
        message="add the 1x1 layer",
    ),
    # -- Exercise 7.3: Inception module -------------------------------------------------
    Mistake(
        name="max pooling with the default strides (= pool size)",
        solution_cell="inception_module",
        code=_inception(pool_strides=""),
        failing_tests=_MODULE_CRASH,
        message="strides=1 in the pooling branch",
    ),
    Mistake(
        name="'valid' instead of 'same' padding in the 3x3 and 5x5 branches",
        solution_cell="inception_module",
        code=_inception(spatial_padding='"valid"'),
        failing_tests=_MODULE_CRASH,
        message="padding='same'",
    ),
    Mistake(
        name="pooling branch without the 1x1 projection",
        solution_cell="inception_module",
        code=_inception(projection="pass"),
        failing_tests=("test_inception_module", "test_inception_module_hidden",
                       "test_mini_googlenet", "test_mini_googlenet_hidden"),
        message="channels add up",
    ),
    Mistake(
        name="no ReLU after the 1x1 reductions",
        solution_cell="inception_module",
        code=_inception(reduce_activation=""),
        failing_tests=("test_inception_module", "test_inception_module_hidden"),
        message="followed by ReLU",
    ),
    Mistake(
        name="branches concatenated 1x1, 5x5, 3x3, pool (keras.applications' InceptionV3 order)",
        solution_cell="inception_module",
        code=_inception().replace("[branch_1x1, branch_3x3, branch_5x5, branch_pool]",
                                  "[branch_1x1, branch_5x5, branch_3x3, branch_pool]"),
        failing_tests=("test_inception_module", "test_inception_module_hidden"),
        message="reads the right inputs in another order",
    ),
    # -- Exercise 7.4: factorised convolutions ------------------------------------------
    Mistake(
        name="1 x n twice instead of 1 x n then n x 1",
        solution_cell="factorised_convs",
        code=_CONV_BN.replace("BODY", _GOOD_BODY).replace("SECOND_KERNEL", "(1, n)"),
        failing_tests=("test_factorised_convs", "test_factorised_convs_hidden"),
        # (the check's own words; "receptive field" matched only code shown in tracebacks)
        message="setting 'kernel_size' expected (7, 1), got (1, 7)",
    ),
    Mistake(
        name="convolution keeps its bias before batch normalisation",
        solution_cell="factorised_convs",
        code=_CONV_BN.replace("BODY", _GOOD_BODY.replace("use_bias=False", "use_bias=True"))
        .replace("SECOND_KERNEL", "(n, 1)"),
        failing_tests=("test_factorised_convs", "test_factorised_convs_hidden"),
        message="use_bias=False",
    ),
    Mistake(
        name="ReLU before batch normalisation",
        solution_cell="factorised_convs",
        code=_CONV_BN.replace("BODY", '''x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)''').replace("SECOND_KERNEL", "(n, 1)"),
        failing_tests=("test_factorised_convs", "test_factorised_convs_hidden"),
        message="expected a BatchNormalization layer",
    ),
    # -- Exercise 7.5: label smoothing --------------------------------------------------
    Mistake(
        name="epsilon spread over the K - 1 wrong classes only",
        solution_cell="label_smoothing",
        code='''
def smooth_labels(y_onehot, epsilon):
    """Smoothed targets (student attempt)."""
    if not 0 <= epsilon < 1:
        raise ValueError(f"epsilon must be in [0, 1), received {epsilon}")
    y_onehot = np.asarray(y_onehot, dtype=np.float64)
    num_classes = y_onehot.shape[-1]
    return (1 - epsilon) * y_onehot + (1 - y_onehot) * epsilon / (num_classes - 1)


def smoothed_cross_entropy(y_onehot, probabilities, epsilon):
    """Loss per example."""
    if np.shape(y_onehot) != np.shape(probabilities):
        raise ValueError("shapes differ")
    return -np.sum(smooth_labels(y_onehot, epsilon) * np.log(probabilities), axis=-1)
''',
        failing_tests=("test_label_smoothing", "test_label_smoothing_hidden"),
        message="spreads epsilon over all K classes",
    ),
    Mistake(
        name="true class not scaled by 1 - epsilon",
        solution_cell="label_smoothing",
        code='''
def smooth_labels(y_onehot, epsilon):
    """Smoothed targets (student attempt)."""
    if not 0 <= epsilon < 1:
        raise ValueError(f"epsilon must be in [0, 1), received {epsilon}")
    y_onehot = np.asarray(y_onehot, dtype=np.float64)
    return y_onehot + epsilon / y_onehot.shape[-1]


def smoothed_cross_entropy(y_onehot, probabilities, epsilon):
    """Loss per example."""
    if np.shape(y_onehot) != np.shape(probabilities):
        raise ValueError("shapes differ")
    return -np.sum(smooth_labels(y_onehot, epsilon) * np.log(probabilities), axis=-1)
''',
        failing_tests=("test_label_smoothing", "test_label_smoothing_hidden"),
        message="must sum to 1",
    ),
    # -- Exercise 7.6: mini GoogLeNet and its training ---------------------------------
    Mistake(
        name="Flatten head instead of global average pooling",
        solution_cell="mini_googlenet",
        code=_MINI.replace("POOL_3", _POOL_3).replace("HEAD", 'x = layers.Flatten(name="flatten")(x)'),
        failing_tests=("test_mini_googlenet", "test_mini_googlenet_hidden"),
        message="GlobalAveragePooling2D",
    ),
    Mistake(
        name="no pooling between 3b and 4a",
        solution_cell="mini_googlenet",
        code=_MINI.replace("POOL_3", "pass").replace("HEAD", _GAP),
        failing_tests=("test_mini_googlenet", "test_mini_googlenet_hidden"),
        message="pool_3",
    ),
    Mistake(
        name="one epoch instead of NUM_EPOCHS",
        solution_cell="train_mini_googlenet",
        code=_TRAIN.replace("TRAIN_TARGETS", "y_train_onehot").replace("EPOCHS,", "1,"),
        failing_tests=("test_train_mini_googlenet", "test_train_mini_googlenet_hidden"),
        message="below the floor",
    ),
    Mistake(
        name="integer labels with CategoricalCrossentropy",
        solution_cell="train_mini_googlenet",
        code=_TRAIN.replace("TRAIN_TARGETS", "y_train").replace("EPOCHS,", "NUM_EPOCHS,"),
        failing_tests=("test_train_mini_googlenet", "test_train_mini_googlenet_hidden"),
        message="training cell did not finish",
    ),
]
