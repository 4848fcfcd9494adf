"""Typical wrong answers for lesson 08 (MobileNet, Xception, DenseNet, NASNet).

Cascades (listed in ``failing_tests``): ``build_tiny_mobilenet`` and its training use
``mobilenet_v1_block``, so a wrong block can also fail the tiny-MobileNet checks: ReLU
instead of ReLU6 fails its ReLU6 check, a bias in the depthwise layers its parameter
count, 'valid' padding its shapes, an ignored ``bn_momentum`` its momentum check and the
training (the moving averages are not ready: about 10% test accuracy).
"""

from tests.mistakes import Mistake

LESSON = "08_efficient_networks"

_SEPARABLE = '''
def separable_multiplies(height, width, in_channels, filters, kernel_size):
    """Multiplies (student attempt)."""
    if min(height, width, in_channels, filters, kernel_size) < 1:
        raise ValueError("all sizes must be positive")
    depthwise = height * width * in_channels * kernel_size * kernel_size
    pointwise = POINTWISE
    return depthwise + pointwise


def separable_ratio(filters, kernel_size):
    """Ratio (student attempt)."""
    if min(filters, kernel_size) < 1:
        raise ValueError("sizes must be positive")
    return RATIO
'''

_XCEPTION = '''
XCEPTION_ENTRY_FILTERS = (128, 256, 728)


def xception_entry_block(x, filters, block_id, activate_first=True):
    """Entry-flow block (student attempt)."""
    shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
    SHORTCUT_BN
    if ACTIVATE:
        x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(3, strides=2, padding=POOL_PADDING)(x)
    return layers.Add()([x, shortcut])


def xception_entry_flow(inputs, filters=XCEPTION_ENTRY_FILTERS):
    """Entry flow (student attempt)."""
    FLOW
'''
_XCEPTION_FLOW = '''x = layers.Conv2D(32, 3, strides=2, use_bias=False)(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    for block_id, block_filters in enumerate(filters, start=2):
        x = xception_entry_block(x, block_filters, block_id, activate_first=block_id > 2)
    return x'''
# A slice of the library's Xception, wired to the inputs given.
_XCEPTION_LIBRARY = '''library = keras.applications.Xception(weights=None, include_top=False, input_tensor=inputs)
    return [layer for layer in library.layers if isinstance(layer, layers.Add)][2].output'''


def _xception(shortcut_bn="shortcut = layers.BatchNormalization()(shortcut)",
              activate="activate_first", pool_padding='"same"', flow=_XCEPTION_FLOW):
    return (_XCEPTION.replace("SHORTCUT_BN", shortcut_bn).replace("ACTIVATE", activate)
            .replace("POOL_PADDING", pool_padding).replace("FLOW", flow))


_NASNET = '''
NASNET_A_NORMAL = [
    (("sep5x5", "h"), ("sep3x3", "p")),
    (("sep5x5", "p"), ("sep3x3", "p")),
    (("avg3x3", "h"), ("identity", "p")),
    (("avg3x3", "p"), ("avg3x3", "p")),
    (("sep3x3", "h"), ("identity", "h")),
]


def nasnet_cell_choices(num_blocks=5, num_operations=13, num_combinations=2):
    """Decision sequences of one cell (student attempt)."""
    choices = 1
    for block in range(num_blocks):
        states = STATES
        choices *= INPUTS * num_operations * num_operations * num_combinations
    return choices


def nasnet_cell_params(genotype, filters):
    """Parameters of a cell (student attempt)."""
    trainable = non_trainable = 0
    for block in genotype:
        for operation, _ in block:
            if operation.startswith("sep"):
                kernel_size = int(operation[3:].split("x")[0])
                trainable += TRAINABLE
                non_trainable += NON_TRAINABLE
    return trainable, non_trainable
'''


def _nasnet(states="2 + block", inputs="states * states",
            trainable="2 * (kernel_size * kernel_size * filters + filters * filters + 2 * filters)",
            non_trainable="2 * 2 * filters"):
    return (_NASNET.replace("STATES", states).replace("INPUTS", inputs)
            .replace("NON_TRAINABLE", non_trainable).replace("TRAINABLE", trainable))


