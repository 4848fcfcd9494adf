"""Typical wrong answers for lesson 10 (transfer learning and multi-task learning).

Cascades (natural, listed in ``failing_tests`` below):
- exercise 10.3 (``transfer_vs_scratch``) calls ``replace_head`` of exercise 10.2, so a
  ``replace_head`` that leaves the body trainable or starts the head at random also fails
  the experiment's checks;
- the training cell of exercise 10.5 uses ``masked_binary_crossentropy`` of exercise 10.4,
  so a loss that counts unlabelled entries as negatives also fails ``test_multitask_net``
  (the traffic-light task, 60 % unlabelled, falls to chance). A loss that only divides by
  the wrong count, or mishandles NaN markers (the training labels use -1), still trains.
Exercises 10.1, 10.2 and 10.4 are independent of the others.
"""

from tests.mistakes import Mistake

LESSON = "10_transfer_multitask"

# --- 10.1 -----------------------------------------------------------------------------------

_REUSE_HEAD = '''
REUSE_MODES = ("fine_tune_all", "last_layers", "head_only")


def set_reuse_mode(model, mode, num_trainable=1):
    """Set the trainable flags of a pretrained model for one of the three reuse modes."""
    if mode not in REUSE_MODES:
        raise ValueError(f"mode must be one of {REUSE_MODES}, received {mode!r}")
    if mode == "last_layers" and not 1 <= num_trainable <= len(model.layers):
        raise ValueError(f"num_trainable must be between 1 and {len(model.layers)}, "
                         f"received {num_trainable!r}")
'''

_REUSE_COUNTS = '''
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, non_trainable
'''

# --- 10.2 -----------------------------------------------------------------------------------


def _replace_head(cut="-2", freeze=True, initializer='kernel_initializer="zeros", ',
                  dtype='dtype="float32", '):
    freeze_line = "    body.trainable = False\n" if freeze else ""
    return f'''
def replace_head(pretrained, num_classes):
    """Cut the output layer off a pretrained classifier, freeze the rest, add a new head."""
    body = keras.Model(pretrained.inputs, pretrained.layers[{cut}].output, name="pretrained_body")
{freeze_line}    inputs = keras.Input(shape=pretrained.input_shape[1:])
    features = body(inputs, training=False)
    outputs = layers.Dense(num_classes, activation="softmax", {initializer}{dtype}name="new_head")(features)
    return keras.Model(inputs, outputs, name="transfer_model")
'''


# --- 10.3 -----------------------------------------------------------------------------------


def _transfer_vs_scratch(models, fit_extra="validation_data=test_data, "):
    return f'''
def transfer_vs_scratch(pretrained, build_scratch, train_data, test_data, num_epochs, learning_rate):
    """Train a transferred and a from-scratch network on the same few examples, the same way."""
    x_train, y_train = train_data
    num_classes = int(np.max(y_train)) + 1
    models = {models}
    histories = {{}}
    for name, model in models.items():
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories[name] = model.fit(x_train, y_train, batch_size=len(x_train), epochs=num_epochs,
                                    {fit_extra}verbose=0)
    return histories
'''


# --- 10.4 -----------------------------------------------------------------------------------

_LOSS_HEAD = '''
def masked_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy averaged over the labelled entries only."""
    y_true = keras.ops.convert_to_tensor(y_true, dtype="float32")
    y_pred = keras.ops.convert_to_tensor(y_pred, dtype="float32")
    eps = keras.config.epsilon()
    p = keras.ops.clip(y_pred, eps, 1.0 - eps)
'''

# --- 10.5 -----------------------------------------------------------------------------------


def _multitask(conv_padding="", pooling="GlobalMaxPooling2D", activation="sigmoid",
               dtype='dtype="float32"'):
    return f'''
def build_multitask_net(input_shape, num_tasks, num_filters=16):
    """One network, one output per task: Conv-Pool-Conv-GlobalMaxPool-Dense(sigmoid)."""
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), received {{input_shape!r}}")
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(num_filters, 3, {conv_padding}activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(2 * num_filters, 3, {conv_padding}activation="relu")(x)
    x = layers.{pooling}()(x)
    outputs = layers.Dense(num_tasks, activation="{activation}", {dtype})(x)
    return keras.Model(inputs, outputs)
'''


_ALL_TRANSFER_TESTS = ("test_transfer_vs_scratch", "test_transfer_vs_scratch_hidden")

