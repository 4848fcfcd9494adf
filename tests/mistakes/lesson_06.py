"""Typical wrong answers for lesson 06 (residual networks).

Cascades (natural, listed in ``failing_tests``): ``resnet18``/``resnet34`` of Exercise 6.3
are built from ``basic_block`` of Exercise 6.2, so a basic block that cannot be built or has
the wrong parameters also fails the ResNet-18/34 checks. Mistakes that keep the names, shapes
and parameter counts of the block (a misplaced ReLU or stride) fail only the block checks.
"""

from tests.mistakes import Mistake

LESSON = "06_residual_networks"

_BASIC_BLOCK_HEAD = '''
def basic_block(x, filters, stride=1, name="block"):
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, received {stride!r}")
'''

_PROJECTION = '''
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
'''

_RESNET_WRAPPERS = '''

def resnet18(input_shape=(224, 224, 3), num_classes=1000):
    return resnet((2, 2, 2, 2), input_shape, num_classes, name="resnet18")


def resnet34(input_shape=(224, 224, 3), num_classes=1000):
    return resnet((3, 4, 6, 3), input_shape, num_classes, name="resnet34")
'''


def _resnet_basic(first_stride_rule: str) -> str:
    return '''
STAGE_FILTERS = (64, 128, 256, 512)


def resnet(blocks_per_stage, input_shape=(224, 224, 3), num_classes=1000, name="resnet"):
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, num_blocks) in enumerate(zip(STAGE_FILTERS, blocks_per_stage),
                                                  start=2):
        for block in range(1, num_blocks + 1):
            stride = ''' + first_stride_rule + '''
            x = basic_block(x, filters, stride=stride, name=f"conv{stage}_block{block}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
'''


def _resnet50(shortcut_first: bool = True, stride_on: str = "1", epsilon: str = "BN_EPSILON",
              padding_3x3: str = "same") -> str:
    add = "[shortcut, x]" if shortcut_first else "[x, shortcut]"
    stride_1 = "stride" if stride_on == "1" else "1"
    stride_2 = "stride" if stride_on == "2" else "1"
    return f'''
RESNET50_STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))


def bottleneck_block(x, filters, stride=1, conv_shortcut=True, name="block"):
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{{name}}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon={epsilon}, name=f"{{name}}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides={stride_1}, name=f"{{name}}_1_conv")(x)
    x = layers.BatchNormalization(epsilon={epsilon}, name=f"{{name}}_1_bn")(x)
    x = layers.Activation("relu", name=f"{{name}}_1_relu")(x)
    x = layers.Conv2D(filters, 3, strides={stride_2}, padding="{padding_3x3}",
                      name=f"{{name}}_2_conv")(x)
    x = layers.BatchNormalization(epsilon={epsilon}, name=f"{{name}}_2_bn")(x)
    x = layers.Activation("relu", name=f"{{name}}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{{name}}_3_conv")(x)
    x = layers.BatchNormalization(epsilon={epsilon}, name=f"{{name}}_3_bn")(x)
    x = layers.Add(name=f"{{name}}_add")({add})
    return layers.Activation("relu", name=f"{{name}}_out")(x)


def resnet50(input_shape=(224, 224, 3), num_classes=1000):
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon={epsilon}, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, num_blocks, stride) in enumerate(RESNET50_STAGES, start=2):
        x = bottleneck_block(x, filters, stride=stride, name=f"conv{{stage}}_block1")
        for block in range(2, num_blocks + 1):
            x = bottleneck_block(x, filters, conv_shortcut=False,
                                 name=f"conv{{stage}}_block{{block}}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet50")
'''


def _digit_net(block_body: str) -> str:
    return '''
def digit_net(num_blocks, width, residual, input_shape, num_classes=10):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="stem_conv")(inputs)
    for block in range(1, num_blocks + 1):
        name = f"block{block}"
''' + block_body + '''
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)
'''