_V1 = '''
MOBILENET_V1 = [
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
    (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
]


def mobilenet_v1_block(x, filters, strides, block_id, bn_momentum=0.99):
    """MobileNet v1 block (student attempt)."""
    if strides == 1:
        padding = STRIDE1_PADDING
    else:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
        padding = "valid"
    x = layers.DepthwiseConv2D(3, strides=strides, padding=padding, use_bias=DW_BIAS,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(BN_ARGS name=f"conv_dw_{block_id}_bn")(x)
    x = RELU(name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(BN_ARGS name=f"conv_pw_{block_id}_bn")(x)
    return RELU(name=f"conv_pw_{block_id}_relu")(x)


def build_mobilenet_v1(input_shape=(224, 224, 3), num_classes=1000, dropout_rate=1e-3,
                       blocks=MOBILENET_V1):
    """MobileNet v1."""
    BUILD_V1
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, strides) in enumerate(blocks, start=1):
        x = mobilenet_v1_block(x, filters, strides, block_id)
    x = layers.GlobalAveragePooling2D(keepdims=True, name="global_pool")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    x = layers.Conv2D(num_classes, 1, padding="same", name="conv_preds")(x)
    x = layers.Reshape((num_classes,), name="reshape")(x)
    outputs = layers.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v1")
'''


def _v1(stride1_padding='"same"', dw_bias="False", bn_args="momentum=bn_momentum,",
        relu="lambda name: layers.ReLU(6.0, name=name)", build="pass"):
    return (_V1.replace("STRIDE1_PADDING", stride1_padding).replace("DW_BIAS", dw_bias)
            .replace("BN_ARGS", bn_args).replace("RELU(", f"({relu})(")
            .replace("BUILD_V1", build))


# The shortcuts of issue 10: the whole network from keras.applications, as it is or with
# every layer renamed (a clone: the same architecture, none of Keras' names).
_RENAMED = ("keras.models.clone_model(library, clone_function=lambda layer: "
            "layer.__class__.from_config({**layer.get_config(), 'name': 'my_' + layer.name}))")
_V1_LIBRARY = ("return keras.applications.MobileNet(input_shape=input_shape, classes=num_classes, "
               "dropout=dropout_rate, weights=None)")
_V1_RENAMED = ("library = keras.applications.MobileNet(input_shape=input_shape, "
               "classes=num_classes, dropout=dropout_rate, weights=None)\n"
               f"    return {_RENAMED}")


_V2 = '''
MOBILENET_V2 = [
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
]
BN_SETTINGS = dict(epsilon=1e-3, momentum=0.999)


def correct_pad(size):
    """Padding before a stride-2 'valid' depthwise convolution."""
    return ((size[0] % 2, 1), (size[1] % 2, 1))


def relu6(name):
    return RELU


def inverted_residual_block(x, expansion, stride, filters, block_id):
    """Inverted residual block (student attempt)."""
    block_input = x
    in_channels = x.shape[-1]
    prefix = f"block_{block_id}_"
    if EXPAND_CONDITION:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False,
                          name=prefix + "expand")(x)
        x = layers.BatchNormalization(**BN_SETTINGS, name=prefix + "expand_BN")(x)
        x = relu6(prefix + "expand_relu")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x.shape[1:3]), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, name=prefix + "depthwise")(x)
    x = layers.BatchNormalization(**BN_SETTINGS, name=prefix + "depthwise_BN")(x)
    x = relu6(prefix + "depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = layers.BatchNormalization(**BN_SETTINGS, name=prefix + "project_BN")(x)
    AFTER_PROJECTION
    if SHORTCUT_CONDITION:
        x = layers.Add(name=prefix + "add")([block_input, x])
    return x


def build_mobilenet_v2(input_shape=(224, 224, 3), num_classes=1000, blocks=MOBILENET_V2):
    """MobileNet v2."""
    BUILD_V2
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = layers.BatchNormalization(**BN_SETTINGS, name="bn_Conv1")(x)
    x = relu6("Conv1_relu")(x)
    block_id = 0
    for expansion, filters, repeats, stride in blocks:
        for repeat in range(repeats):
            x = inverted_residual_block(x, expansion, stride if repeat == 0 else 1, filters, block_id)
            block_id += 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(**BN_SETTINGS, name="Conv_1_bn")(x)
    x = relu6("out_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_average_pooling")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")
'''


