"""Typical wrong answers for lesson 02 (padding and stride).

The exercises are independent: every graded cell calls only its own exercise's function,
so a mistake fails only that exercise's checks (no cascade to list).
"""

from tests.mistakes import Mistake

LESSON = "02_padding_stride"

MISTAKES = [
    # ------------------------------------------------------------------ 2.1 conv_output_size
    Mistake(
        name="output size without the +1",
        solution_cell="conv_output_size",
        code='''def conv_output_size(n, f, p=0, s=1):
    """Number of outputs along one axis of a convolution."""
    if n < 1 or f < 1 or p < 0 or s < 1 or f > n + 2 * p:
        raise ValueError(f"bad sizes: n={n}, f={f}, p={p}, s={s}")
    return (n + 2 * p - f) // s
''',
        failing_tests=("test_conv_output_size", "test_conv_output_size_hidden"),
        message="the +1",
    ),
    Mistake(
        name="rounds up instead of down",
        solution_cell="conv_output_size",
        code='''import math


def conv_output_size(n, f, p=0, s=1):
    """Number of outputs along one axis of a convolution."""
    if n < 1 or f < 1 or p < 0 or s < 1 or f > n + 2 * p:
        raise ValueError(f"bad sizes: n={n}, f={f}, p={p}, s={s}")
    return math.ceil((n + 2 * p - f) / s) + 1
''',
        failing_tests=("test_conv_output_size", "test_conv_output_size_hidden"),
        message="round down",
    ),
    Mistake(
        name="padding counted on one side only",
        solution_cell="conv_output_size",
        code='''def conv_output_size(n, f, p=0, s=1):
    """Number of outputs along one axis of a convolution."""
    if n < 1 or f < 1 or p < 0 or s < 1 or f > n + 2 * p:
        raise ValueError(f"bad sizes: n={n}, f={f}, p={p}, s={s}")
    return (n + p - f) // s + 1
''',
        failing_tests=("test_conv_output_size", "test_conv_output_size_hidden"),
        message="on each side",
    ),
    Mistake(
        name="a stride of 0 accepted",
        solution_cell="conv_output_size",
        code='''def conv_output_size(n, f, p=0, s=1):
    """Number of outputs along one axis of a convolution."""
    if n < 1 or f < 1 or p < 0 or s < 0 or f > n + 2 * p:
        raise ValueError(f"bad sizes: n={n}, f={f}, p={p}, s={s}")
    return (n + 2 * p - f) // s + 1
''',
        failing_tests=("test_conv_output_size_hidden",),
        message="should raise ValueError",
    ),
    Mistake(
        name="no ValueError when the filter does not fit",
        solution_cell="conv_output_size",
        code='''def conv_output_size(n, f, p=0, s=1):
    """Number of outputs along one axis of a convolution."""
    return (n + 2 * p - f) // s + 1
''',
        failing_tests=("test_conv_output_size", "test_conv_output_size_hidden"),
        message="should raise ValueError",
    ),
    # ------------------------------------------------------------------ 2.2 same_padding
    Mistake(
        name="p = f / 2 (true division)",
        solution_cell="same_padding",
        code='''def same_padding(f):
    """Zero padding on each side that keeps the size of a stride-1 convolution."""
    if f % 2 == 0:
        raise ValueError(f"f must be odd, received {f}")
    return f / 2
''',
        failing_tests=("test_same_padding", "test_same_padding_hidden"),
        message="p = (f - 1) / 2",
    ),
    Mistake(
        name="p = f - 1 (all the padding on each side)",
        solution_cell="same_padding",
        code='''def same_padding(f):
    """Zero padding on each side that keeps the size of a stride-1 convolution."""
    if f % 2 == 0:
        raise ValueError(f"f must be odd, received {f}")
    return f - 1
''',
        failing_tests=("test_same_padding", "test_same_padding_hidden"),
        message="p = (f - 1) / 2",
    ),
    Mistake(
        name="f // 2 without rejecting even filters",
        solution_cell="same_padding",
        code='''def same_padding(f):
    """Zero padding on each side that keeps the size of a stride-1 convolution."""
    return f // 2
''',
        failing_tests=("test_same_padding", "test_same_padding_hidden"),
        message="should raise ValueError",
    ),
    # ------------------------------------------------------------------ 2.3 zero_pad
    Mistake(
        name="pads only after (bottom and right)",
        solution_cell="zero_pad",
        code='''def zero_pad(image, p):
    """Surround a 2-D image with p rows/columns of zeros on every side."""
    image = np.asarray(image)
    return np.pad(image, ((0, p), (0, p)))
''',
        failing_tests=("test_zero_pad", "test_zero_pad_hidden"),
        message="grows by 2p",
    ),
    Mistake(
        name="pads with edge values instead of zeros",
        solution_cell="zero_pad",
        code='''def zero_pad(image, p):
    """Surround a 2-D image with p rows/columns of zeros on every side."""
    image = np.asarray(image)
    return np.pad(image, p, mode="edge")
''',
        failing_tests=("test_zero_pad", "test_zero_pad_hidden"),
        message="zeros all around",
    ),
    Mistake(
        name="copies the image into the top-left corner",
        solution_cell="zero_pad",
        code='''def zero_pad(image, p):
    """Surround a 2-D image with p rows/columns of zeros on every side."""
    image = np.asarray(image)
    n_h, n_w = image.shape
    padded = np.zeros((n_h + 2 * p, n_w + 2 * p), dtype=image.dtype)
    padded[:n_h, :n_w] = image
    return padded
''',
        failing_tests=("test_zero_pad", "test_zero_pad_hidden"),
        message="in the middle",
    ),
    # ------------------------------------------------------------------ 2.4 conv2d_strided
    Mistake(
        name="stride used for the output size but not for the window position",
        solution_cell="conv2d_strided",
        code='''def conv2d_strided(image, kernel, stride=1, padding=0):
    """Strided 2-D cross-correlation of one image with one kernel, after zero padding."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    padded = np.pad(image, padding)
    f_h, f_w = kernel.shape
    out_h = (padded.shape[0] - f_h) // stride + 1
    out_w = (padded.shape[1] - f_w) // stride + 1
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            output[i, j] = np.sum(padded[i:i + f_h, j:j + f_w] * kernel)
    return output
''',
        failing_tests=("test_conv2d_strided", "test_conv2d_strided_hidden"),
        message="row i*s, column j*s",
    ),
    Mistake(
        name="forgets to pad the image",
        solution_cell="conv2d_strided",
        code='''def conv2d_strided(image, kernel, stride=1, padding=0):
    """Strided 2-D cross-correlation of one image with one kernel, after zero padding."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    f_h, f_w = kernel.shape
    out_h = (image.shape[0] - f_h) // stride + 1
    out_w = (image.shape[1] - f_w) // stride + 1
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = image[i * stride:i * stride + f_h, j * stride:j * stride + f_w]
            output[i, j] = np.sum(window * kernel)
    return output
''',
        failing_tests=("test_conv2d_strided", "test_conv2d_strided_hidden"),
        message="floor((n + 2p - f) / s) + 1",
    ),
    Mistake(
        name="flips the kernel (true convolution instead of cross-correlation)",
        solution_cell="conv2d_strided",
        code='''def conv2d_strided(image, kernel, stride=1, padding=0):
    """Strided 2-D cross-correlation of one image with one kernel, after zero padding."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)[::-1, ::-1]
    padded = np.pad(image, padding)
    f_h, f_w = kernel.shape
    out_h = (padded.shape[0] - f_h) // stride + 1
    out_w = (padded.shape[1] - f_w) // stride + 1
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            output[i, j] = np.sum(padded[top:top + f_h, left:left + f_w] * kernel)
    return output
''',
        failing_tests=("test_conv2d_strided", "test_conv2d_strided_hidden"),
        message="the kernel is not flipped",
    ),
    # ------------------------------------------------------------------ 2.5 keras_output_shape
    Mistake(
        name="'same' keeps the input size even with a stride",
        solution_cell="keras_output_shape",
        code='''def keras_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid"):
    """Output shape of keras.layers.Conv2D, predicted by arithmetic."""
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    strides = (strides, strides) if isinstance(strides, int) else tuple(strides)
    sides = []
    for n, f, s in zip(input_shape[:2], kernel_size, strides):
        sides.append(n if padding == "same" else (n - f) // s + 1)
    return (sides[0], sides[1], filters)
''',
        failing_tests=("test_keras_output_shape", "test_keras_output_shape_hidden"),
        message="'same' gives ceil(n / s)",
    ),
    Mistake(
        name="'same' rounds n / s down",
        solution_cell="keras_output_shape",
        code='''def keras_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid"):
    """Output shape of keras.layers.Conv2D, predicted by arithmetic."""
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    strides = (strides, strides) if isinstance(strides, int) else tuple(strides)
    sides = []
    for n, f, s in zip(input_shape[:2], kernel_size, strides):
        sides.append(n // s if padding == "same" else (n - f) // s + 1)
    return (sides[0], sides[1], filters)
''',
        failing_tests=("test_keras_output_shape", "test_keras_output_shape_hidden"),
        message="'same' gives ceil(n / s)",
    ),
    Mistake(
        name="keeps the input channels instead of the number of filters",
        solution_cell="keras_output_shape",
        code='''import math


def keras_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid"):
    """Output shape of keras.layers.Conv2D, predicted by arithmetic."""
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    strides = (strides, strides) if isinstance(strides, int) else tuple(strides)
    sides = []
    for n, f, s in zip(input_shape[:2], kernel_size, strides):
        sides.append(math.ceil(n / s) if padding == "same" else (n - f) // s + 1)
    return (sides[0], sides[1], input_shape[2])
''',
        failing_tests=("test_keras_output_shape", "test_keras_output_shape_hidden"),
        message="the last axis is the number of filters",
    ),
    # ------------------------------------------------------------------ 2.6 convolve2d
    Mistake(
        name="no flip (computes cross-correlation)",
        solution_cell="convolve2d",
        code='''def convolve2d(image, kernel):
    """Mathematical 2-D convolution ('valid', stride 1)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    f_h, f_w = kernel.shape
    output = np.zeros((image.shape[0] - f_h + 1, image.shape[1] - f_w + 1))
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            output[i, j] = np.sum(image[i:i + f_h, j:j + f_w] * kernel)
    return output
''',
        failing_tests=("test_convolve2d", "test_convolve2d_hidden"),
        message="180 degrees",
    ),
    Mistake(
        name="flips the rows only",
        solution_cell="convolve2d",
        code='''def convolve2d(image, kernel):
    """Mathematical 2-D convolution ('valid', stride 1)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)[::-1]
    f_h, f_w = kernel.shape
    output = np.zeros((image.shape[0] - f_h + 1, image.shape[1] - f_w + 1))
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            output[i, j] = np.sum(image[i:i + f_h, j:j + f_w] * kernel)
    return output
''',
        failing_tests=("test_convolve2d", "test_convolve2d_hidden"),
        message="rows AND its columns",
    ),
]
