"""Typical wrong answers for lesson 01 (edge detection).

Cascade (natural, by design): ``edge_magnitude`` is built on ``conv2d_valid``, so a
``conv2d_valid`` with the wrong output size also fails ``test_edge_magnitude`` and
``test_edge_magnitude_hidden`` (listed below). A flipped kernel does *not* cascade: every
edge filter satisfies K[::-1, ::-1] == -K, so the magnitude is unchanged (the lesson says so).
``edge_filter`` and ``learn_filter`` are checked independently of the other exercises.

The helpers the checks call (``reference_correlate``, ``check_feature_map``, ...) are locked
cells: a student's redefinition changes neither what nbgrader restores nor what the judge runs.
"""

from tests.mistakes import Mistake

LESSON = "01_edge_detection"

def _learn_filter(doc, learning_rate=2.0, num_steps=300, update="assign_sub",
                  recorded="float(loss)", returned="kernel.numpy()[:, :, 0, 0]"):
    """learn_filter's training loop with one thing changed: the step size, the update, the loss
    recorded after each step or the value returned."""
    return f'''
LEARNING_RATE = {learning_rate}
NUM_STEPS = {num_steps}


def learn_filter(x, y, learning_rate=LEARNING_RATE, num_steps=NUM_STEPS, seed=0):
    """{doc}"""
    x = tf.constant(x, dtype=tf.float32)
    y = tf.constant(y, dtype=tf.float32)
    f = x.shape[1] - y.shape[1] + 1
    if f < 1:
        raise ValueError(f"y {{y.shape}} is larger than x {{x.shape}}")
    kernel = tf.Variable(tf.random.stateless_normal((f, f, 1, 1), seed=(seed, 0), stddev=0.1))
    losses = []
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.nn.conv2d(x, kernel, 1, "VALID") - y))
        kernel.{update}(learning_rate * tape.gradient(loss, kernel))
        losses.append({recorded})
    return {returned}, losses
'''


