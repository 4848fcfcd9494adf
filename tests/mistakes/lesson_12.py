"""Typical wrong answers for lesson 12 (semantic segmentation with FCN).

Exercises 12.1, 12.2, 12.4 and 12.5 are independent. Exercise 12.6 trains the FCN of
exercise 12.3, so both FCN mistakes also fail ``test_train_fcn`` and
``test_train_fcn_hidden``: an FCN that cannot be built (a skip connection added before
upsampling) leaves nothing to train, and a softmax over the height axis trains to a mean IoU
of about 0.37 (floor 0.80).
"""

from tests.mistakes import Mistake

LESSON = "12_fcn_segmentation"

_TRAIN_TESTS = ("test_train_fcn", "test_train_fcn_hidden")

_KERAS_SIZE_OK = '''

def keras_transposed_output_size(n, f, s, padding, output_padding=None):
    """Output side of keras.layers.Conv2DTranspose."""
    if output_padding is None:
        return n * s if padding == "same" else n * s + max(f - s, 0)
    p = f // 2 if padding == "same" else 0
    return transposed_output_size(n, f, s, p, output_padding)
'''

_TRANSPOSE_HEAD = '''
def conv_transpose_2d(x, kernel, stride=1):
    """Transposed convolution of one image, 'valid' padding, no bias."""
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    height, width, _ = x.shape
    f, c_out = kernel.shape[0], kernel.shape[2]
    y = np.zeros(((height - 1) * stride + f, (width - 1) * stride + f, c_out))
    for i in range(height):
        for j in range(width):
'''


def _fcn(first_merge, softmax="layers.Softmax(axis=-1)"):
    return f'''
def build_fcn(backbone, num_classes):
    """FCN head with two skip connections on a three-stage backbone."""
    stride_2, stride_4, stride_8 = backbone.outputs
    x = layers.Conv2D(num_classes, 1, name="score_8")(stride_8)
{first_merge}
    x = layers.Conv2DTranspose(num_classes, 4, strides=2, padding="same", name="up_4_to_2")(x)
    x = layers.Add(name="skip_2")([x, layers.Conv2D(num_classes, 1, name="score_2")(stride_2)])
    x = layers.Conv2DTranspose(num_classes, 4, strides=2, padding="same", name="up_2_to_1")(x)
    outputs = {softmax[:-1]}, name="softmax")(x)
    return keras.Model(backbone.input, outputs)
'''


_UPSAMPLE_THEN_ADD = '''    x = layers.Conv2DTranspose(num_classes, 4, strides=2, padding="same", name="up_8_to_4")(x)
    x = layers.Add(name="skip_4")([x, layers.Conv2D(num_classes, 1, name="score_4")(stride_4)])'''

_ADD_THEN_UPSAMPLE = '''    x = layers.Add(name="skip_4")([x, layers.Conv2D(num_classes, 1, name="score_4")(stride_4)])
    x = layers.Conv2DTranspose(num_classes, 4, strides=2, padding="same", name="up_8_to_4")(x)'''


def _train(fit_arguments):
    return f'''
def train_fcn(model, train_data, validation_data, num_classes, num_epochs, batch_size, learning_rate):
    """Compile (Adam, per-pixel sparse cross-entropy, mean IoU) and fit a segmentation model."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy",
                  metrics=[keras.metrics.MeanIoU(num_classes, sparse_y_pred=False, name="mean_iou")])
    images, masks = train_data
    return model.fit(images, masks, {fit_arguments}, verbose=0)
'''


