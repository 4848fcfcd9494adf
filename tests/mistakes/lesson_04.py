"""Typical wrong answers for lesson 04 (the complete CNN example of note 4-4).

Cascade: network_table (exercise 4.2) calls conv_info, pool_info and dense_info
(exercise 4.1), so a wrong layer_info answer also fails test_network_table and
test_network_table_hidden. The training exercise (4.4) builds its model with
build_cnn_example (4.3); the wrong architectures below still train above the floor, so
they fail only the 4.3 checks.
"""

from tests.mistakes import Mistake

LESSON = "04_cnn_example"

_CONV_OK = '''
def conv_info(input_shape, filters, f, stride=1):
    """Output shape and parameter count of a 'valid' Conv2D layer with biases."""
    n_h, n_w, n_c = input_shape
    return ((n_h - f) // stride + 1, (n_w - f) // stride + 1, filters), (f * f * n_c + 1) * filters
'''

_POOL_OK = '''

def pool_info(input_shape, f=2, stride=2):
    """Output shape and parameter count (always 0) of a pooling layer without padding."""
    n_h, n_w, n_c = input_shape
    return ((n_h - f) // stride + 1, (n_w - f) // stride + 1, n_c), 0
'''

_DENSE_OK = '''

def dense_info(num_inputs, units):
    """Output shape and parameter count of a Dense layer with biases."""
    return (units,), (num_inputs + 1) * units
'''

_TABLE_HEAD = '''
def network_table(input_shape, architecture):
    """The table of activation shapes, sizes and parameter counts of a network."""
    shape = tuple(input_shape)
'''


def _cnn(conv1='layers.Conv2D(6, 5, activation="relu")',
         conv2='layers.Conv2D(16, 5, activation="relu")',
         pool="layers.MaxPooling2D(pool_size=2, strides=2)",
         fc_activation='"relu"', inputs="keras.Input(shape=input_shape)", output_dtype=""):
    return f'''
def build_cnn_example(input_shape=(32, 32, 3), num_classes=10):
    """The network of note 4-4: CONV-POOL-CONV-POOL-FC-FC-softmax."""
    inputs = {inputs}
    x = {conv1}(inputs)
    x = {pool}(x)
    x = {conv2}(x)
    x = {pool}(x)
    x = layers.Flatten()(x)
    x = layers.Dense(120, activation={fc_activation})(x)
    x = layers.Dense(84, activation={fc_activation})(x)
    outputs = layers.Dense(num_classes, activation="softmax"{output_dtype})(x)
    return keras.Model(inputs, outputs)
'''


_TRAIN_HEAD = '''
def train_and_evaluate(model, train_data, test_data, num_epochs, batch_size, learning_rate,
                       validation_fraction):
    """Compile, fit with a validation split, and measure the test accuracy."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x_train, y_train = train_data
    x_test, y_test = test_data
'''

_TABLE_TESTS = ("test_layer_info", "test_layer_info_hidden", "test_network_table",
                "test_network_table_hidden")