MISTAKES = [
    Mistake(
        name="true convolution: kernel flipped",
        solution_cell="conv2d_valid",
        code='''
def conv2d_valid(image, kernel):
    """Convolution as in the signal-processing textbook (flips the kernel)."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)[::-1, ::-1]
    n_h, n_w = image.shape
    f_h, f_w = kernel.shape
    out = np.zeros((n_h - f_h + 1, n_w - f_w + 1))
    for i in range(n_h - f_h + 1):
        for j in range(n_w - f_w + 1):
            out[i, j] = np.sum(image[i:i + f_h, j:j + f_w] * kernel)
    return out
''',
        failing_tests=("test_conv2d_valid", "test_conv2d_valid_hidden"),
        message="result of the flipped kernel",
    ),
    Mistake(
        name="flipped kernel, and the check it fails redefined to pass everything",
        solution_cell="conv2d_valid",
        code='''
def conv2d_valid(image, kernel):
    """Convolution as in the signal-processing textbook (flips the kernel)."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)[::-1, ::-1]
    n_h, n_w = image.shape
    f_h, f_w = kernel.shape
    return np.array([[np.sum(image[i:i + f_h, j:j + f_w] * kernel) for j in range(n_w - f_w + 1)]
                     for i in range(n_h - f_h + 1)])


def check_feature_map(result, image, kernel, what):
    """Redefined by the student: accepts anything."""
''',
        failing_tests=("test_conv2d_valid", "test_conv2d_valid_hidden"),
        message="result of the flipped kernel",
    ),
    Mistake(
        name="output size n - f instead of n - f + 1",
        solution_cell="conv2d_valid",
        code='''
def conv2d_valid(image, kernel):
    """Off by one: the last filter position is forgotten."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    n_h, n_w = image.shape
    f_h, f_w = kernel.shape
    out = np.zeros((n_h - f_h, n_w - f_w))
    for i in range(n_h - f_h):
        for j in range(n_w - f_w):
            out[i, j] = np.sum(image[i:i + f_h, j:j + f_w] * kernel)
    return out
''',
        failing_tests=("test_conv2d_valid", "test_conv2d_valid_hidden",
                       "test_edge_magnitude", "test_edge_magnitude_hidden"),
        message="n - f + 1",
    ),
    Mistake(
        name="transposed Sobel/Scharr (vertical and horizontal swapped)",
        solution_cell="edge_filter",
        code='''
def edge_filter(kind="basic", orientation="vertical"):
    """Sobel and Scharr typed row-wise: they come out as horizontal-edge filters."""
    filters = {
        "basic": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float),
        "sobel": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float),
        "scharr": np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], dtype=float),
    }
    if kind not in filters or orientation not in ("vertical", "horizontal"):
        raise ValueError(f"unknown kind {kind!r} or orientation {orientation!r}")
    kernel = filters[kind]
    return kernel if orientation == "vertical" else kernel.T
''',
        failing_tests=("test_edge_filter", "test_edge_filter_hidden"),
        message="transposed",
    ),
    Mistake(
        name="opposite sign convention (-1, 0, 1)",
        solution_cell="edge_filter",
        code='''
def edge_filter(kind="basic", orientation="vertical"):
    """The derivative convention (negative column first): positive on dark-to-light."""
    weights = {"basic": (1, 1), "sobel": (1, 2), "scharr": (3, 10)}
    if kind not in weights or orientation not in ("vertical", "horizontal"):
        raise ValueError(f"unknown kind {kind!r} or orientation {orientation!r}")
    outer, centre = weights[kind]
    kernel = np.outer([outer, centre, outer], [-1.0, 0.0, 1.0])
    return kernel if orientation == "vertical" else kernel.T
''',
        failing_tests=("test_edge_filter", "test_edge_filter_hidden"),
        message="the sign is reversed",
    ),
    Mistake(
        name="magnitude without the square root",
        solution_cell="edge_magnitude",
        code='''
def edge_magnitude(image, kernel):
    """Forgets the square root."""
    kernel = np.asarray(kernel, dtype=float)
    g_x = conv2d_valid(image, kernel)
    g_y = conv2d_valid(image, kernel.T)
    return g_x ** 2 + g_y ** 2
''',
        failing_tests=("test_edge_magnitude", "test_edge_magnitude_hidden"),
        message="take the square root",
    ),
    Mistake(
        name="same filter for both directions (no transpose)",
        solution_cell="edge_magnitude",
        code='''
def edge_magnitude(image, kernel):
    """Uses the vertical filter twice."""
    g_x = conv2d_valid(image, kernel)
    g_y = conv2d_valid(image, kernel)
    return np.sqrt(g_x ** 2 + g_y ** 2)
''',
        failing_tests=("test_edge_magnitude", "test_edge_magnitude_hidden"),
        message="transposed filter kernel.T",
    ),
    Mistake(
        name="no check that the kernel is square: a 3x2 filter on a 3x3 image broadcasts",
        solution_cell="edge_magnitude",
        code='''
def edge_magnitude(image, kernel):
    """Trusts the kernel to be square."""
    kernel = np.asarray(kernel, dtype=float)
    g_x = conv2d_valid(image, kernel)
    g_y = conv2d_valid(image, kernel.T)
    return np.sqrt(g_x ** 2 + g_y ** 2)
''',
        failing_tests=("test_edge_magnitude_hidden",),
        message="G_x and G_y broadcast together",
    ),
    Mistake(
        name="learning rate too small for the number of steps",
        solution_cell="learn_filter",
        code=_learn_filter("Plain gradient descent, but far too timid to converge.",
                           learning_rate=0.01, num_steps=100),
        failing_tests=("test_learn_filter", "test_learn_filter_hidden"),
        message="has not converged",
    ),
    Mistake(
        name="gradient ascent (adds the gradient)",
        solution_cell="learn_filter",
        code=_learn_filter("Moves the kernel up the gradient: the loss explodes.",
                           update="assign_add"),
        failing_tests=("test_learn_filter", "test_learn_filter_hidden"),
        message="diverged",
    ),
    Mistake(
        name="returns the 4-D Conv2D kernel",
        solution_cell="learn_filter",
        code=_learn_filter("Right training loop, but returns the (f, f, 1, 1) variable's values.",
                           returned="kernel.numpy()"),
        failing_tests=("test_learn_filter", "test_learn_filter_hidden"),
        message="kernel[:, :, 0, 0]",
    ),
    Mistake(
        name="each loss measured after its update (the list runs one step late)",
        solution_cell="learn_filter",
        code=_learn_filter(
            "Right updates, but each loss is measured after its update.",
            recorded='float(tf.reduce_mean(tf.square(tf.nn.conv2d(x, kernel, 1, "VALID") - y)))'),
        failing_tests=("test_learn_filter_hidden",),
        message="before each update",
    ),
]
