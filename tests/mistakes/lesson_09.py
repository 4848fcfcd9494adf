"""Typical wrong answers for lesson 09 (practical advice: keras.applications, augmentation,
PCA colour augmentation, 10-crop testing, averaging predictions).

The exercises are independent: a wrong or blank answer fails only its own exercise's checks.
The ungraded cells after exercise 9.5 (plots, the centre/10-crop/ensemble comparison) use
the student's functions of 9.4-9.6 and simply error when those are blank; no graded cell
depends on them.
"""

from tests.mistakes import Mistake

LESSON = "09_practical_advice"

# --- 9.1 backbone_head ---------------------------------------------------------------------


def _backbone(call="backbone_fn(include_top=False, weights=weights, input_shape=input_shape)",
              pooling="layers.GlobalAveragePooling2D()(x)",
              head='layers.Dense(num_classes, activation="softmax")(x)'):
    return f'''
def build_on_backbone(backbone_fn, input_shape, num_classes, weights=None):
    """A keras.applications backbone without its top, plus a new softmax classifier."""
    backbone = {call}
    inputs = keras.Input(shape=input_shape)
    x = backbone(inputs)
    x = {pooling}
    outputs = {head}
    return keras.Model(inputs, outputs)
'''


# --- 9.2 colour_shift ----------------------------------------------------------------------

def _colour_shift(body):
    return '''
class RandomColourShift(layers.Layer):
    """Add a random offset to each colour channel of each image, in training only."""

    def __init__(self, max_delta, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_delta = float(max_delta)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
''' + body + '''
    def get_config(self):
        return {**super().get_config(), "max_delta": self.max_delta, "seed": self.seed}
'''


def _uniform(shape):
    return f'''        shape = keras.ops.shape(images)
        offsets = keras.random.uniform({shape}, minval=-self.max_delta,
                                       maxval=self.max_delta, dtype=images.dtype,
                                       seed=self.seed_generator)
        return images + offsets
'''


_IF_NOT_TRAINING = '''        if not training:
            return images
'''

# --- 9.3 rgb_pca ---------------------------------------------------------------------------

_PCA_OK = '''
def rgb_pca(images):
    """Eigen-decomposition of the covariance of the RGB values of all pixels."""
    pixels = np.asarray(images, dtype=np.float64).reshape(-1, 3)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    return eigenvalues[order], eigenvectors[:, order]
'''

_SHIFT_OK = '''

def pca_colour_shift(eigenvalues, eigenvectors, alphas):
    """AlexNet's colour shift: sum_i alphas[i] * eigenvalues[i] * eigenvectors[:, i]."""
    return np.asarray(eigenvectors) @ (np.asarray(alphas) * np.asarray(eigenvalues))
'''

# --- 9.4 ten_crops -------------------------------------------------------------------------


def _ten_crops(starts="""[(0, 0), (0, width - c), (height - c, 0), (height - c, width - c),
              ((height - c) // 2, (width - c) // 2)]""",
               mirror="crop[:, ::-1]"):
    return f'''
def ten_crops(image, crop_size):
    """The four corner crops, the centre crop and their left-right mirrors."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    c = crop_size
    starts = {starts}
    crops = [image[top:top + c, left:left + c] for top, left in starts]
    mirrors = [{mirror} for crop in crops]
    return np.stack(crops + mirrors)
'''


# --- 9.5 augmented_training ----------------------------------------------------------------

_DATASET_OK = '''
def make_train_dataset(images, labels, crop_size, batch_size, seed=0):
    """Shuffled batches of randomly cropped and mirrored training images."""
    channels = images.shape[-1]

    def augment(image, label):
        image = tf.image.random_crop(image, (crop_size, crop_size, channels))
        image = tf.image.random_flip_left_right(image)
        return image, label

    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images), seed=seed)
    dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
'''


def _classifier(augment="augmentation(inputs)", head="layers.Dense(num_classes)(x)"):
    return f'''

def build_augmented_classifier(input_shape, num_classes, augmentation):
    """A small CNN returning logits, with an augmentation block right after its input."""
    inputs = keras.Input(shape=input_shape)
    x = {augment}
    x = layers.Rescaling(2.0, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.GlobalMaxPooling2D()(x)
    outputs = {head}
    return keras.Model(inputs, outputs)
'''