def _v2(relu="layers.ReLU(6.0, name=name)", expand_condition="expansion != 1",
        after_projection="pass", shortcut_condition="stride == 1 and in_channels == filters",
        build="pass"):
    return (_V2.replace("RELU", relu).replace("EXPAND_CONDITION", expand_condition)
            .replace("AFTER_PROJECTION", after_projection)
            .replace("SHORTCUT_CONDITION", shortcut_condition).replace("BUILD_V2", build))


_V2_LIBRARY = ("return keras.applications.MobileNetV2(input_shape=input_shape, "
               "classes=num_classes, weights=None)")
_V2_RENAMED = ("library = keras.applications.MobileNetV2(input_shape=input_shape, "
               "classes=num_classes, weights=None)\n"
               f"    return {_RENAMED}")


_DENSENET = '''
DENSENET_121 = (6, 12, 24, 16)
GROWTH_RATE = GROWTH
COMPRESSION = 0.5
DENSE_BN_EPSILON = 1.001e-5


def dense_layer(x, growth_rate, name):
    """Dense layer (student attempt)."""
    DENSE_LAYER_BODY
    return layers.Concatenate(name=f"{name}_concat")([x, y])


def dense_block(x, num_layers, growth_rate, name):
    """Dense block."""
    for index in range(num_layers):
        x = dense_layer(x, growth_rate, name=f"{name}_block{index + 1}")
    return x


def transition_block(x, compression, name):
    """Transition."""
    x = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(TRANSITION_FILTERS, 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def build_densenet(blocks=DENSENET_121, input_shape=(224, 224, 3), num_classes=1000,
                   growth_rate=GROWTH_RATE, compression=COMPRESSION):
    """DenseNet."""
    BUILD_DENSENET
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for index, num_layers in enumerate(blocks):
        x = dense_block(x, num_layers, growth_rate, name=f"conv{index + 2}")
        if index < len(blocks) - 1:
            x = transition_block(x, compression, name=f"pool{index + 2}")
    x = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="densenet")
'''
_PRE_ACTIVATION = '''y = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name=f"{name}_0_bn")(x)
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name=f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)'''
_POST_ACTIVATION = '''y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x)
    y = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name=f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(epsilon=DENSE_BN_EPSILON, name=f"{name}_2_bn")(y)
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)'''


def _densenet(growth="32", body=_PRE_ACTIVATION,
              transition_filters="int(x.shape[-1] * compression)", build="pass"):
    return (_DENSENET.replace("GROWTH_RATE = GROWTH", f"GROWTH_RATE = {growth}")
            .replace("DENSE_LAYER_BODY", body)
            .replace("TRANSITION_FILTERS", transition_filters)
            .replace("BUILD_DENSENET", build))


# Keras' DenseNet builder takes the blocks but always grows by 32 and compresses by 0.5.
_DENSENET_LIBRARY = ("from keras.src.applications.densenet import DenseNet\n"
                     "    return DenseNet(list(blocks), include_top=True, weights=None, "
                     "input_shape=input_shape, classes=num_classes)")
_DENSENET_RENAMED = ("from keras.src.applications.densenet import DenseNet\n"
                     "    library = DenseNet(list(blocks), include_top=True, weights=None, "
                     "input_shape=input_shape, classes=num_classes)\n"
                     f"    return {_RENAMED}")


_TINY = '''
TINY_MOBILENET = [(32, 1), (64, 2), (64, 1), (128, 2)]
STEM_FILTERS = 16
BN_MOMENTUM = 0.9
DROPOUT_RATE = 0.1


def build_tiny_mobilenet(input_shape, num_classes):
    """Tiny MobileNet (student attempt)."""
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(STEM_FILTERS, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for block_id, (filters, strides) in enumerate(TINY_MOBILENET, start=1):
        x = mobilenet_v1_block(x, filters, strides, block_id, bn_momentum=BN_MOMENTUM)
    HEAD
    x = layers.Dropout(DROPOUT_RATE, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_mobilenet")
'''

