"""Typical wrong answers for lesson 11 (end-to-end learning vs a hand-designed pipeline).

Cascade: exercise 11.5 (``measure_tradeoff``) runs the whole experiment with the student's
generator (11.1), locator (11.2), crops (11.3) and models (11.4), so a mistake that breaks
the pipeline also fails ``test_measure_tradeoff`` and ``test_measure_tradeoff_hidden``:

- a generator without the channel axis makes ``locate`` raise (no measurement at all);
- a locator that returns window centres makes ``crop_patches`` raise near the border;
- crops cut at (col, row) leave the pipeline near chance.

Typed-in curves pass the trade-off's margins but not the runs the checks add where the
answer is known (test labels shuffled: chance; no glare: a pipeline near 1.0).

Mistakes that leave the pipeline working (an off-by-one in the range of the shape's or the
glare's position, float64 images, a hidden layer without ReLU, 'same' padding in the
end-to-end network) fail only their own exercise: the measurement still shows the trade-off
with its margins.
"""

from tests.mistakes import Mistake

LESSON = "11_end_to_end"

_CASCADE = ("test_measure_tradeoff", "test_measure_tradeoff_hidden")


def _dataset(positions_high="image_size - SHAPE_SIZE + 1",
             glare_high="image_size - GLARE_SIZE + 1",
             result='images[..., None].astype("float32"), labels, positions'):
    return f'''
def make_shapes_dataset(num_images, image_size=16, noise_std=0.1, glare_prob=0.4, seed=0):
    """Images with one 5x5 shape at a random position, noise and (sometimes) a glare spot."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, size=num_images)
    positions = rng.integers(0, {positions_high}, size=(num_images, 2))
    has_glare = rng.random(num_images) < glare_prob
    glare_positions = rng.integers(0, {glare_high}, size=(num_images, 2))
    images = rng.normal(0.0, noise_std, size=(num_images, image_size, image_size))
    for i in range(num_images):
        row, col = positions[i]
        images[i, row:row + SHAPE_SIZE, col:col + SHAPE_SIZE] += SHAPE_TEMPLATES[labels[i]]
        if has_glare[i]:
            row, col = glare_positions[i]
            images[i, row:row + GLARE_SIZE, col:col + GLARE_SIZE] += GLARE_VALUE
    return {result}
'''


_CROP_CLASSIFIER_OK = '''
def build_crop_classifier(crop_size=SHAPE_SIZE, num_classes=NUM_CLASSES, hidden_units=16):
    """The pipeline's classifier: Input(crop) -> Flatten -> Dense(relu) -> Dense(softmax)."""
    inputs = keras.Input(shape=(crop_size, crop_size, 1))
    x = layers.Flatten()(inputs)
    x = layers.Dense(hidden_units, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)
'''

_END_TO_END_OK = '''

def build_end_to_end(image_size=IMAGE_SIZE, num_classes=NUM_CLASSES, num_filters=8):
    """One network from the whole image to the class."""
    inputs = keras.Input(shape=(image_size, image_size, 1))
    x = layers.Conv2D(num_filters, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)
'''


def _measure(slice_="train_images[:n], train_labels[:n]", metric="val_accuracy"):
    return f'''
def measure_tradeoff(train_images, train_labels, test_images, test_labels, train_sizes, seed=0):
    """Test accuracy of the pipeline and of the end-to-end network for several training sizes."""
    test_crops = crop_patches(test_images, locate(test_images))
    results = {{"pipeline": [], "end_to_end": []}}
    for n in train_sizes:
        images, labels = {slice_}
        keras.utils.set_random_seed(seed)
        history = train_classifier(build_crop_classifier(), crop_patches(images, locate(images)),
                                   labels, validation_data=(test_crops, test_labels))
        results["pipeline"].append(float(history.history["{metric}"][-1]))
        keras.utils.set_random_seed(seed)
        history = train_classifier(build_end_to_end(train_images.shape[1]), images, labels,
                                   validation_data=(test_images, test_labels))
        results["end_to_end"].append(float(history.history["{metric}"][-1]))
    return results
'''


