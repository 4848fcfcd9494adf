"""Typical wrong answers for lesson 00 (foundations), kept as test data.

Every exercise is independent of the others (the checks build their own reference models
and inputs), so no mistake cascades into another exercise's checks. Ungraded demo cells
that call a student's function (the moons collapse, the MLP summary, the training curves)
may raise when that function is wrong; they carry no points.
"""

from tests.mistakes import Mistake

LESSON = "00_foundations"

_COLLAPSE = '''
def collapse_linear(W1, b1, W2, b2):
    """The single linear layer equivalent to two stacked linear layers."""
    W = W1 @ W2
    b = {bias}
    return W, b
'''

_ACTIVATIONS = '''
def sigmoid(x):
    """The logistic sigmoid, element-wise."""
    return {sigmoid}


def relu(x):
    """max(0, x), element-wise."""
    return {relu}
'''

_SOFTMAX = '''
def softmax(logits, axis=-1):
    """Softmax along one axis."""
    logits = np.asarray(logits, dtype=np.float64)
{body}
'''

_LOSSES = '''
EPSILON = 1e-7


def mse(y_true, y_pred):
    """Mean squared error over all entries."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
{mse_check}    return {mse}


def categorical_crossentropy(y_true, y_prob, epsilon=EPSILON):
    """Mean cross-entropy of one-hot labels and probabilities."""
    y_true, y_prob = np.asarray(y_true), np.asarray(y_prob)
{crossentropy}


def categorical_crossentropy_from_logits(y_true, logits):
    """Mean cross-entropy from logits."""
    y_true, logits = np.asarray(y_true), np.asarray(logits)
{from_logits}
'''

_GOOD_MSE = "np.mean((y_true - y_pred) ** 2)"
_GOOD_CROSSENTROPY = """\
    clipped = np.clip(y_prob, epsilon, 1.0 - epsilon)
    return np.mean(-np.sum(y_true * np.log(clipped), axis=-1))"""
_GOOD_FROM_LOGITS = """\
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return np.mean(-np.sum(y_true * log_probs, axis=-1))"""


_MSE_SHAPE_CHECK = """\
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shapes differ: {y_true.shape} and {y_pred.shape}")
"""


def _losses(mse=_GOOD_MSE, crossentropy=_GOOD_CROSSENTROPY, from_logits=_GOOD_FROM_LOGITS,
            mse_check=_MSE_SHAPE_CHECK):
    return _LOSSES.format(mse=mse, crossentropy=crossentropy, from_logits=from_logits,
                          mse_check=mse_check)


_PARAM_COUNT = '''
def mlp_param_count(input_dim, hidden_units, num_classes):
    """Number of parameters of the dense network."""
    sizes = {sizes}
    return sum({term} for n_in, n_out in zip(sizes[:-1], sizes[1:]))
'''

_BUILD_MLP = '''
def build_mlp(input_dim, hidden_units, num_classes, activation="relu"):
    """A multilayer perceptron for classification."""
    model = keras.Sequential()
{input_line}    for units in hidden_units:
        model.add(layers.Dense(units{hidden_activation}))
    model.add(layers.Dense(num_classes{output_activation}))
    return model
'''


def _build_mlp(input_line="    model.add(keras.Input(shape=(input_dim,)))\n",
               hidden_activation=", activation=activation",
               output_activation=', activation="softmax"'):
    return _BUILD_MLP.format(input_line=input_line, hidden_activation=hidden_activation,
                             output_activation=output_activation)


_TRAIN = '''
def train_classifier(model, x_train, y_train, x_val, y_val, num_epochs, batch_size,
                     learning_rate):
    """Compile and train a softmax classifier."""
    model.compile(optimizer={optimizer}, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x_train, y_train, batch_size=batch_size, epochs={epochs},
                     {validation}verbose=0)
'''


def _train(optimizer="keras.optimizers.Adam(learning_rate=learning_rate)",
           epochs="num_epochs", validation="validation_data=(x_val, y_val), "):
    return _TRAIN.format(optimizer=optimizer, epochs=epochs, validation=validation)