MISTAKES = [
    # --- 10.1 set_reuse_mode ----------------------------------------------------------------
    Mistake(
        name="head_only forgets to freeze the pretrained model",
        solution_cell="reuse_mode",
        code=_REUSE_HEAD + '''
    model.trainable = True
    for layer in model.layers:
        layer.trainable = True
    if mode == "last_layers":
        for layer in model.layers[:-num_trainable]:
            layer.trainable = False
        for layer in model.layers[-num_trainable:]:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
''' + _REUSE_COUNTS,
        failing_tests=("test_reuse_mode", "test_reuse_mode_hidden"),
        message="model.trainable = False",
    ),
    Mistake(
        name="BatchNormalization layers left trainable among the last layers",
        solution_cell="reuse_mode",
        code=_REUSE_HEAD + '''
    if mode == "head_only":
        model.trainable = False
    else:
        model.trainable = True
        for layer in model.layers:
            layer.trainable = True
        if mode == "last_layers":
            for layer in model.layers[:-num_trainable]:
                layer.trainable = False
''' + _REUSE_COUNTS,
        failing_tests=("test_reuse_mode", "test_reuse_mode_hidden"),
        message="BatchNormalization",
    ),
    Mistake(
        name="freezes the whole model, then unfreezes the last layers (they stay hidden)",
        solution_cell="reuse_mode",
        code=_REUSE_HEAD + '''
    if mode == "head_only":
        model.trainable = False
    elif mode == "fine_tune_all":
        model.trainable = True
        for layer in model.layers:
            layer.trainable = True
    else:
        model.trainable = False
        for layer in model.layers[-num_trainable:]:
            if not isinstance(layer, layers.BatchNormalization):
                layer.trainable = True
''' + _REUSE_COUNTS,
        failing_tests=("test_reuse_mode", "test_reuse_mode_hidden"),
        message="hides all its layers",
    ),
    Mistake(
        name="fine_tune_all only sets model.trainable = True (layers frozen earlier stay frozen)",
        solution_cell="reuse_mode",
        code=_REUSE_HEAD + '''
    if mode == "head_only":
        model.trainable = False
    elif mode == "fine_tune_all":
        model.trainable = True
    else:
        model.trainable = True
        for layer in model.layers[:-num_trainable]:
            layer.trainable = False
        for layer in model.layers[-num_trainable:]:
            layer.trainable = not isinstance(layer, layers.BatchNormalization)
''' + _REUSE_COUNTS,
        failing_tests=("test_reuse_mode", "test_reuse_mode_hidden"),
        message="reset every layer's flag",
    ),
    # --- 10.2 replace_head ------------------------------------------------------------------
    Mistake(
        name="forgets to freeze the body",
        solution_cell="replace_head",
        code=_replace_head(freeze=False),
        failing_tests=("test_replace_head", "test_replace_head_hidden") + _ALL_TRANSFER_TESTS,
        message="Freeze the body",
    ),
    Mistake(
        name="keeps the old softmax layer and puts the new head on its probabilities",
        solution_cell="replace_head",
        code=_replace_head(cut="-1"),
        failing_tests=("test_replace_head", "test_replace_head_hidden") + _ALL_TRANSFER_TESTS,
        message="pretrained.layers[-2]",
    ),
    Mistake(
        name="new head with Keras' default random initialisation",
        solution_cell="replace_head",
        code=_replace_head(initializer=""),
        failing_tests=("test_replace_head", "test_replace_head_hidden") + _ALL_TRANSFER_TESTS,
        message="does not start at zero",
    ),
    Mistake(
        name="new head computing in float16 (mixed precision reaches the probabilities)",
        solution_cell="replace_head",
        code=_replace_head(dtype='dtype="mixed_float16", '),
        failing_tests=("test_replace_head", "test_replace_head_hidden"),
        message="computes in float16",
    ),
    # --- 10.3 transfer_vs_scratch -----------------------------------------------------------
    Mistake(
        name="fine-tunes the pretrained network itself (its old 5-way head fits the 5 new classes)",
        solution_cell="transfer_vs_scratch",
        code=_transfer_vs_scratch('{"transfer": pretrained, "scratch": build_scratch(num_classes)}'),
        failing_tests=_ALL_TRANSFER_TESTS,
        message="changed the pretrained network's weights",
    ),
    Mistake(
        name="the 'scratch' run also starts from the pretrained body",
        solution_cell="transfer_vs_scratch",
        code=_transfer_vs_scratch('{"transfer": replace_head(pretrained, num_classes), '
                                  '"scratch": replace_head(pretrained, num_classes)}'),
        failing_tests=_ALL_TRANSFER_TESTS,
        message="build_scratch(num_classes)",
    ),
    Mistake(
        name="fit without validation_data (no learning curves)",
        solution_cell="transfer_vs_scratch",
        code=_transfer_vs_scratch('{"transfer": replace_head(pretrained, num_classes), '
                                  '"scratch": build_scratch(num_classes)}', fit_extra=""),
        failing_tests=_ALL_TRANSFER_TESTS,
        message="validation_data=test_data",
    ),
    Mistake(
        name="mini-batches (fit's default batch size) instead of one full batch per epoch",
        solution_cell="transfer_vs_scratch",
        code=_transfer_vs_scratch('{"transfer": replace_head(pretrained, num_classes), '
                                  '"scratch": build_scratch(num_classes)}').replace(
                                      "batch_size=len(x_train), ", ""),
        failing_tests=_ALL_TRANSFER_TESTS,
        message="batch_size=len(x_train)",
    ),
    Mistake(
        name="Adam at its default learning rate (ignores learning_rate)",
        solution_cell="transfer_vs_scratch",
        code=_transfer_vs_scratch('{"transfer": replace_head(pretrained, num_classes), '
                                  '"scratch": build_scratch(num_classes)}').replace(
                                      "keras.optimizers.Adam(learning_rate)", "keras.optimizers.Adam()"),
        failing_tests=_ALL_TRANSFER_TESTS,
        message="learning rate is 0.001, expected 0.003",
    ),
    Mistake(
        name="test-set leak: fits on the training and the test images, in one full batch",
        solution_cell="transfer_vs_scratch",
        code=_transfer_vs_scratch('{"transfer": replace_head(pretrained, num_classes), '
                                  '"scratch": build_scratch(num_classes)}').replace(
                                      "model.fit(x_train, y_train, batch_size=len(x_train),",
                                      "model.fit(np.concatenate([x_train, test_data[0]]), "
                                      "np.concatenate([y_train, test_data[1]]), "
                                      "batch_size=len(x_train) + len(test_data[0]),"),
        failing_tests=_ALL_TRANSFER_TESTS,
        message="fitted on other data",
    ),
    # --- 10.4 masked_loss -------------------------------------------------------------------
    Mistake(
        name="unlabelled entries counted as negatives",
        solution_cell="masked_loss",
        code='''
def masked_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy averaged over the labelled entries only."""
    y_true = keras.ops.convert_to_tensor(y_true, dtype="float32")
    targets = keras.ops.maximum(keras.ops.nan_to_num(y_true, nan=0.0), 0.0)
    return keras.ops.mean(keras.losses.binary_crossentropy(targets, y_pred))
''',
        failing_tests=("test_masked_loss", "test_masked_loss_hidden", "test_multitask_net"),
        message="as negatives",
    ),
    Mistake(
        name="averages over all entries instead of the labelled ones",
        solution_cell="masked_loss",
        code=_LOSS_HEAD + '''
    labelled = keras.ops.logical_and(keras.ops.isfinite(y_true),
                                     keras.ops.greater_equal(keras.ops.nan_to_num(y_true, nan=-1.0), 0.0))
    target = keras.ops.where(labelled, y_true, 0.0)
    losses = -(target * keras.ops.log(p) + (1.0 - target) * keras.ops.log(1.0 - p))
    return keras.ops.mean(keras.ops.where(labelled, losses, 0.0))
''',
        failing_tests=("test_masked_loss", "test_masked_loss_hidden"),
        message="number of labelled entries",
    ),
    Mistake(
        name="masks by multiplication, so NaN labels make the loss NaN",
        solution_cell="masked_loss",
        code=_LOSS_HEAD + '''
    mask = keras.ops.cast(keras.ops.greater_equal(y_true, 0.0), "float32")
    losses = -(y_true * keras.ops.log(p) + (1.0 - y_true) * keras.ops.log(1.0 - p))
    return keras.ops.sum(losses * mask) / keras.ops.maximum(keras.ops.sum(mask), 1.0)
''',
        failing_tests=("test_masked_loss_hidden",),
        message="NaN * 0 is NaN",
    ),
    # --- 10.5 multitask_net -----------------------------------------------------------------
    Mistake(
        name="softmax output for a multi-label problem",
        solution_cell="multitask_net",
        code=_multitask(activation="softmax"),
        failing_tests=("test_multitask_net", "test_multitask_net_hidden"),
        message="sigmoid",
    ),
    Mistake(
        name="global average pooling instead of global max pooling",
        solution_cell="multitask_net",
        code=_multitask(pooling="GlobalAveragePooling2D"),
        failing_tests=("test_multitask_net", "test_multitask_net_hidden"),
        message="GlobalMaxPooling2D",
    ),
    Mistake(
        name="'same' padding in the convolutions",
        solution_cell="multitask_net",
        code=_multitask(conv_padding='padding="same", '),
        failing_tests=("test_multitask_net", "test_multitask_net_hidden"),
        message="output shape expected",
    ),
    Mistake(
        name="sigmoid outputs computing in float16 (mixed precision reaches the probabilities)",
        solution_cell="multitask_net",
        code=_multitask(dtype='dtype="mixed_float16"'),
        failing_tests=("test_multitask_net", "test_multitask_net_hidden"),
        message="computes in float16",
    ),
]