MISTAKES = [
    # --- 11.1 shapes_dataset ----------------------------------------------------------------
    Mistake(
        name="positions drawn with rng.integers(0, image_size - 5): the last position never occurs",
        solution_cell="shapes_dataset",
        code=_dataset(positions_high="image_size - SHAPE_SIZE"),
        failing_tests=("test_shapes_dataset", "test_shapes_dataset_hidden"),
        message="inclusive",
    ),
    Mistake(
        name="glare corners drawn with rng.integers(0, image_size - 3): no glare on the last row "
             "or column",
        solution_cell="shapes_dataset",
        code=_dataset(glare_high="image_size - GLARE_SIZE"),
        failing_tests=("test_shapes_dataset_hidden",),
        message="glare spots' top-left corners",
    ),
    Mistake(
        name="images left in float64 (NumPy's default)",
        solution_cell="shapes_dataset",
        code=_dataset(result='images[..., None], labels, positions'),
        failing_tests=("test_shapes_dataset",),
        message="float32",
    ),
    Mistake(
        name="images without the channel axis (N, n, n)",
        solution_cell="shapes_dataset",
        code=_dataset(result='images.astype("float32"), labels, positions'),
        failing_tests=("test_shapes_dataset", "test_shapes_dataset_hidden") + _CASCADE,
        message="one channel at the end",
    ),
    # --- 11.2 locate --------------------------------------------------------------------------
    Mistake(
        name="box filter with 'same' padding: returns the centre of the best window, not its top-left corner",
        solution_cell="locate",
        code='''
def locate(images, window=SHAPE_SIZE):
    """Top-left corner of the brightest window x window patch of each image."""
    images = np.asarray(images, dtype="float32")
    box = np.ones((window, window, 1, 1), dtype="float32")
    sums = tf.nn.conv2d(images, box, strides=1, padding="SAME").numpy()[..., 0]
    best = sums.reshape(len(images), -1).argmax(axis=1)
    rows, cols = np.unravel_index(best, sums.shape[1:])
    return np.stack([rows, cols], axis=1)
''',
        failing_tests=("test_locate", "test_locate_hidden") + _CASCADE,
        message="centres of the best windows",
    ),
    Mistake(
        name="argmax over single pixels, no box filter",
        solution_cell="locate",
        code='''
def locate(images, window=SHAPE_SIZE):
    """Top-left corner of the brightest window x window patch of each image."""
    images = np.asarray(images, dtype="float32")[..., 0]
    best = images.reshape(len(images), -1).argmax(axis=1)
    rows, cols = np.unravel_index(best, images.shape[1:])
    return np.stack([rows, cols], axis=1)
''',
        failing_tests=("test_locate", "test_locate_hidden") + _CASCADE,
        message="box filter",
    ),
    # --- 11.3 crop_patches --------------------------------------------------------------------
    Mistake(
        name="crops cut at (col, row)",
        solution_cell="crop_patches",
        code='''
def crop_patches(images, positions, size=SHAPE_SIZE):
    """Cut one size x size patch per image at the given top-left corners."""
    return np.stack([image[col:col + size, row:row + size]
                     for image, (row, col) in zip(images, positions)])
''',
        failing_tests=("test_crop_patches", "test_crop_patches_hidden") + _CASCADE,
        message="rows come first",
    ),
    # --- 11.4 learners ------------------------------------------------------------------------
    Mistake(
        name="hidden Dense layer of the crop classifier without ReLU",
        solution_cell="learners",
        code='''
def build_crop_classifier(crop_size=SHAPE_SIZE, num_classes=NUM_CLASSES, hidden_units=16):
    """The pipeline's classifier."""
    inputs = keras.Input(shape=(crop_size, crop_size, 1))
    x = layers.Flatten()(inputs)
    x = layers.Dense(hidden_units)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)
''' + _END_TO_END_OK,
        failing_tests=("test_learners", "test_learners_hidden"),
        message="expected 'relu', got 'linear'",
    ),
    Mistake(
        name="'same' padding in the end-to-end network's convolution",
        solution_cell="learners",
        code=_CROP_CLASSIFIER_OK + '''

def build_end_to_end(image_size=IMAGE_SIZE, num_classes=NUM_CLASSES, num_filters=8):
    """One network from the whole image to the class."""
    inputs = keras.Input(shape=(image_size, image_size, 1))
    x = layers.Conv2D(num_filters, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)
''',
        failing_tests=("test_learners", "test_learners_hidden"),
        message="'valid' vs 'same'",
    ),
    # --- 11.5 measure_tradeoff ----------------------------------------------------------------
    Mistake(
        name="trains on the whole training set at every size (forgets [:n])",
        solution_cell="measure_tradeoff",
        code=_measure(slice_="train_images, train_labels"),
        failing_tests=_CASCADE,
        message="first n images only",
    ),
    Mistake(
        name="reports training accuracy instead of test (validation) accuracy",
        solution_cell="measure_tradeoff",
        code=_measure(metric="accuracy"),
        failing_tests=_CASCADE,
        message="val_accuracy",
    ),
    Mistake(
        name="typed-in curves: plausible numbers per size instead of measured accuracies",
        solution_cell="measure_tradeoff",
        code='''
def measure_tradeoff(train_images, train_labels, test_images, test_labels, train_sizes, seed=0):
    """Test accuracy of the pipeline and of the end-to-end network for several training sizes."""
    typed = {30: (0.70, 0.27), 300: (0.71, 0.68), 1000: (0.72, 0.85), 3000: (0.72, 0.93)}
    return {"pipeline": [typed.get(n, (0.72, 0.6))[0] for n in train_sizes],
            "end_to_end": [typed.get(n, (0.72, 0.6))[1] for n in train_sizes]}
''',
        failing_tests=_CASCADE,
        message="must be measured, not typed in",
    ),
]