MISTAKES = [
    # Exercise 0.1: collapse_linear
    Mistake(
        name="bias b1 + b2: b1 not passed through the second layer",
        solution_cell="collapse_linear",
        code=_COLLAPSE.format(bias="b1 + b2"),
        failing_tests=("test_collapse_linear", "test_collapse_linear_hidden"),
        message="the output for X = 0",
    ),
    Mistake(
        name="bias b1 W2 without the second bias b2",
        solution_cell="collapse_linear",
        code=_COLLAPSE.format(bias="b1 @ W2"),
        failing_tests=("test_collapse_linear", "test_collapse_linear_hidden"),
        message="which is the bias b",
    ),
    # Exercise 0.2: sigmoid and relu
    Mistake(
        name="sigmoid with the sign of the exponent flipped",
        solution_cell="activations",
        code=_ACTIVATIONS.format(sigmoid="1.0 / (1.0 + np.exp(x))", relu="np.maximum(x, 0.0)"),
        failing_tests=("test_activations", "test_activations_hidden"),
        message="sigmoid(x) compared with keras.activations.sigmoid: 32 of 33 values differ",
    ),
    Mistake(
        name="relu with np.max (a reduction) instead of np.maximum",
        solution_cell="activations",
        code=_ACTIVATIONS.format(sigmoid="1.0 / (1.0 + np.exp(-x))", relu="np.max(x, 0)"),
        failing_tests=("test_activations", "test_activations_hidden"),
        message="relu(x) compared with keras.activations.relu: shape expected (33,), got ()",
    ),
    # Exercise 0.3: softmax
    Mistake(
        name="softmax without subtracting the maximum (overflow to nan)",
        solution_cell="softmax",
        code=_SOFTMAX.format(body="    exps = np.exp(logits)\n"
                                  "    return exps / np.sum(exps, axis=axis, keepdims=True)"),
        failing_tests=("test_softmax", "test_softmax_hidden"),
        message="contains NaN or infinity: look for a division by zero, a log of 0 or an "
                "overflowing exp",
    ),
    Mistake(
        name="softmax always over the last axis (ignores the axis argument)",
        solution_cell="softmax",
        code=_SOFTMAX.format(
            body="    exps = np.exp(logits - np.max(logits, axis=-1, keepdims=True))\n"
                 "    return exps / np.sum(exps, axis=-1, keepdims=True)"),
        failing_tests=("test_softmax_hidden",),
        message="softmax(logits, axis=1) of a 2 x 5 x 4 array",
    ),
    Mistake(
        name="softmax normalised by the sum of the whole array",
        solution_cell="softmax",
        code=_SOFTMAX.format(
            body="    exps = np.exp(logits - np.max(logits, axis=axis, keepdims=True))\n"
                 "    return exps / np.sum(exps)"),
        failing_tests=("test_softmax", "test_softmax_hidden"),
        message="values differ beyond the tolerance",
    ),
    # Exercise 0.4: losses
    Mistake(
        name="cross-entropy without the mean over the batch",
        solution_cell="losses",
        code=_losses(crossentropy="    clipped = np.clip(y_prob, epsilon, 1.0 - epsilon)\n"
                                  "    return -np.sum(y_true * np.log(clipped), axis=-1)"),
        failing_tests=("test_losses", "test_losses_hidden"),
        message="categorical_crossentropy(y_true, y_prob) compared with Keras: shape "
                "expected (), got (4,)",
    ),
    Mistake(
        name="cross-entropy without clipping: log of 0",
        solution_cell="losses",
        code=_losses(crossentropy="    return np.mean(-np.sum(y_true * np.log(y_prob), axis=-1))"),
        failing_tests=("test_losses", "test_losses_hidden"),
        message="a log of 0",
    ),
    Mistake(
        name="cross-entropy from logits as the log of a softmax (log of an underflowed 0)",
        solution_cell="losses",
        code=_losses(from_logits=(
            "    exps = np.exp(logits - np.max(logits, axis=-1, keepdims=True))\n"
            "    probs = exps / np.sum(exps, axis=-1, keepdims=True)\n"
            "    return np.mean(-np.sum(y_true * np.log(probs), axis=-1))")),
        failing_tests=("test_losses", "test_losses_hidden"),
        message="categorical_crossentropy_from_logits(y_true, logits) compared with Keras "
                "(from_logits=True) contains NaN or infinity",
    ),
    Mistake(
        name="mse as the square of the mean error",
        solution_cell="losses",
        code=_losses(mse="np.mean(y_true - y_pred) ** 2"),
        failing_tests=("test_losses", "test_losses_hidden"),
        message="mse(y_true, y_prob) compared with keras.losses.MeanSquaredError: 1 of 1 "
                "values differ",
    ),
    Mistake(
        name="mse without its shape check: (3,) and (3, 1) broadcast to a 3 x 3 difference",
        solution_cell="losses",
        code=_losses(mse_check=""),
        failing_tests=("test_losses_hidden",),
        message="NumPy broadcasts the two",
    ),
    # Exercise 0.5 (a): mlp_param_count
    Mistake(
        name="parameter count without the biases",
        solution_cell="mlp_param_count",
        code=_PARAM_COUNT.format(sizes="[input_dim, *hidden_units, num_classes]",
                                 term="n_in * n_out"),
        failing_tests=("test_mlp_param_count", "test_mlp_param_count_hidden"),
        message="expected 2410, got 2368. Hint: each Dense layer has (inputs + 1) * units "
                "parameters: count every bias",
    ),
    Mistake(
        name="parameter count without the output layer",
        solution_cell="mlp_param_count",
        code=_PARAM_COUNT.format(sizes="[input_dim, *hidden_units]",
                                 term="(n_in + 1) * n_out"),
        failing_tests=("test_mlp_param_count", "test_mlp_param_count_hidden"),
        message="expected 2410, got 2080. Hint: each Dense layer has (inputs + 1) * units "
                "parameters: count every bias, and every layer including the output layer",
    ),
    # Exercise 0.5 (b): build_mlp
    Mistake(
        name="hidden layers without an activation (the network collapses to a linear map)",
        solution_cell="build_mlp",
        code=_build_mlp(hidden_activation=""),
        failing_tests=("test_build_mlp", "test_build_mlp_hidden"),
        message="setting 'activation' expected 'relu', got 'linear'",
    ),
    Mistake(
        name="output layer without softmax",
        solution_cell="build_mlp",
        code=_build_mlp(output_activation=""),
        failing_tests=("test_build_mlp", "test_build_mlp_hidden"),
        message="setting 'activation' expected 'softmax', got 'linear'",
    ),
    Mistake(
        name="Sequential without keras.Input (model never built)",
        solution_cell="build_mlp",
        code=_build_mlp(input_line=""),
        failing_tests=("test_build_mlp", "test_build_mlp_hidden"),
        message="is not built yet: start it with keras.Input",
    ),
    Mistake(
        name="hidden activation hard-coded to relu (ignores the activation argument)",
        solution_cell="build_mlp",
        code=_build_mlp(hidden_activation=', activation="relu"'),
        failing_tests=("test_build_mlp_hidden",),
        message="setting 'activation' expected 'tanh', got 'relu'",
    ),
    # Exercise 0.6: train_classifier
    Mistake(
        name="fit without validation_data",
        solution_cell="train_classifier",
        code=_train(validation=""),
        failing_tests=("test_train_classifier", "test_train_classifier_hidden"),
        message="the history has no 'val_accuracy'",
    ),
    Mistake(
        name="plain SGD at its default rate (ignores learning_rate): too slow to learn",
        solution_cell="train_classifier",
        code=_train(optimizer='"sgd"'),
        failing_tests=("test_train_classifier", "test_train_classifier_hidden"),
        message="below the floor 0.900",
    ),
    Mistake(
        name="epochs hard-coded to the lesson's constant instead of num_epochs",
        solution_cell="train_classifier",
        code=_train(epochs="10"),
        failing_tests=("test_train_classifier_hidden",),
        message="the number of epochs trained when num_epochs=8: expected 8, got 10",
    ),
    Mistake(
        name="Adam at its default learning rate (ignores learning_rate)",
        solution_cell="train_classifier",
        code=_train(optimizer="keras.optimizers.Adam()"),
        failing_tests=("test_train_classifier", "test_train_classifier_hidden"),
        message="learning rate",
    ),
    Mistake(
        name="test-set leak: fits on the training and the test images",
        solution_cell="train_classifier",
        code=_train().replace("model.fit(x_train, y_train,",
                              "model.fit(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]),"),
        failing_tests=("test_train_classifier", "test_train_classifier_hidden"),
        message="no test or validation data added",
    ),
    Mistake(
        name="batch size hard-coded to the lesson's 32 instead of batch_size",
        solution_cell="train_classifier",
        code=_train().replace("batch_size=batch_size", "batch_size=32"),
        failing_tests=("test_train_classifier_hidden",),
        message="batch_size=batch_size (the argument, not a constant)",
    ),
]