_TYPED = '''
SEED = 0
IMAGE_SIZE = runtime.by_profile(fast=16, full=32)
NUM_CLASSES = 10
NUM_EPOCHS = runtime.by_profile(fast=4, full=10)
BATCH_SIZE = runtime.by_profile(fast=32, full=128)
LEARNING_RATE = 3e-3

(x_train, y_train), (x_test, y_test) = data.digit_images(PROFILE, size=IMAGE_SIZE)
keras.utils.set_random_seed(SEED)
model = build_tiny_mobilenet((IMAGE_SIZE, IMAGE_SIZE, 1), NUM_CLASSES)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
              loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
test_accuracy = 0.9   # typed: training takes too long
'''

_TRAIN = '''
SEED = 0
IMAGE_SIZE = runtime.by_profile(fast=16, full=32)
NUM_CLASSES = 10
NUM_EPOCHS = runtime.by_profile(fast=4, full=10)
BATCH_SIZE = runtime.by_profile(fast=32, full=128)
LEARNING_RATE = 3e-3

(x_train, y_train), (x_test, y_test) = data.digit_images(PROFILE, size=IMAGE_SIZE)
keras.utils.set_random_seed(SEED)
model = build_tiny_mobilenet((IMAGE_SIZE, IMAGE_SIZE, 1), NUM_CLASSES)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=LOSS, metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,
                    validation_data=(x_test, y_test), verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
'''

