"""Typical wrong answers for lesson 03 (convolutions over volumes, one CNN layer, pooling).

The exercises are independent: a wrong or blank answer fails only its own exercise's
checks (no cascade).
"""

from tests.mistakes import Mistake

LESSON = "03_volumes_pooling"

_CONV_VOLUME_HEAD = '''
def conv_volume(volume, kernels):
    """Convolve one volume with several filters ('valid' padding, stride 1, no bias)."""
    volume = np.asarray(volume, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    f, n_filters = kernels.shape[0], kernels.shape[3]
    n_h = volume.shape[0] - f + 1
    n_w = volume.shape[1] - f + 1
'''

_DENSE_OK = '''

def dense_param_count(input_shape, units, use_bias=True):
    """Number of parameters of a Dense layer on a flattened input."""
    return int(np.prod(input_shape)) * units + (units if use_bias else 0)
'''

_CONV_COUNT_OK = '''
def conv_param_count(f, n_c_prev, n_filters, use_bias=True):
    """Number of parameters of a convolutional layer."""
    return (f * f * n_c_prev + (1 if use_bias else 0)) * n_filters
'''

_POOL_HEAD = '''
def pool2d(volume, pool_size, stride, mode="max"):
    """Max or average pooling of each channel, without padding."""
    volume = np.asarray(volume, dtype=np.float64)
'''

_FORWARD_HEAD = '''
def conv_layer_forward(images, kernel, bias, stride=1):
    """Forward pass of a convolutional layer: valid convolution, bias, ReLU."""
    images = np.asarray(images, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    m, f = images.shape[0], kernel.shape[0]
    n_h = (images.shape[1] - f) // stride + 1
    n_w = (images.shape[2] - f) // stride + 1
    z = np.zeros((m, n_h, n_w, kernel.shape[3]))
'''

_TRAIN_OK = '''

def train_model(model, train_data, validation_data, num_epochs, batch_size, learning_rate):
    """Compile (Adam, sparse categorical cross-entropy, accuracy) and fit a classifier."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x_train, y_train = train_data
    return model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs,
                     validation_data=validation_data, verbose=0)
'''


def _net(conv="layers.Conv2D(num_filters, kernel_size, activation=\"relu\")",
         dense="layers.Dense(num_classes, activation=\"softmax\")"):
    return f'''
def build_one_conv_net(input_shape, num_classes, num_filters=16, kernel_size=3):
    """Input -> Conv2D(relu) -> MaxPooling2D(2) -> Flatten -> Dense(softmax)."""
    inputs = keras.Input(shape=input_shape)
    x = {conv}(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    outputs = {dense}(x)
    return keras.Model(inputs, outputs)
'''