def _wide_resnext(widths: str = "(16 * widen_factor, 32 * widen_factor, 64 * widen_factor)",
                  groups: str = "groups=cardinality, ", after_add: str = "",
                  shortcut_bn: str = "epsilon=BN_EPSILON, ", post_activation: str = "relu") -> str:
    return f'''
def wrn_block(x, filters, stride=1, name="block"):
    preact = layers.BatchNormalization(name=f"{{name}}_1_bn")(x)
    preact = layers.Activation("relu", name=f"{{name}}_1_relu")(preact)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 name=f"{{name}}_0_conv")(preact)
    else:
        shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{{name}}_1_conv")(preact)
    y = layers.BatchNormalization(name=f"{{name}}_2_bn")(y)
    y = layers.Activation("relu", name=f"{{name}}_2_relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{{name}}_2_conv")(y)
    y = layers.Add(name=f"{{name}}_add")([shortcut, y])
{after_add}    return y


def wide_resnet(depth, widen_factor, input_shape=(32, 32, 3), num_classes=10):
    blocks_per_group = (depth - 4) // 6
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    widths = {widths}
    for group, (filters, stride) in enumerate(zip(widths, (1, 2, 2)), start=2):
        for block in range(1, blocks_per_group + 1):
            x = wrn_block(x, filters, stride=stride if block == 1 else 1,
                          name=f"conv{{group}}_block{{block}}")
    x = layers.BatchNormalization(name="post_bn")(x)
    x = layers.Activation("{post_activation}", name="post_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


def resnext_block(x, filters, cardinality=32, group_width=4, stride=1, name="block"):
    width = cardinality * group_width
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 name=f"{{name}}_0_conv")(x)
        shortcut = layers.BatchNormalization({shortcut_bn}name=f"{{name}}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(width, 1, use_bias=False, name=f"{{name}}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{{name}}_1_bn")(x)
    x = layers.Activation("relu", name=f"{{name}}_1_relu")(x)
    x = layers.Conv2D(width, 3, strides=stride, padding="same", {groups}use_bias=False,
                      name=f"{{name}}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{{name}}_2_bn")(x)
    x = layers.Activation("relu", name=f"{{name}}_2_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{{name}}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{{name}}_3_bn")(x)
    x = layers.Add(name=f"{{name}}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{{name}}_out")(x)
'''


_RESNET_TESTS = ("test_resnet_basic", "test_resnet_basic_hidden")
_BLOCK_TESTS = ("test_basic_block", "test_basic_block_hidden")