MISTAKES = [
    # --- 4.1 layer_info (cascades into 4.2) -------------------------------------------------
    Mistake(
        name="the slide's formula: filters without input channels (208/416 style)",
        solution_cell="layer_info",
        code='''
def conv_info(input_shape, filters, f, stride=1):
    """Output shape and parameter count of a 'valid' Conv2D layer with biases."""
    n_h, n_w, n_c = input_shape
    return ((n_h - f) // stride + 1, (n_w - f) // stride + 1, filters), (f * f + 1) * filters
''' + _POOL_OK + _DENSE_OK,
        failing_tests=_TABLE_TESTS,
        message="every filter spans all input channels",
    ),
    Mistake(
        name="convolution without biases",
        solution_cell="layer_info",
        code='''
def conv_info(input_shape, filters, f, stride=1):
    """Output shape and parameter count of a 'valid' Conv2D layer with biases."""
    n_h, n_w, n_c = input_shape
    return ((n_h - f) // stride + 1, (n_w - f) // stride + 1, filters), f * f * n_c * filters
''' + _POOL_OK + _DENSE_OK,
        failing_tests=_TABLE_TESTS,
        message="has one bias",
    ),
    Mistake(
        name="the slide's dense count: one bias for the whole layer (48,001)",
        solution_cell="layer_info",
        code=_CONV_OK + _POOL_OK + '''

def dense_info(num_inputs, units):
    """Output shape and parameter count of a Dense layer with biases."""
    return (units,), num_inputs * units + 1
''',
        failing_tests=_TABLE_TESTS,
        message="one bias per unit",
    ),
    Mistake(
        name="'same' padding: output side n / s instead of floor((n - f) / s) + 1",
        solution_cell="layer_info",
        code='''
def conv_info(input_shape, filters, f, stride=1):
    """Output shape and parameter count of a 'valid' Conv2D layer with biases."""
    n_h, n_w, n_c = input_shape
    return (-(-n_h // stride), -(-n_w // stride), filters), (f * f * n_c + 1) * filters
''' + _POOL_OK + _DENSE_OK,
        failing_tests=_TABLE_TESTS,
        message="'valid' convolution gives floor((n - f) / s) + 1",
    ),
    Mistake(
        name="pooling ignores the stride",
        solution_cell="layer_info",
        code=_CONV_OK + '''

def pool_info(input_shape, f=2, stride=2):
    """Output shape and parameter count (always 0) of a pooling layer without padding."""
    n_h, n_w, n_c = input_shape
    return (n_h - f + 1, n_w - f + 1, n_c), 0
''' + _DENSE_OK,
        failing_tests=_TABLE_TESTS,
        message="floor((n - f) / s) + 1 per side",
    ),
    # --- 4.2 network_table --------------------------------------------------------------------
    Mistake(
        name="flatten size typed in as 400",
        solution_cell="network_table",
        code=_TABLE_HEAD + '''
    rows = [{"layer": "Input", "shape": shape, "size": int(np.prod(shape)), "params": 0}]
    for name, kind, settings in architecture:
        if kind == "conv":
            shape, params = conv_info(shape, **settings)
        elif kind == "pool":
            shape, params = pool_info(shape, **settings)
        else:
            num_inputs = 400 if len(shape) == 3 else shape[0]
            shape, params = dense_info(num_inputs, **settings)
        rows.append({"layer": name, "shape": shape, "size": int(np.prod(shape)), "params": params})
    return rows
''',
        failing_tests=("test_network_table_hidden",),
        message="compute the flatten size",
    ),
    Mistake(
        name="no row for the input",
        solution_cell="network_table",
        code=_TABLE_HEAD + '''
    rows = []
    for name, kind, settings in architecture:
        if kind == "conv":
            shape, params = conv_info(shape, **settings)
        elif kind == "pool":
            shape, params = pool_info(shape, **settings)
        else:
            shape, params = dense_info(int(np.prod(shape)), **settings)
        rows.append({"layer": name, "shape": shape, "size": int(np.prod(shape)), "params": params})
    return rows
''',
        failing_tests=("test_network_table", "test_network_table_hidden"),
        message="one row for the input",
    ),
    # --- 4.3 cnn_example ----------------------------------------------------------------------
    Mistake(
        name="'same' padding in the convolutions",
        solution_cell="cnn_example",
        code=_cnn(conv1='layers.Conv2D(6, 5, padding="same", activation="relu")',
                  conv2='layers.Conv2D(16, 5, padding="same", activation="relu")'),
        failing_tests=("test_cnn_example", "test_cnn_example_hidden"),
        message="output shape expected",
    ),
    Mistake(
        name="no activation in the convolutions",
        solution_cell="cnn_example",
        code=_cnn(conv1="layers.Conv2D(6, 5)", conv2="layers.Conv2D(16, 5)"),
        failing_tests=("test_cnn_example", "test_cnn_example_hidden"),
        message="expected 'relu'",
    ),
    Mistake(
        name="average pooling where max pooling is asked",
        solution_cell="cnn_example",
        code=_cnn(pool="layers.AveragePooling2D(pool_size=2, strides=2)"),
        failing_tests=("test_cnn_example", "test_cnn_example_hidden"),
        message="expected a MaxPooling2D layer",
    ),
    Mistake(
        name="stride 2 in CONV1",
        solution_cell="cnn_example",
        code=_cnn(conv1='layers.Conv2D(6, 5, strides=2, activation="relu")'),
        failing_tests=("test_cnn_example", "test_cnn_example_hidden"),
        message="check padding ('valid' vs 'same'), kernel size and strides",
    ),
    Mistake(
        name="output layer in float16 (mixed precision reaches the softmax)",
        solution_cell="cnn_example",
        code=_cnn(output_dtype=', dtype="mixed_float16"'),
        failing_tests=("test_cnn_example", "test_cnn_example_hidden"),
        message="computes in float16",
    ),
    Mistake(
        name="no activation in the fully connected layers",
        solution_cell="cnn_example",
        code=_cnn(fc_activation="None"),
        failing_tests=("test_cnn_example", "test_cnn_example_hidden"),
        message="expected 'relu', got 'linear'",
    ),
    Mistake(
        name="input shape fixed at 32x32x3",
        solution_cell="cnn_example",
        code=_cnn(inputs="keras.Input(shape=(32, 32, 3))"),
        failing_tests=("test_cnn_example_hidden",),
        message="output shape expected",
    ),
    # --- 4.4 train_cnn --------------------------------------------------------------------------
    Mistake(
        name="fit without the validation split",
        solution_cell="train_cnn",
        code=_TRAIN_HEAD + '''
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs, verbose=0)
    return history, model.evaluate(x_test, y_test, verbose=0)[1]
''',
        failing_tests=("test_train_cnn", "test_train_cnn_hidden"),
        message="validation_split=validation_fraction",
    ),
    Mistake(
        name="returns the last validation accuracy instead of the test accuracy",
        solution_cell="train_cnn",
        code=_TRAIN_HEAD + '''
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs,
                        validation_split=validation_fraction, verbose=0)
    return history, history.history["val_accuracy"][-1]
''',
        failing_tests=("test_train_cnn", "test_train_cnn_hidden"),
        message="must be the accuracy on test_data",
    ),
    Mistake(
        name="test-set leak: fits on the training and the test data",
        solution_cell="train_cnn",
        code=_TRAIN_HEAD + '''
    history = model.fit(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]),
                        batch_size=batch_size, epochs=num_epochs,
                        validation_split=validation_fraction, verbose=0)
    return history, model.evaluate(x_test, y_test, verbose=0)[1]
''',
        failing_tests=("test_train_cnn", "test_train_cnn_hidden"),
        message="nothing of test_data",
    ),
    Mistake(
        name="Adam at its default learning rate (ignores learning_rate)",
        solution_cell="train_cnn",
        code=_TRAIN_HEAD.replace("keras.optimizers.Adam(learning_rate=learning_rate)",
                                 "keras.optimizers.Adam()") + '''
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs,
                        validation_split=validation_fraction, verbose=0)
    return history, model.evaluate(x_test, y_test, verbose=0)[1]
''',
        failing_tests=("test_train_cnn", "test_train_cnn_hidden"),
        message="learning rate",
    ),
]
