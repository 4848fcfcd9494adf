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
    Mistake(
        name="no check of the volume's channels (NumPy's matmul error names neither shape)",
        solution_cell="conv1x1",
        code='''
def conv1x1(volume, kernel, bias):
    """1x1 convolution (student attempt)."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[:2] != (1, 1):
        raise ValueError(f"kernel must have shape (1, 1, channels, filters), received {kernel.shape}")
    return np.asarray(volume) @ kernel[0, 0] + np.asarray(bias)
''',
        failing_tests=("test_conv1x1_hidden",),
        message="should say what it received",
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
        name="pool_3 with a 2x2 window (the same shapes and parameters)",
        solution_cell="mini_googlenet",
        code=_MINI.replace("POOL_3", _POOL_3.replace("MaxPooling2D(3,", "MaxPooling2D(2,")).replace("HEAD", _GAP),
        failing_tests=("test_mini_googlenet_hidden",),
        message="overlapping 3x3",
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


# -- Exercises 7.7-7.9: Inception v4 and Inception-ResNet --------------------------------
_BASIC_CONV = '''
def basic_conv(x, filters, kernel_size, strides=1, padding="same", name="conv"):
    """Conv, BN without gamma, ReLU (student attempt)."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(scale=False, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)
'''
_STEM = _BASIC_CONV + '''

def inception_v4_stem(x, name="stem"):
    """Inception-v4's stem (student attempt)."""
    x = basic_conv(x, 32, 3, strides=2, padding=FIRST_PADDING, name=f"{name}_1")
    x = basic_conv(x, 32, 3, padding="valid", name=f"{name}_2")
    x = basic_conv(x, 64, 3, name=f"{name}_3")
    pool = layers.MaxPooling2D(3, strides=2, padding=POOL_PADDING, name=f"{name}_4_pool")(x)
    conv = basic_conv(x, 96, 3, strides=2, padding="valid", name=f"{name}_4_3x3")
    x = layers.Concatenate(name=f"{name}_4_concat")([pool, conv])
    left = basic_conv(x, 64, 1, name=f"{name}_5a_1x1")
    left = basic_conv(left, 96, 3, padding="valid", name=f"{name}_5a_3x3")
    right = basic_conv(x, 64, 1, name=f"{name}_5b_1x1")
    right = basic_conv(right, 64, (1, 7), name=f"{name}_5b_1x7")
    right = basic_conv(right, 64, (7, 1), name=f"{name}_5b_7x1")
    right = basic_conv(right, 96, 3, padding="valid", name=f"{name}_5b_3x3")
    x = layers.Concatenate(name=f"{name}_5_concat")([left, right])
    conv = basic_conv(x, 192, 3, strides=2, padding="valid", name=f"{name}_6_3x3")
    pool = layers.MaxPooling2D(3, strides=2, padding="valid", name=f"{name}_6_pool")(x)
    return layers.Concatenate(name=f"{name}_6_concat")(LAST_ORDER)
'''


def _stem(first_padding='"valid"', pool_padding='"valid"', last_order="[conv, pool]"):
    return (_STEM.replace("FIRST_PADDING", first_padding).replace("POOL_PADDING", pool_padding)
            .replace("LAST_ORDER", last_order))


_V4_A = '''
def inception_v4_a(x, name="inception_a"):
    """Inception-A (student attempt)."""
    branch_0 = basic_conv(x, 96, 1, name=f"{name}_b0_1x1")
    branch_1 = basic_conv(x, 64, 1, name=f"{name}_b1_1x1")
    branch_1 = basic_conv(branch_1, 96, 3, name=f"{name}_b1_3x3")
    branch_2 = basic_conv(x, 64, 1, name=f"{name}_b2_1x1")
    branch_2 = basic_conv(branch_2, 96, 3, name=f"{name}_b2_3x3a")
    branch_2 = basic_conv(branch_2, 96, 3, name=f"{name}_b2_3x3b")
    branch_3 = layers.POOLING(3, strides=1, padding="same", name=f"{name}_b3_pool")(x)
    branch_3 = basic_conv(branch_3, 96, 1, name=f"{name}_b3_1x1")
    return layers.Concatenate(name=f"{name}_concat")(ORDER)
'''


def _v4_a(pooling="AveragePooling2D", order="[branch_0, branch_1, branch_2, branch_3]"):
    return _V4_A.replace("POOLING", pooling).replace("ORDER", order)


_RESNET_A = '''
def inception_resnet_a(x, scale, name="block35"):
    """Inception-ResNet-A (student attempt)."""
    branch_0 = basic_conv(x, 32, 1, name=f"{name}_b0_1x1")
    branch_1 = basic_conv(x, 32, 1, name=f"{name}_b1_1x1")
    branch_1 = basic_conv(branch_1, 32, 3, name=f"{name}_b1_3x3")
    branch_2 = basic_conv(x, 32, 1, name=f"{name}_b2_1x1")
    branch_2 = basic_conv(branch_2, 48, 3, name=f"{name}_b2_3x3a")
    branch_2 = basic_conv(branch_2, 64, 3, name=f"{name}_b2_3x3b")
    mixed = layers.Concatenate(name=f"{name}_concat")([branch_0, branch_1, branch_2])
    TAIL
'''
_RESIDUAL_TAIL = '''residual = PROJECTION
    residual = layers.Rescaling(SCALE, name=f"{name}_scale")(residual)
    x = layers.Add(name=f"{name}_add")([x, residual])
    return layers.Activation("relu", name=f"{name}_relu")(x)'''
_PROJECTION_OK = 'layers.Conv2D(x.shape[-1], 1, use_bias=True, name=f"{name}_up")(mixed)'


def _resnet_a(tail=None, projection=_PROJECTION_OK, scale="scale"):
    tail = _RESIDUAL_TAIL if tail is None else tail
    return _RESNET_A.replace("TAIL", tail.replace("PROJECTION", projection)
                             .replace("SCALE", scale))


_RESNET_A_TESTS = ("test_inception_resnet_a", "test_inception_resnet_a_hidden")

MISTAKES += [
    # -- Exercise 7.7: Inception-v4's stem ----------------------------------------------
    Mistake(
        name="'same' instead of 'valid' in the stem's first stride-2 convolution",
        solution_cell="inception_v4_stem",
        code=_stem(first_padding='"same"'),
        failing_tests=("test_inception_v4_stem", "test_inception_v4_stem_hidden"),
        message="padding expected 'valid', got 'same'",
    ),
    Mistake(
        name="'same' max pooling in the stem's first split (74x74 beside 73x73)",
        solution_cell="inception_v4_stem",
        code=_stem(pool_padding='"same"'),
        failing_tests=("test_inception_v4_stem", "test_inception_v4_stem_hidden"),
        message="the two sides of a concatenation must have the same height and width",
    ),
    Mistake(
        name="last stem concatenation in the order pool, conv",
        solution_cell="inception_v4_stem",
        code=_stem(last_order="[pool, conv]"),
        failing_tests=("test_inception_v4_stem", "test_inception_v4_stem_hidden"),
        message="reads the right inputs in another order",
    ),
    # -- Exercise 7.8: Inception-A ------------------------------------------------------
    Mistake(
        name="pooling branch first in the Inception-A concatenation",
        solution_cell="inception_v4_a",
        code=_v4_a(order="[branch_3, branch_0, branch_1, branch_2]"),
        failing_tests=("test_inception_v4_a", "test_inception_v4_a_hidden"),
        message="reads the right inputs in another order",
    ),
    Mistake(
        name="max pooling instead of average pooling in Inception-A",
        solution_cell="inception_v4_a",
        code=_v4_a(pooling="MaxPooling2D"),
        failing_tests=("test_inception_v4_a", "test_inception_v4_a_hidden"),
        message="expected a AveragePooling2D here",
    ),
    # -- Exercise 7.9: Inception-ResNet-A -------------------------------------------------
    Mistake(
        name="residual added without the scale",
        solution_cell="inception_resnet_a",
        code=_resnet_a(tail='''residual = layers.Conv2D(x.shape[-1], 1, use_bias=True, name=f"{name}_up")(mixed)
    x = layers.Add(name=f"{name}_add")([x, residual])
    return layers.Activation("relu", name=f"{name}_relu")(x)'''),
        failing_tests=_RESNET_A_TESTS,
        message="layers.Rescaling(scale) between the projection and the Add",
    ),
    Mistake(
        name="scale typed as Keras' 0.17 instead of the argument",
        solution_cell="inception_resnet_a",
        code=_resnet_a(scale="0.17"),
        failing_tests=("test_inception_resnet_a_hidden",),
        message="scale expected 0.1, got 0.17",
    ),
    Mistake(
        name="residual added before the 1x1 projection",
        solution_cell="inception_resnet_a",
        code=_resnet_a(tail='''residual = layers.Rescaling(scale, name=f"{name}_scale")(mixed)
    x = layers.Add(name=f"{name}_add")([x, residual])
    x = layers.Conv2D(x.shape[-1], 1, use_bias=True, name=f"{name}_up")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)'''),
        failing_tests=_RESNET_A_TESTS,
        message="the addition comes after the projection",
    ),
    Mistake(
        name="projection to Inception-v4's 384 channels instead of the input's",
        solution_cell="inception_resnet_a",
        code=_resnet_a(projection='layers.Conv2D(384, 1, use_bias=True, name=f"{name}_up")(mixed)'),
        failing_tests=_RESNET_A_TESTS,
        message="as many filters as the block's input has channels",
    ),
    Mistake(
        name="projection with batch normalisation and ReLU (a basic_conv)",
        solution_cell="inception_resnet_a",
        code=_resnet_a(projection='basic_conv(mixed, x.shape[-1], 1, name=f"{name}_up")'),
        failing_tests=_RESNET_A_TESTS,
        message="projection is linear",
    ),
    Mistake(
        name="ReLU on the residual before the addition instead of after it",
        solution_cell="inception_resnet_a",
        code=_resnet_a(tail='''residual = PROJECTION
    residual = layers.Rescaling(scale, name=f"{name}_scale")(residual)
    residual = layers.Activation("relu", name=f"{name}_relu")(residual)
    return layers.Add(name=f"{name}_add")([x, residual])'''),
        failing_tests=_RESNET_A_TESTS,
        message="ReLU after the Add",
    ),
    Mistake(
        name="keras.applications' own Inception-ResNet block returned",
        solution_cell="inception_resnet_a",
        code='''
def inception_resnet_a(x, scale, name="block35"):
    """Inception-ResNet-A (student attempt): the library's block."""
    from keras.src.applications.inception_resnet_v2 import inception_resnet_block
    return inception_resnet_block(x, scale, "block35", 0)
''',
        failing_tests=_RESNET_A_TESTS,
        message="keras.applications' own Inception-ResNet block",
    ),
]