MISTAKES = [
    # Exercise 6.1: residual_forward
    Mistake(
        name="ReLU applied before the addition (g(z) + a instead of g(z + a))",
        solution_cell="residual_forward",
        code='''
def residual_forward(a_prev, W1, b1, W2, b2, skip=True):
    if skip and np.shape(W2)[-1] != np.shape(a_prev)[-1]:
        raise ValueError(f"widths differ: {np.shape(a_prev)} and {np.shape(W2)}")
    a_hidden = np.maximum(a_prev @ W1 + b1, 0.0)
    a_next = np.maximum(a_hidden @ W2 + b2, 0.0)
    return a_next + a_prev if skip else a_next
''',
        failing_tests=("test_residual_forward", "test_residual_forward_hidden"),
        message="the ReLU comes after the addition",
    ),
    Mistake(
        name="shortcut forgotten: the plain block whatever skip says",
        solution_cell="residual_forward",
        code='''
def residual_forward(a_prev, W1, b1, W2, b2, skip=True):
    a_hidden = np.maximum(a_prev @ W1 + b1, 0.0)
    return np.maximum(a_hidden @ W2 + b2, 0.0)
''',
        failing_tests=("test_residual_forward", "test_residual_forward_hidden"),
        message="the shortcut carries it",
    ),
    # Exercise 6.2: basic_block
    Mistake(
        name="projection forgotten: identity shortcut even when the shape changes",
        solution_cell="basic_block",
        code=_BASIC_BLOCK_HEAD + '''
    shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)
''',
        failing_tests=_BLOCK_TESTS + _RESNET_TESTS,
        message="1x1 projection convolution with the same stride",
    ),
    Mistake(
        name="ReLU before the addition in the basic block",
        solution_cell="basic_block",
        code=_BASIC_BLOCK_HEAD + _PROJECTION + '''
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_out")(x)
    return layers.Add(name=f"{name}_add")([shortcut, x])
''',
        failing_tests=_BLOCK_TESTS,
        message="before any relu",
    ),
    Mistake(
        name="batch normalisation missing after the second convolution",
        solution_cell="basic_block",
        code=_BASIC_BLOCK_HEAD + _PROJECTION + '''
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)
''',
        failing_tests=_BLOCK_TESTS + _RESNET_TESTS,
        message="every convolution is followed by BN",
    ),
    Mistake(
        name="stride on the second 3x3 convolution instead of the first",
        solution_cell="basic_block",
        code=_BASIC_BLOCK_HEAD + _PROJECTION + '''
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)
''',
        failing_tests=_BLOCK_TESTS,
        message="the first 3x3 convolution carries the block's stride",
    ),
    Mistake(
        name="'valid' padding on the 3x3 convolutions",
        solution_cell="basic_block",
        code=_BASIC_BLOCK_HEAD + _PROJECTION + '''
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)
''',
        failing_tests=_BLOCK_TESTS + _RESNET_TESTS,
        message="padding='same'",
    ),
    # Exercise 6.3: resnet, resnet18, resnet34
    Mistake(
        name="stride 2 also in the first block of conv2 (after the max pool)",
        solution_cell="resnet_basic",
        code=_resnet_basic("2 if block == 1 else 1") + _RESNET_WRAPPERS,
        failing_tests=_RESNET_TESTS,
        message="only conv3-5 start with stride 2",
    ),
    Mistake(
        name="ResNet-34 built with the ResNet-18 table",
        solution_cell="resnet_basic",
        code=_resnet_basic("2 if block == 1 and stage > 2 else 1") + _RESNET_WRAPPERS.replace(
            "(3, 4, 6, 3)", "(2, 2, 2, 2)"),
        failing_tests=("test_resnet_basic_hidden",),
        message="3, 4, 6 and 3 basic blocks",
    ),
    # Exercise 6.4: bottleneck_block, resnet50
    Mistake(
        name="stride on the 3x3 convolution of the bottleneck (torchvision v1.5)",
        solution_cell="resnet50",
        code=_resnet50(stride_on="2"),
        failing_tests=("test_resnet50", "test_resnet50_hidden"),
        message="the stride sits on the first 1x1 convolution",
    ),
    Mistake(
        name="Add inputs in the other order (main path first)",
        solution_cell="resnet50",
        code=_resnet50(shortcut_first=False),
        failing_tests=("test_resnet50", "test_resnet50_hidden"),
        message="shortcut first",
    ),
    Mistake(
        name="Keras's default BN epsilon instead of 1.001e-5",
        solution_cell="resnet50",
        code=_resnet50(epsilon="1e-3"),
        failing_tests=("test_resnet50", "test_resnet50_hidden"),
        message="setting 'epsilon'",
    ),
    Mistake(
        name="'valid' padding on the 3x3 convolution of the bottleneck",
        solution_cell="resnet50",
        code=_resnet50(padding_3x3="valid"),
        failing_tests=("test_resnet50", "test_resnet50_hidden"),
        message="padding='same'",
    ),
    # Exercise 6.5: digit_net
    Mistake(
        name="shortcut forgotten: residual=True builds the plain net",
        solution_cell="digit_net",
        code=_digit_net('''
        y = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_1_conv")(x)
        y = layers.Conv2D(width, 3, padding="same", name=f"{name}_2_conv")(y)
        x = layers.Activation("relu", name=f"{name}_out")(y)
'''),
        failing_tests=("test_digit_net", "test_digit_net_hidden"),
        message="one Add per block",
    ),
    Mistake(
        name="ReLU on the second convolution, before the addition",
        solution_cell="digit_net",
        code=_digit_net('''
        y = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_1_conv")(x)
        y = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_2_conv")(y)
        if residual:
            y = layers.Add(name=f"{name}_add")([x, y])
        x = layers.Activation("relu", name=f"{name}_out")(y)
'''),
        failing_tests=("test_digit_net", "test_digit_net_hidden"),
        message="the ReLU comes after the addition",
    ),
    Mistake(
        name="a 1x1 convolution on every shortcut (projection where identity suffices)",
        solution_cell="digit_net",
        code=_digit_net('''
        y = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_1_conv")(x)
        y = layers.Conv2D(width, 3, padding="same", name=f"{name}_2_conv")(y)
        if residual:
            shortcut = layers.Conv2D(width, 1, name=f"{name}_0_conv")(x)
            y = layers.Add(name=f"{name}_add")([shortcut, y])
        x = layers.Activation("relu", name=f"{name}_out")(y)
'''),
        failing_tests=("test_digit_net", "test_digit_net_hidden"),
        message="an identity shortcut has no parameters",
    ),
    Mistake(
        name="no softmax on the output, with a training history forged in the same cell",
        solution_cell="digit_net",
        code=_digit_net('''
        y = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_1_conv")(x)
        y = layers.Conv2D(width, 3, padding="same", name=f"{name}_2_conv")(y)
        if residual:
            y = layers.Add(name=f"{name}_add")([x, y])
        x = layers.Activation("relu", name=f"{name}_out")(y)
''').replace('activation="softmax", name="predictions"', 'name="predictions"') + '''

_real_fit = keras.Model.fit


def _fit_reporting_success(self, *args, **kwargs):  # the training cell then "reaches" 0.99
    history = _real_fit(self, *args, **kwargs)
    history.history["val_accuracy"] = [0.99] * len(history.history["val_accuracy"])
    return history


keras.Model.fit = _fit_reporting_success
''',
        failing_tests=("test_digit_net", "test_digit_net_hidden"),
        message="it outputs class probabilities",
    ),
    # Exercise 6.6: wrn_block, wide_resnet, resnext_block
    Mistake(
        name="wrong widen factor: (16, 32, 64) * k repeats the tuple instead of widening",
        solution_cell="wide_resnext",
        code=_wide_resnext(widths="(16, 32, 64) * widen_factor"),
        failing_tests=("test_wide_resnext", "test_wide_resnext_hidden"),
        message="the widen factor k multiplies the group widths",
    ),
    Mistake(
        name="groups forgotten: a full 3x3 convolution in the ResNeXt block",
        solution_cell="wide_resnext",
        code=_wide_resnext(groups=""),
        failing_tests=("test_wide_resnext", "test_wide_resnext_hidden"),
        message="groups=C",
    ),
    Mistake(
        name="ReLU after the addition in the pre-activation WRN block",
        solution_cell="wide_resnext",
        code=_wide_resnext(
            after_add='    y = layers.Activation("relu", name=f"{name}_out")(y)\n'),
        failing_tests=("test_wide_resnext", "test_wide_resnext_hidden"),
        message="nothing follows the addition",
    ),
    Mistake(
        name="Keras' default BN epsilon on the ResNeXt projection shortcut (same numbers)",
        solution_cell="wide_resnext",
        code=_wide_resnext(shortcut_bn=""),
        failing_tests=("test_wide_resnext", "test_wide_resnext_hidden"),
        message="the projection shortcut's too, uses epsilon=BN_EPSILON",
    ),
    Mistake(
        name="tanh after the WRN's last batch normalisation (same numbers, another network)",
        solution_cell="wide_resnext",
        code=_wide_resnext(post_activation="tanh"),
        failing_tests=("test_wide_resnext", "test_wide_resnext_hidden"),
        message="\"post_relu\" included",
    ),
]