MISTAKES = [
    # --- 12.1 output_size ---------------------------------------------------------------------
    Mistake(
        name="stride multiplies n instead of n - 1: n * s - 2p + f",
        solution_cell="output_size",
        code='''
def transposed_output_size(n, f, s, p=0, output_padding=0):
    """Output side of a transposed convolution."""
    return n * s - 2 * p + f + output_padding
''' + _KERAS_SIZE_OK,
        failing_tests=("test_output_size", "test_output_size_hidden"),
        message="(n - 1) * s",
    ),
    Mistake(
        name="'same' without output_padding treated as p = f // 2 in the formula",
        solution_cell="output_size",
        code='''
def transposed_output_size(n, f, s, p=0, output_padding=0):
    """Output side of a transposed convolution."""
    return (n - 1) * s - 2 * p + f + output_padding


def keras_transposed_output_size(n, f, s, padding, output_padding=None):
    """Output side of keras.layers.Conv2DTranspose."""
    p = f // 2 if padding == "same" else 0
    return transposed_output_size(n, f, s, p, output_padding or 0)
''',
        failing_tests=("test_output_size", "test_output_size_hidden"),
        message="n * s for 'same'",
    ),
    # --- 12.2 conv_transpose ------------------------------------------------------------------
    Mistake(
        name="kernel rotated by 180 degrees in the scatter form",
        solution_cell="conv_transpose",
        code=_TRANSPOSE_HEAD + '''            y[i * stride:i * stride + f, j * stride:j * stride + f, :] += kernel[::-1, ::-1] @ x[i, j]
    return y
''',
        failing_tests=("test_conv_transpose", "test_conv_transpose_hidden"),
        message="rotated by 180 degrees",
    ),
    Mistake(
        name="kernel read as (f, f, C_in, C_out), the Conv2D layout",
        solution_cell="conv_transpose",
        code=_TRANSPOSE_HEAD + '''            y[i * stride:i * stride + f, j * stride:j * stride + f, :] += np.tensordot(
                x[i, j], kernel, axes=([0], [2]))
    return y
''',
        failing_tests=("test_conv_transpose", "test_conv_transpose_hidden"),
        message="(f, f, C_out, C_in)",
    ),
    Mistake(
        name="copies placed at (i, j) instead of (i * s, j * s)",
        solution_cell="conv_transpose",
        code=_TRANSPOSE_HEAD + '''            y[i:i + f, j:j + f, :] += kernel @ x[i, j]
    return y
''',
        failing_tests=("test_conv_transpose", "test_conv_transpose_hidden"),
        message="(i * s, j * s)",
    ),
    # --- 12.3 fcn -----------------------------------------------------------------------------
    Mistake(
        name="skip connection added before upsampling (4x4 + 8x8)",
        solution_cell="fcn",
        code=_fcn(_ADD_THEN_UPSAMPLE),
        failing_tests=("test_fcn", "test_fcn_hidden") + _TRAIN_TESTS,
        message="upsample the coarser score map",
    ),
    Mistake(
        name="ReLU on the 1x1 scoring convolutions (the scores are logits)",
        solution_cell="fcn",
        code=_fcn(_UPSAMPLE_THEN_ADD).replace('1, name="score_', '1, activation="relu", name="score_'),
        failing_tests=("test_fcn", "test_fcn_hidden"),
        message="activation expected 'linear', got 'relu'",
    ),
    Mistake(
        name="softmax over the height axis (axis=1) instead of the classes",
        solution_cell="fcn",
        code=_fcn(_UPSAMPLE_THEN_ADD, softmax="layers.Softmax(axis=1)"),
        failing_tests=("test_fcn", "test_fcn_hidden") + _TRAIN_TESTS,
        message="softmax over the class axis",
    ),
    Mistake(
        name="softmax computing in float16 (mixed precision reaches the probabilities)",
        solution_cell="fcn",
        code=_fcn(_UPSAMPLE_THEN_ADD, softmax='layers.Softmax(axis=-1, dtype="mixed_float16")'),
        failing_tests=("test_fcn", "test_fcn_hidden"),
        message="computes in float16",
    ),
    # --- 12.4 pixel_loss ----------------------------------------------------------------------
    Mistake(
        name="log-softmax over axis 1 (rows) instead of the class axis",
        solution_cell="pixel_loss",
        code='''
def pixel_cross_entropy(labels, logits):
    """Mean per-pixel cross-entropy."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.take_along_axis(log_p, np.asarray(labels)[..., None], axis=-1).mean())
''',
        failing_tests=("test_pixel_loss", "test_pixel_loss_hidden"),
        message="normalise over the class axis",
    ),
    Mistake(
        name="sums the per-pixel losses instead of averaging them",
        solution_cell="pixel_loss",
        code='''
def pixel_cross_entropy(labels, logits):
    """Mean per-pixel cross-entropy."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, np.asarray(labels)[..., None], axis=-1).sum())
''',
        failing_tests=("test_pixel_loss", "test_pixel_loss_hidden"),
        message="average them over all",
    ),
    # --- 12.5 mean_iou ------------------------------------------------------------------------
    Mistake(
        name="averages over the classes present in the ground truth only",
        solution_cell="mean_iou",
        code='''
def mean_iou(y_true, y_pred, num_classes):
    """Mean IoU over the classes of the truth."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    ious = [np.sum((y_true == k) & (y_pred == k)) / np.sum((y_true == k) | (y_pred == k))
            for k in range(num_classes) if np.any(y_true == k)]
    return float(np.mean(ious))
''',
        failing_tests=("test_mean_iou", "test_mean_iou_hidden"),
        message="predicted but not in the truth",
    ),
    Mistake(
        name="divides by num_classes (classes absent from both count as 0)",
        solution_cell="mean_iou",
        code='''
def mean_iou(y_true, y_pred, num_classes):
    """Mean IoU over all classes."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    total = 0.0
    for k in range(num_classes):
        union = np.sum((y_true == k) | (y_pred == k))
        if union > 0:
            total += np.sum((y_true == k) & (y_pred == k)) / union
    return float(total / num_classes)
''',
        failing_tests=("test_mean_iou", "test_mean_iou_hidden"),
        message="absent from both",
    ),
    # --- 12.6 train_fcn -----------------------------------------------------------------------
    Mistake(
        name="fit without validation_data (no val_mean_iou)",
        solution_cell="train_fcn",
        code=_train("batch_size=batch_size, epochs=num_epochs"),
        failing_tests=("test_train_fcn",),
        message="pass validation_data to fit",
    ),
    Mistake(
        name="forgets epochs=num_epochs (fit trains one epoch)",
        solution_cell="train_fcn",
        code=_train("batch_size=batch_size, validation_data=validation_data"),
        failing_tests=("test_train_fcn",),
        message="epochs=num_epochs",
    ),
    Mistake(
        name="fits on the training and the validation images (the validation score leaks)",
        solution_cell="train_fcn",
        code=_train("batch_size=batch_size, epochs=num_epochs, validation_data=validation_data").replace(
            "model.fit(images, masks,",
            "model.fit(np.concatenate([images, validation_data[0]]), "
            "np.concatenate([masks, validation_data[1]]),"),
        failing_tests=("test_train_fcn",),
        message="no test or validation data added",
    ),
]