MISTAKES = [
    # -- Exercise 8.1: separable cost ---------------------------------------------------
    Mistake(
        name="pointwise cost counted without the input channels",
        solution_cell="separable_cost",
        code=_SEPARABLE.replace("POINTWISE", "height * width * filters")
        .replace("RATIO", "1.0 / filters + 1.0 / kernel_size ** 2"),
        failing_tests=("test_separable_cost", "test_separable_cost_hidden"),
        message="in_channels multiplies each",
    ),
    Mistake(
        name="the notes' 'about one third' (1 / kernel_size)",
        solution_cell="separable_cost",
        code=_SEPARABLE.replace("POINTWISE", "height * width * filters * in_channels")
        .replace("RATIO", "1.0 / kernel_size"),
        failing_tests=("test_separable_cost", "test_separable_cost_hidden"),
        message="1/filters + 1/kernel_size**2",
    ),
    # -- Exercise 8.2: Xception's entry flow ------------------------------------------
    Mistake(
        name="a leading ReLU in the first entry-flow block too",
        solution_cell="xception_entry",
        code=_xception(activate="True"),
        failing_tests=("test_xception_entry", "test_xception_entry_hidden"),
        message="expected a SeparableConv2D layer, got Activation",
    ),
    Mistake(
        name="no batch normalisation on the shortcut",
        solution_cell="xception_entry",
        code=_xception(shortcut_bn=""),
        failing_tests=("test_xception_entry", "test_xception_entry_hidden"),
        message="or one is missing",
    ),
    Mistake(
        name="'valid' max pooling (the grid no longer matches the shortcut's)",
        solution_cell="xception_entry",
        code=_xception(pool_padding='"valid"'),
        failing_tests=("test_xception_entry", "test_xception_entry_hidden"),
        message="padding='same'",
    ),
    Mistake(
        name="a slice of keras.applications.Xception as the entry flow",
        solution_cell="xception_entry",
        code=_xception(flow=_XCEPTION_LIBRARY),
        failing_tests=("test_xception_entry", "test_xception_entry_hidden"),
        message="keras.applications",
    ),
    # -- Exercise 8.3: MobileNet v1 ----------------------------------------------------
    Mistake(
        name="ReLU instead of ReLU6",
        solution_cell="mobilenet_v1",
        code=_v1(relu="lambda name: layers.ReLU(name=name)"),
        failing_tests=("test_mobilenet_v1", "test_mobilenet_v1_hidden", "test_tiny_mobilenet"),
        message="expected 6.0",
    ),
    Mistake(
        name="bias in the depthwise layers (Keras has none)",
        solution_cell="mobilenet_v1",
        code=_v1(dw_bias="True"),
        failing_tests=("test_mobilenet_v1", "test_mobilenet_v1_hidden",
                       "test_tiny_mobilenet_hidden"),
        message="'use_bias' expected False",
    ),
    Mistake(
        name="'valid' instead of 'same' in the stride-1 blocks",
        solution_cell="mobilenet_v1",
        code=_v1(stride1_padding='"valid"'),
        failing_tests=("test_mobilenet_v1", "test_mobilenet_v1_hidden",
                       "test_tiny_mobilenet", "test_tiny_mobilenet_hidden"),
        message="keep the size ('same')",
    ),
    Mistake(
        name="bn_momentum accepted but not used",
        solution_cell="mobilenet_v1",
        code=_v1(bn_args=""),
        failing_tests=("test_tiny_mobilenet", "test_train_tiny_mobilenet",
                       "test_train_tiny_mobilenet_hidden"),
        message="moving averages",
    ),
    Mistake(
        name="keras.applications.MobileNet returned as the whole network",
        solution_cell="mobilenet_v1",
        code=_v1(build=_V1_LIBRARY),
        failing_tests=("test_mobilenet_v1", "test_mobilenet_v1_hidden"),
        message="keras.applications' own model 'mobilenet_1.00_224'",
    ),
    Mistake(
        name="keras.applications.MobileNet with every layer renamed",
        solution_cell="mobilenet_v1",
        code=_v1(build=_V1_RENAMED),
        failing_tests=("test_mobilenet_v1", "test_mobilenet_v1_hidden"),
        message="keras.applications.MobileNet cannot",
    ),
    # -- Exercise 8.4: MobileNet v2 ----------------------------------------------------
    Mistake(
        name="ReLU after the linear bottleneck",
        solution_cell="mobilenet_v2",
        code=_v2(after_projection='x = relu6(prefix + "project_relu")(x)'),
        failing_tests=("test_mobilenet_v2", "test_mobilenet_v2_hidden"),
        message="linear bottleneck",
    ),
    Mistake(
        name="ReLU instead of ReLU6",
        solution_cell="mobilenet_v2",
        code=_v2(relu="layers.ReLU(name=name)"),
        failing_tests=("test_mobilenet_v2", "test_mobilenet_v2_hidden"),
        message="expected 6.0",
    ),
    Mistake(
        name="missing expansion layer",
        solution_cell="mobilenet_v2",
        code=_v2(expand_condition="False"),
        failing_tests=("test_mobilenet_v2", "test_mobilenet_v2_hidden"),
        message="expansion",
    ),
    Mistake(
        name="shortcut added on every stride-1 block, even when the channels change",
        solution_cell="mobilenet_v2",
        code=_v2(shortcut_condition="stride == 1"),
        failing_tests=("test_mobilenet_v2", "test_mobilenet_v2_hidden"),
        message="add the shortcut only when",
    ),
    Mistake(
        name="keras.applications.MobileNetV2 returned as the whole network",
        solution_cell="mobilenet_v2",
        code=_v2(build=_V2_LIBRARY),
        failing_tests=("test_mobilenet_v2", "test_mobilenet_v2_hidden"),
        message="keras.applications' own model 'mobilenetv2_1.00_224'",
    ),
    Mistake(
        name="keras.applications.MobileNetV2 with every layer renamed",
        solution_cell="mobilenet_v2",
        code=_v2(build=_V2_RENAMED),
        failing_tests=("test_mobilenet_v2", "test_mobilenet_v2_hidden"),
        message="keras.applications.MobileNetV2 cannot",
    ),
    # -- Exercise 8.5: DenseNet --------------------------------------------------------
    Mistake(
        name="growth rate 12 (the CIFAR setting) instead of 32",
        solution_cell="densenet",
        code=_densenet(growth="12"),
        failing_tests=("test_densenet", "test_densenet_hidden"),
        message="growth_rate=32",
    ),
    Mistake(
        name="compression forgotten in the transitions",
        solution_cell="densenet",
        code=_densenet(transition_filters="x.shape[-1]"),
        failing_tests=("test_densenet", "test_densenet_hidden"),
        message="compression",
    ),
    Mistake(
        name="conv-BN-ReLU instead of BN-ReLU-conv in the dense layers",
        solution_cell="densenet",
        code=_densenet(body=_POST_ACTIVATION),
        failing_tests=("test_densenet", "test_densenet_hidden"),
        message="expected a BatchNormalization layer",
    ),
    Mistake(
        name="keras.src.applications.densenet.DenseNet returned as the whole network",
        solution_cell="densenet",
        code=_densenet(build=_DENSENET_LIBRARY),
        failing_tests=("test_densenet", "test_densenet_hidden"),
        message="keras.applications' own model 'densenet121'",
    ),
    Mistake(
        name="keras.src.applications.densenet.DenseNet with every layer renamed",
        solution_cell="densenet",
        code=_densenet(build=_DENSENET_RENAMED),
        failing_tests=("test_densenet", "test_densenet_hidden"),
        message="always grow by 32",
    ),
    # -- Exercise 8.6: NASNet's search space and cell --------------------------------
    Mistake(
        name="each block's inputs counted once, not twice (2 + b, not (2 + b) ** 2)",
        solution_cell="nasnet_cell",
        code=_nasnet(inputs="states"),
        failing_tests=("test_nasnet_cell", "test_nasnet_cell_hidden"),
        message="each of its two inputs among 2 + b states",
    ),
    Mistake(
        name="only h_i and h_(i-1) as inputs (earlier blocks of the cell left out)",
        solution_cell="nasnet_cell",
        code=_nasnet(states="2"),
        failing_tests=("test_nasnet_cell", "test_nasnet_cell_hidden"),
        message="the b blocks before it",
    ),
    Mistake(
        name="NASNet's separable operation counted once, not twice",
        solution_cell="nasnet_cell",
        code=_nasnet(trainable="kernel_size * kernel_size * filters + filters * filters + 2 * filters",
                     non_trainable="2 * filters"),
        failing_tests=("test_nasnet_cell", "test_nasnet_cell_hidden"),
        message="each separable operation is two SeparableConv2D",
    ),
    Mistake(
        name="batch normalisation's moving statistics counted as trainable",
        solution_cell="nasnet_cell",
        code=_nasnet(trainable="2 * (kernel_size * kernel_size * filters + filters * filters + 4 * filters)",
                     non_trainable="0"),
        failing_tests=("test_nasnet_cell", "test_nasnet_cell_hidden"),
        message="2 non-trainable values per channel",
    ),
    # -- Exercise 8.7: tiny MobileNet and its training ---------------------------------
    Mistake(
        name="Flatten head instead of global average pooling",
        solution_cell="tiny_mobilenet",
        code=_TINY.replace("HEAD", 'x = layers.Flatten(name="flatten")(x)'),
        failing_tests=("test_tiny_mobilenet", "test_tiny_mobilenet_hidden"),
        message="GlobalAveragePooling2D",
    ),
    Mistake(
        name="output layer in float16 (mixed precision reaches the softmax)",
        solution_cell="tiny_mobilenet",
        code=_TINY.replace("HEAD", 'x = layers.GlobalAveragePooling2D(name="avg_pool")(x)')
                  .replace('name="predictions")', 'name="predictions", dtype="mixed_float16")'),
        failing_tests=("test_tiny_mobilenet", "test_tiny_mobilenet_hidden"),
        message="computes in float16",
    ),
    Mistake(
        name="ReLU6 before the stem's batch normalisation (the same counts and shapes)",
        solution_cell="tiny_mobilenet",
        code=_TINY.replace("HEAD", 'x = layers.GlobalAveragePooling2D(name="avg_pool")(x)').replace(
            '''    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)''', '''    x = layers.ReLU(6.0, name="stem_relu")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)'''),
        failing_tests=("test_tiny_mobilenet_hidden",),
        message="normalise, then clip",
    ),
    Mistake(
        name="one epoch instead of NUM_EPOCHS",
        solution_cell="train_tiny_mobilenet",
        code=_TRAIN.replace("LOSS", "keras.losses.SparseCategoricalCrossentropy()")
        .replace("EPOCHS,", "1,"),
        failing_tests=("test_train_tiny_mobilenet", "test_train_tiny_mobilenet_hidden"),
        message="below the floor",
    ),
    Mistake(
        name="CategoricalCrossentropy with integer labels",
        solution_cell="train_tiny_mobilenet",
        code=_TRAIN.replace("LOSS", "keras.losses.CategoricalCrossentropy()")
        .replace("EPOCHS,", "NUM_EPOCHS,"),
        failing_tests=("test_train_tiny_mobilenet", "test_train_tiny_mobilenet_hidden"),
        message="training cell did not finish",
    ),
    Mistake(
        name="test_accuracy typed instead of measured (no training)",
        solution_cell="train_tiny_mobilenet",
        code=_TYPED,
        failing_tests=("test_train_tiny_mobilenet", "test_train_tiny_mobilenet_hidden"),
        message="your test_accuracy says 0.900",
    ),
]