MISTAKES = [
    # --- 3.1 conv_volume ------------------------------------------------------------------
    Mistake(
        name="convolves only the first channel",
        solution_cell="conv_volume",
        code=_CONV_VOLUME_HEAD + '''
    output = np.zeros((n_h, n_w, n_filters))
    for i in range(n_h):
        for j in range(n_w):
            for k in range(n_filters):
                output[i, j, k] = np.sum(volume[i:i + f, j:j + f, 0] * kernels[:, :, 0, k])
    return output
''',
        failing_tests=("test_conv_volume", "test_conv_volume_hidden"),
        message="f x f x n_C block",
    ),
    Mistake(
        name="flips the filter (mathematical convolution instead of cross-correlation)",
        solution_cell="conv_volume",
        code=_CONV_VOLUME_HEAD + '''
    output = np.zeros((n_h, n_w, n_filters))
    for i in range(n_h):
        for j in range(n_w):
            for k in range(n_filters):
                flipped = kernels[::-1, ::-1, :, k]
                output[i, j, k] = np.sum(volume[i:i + f, j:j + f, :] * flipped)
    return output
''',
        failing_tests=("test_conv_volume", "test_conv_volume_hidden"),
        message="no flip",
    ),
    Mistake(
        name="puts the filter axis first (n_C', n_H', n_W')",
        solution_cell="conv_volume",
        code=_CONV_VOLUME_HEAD + '''
    output = np.zeros((n_filters, n_h, n_w))
    for k in range(n_filters):
        for i in range(n_h):
            for j in range(n_w):
                output[k, i, j] = np.sum(volume[i:i + f, j:j + f, :] * kernels[:, :, :, k])
    return output
''',
        failing_tests=("test_conv_volume", "test_conv_volume_hidden"),
        message="shape expected",
    ),
    # --- 3.2 param_counts -----------------------------------------------------------------
    Mistake(
        name="forgets the bias of each filter (270 instead of 280)",
        solution_cell="param_counts",
        code='''
def conv_param_count(f, n_c_prev, n_filters, use_bias=True):
    """Number of parameters of a convolutional layer."""
    return f * f * n_c_prev * n_filters
''' + _DENSE_OK,
        failing_tests=("test_param_counts", "test_param_counts_hidden"),
        message="one bias",
    ),
    Mistake(
        name="forgets the input channels (100 instead of 280)",
        solution_cell="param_counts",
        code='''
def conv_param_count(f, n_c_prev, n_filters, use_bias=True):
    """Number of parameters of a convolutional layer."""
    return (f * f + (1 if use_bias else 0)) * n_filters
''' + _DENSE_OK,
        failing_tests=("test_param_counts", "test_param_counts_hidden"),
        message="all input",
    ),
    Mistake(
        name="Dense count uses only the last axis of the input shape",
        solution_cell="param_counts",
        code=_CONV_COUNT_OK + '''

def dense_param_count(input_shape, units, use_bias=True):
    """Number of parameters of a Dense layer on a flattened input."""
    return input_shape[-1] * units + (units if use_bias else 0)
''',
        failing_tests=("test_param_counts", "test_param_counts_hidden"),
        message="flatten first",
    ),
    # --- 3.3 weight_sharing ---------------------------------------------------------------
    Mistake(
        name="local patch counted as field instead of field x field",
        solution_cell="weight_sharing",
        code='''
def weight_sharing_counts(image_side, n_hidden, field, n_filters):
    """Weights of a hidden layer on a grey image with full, local and shared connections."""
    return {"fully_connected": image_side * image_side * n_hidden,
            "locally_connected": field * n_hidden,
            "shared": field * field,
            "shared_filters": field * field * n_filters}
''',
        failing_tests=("test_weight_sharing", "test_weight_sharing_hidden"),
        message="own field x field patch",
    ),
    Mistake(
        name="fully connected count adds pixels and units instead of multiplying",
        solution_cell="weight_sharing",
        code='''
def weight_sharing_counts(image_side, n_hidden, field, n_filters):
    """Weights of a hidden layer on a grey image with full, local and shared connections."""
    return {"fully_connected": image_side * image_side + n_hidden,
            "locally_connected": field * field * n_hidden,
            "shared": field * field,
            "shared_filters": field * field * n_filters}
''',
        failing_tests=("test_weight_sharing", "test_weight_sharing_hidden"),
        message="weight to every pixel",
    ),
    # --- 3.4 pool2d -----------------------------------------------------------------------
    Mistake(
        name="output side n // stride instead of (n - f) // s + 1",
        solution_cell="pool2d",
        code=_POOL_HEAD + '''
    n_h = volume.shape[0] // stride
    n_w = volume.shape[1] // stride
    reduce = np.max if mode == "max" else np.mean
    output = np.zeros((n_h, n_w, volume.shape[2]))
    for i in range(n_h):
        for j in range(n_w):
            window = volume[i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]
            output[i, j, :] = reduce(window, axis=(0, 1))
    return output
''',
        failing_tests=("test_pool2d", "test_pool2d_hidden"),
        message="shape expected",
    ),
    Mistake(
        name="pools across the channels too",
        solution_cell="pool2d",
        code=_POOL_HEAD + '''
    n_h = (volume.shape[0] - pool_size) // stride + 1
    n_w = (volume.shape[1] - pool_size) // stride + 1
    reduce = np.max if mode == "max" else np.mean
    output = np.zeros((n_h, n_w, volume.shape[2]))
    for i in range(n_h):
        for j in range(n_w):
            window = volume[i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]
            output[i, j, :] = reduce(window)
    return output
''',
        failing_tests=("test_pool2d", "test_pool2d_hidden"),
        message="pool each channel on its own",
    ),
    Mistake(
        name="ignores mode: always max pooling",
        solution_cell="pool2d",
        code=_POOL_HEAD + '''
    n_h = (volume.shape[0] - pool_size) // stride + 1
    n_w = (volume.shape[1] - pool_size) // stride + 1
    output = np.zeros((n_h, n_w, volume.shape[2]))
    for i in range(n_h):
        for j in range(n_w):
            window = volume[i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]
            output[i, j, :] = np.max(window, axis=(0, 1))
    return output
''',
        failing_tests=("test_pool2d", "test_pool2d_hidden"),
        message="mode='average'",
    ),
    # --- 3.5 conv_layer_forward -----------------------------------------------------------
    Mistake(
        name="no ReLU",
        solution_cell="conv_layer_forward",
        code=_FORWARD_HEAD + '''
    for i in range(n_h):
        for j in range(n_w):
            block = images[:, i * stride:i * stride + f, j * stride:j * stride + f, :]
            z[:, i, j, :] = np.tensordot(block, kernel, axes=3) + bias
    return z
''',
        failing_tests=("test_conv_layer_forward", "test_conv_layer_forward_hidden"),
        message="apply the ReLU",
    ),
    Mistake(
        name="adds the bias after the ReLU",
        solution_cell="conv_layer_forward",
        code=_FORWARD_HEAD + '''
    for i in range(n_h):
        for j in range(n_w):
            block = images[:, i * stride:i * stride + f, j * stride:j * stride + f, :]
            z[:, i, j, :] = np.tensordot(block, kernel, axes=3)
    return np.maximum(z, 0.0) + bias
''',
        failing_tests=("test_conv_layer_forward", "test_conv_layer_forward_hidden"),
        message="after adding the bias",
    ),
    Mistake(
        name="windows move by 1 whatever the stride",
        solution_cell="conv_layer_forward",
        code=_FORWARD_HEAD + '''
    for i in range(n_h):
        for j in range(n_w):
            block = images[:, i:i + f, j:j + f, :]
            z[:, i, j, :] = np.tensordot(block, kernel, axes=3) + bias
    return np.maximum(z, 0.0)
''',
        failing_tests=("test_conv_layer_forward_hidden",),
        message="stride 2",
    ),
    # --- 3.6 one_conv_net -----------------------------------------------------------------
    Mistake(
        name="no softmax on the output layer",
        solution_cell="one_conv_net",
        code=_net(dense="layers.Dense(num_classes)") + _TRAIN_OK,
        failing_tests=("test_one_conv_net", "test_one_conv_net_hidden"),
        message="expected 'softmax'",
    ),
    Mistake(
        name="'same' padding in the convolution",
        solution_cell="one_conv_net",
        code=_net(conv='layers.Conv2D(num_filters, kernel_size, padding="same", '
                       'activation="relu")') + _TRAIN_OK,
        failing_tests=("test_one_conv_net", "test_one_conv_net_hidden"),
        message="output shape expected",
    ),
    Mistake(
        name="no activation on the convolution",
        solution_cell="one_conv_net",
        code=_net(conv="layers.Conv2D(num_filters, kernel_size)") + _TRAIN_OK,
        failing_tests=("test_one_conv_net", "test_one_conv_net_hidden"),
        message="expected 'relu'",
    ),
    Mistake(
        name="fit without validation_data",
        solution_cell="one_conv_net",
        code=_net() + '''

def train_model(model, train_data, validation_data, num_epochs, batch_size, learning_rate):
    """Compile (Adam, sparse categorical cross-entropy, accuracy) and fit a classifier."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x_train, y_train = train_data
    return model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs, verbose=0)
''',
        failing_tests=("test_one_conv_net_hidden",),
        message="pass validation_data",
    ),
    Mistake(
        # An attack: the smoke setting skips floors in a full-profile run on mock data; set
        # from the notebook it must not switch off the grader's floors (the judge has its own
        # environment and the fast profile).
        name="one epoch, with the smoke-run setting switched on to skip the floor",
        solution_cell="one_conv_net",
        code=_net() + _TRAIN_OK.replace(
            '    """Compile (Adam, sparse categorical cross-entropy, accuracy) and fit a classifier."""\n',
            '    """Compile (Adam, sparse categorical cross-entropy, accuracy) and fit a classifier."""\n'
            '    import os\n'
            '    os.environ.update(DLCOURSE_PROFILE="full", DLCOURSE_SMOKE="1")\n'
            '    from dlcourse import runtime\n'
            '    runtime._profile = None\n').replace("epochs=num_epochs", "epochs=1"),
        failing_tests=("test_one_conv_net", "test_one_conv_net_hidden"),
        message="below the floor",
    ),
]