# --- 9.6 average_predictions ---------------------------------------------------------------

_VIEWS_OK = '''
def predict_views(model, views):
    """Mean class probabilities of one logits model over several views of each image."""
    views = np.asarray(views, dtype=np.float32)
    n, v = views.shape[:2]
    logits = model(views.reshape(n * v, *views.shape[2:]), training=False)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
    return probabilities.reshape(n, v, -1).mean(axis=1)
'''

_ENSEMBLE_OK = '''

def ensemble_predict(models, images):
    """Mean class probabilities of several logits models on the same images."""
    images = np.asarray(images, dtype=np.float32)
    return np.mean([keras.ops.convert_to_numpy(keras.ops.softmax(m(images, training=False), axis=-1))
                    for m in models], axis=0)
'''

MISTAKES = [
    # --- 9.1 backbone_head ----------------------------------------------------------------
    Mistake(
        name="keeps ImageNet's top (include_top=True) and stacks a Dense on its 1000 outputs",
        solution_cell="backbone_head",
        code=_backbone(call="backbone_fn(include_top=True, weights=weights, input_shape=input_shape)",
                       pooling="x"),
        failing_tests=("test_backbone_head", "test_backbone_head_hidden"),
        message="include_top=False drops",
    ),
    Mistake(
        name="Flatten instead of global average pooling",
        solution_cell="backbone_head",
        code=_backbone(pooling="layers.Flatten()(x)"),
        failing_tests=("test_backbone_head", "test_backbone_head_hidden"),
        message="no GlobalAveragePooling2D",
    ),
    Mistake(
        name="weights hard-coded to None instead of passed through",
        solution_cell="backbone_head",
        code=_backbone(call="backbone_fn(include_top=False, weights=None, input_shape=input_shape)"),
        failing_tests=("test_backbone_head_hidden",),
        message="pass the weights argument through",
    ),
    Mistake(
        name="head without softmax",
        solution_cell="backbone_head",
        code=_backbone(head="layers.Dense(num_classes)(x)"),
        failing_tests=("test_backbone_head", "test_backbone_head_hidden"),
        message="activation='softmax'",
    ),
    # --- 9.2 colour_shift -----------------------------------------------------------------
    Mistake(
        name="shifts the colours at inference too (ignores training)",
        solution_cell="colour_shift",
        code=_colour_shift(_uniform("(shape[0], 1, 1, shape[-1])")),
        failing_tests=("test_colour_shift", "test_colour_shift_hidden"),
        message="return the images unchanged",
    ),
    Mistake(
        name="one offset for the whole batch",
        solution_cell="colour_shift",
        code=_colour_shift(_IF_NOT_TRAINING + _uniform("(1, 1, 1, shape[-1])")),
        failing_tests=("test_colour_shift", "test_colour_shift_hidden"),
        message="got the same offsets",
    ),
    Mistake(
        name="the same offset for every channel (a brightness change)",
        solution_cell="colour_shift",
        code=_colour_shift(_IF_NOT_TRAINING + _uniform("(shape[0], 1, 1, 1)")),
        failing_tests=("test_colour_shift", "test_colour_shift_hidden"),
        message="brightness change",
    ),
    Mistake(
        name="NumPy random numbers (frozen when the model is compiled)",
        solution_cell="colour_shift",
        code=_colour_shift(_IF_NOT_TRAINING + '''        offsets = np.random.uniform(-self.max_delta, self.max_delta,
                                    size=(images.shape[0], 1, 1, images.shape[-1]))
        return images + offsets.astype("float32")
'''),
        failing_tests=("test_colour_shift", "test_colour_shift_hidden"),
        message="use keras.random",
    ),
    # --- 9.3 rgb_pca ----------------------------------------------------------------------
    Mistake(
        name="np.cov without rowvar=False (covariance between pixels, not channels)",
        solution_cell="rgb_pca",
        code='''
def rgb_pca(images):
    """Eigen-decomposition of the covariance of the RGB values of all pixels."""
    pixels = np.asarray(images, dtype=np.float64).reshape(-1, 3)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(pixels))
    order = np.argsort(eigenvalues)[::-1]
    return eigenvalues[order], eigenvectors[:, order]
''' + _SHIFT_OK,
        failing_tests=("test_rgb_pca", "test_rgb_pca_hidden"),
        message="rowvar=False",
    ),
    Mistake(
        name="eigenvectors scaled by the standard deviations (not unit length)",
        solution_cell="rgb_pca",
        code='''
def rgb_pca(images):
    """Eigen-decomposition of the covariance of the RGB values of all pixels."""
    pixels = np.asarray(images, dtype=np.float64).reshape(-1, 3)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    return eigenvalues, eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))
''' + _SHIFT_OK,
        failing_tests=("test_rgb_pca", "test_rgb_pca_hidden"),
        message="unit length",
    ),
    Mistake(
        name="eigenvalues left in eigh's ascending order",
        solution_cell="rgb_pca",
        code='''
def rgb_pca(images):
    """Eigen-decomposition of the covariance of the RGB values of all pixels."""
    pixels = np.asarray(images, dtype=np.float64).reshape(-1, 3)
    return np.linalg.eigh(np.cov(pixels, rowvar=False))
''' + _SHIFT_OK,
        failing_tests=("test_rgb_pca", "test_rgb_pca_hidden"),
        message="largest to smallest",
    ),
    Mistake(
        name="colour shift combines the rows of the eigenvector matrix",
        solution_cell="rgb_pca",
        code=_PCA_OK + '''

def pca_colour_shift(eigenvalues, eigenvectors, alphas):
    """AlexNet's colour shift."""
    return np.asarray(eigenvectors).T @ (np.asarray(alphas) * np.asarray(eigenvalues))
''',
        failing_tests=("test_rgb_pca", "test_rgb_pca_hidden"),
        message="rows of eigenvectors",
    ),
    # --- 9.4 ten_crops --------------------------------------------------------------------
    Mistake(
        name="right and bottom crops off by one (W - c - 1)",
        solution_cell="ten_crops",
        code=_ten_crops(starts="""[(0, 0), (0, width - c - 1), (height - c - 1, 0),
              (height - c - 1, width - c - 1), ((height - c) // 2, (width - c) // 2)]"""),
        failing_tests=("test_ten_crops", "test_ten_crops_hidden"),
        message="off by one",
    ),
    Mistake(
        name="mirror forgotten (the five crops twice)",
        solution_cell="ten_crops",
        code=_ten_crops(mirror="crop"),
        failing_tests=("test_ten_crops", "test_ten_crops_hidden"),
        message="flipped left-right",
    ),
    Mistake(
        name="mirrors upside down instead of left-right",
        solution_cell="ten_crops",
        code=_ten_crops(mirror="crop[::-1]"),
        failing_tests=("test_ten_crops", "test_ten_crops_hidden"),
        message="not rows",
    ),
    Mistake(
        name="centre rounded up for odd margins",
        solution_cell="ten_crops",
        code=_ten_crops(starts="""[(0, 0), (0, width - c), (height - c, 0), (height - c, width - c),
              ((height - c + 1) // 2, (width - c + 1) // 2)]"""),
        failing_tests=("test_ten_crops_hidden",),
        message="centre at floor",
    ),
    # --- 9.5 augmented_training -----------------------------------------------------------
    Mistake(
        name="augmentation forced on with training=True inside a Lambda (runs at inference)",
        solution_cell="augmented_training",
        code=_DATASET_OK + _classifier(
            augment="layers.Lambda(lambda images: augmentation(images, training=True))(inputs)"),
        failing_tests=("test_augmented_training", "test_augmented_training_hidden"),
        message="runs at inference",
    ),
    Mistake(
        name="batch before cropping: one crop position for the whole batch",
        solution_cell="augmented_training",
        code='''
def make_train_dataset(images, labels, crop_size, batch_size, seed=0):
    """Shuffled batches of randomly cropped and mirrored training images."""
    channels = images.shape[-1]

    def augment(batch_images, batch_labels):
        size = [tf.shape(batch_images)[0], crop_size, crop_size, channels]
        batch_images = tf.image.random_crop(batch_images, size)
        return tf.image.random_flip_left_right(batch_images), batch_labels

    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images), seed=seed)
    return dataset.batch(batch_size).map(augment).prefetch(tf.data.AUTOTUNE)
''' + _classifier(),
        failing_tests=("test_augmented_training", "test_augmented_training_hidden"),
        message="cropped at the same place",
    ),
    Mistake(
        name="no shuffle",
        solution_cell="augmented_training",
        code='''
def make_train_dataset(images, labels, crop_size, batch_size, seed=0):
    """Shuffled batches of randomly cropped and mirrored training images."""
    channels = images.shape[-1]

    def augment(image, label):
        image = tf.image.random_crop(image, (crop_size, crop_size, channels))
        return tf.image.random_flip_left_right(image), label

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''' + _classifier(),
        failing_tests=("test_augmented_training", "test_augmented_training_hidden"),
        message="shuffle",
    ),
    Mistake(
        name="crops drawn once in NumPy before building the data set (same every epoch)",
        solution_cell="augmented_training",
        code='''
def make_train_dataset(images, labels, crop_size, batch_size, seed=0):
    """Shuffled batches of randomly cropped and mirrored training images."""
    rng = np.random.default_rng(seed)
    crops = []
    for image in images:
        top = rng.integers(0, images.shape[1] - crop_size + 1)
        left = rng.integers(0, images.shape[2] - crop_size + 1)
        crop = image[top:top + crop_size, left:left + crop_size]
        crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    dataset = tf.data.Dataset.from_tensor_slices((np.stack(crops), labels))
    dataset = dataset.shuffle(len(images), seed=seed)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''' + _classifier(),
        failing_tests=("test_augmented_training", "test_augmented_training_hidden"),
        message="two epochs gave exactly the same crops",
    ),
    # --- 9.6 average_predictions ----------------------------------------------------------
    Mistake(
        name="averages the logits, then one softmax",
        solution_cell="average_predictions",
        code='''
def predict_views(model, views):
    """Mean class probabilities of one logits model over several views of each image."""
    views = np.asarray(views, dtype=np.float32)
    n, v = views.shape[:2]
    logits = keras.ops.convert_to_numpy(model(views.reshape(n * v, *views.shape[2:]), training=False))
    mean_logits = logits.reshape(n, v, -1).mean(axis=1)
    return keras.ops.convert_to_numpy(keras.ops.softmax(mean_logits, axis=-1))


def ensemble_predict(models, images):
    """Mean class probabilities of several logits models on the same images."""
    images = np.asarray(images, dtype=np.float32)
    mean_logits = np.mean([keras.ops.convert_to_numpy(m(images, training=False)) for m in models], axis=0)
    return keras.ops.convert_to_numpy(keras.ops.softmax(mean_logits, axis=-1))
''',
        failing_tests=("test_average_predictions", "test_average_predictions_hidden"),
        message="averaged the logits",
    ),
    Mistake(
        name="returns the mean logits (no softmax)",
        solution_cell="average_predictions",
        code='''
def predict_views(model, views):
    """Mean class probabilities of one logits model over several views of each image."""
    views = np.asarray(views, dtype=np.float32)
    n, v = views.shape[:2]
    logits = keras.ops.convert_to_numpy(model(views.reshape(n * v, *views.shape[2:]), training=False))
    return logits.reshape(n, v, -1).mean(axis=1)
''' + _ENSEMBLE_OK,
        failing_tests=("test_average_predictions", "test_average_predictions_hidden"),
        message="return probabilities",
    ),
    Mistake(
        name="mean over the images instead of over the views",
        solution_cell="average_predictions",
        code='''
def predict_views(model, views):
    """Mean class probabilities of one logits model over several views of each image."""
    views = np.asarray(views, dtype=np.float32)
    n, v = views.shape[:2]
    logits = model(views.reshape(n * v, *views.shape[2:]), training=False)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
    return probabilities.reshape(n, v, -1).mean(axis=0)
''' + _ENSEMBLE_OK,
        failing_tests=("test_average_predictions", "test_average_predictions_hidden"),
        message="average over the views axis",
    ),
    Mistake(
        name="ensemble: softmax over the batch axis",
        solution_cell="average_predictions",
        code=_VIEWS_OK + '''

def ensemble_predict(models, images):
    """Mean class probabilities of several logits models on the same images."""
    images = np.asarray(images, dtype=np.float32)
    return np.mean([keras.ops.convert_to_numpy(keras.ops.softmax(m(images, training=False), axis=0))
                    for m in models], axis=0)
''',
        failing_tests=("test_average_predictions", "test_average_predictions_hidden"),
        message="rows do not sum to 1",
    ),
]
