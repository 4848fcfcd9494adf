"""Typical wrong answers for lesson 15 (Transformer and ViT).

Cascades: ``build_vit`` (exercise 15.6) calls the student's ``transformer_encoder_block``
(15.4), ``ClassToken`` and ``PositionEmbedding`` (15.5), so a wrong layer order in the block
also fails ``test_vit`` and ``test_vit_hidden`` (their layer tables), and so would a wrong
parameter count in either embedding layer, and a class token that is not at index 0
(the read-out check of 15.6 then sees the image in the head's input). A blank 15.4 or 15.5
therefore costs 15.6 too. The decoder block (15.7) is checked on its own; the dates
Transformer after it is ungraded.
The parameter-count functions of the reference solution do not call each other, so a wrong
``mha_param_count`` fails only its own checks here (a student who reuses it in
``encoder_block_param_count`` or ``vit_param_count`` would see those fail as well).
"""

from tests.mistakes import Mistake

LESSON = "15_transformer_vit"

# --- 15.1 scaled_dot_product_attention ----------------------------------------------------
_ATTENTION_HEAD = '''
def scaled_dot_product_attention(queries, keys, values):
    """Scaled dot-product attention, softmax(Q K^T / sqrt(d_k)) V, over the last two axes."""
    queries = np.asarray(queries, dtype=np.float64)
    keys = np.asarray(keys, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    d_k = queries.shape[-1]
'''

# --- 15.2 mha_param_count -----------------------------------------------------------------
_MHA_HEAD = '''
def mha_param_count(d_model, num_heads, key_dim, value_dim=None, use_bias=True):
    """Parameters of a multi-head self-attention layer (Keras' MultiHeadAttention)."""
    value_dim = key_dim if value_dim is None else value_dim
    bias = 1 if use_bias else 0
'''

# --- 15.3 positional_encoding -------------------------------------------------------------
_PE_HEAD = '''
def positional_encoding(max_len, d_model):
    """The Transformer's sinusoidal positional encoding."""
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, received {max_len}")
    if d_model < 2 or d_model % 2:
        raise ValueError(f"d_model must be a positive even number, received {d_model}")
    positions = np.arange(max_len)[:, None]
    pe = np.zeros((max_len, d_model))
'''

# --- 15.4 encoder block -------------------------------------------------------------------
_BLOCK_PRE_NORM = '''
def transformer_encoder_block(x, num_heads, key_dim, mlp_dim, name="encoder_block"):
    """A pre-norm Transformer encoder block (ViT's)."""
    d_model = x.shape[-1]
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_1")(x)
    y = layers.MultiHeadAttention(num_heads, key_dim, name=f"{name}_attention")(y, y)
    x = layers.Add(name=f"{name}_add_1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_2")(x)
    y = layers.Dense(mlp_dim, activation="{activation}", name=f"{name}_mlp_1")(y)
    y = layers.Dense(d_model, name=f"{name}_mlp_2")(y)
    return layers.Add(name=f"{name}_add_2")([x, y])
'''

_BLOCK_COUNT_OK = '''

def encoder_block_param_count(d_model, num_heads, key_dim, mlp_dim):
    """Parameters of transformer_encoder_block on tokens of width d_model."""
    heads_width = num_heads * key_dim
    attention = 3 * (d_model + 1) * heads_width + (heads_width + 1) * d_model
    mlp = (d_model + 1) * mlp_dim + (mlp_dim + 1) * d_model
    return int(4 * d_model + attention + mlp)
'''

# --- 15.5 ViT embeddings ------------------------------------------------------------------
_PATCHES_HEAD = '''
def extract_patches(images, patch_size):
    """Cut images into non-overlapping square patches and flatten each patch."""
    images = np.asarray(images)
    batch, height, width, channels = images.shape
    rows, cols = height // patch_size, width // patch_size
'''

_PATCHES_OK = _PATCHES_HEAD + '''
    grid = images.reshape(batch, rows, patch_size, cols, patch_size, channels)
    grid = grid.transpose(0, 1, 3, 2, 4, 5)
    return grid.reshape(batch, rows * cols, patch_size * patch_size * channels)
'''

_CLASS_TOKEN_HEAD = '''

class ClassToken(layers.Layer):
    """Prepend a learned class token: (batch, N, D) -> (batch, N + 1, D)."""

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros",
                                     name="token")
'''

_CLASS_TOKEN_OK = _CLASS_TOKEN_HEAD + '''
    def call(self, x):
        token = keras.ops.cast(self.token, x.dtype)
        token = keras.ops.broadcast_to(token, (keras.ops.shape(x)[0], 1, x.shape[-1]))
        return keras.ops.concatenate([token, x], axis=1)
'''

_POSITION_OK = '''

class PositionEmbedding(layers.Layer):
    """Add a learned vector per position: (batch, T, D) -> (batch, T, D)."""

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=(input_shape[1], input_shape[2]),
            initializer=keras.initializers.RandomNormal(stddev=0.02), name="embedding")

    def call(self, x):
        return x + keras.ops.cast(self.embedding, x.dtype)
'''

# --- 15.6 ViT -----------------------------------------------------------------------------
_VIT_CHECK = '''
def _check_vit_config(image_size, patch_size, hidden_dim, num_heads):
    if image_size % patch_size or hidden_dim % num_heads:
        raise ValueError(f"bad configuration: image_size={image_size}, "
                         f"patch_size={patch_size}, hidden_dim={hidden_dim}, num_heads={num_heads}")

'''


def _build_vit(embeddings='''x = ClassToken(name="class_token")(x)
    x = PositionEmbedding(name="position_embedding")(x)''', readout="x[:, 0]", head_dtype="float32",
               final_norm='layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")'):
    return '''
def build_vit(image_size, patch_size, channels, num_classes, hidden_dim, num_layers,
              num_heads, mlp_dim, name="vit"):
    """A Vision Transformer."""
    _check_vit_config(image_size, patch_size, hidden_dim, num_heads)
    num_patches = (image_size // patch_size) ** 2
    inputs = keras.Input(shape=(image_size, image_size, channels))
    x = layers.Conv2D(hidden_dim, patch_size, strides=patch_size, name="patch_embedding")(inputs)
    x = layers.Reshape((num_patches, hidden_dim), name="patch_sequence")(x)
    ''' + embeddings + '''
    for i in range(num_layers):
        x = transformer_encoder_block(x, num_heads, hidden_dim // num_heads, mlp_dim,
                                      name=f"encoder_{i}")
    x = ''' + final_norm + '''(x)
    x = ''' + readout + '''
    outputs = layers.Dense(num_classes, activation="softmax", name="head", dtype="''' + head_dtype + '''")(x)
    return keras.Model(inputs, outputs, name=name)
'''


def _vit_count(num_patches="(image_size // patch_size) ** 2",
               positions="(num_patches + 1) * hidden_dim"):
    return '''

def vit_param_count(image_size, patch_size, channels, num_classes, hidden_dim, num_layers,
                    num_heads, mlp_dim):
    """Number of parameters of build_vit with the same configuration, from the formula."""
    _check_vit_config(image_size, patch_size, hidden_dim, num_heads)
    num_patches = ''' + num_patches + '''
    patch_embedding = (patch_size * patch_size * channels + 1) * hidden_dim
    position_embedding = ''' + positions + '''
    block = (4 * hidden_dim + 4 * (hidden_dim + 1) * hidden_dim
             + (hidden_dim + 1) * mlp_dim + (mlp_dim + 1) * hidden_dim)
    return int(patch_embedding + hidden_dim + position_embedding + num_layers * block
               + 2 * hidden_dim + (hidden_dim + 1) * num_classes)
'''


_VIT_TESTS = ("test_vit", "test_vit_hidden")


# --- 15.7 decoder block -------------------------------------------------------------------
def _decoder(self_call="(y, y, use_causal_mask=True)", cross_call="(y, encoder_output)"):
    return '''
def transformer_decoder_block(x, encoder_output, num_heads, key_dim, mlp_dim, name="decoder_block"):
    """A pre-norm Transformer decoder block."""
    d_model = x.shape[-1]
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_1")(x)
    y = layers.MultiHeadAttention(num_heads, key_dim, name=f"{name}_self_attention")''' + self_call + '''
    x = layers.Add(name=f"{name}_add_1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_2")(x)
    y = layers.MultiHeadAttention(num_heads, key_dim, name=f"{name}_cross_attention")''' + cross_call + '''
    x = layers.Add(name=f"{name}_add_2")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_3")(x)
    y = layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp_1")(y)
    y = layers.Dense(d_model, name=f"{name}_mlp_2")(y)
    return layers.Add(name=f"{name}_add_3")([x, y])
'''


_DECODER_TESTS = ("test_decoder_block", "test_decoder_block_hidden")

MISTAKES = [
    # --- 15.1 scaled_dot_product_attention ------------------------------------------------
    Mistake(
        name="no 1/sqrt(d_k) scale on the scores",
        solution_cell="scaled_dot_product_attention",
        code=_ATTENTION_HEAD + '''
    scores = queries @ np.swapaxes(keys, -1, -2)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention",
                       "test_scaled_dot_product_attention_hidden"),
        message="sqrt(d_k)",
    ),
    Mistake(
        name="softmax over the queries axis instead of the keys",
        solution_cell="scaled_dot_product_attention",
        code=_ATTENTION_HEAD + '''
    scores = queries @ np.swapaxes(keys, -1, -2) / np.sqrt(d_k)
    scores = scores - scores.max(axis=-2, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-2, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention",
                       "test_scaled_dot_product_attention_hidden"),
        message="softmax over the keys",
    ),
    Mistake(
        name="softmax without subtracting the maximum (overflows on large scores)",
        solution_cell="scaled_dot_product_attention",
        code=_ATTENTION_HEAD + '''
    weights = np.exp(queries @ np.swapaxes(keys, -1, -2) / np.sqrt(d_k))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention_hidden",),
        message="NaN or infinity",
    ),
    # --- 15.2 mha_param_count -------------------------------------------------------------
    Mistake(
        name="forgets the output projection W^O",
        solution_cell="mha_param_count",
        code=_MHA_HEAD + '''
    return int((d_model + bias) * num_heads * (2 * key_dim + value_dim))
''',
        failing_tests=("test_mha_param_count", "test_mha_param_count_hidden"),
        message="output projection W^O",
    ),
    Mistake(
        name="counts the weights but not the biases",
        solution_cell="mha_param_count",
        code=_MHA_HEAD + '''
    return int(d_model * num_heads * (2 * key_dim + value_dim) + num_heads * value_dim * d_model)
''',
        failing_tests=("test_mha_param_count", "test_mha_param_count_hidden"),
        message="each with its bias",
    ),
    Mistake(
        name="assumes h * d_k = d_model: 4 (d^2 + d)",
        solution_cell="mha_param_count",
        code=_MHA_HEAD + '''
    return int(4 * (d_model * d_model + bias * d_model))
''',
        failing_tests=("test_mha_param_count", "test_mha_param_count_hidden"),
        message="Keras' weights here are",
    ),
    # --- 15.3 positional_encoding ---------------------------------------------------------
    Mistake(
        name="sin and cos swapped",
        solution_cell="positional_encoding",
        code=_PE_HEAD + '''
    angles = positions / np.power(10000.0, 2 * np.arange(d_model // 2)[None, :] / d_model)
    pe[:, 0::2] = np.cos(angles)
    pe[:, 1::2] = np.sin(angles)
    return pe
''',
        failing_tests=("test_positional_encoding", "test_positional_encoding_hidden"),
        message="sin and cos swapped",
    ),
    Mistake(
        name="exponent i/d_model instead of 2i/d_model",
        solution_cell="positional_encoding",
        code=_PE_HEAD + '''
    angles = positions / np.power(10000.0, np.arange(d_model // 2)[None, :] / d_model)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe
''',
        failing_tests=("test_positional_encoding", "test_positional_encoding_hidden"),
        message="2i/d_model",
    ),
    Mistake(
        name="each column uses its own index in the exponent (odd columns get 2i+1)",
        solution_cell="positional_encoding",
        code=_PE_HEAD + '''
    angles = positions / np.power(10000.0, np.arange(d_model)[None, :] / d_model)
    pe[:, 0::2] = np.sin(angles[:, 0::2])
    pe[:, 1::2] = np.cos(angles[:, 1::2])
    return pe
''',
        failing_tests=("test_positional_encoding", "test_positional_encoding_hidden"),
        message="share the angle",
    ),
    # --- 15.4 encoder block ---------------------------------------------------------------
    Mistake(
        name="post-norm block (LayerNorm after each residual addition, as in 2017)",
        solution_cell="encoder_block",
        code='''
def transformer_encoder_block(x, num_heads, key_dim, mlp_dim, name="encoder_block"):
    """A post-norm Transformer encoder block."""
    d_model = x.shape[-1]
    y = layers.MultiHeadAttention(num_heads, key_dim, name=f"{name}_attention")(x, x)
    x = layers.Add(name=f"{name}_add_1")([x, y])
    x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_1")(x)
    y = layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp_1")(x)
    y = layers.Dense(d_model, name=f"{name}_mlp_2")(y)
    x = layers.Add(name=f"{name}_add_2")([x, y])
    return layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_2")(x)
''' + _BLOCK_COUNT_OK,
        failing_tests=("test_encoder_block", "test_encoder_block_hidden") + _VIT_TESTS,
        message="different order",
    ),
    Mistake(
        name="ReLU in the MLP (the 2017 FFN) instead of ViT's GELU",
        solution_cell="encoder_block",
        code=_BLOCK_PRE_NORM.replace("{activation}", "relu") + _BLOCK_COUNT_OK,
        failing_tests=("test_encoder_block", "test_encoder_block_hidden"),
        message="expected 'gelu'",
    ),
    Mistake(
        name="block count forgets the LayerNorm parameters",
        solution_cell="encoder_block",
        code=_BLOCK_PRE_NORM.replace("{activation}", "gelu") + '''

def encoder_block_param_count(d_model, num_heads, key_dim, mlp_dim):
    """Parameters of transformer_encoder_block on tokens of width d_model."""
    heads_width = num_heads * key_dim
    attention = 3 * (d_model + 1) * heads_width + (heads_width + 1) * d_model
    mlp = (d_model + 1) * mlp_dim + (mlp_dim + 1) * d_model
    return int(attention + mlp)
''',
        failing_tests=("test_encoder_block", "test_encoder_block_hidden"),
        message="two LayerNorms",
    ),
    # --- 15.5 ViT embeddings --------------------------------------------------------------
    Mistake(
        name="patches by a plain reshape of the image",
        solution_cell="vit_embeddings",
        code=_PATCHES_HEAD + '''
    return images.reshape(batch, rows * cols, patch_size * patch_size * channels)
''' + _CLASS_TOKEN_OK + _POSITION_OK,
        failing_tests=("test_vit_embeddings", "test_vit_embeddings_hidden"),
        message="plain reshape",
    ),
    Mistake(
        name="patches in column order (top to bottom first)",
        solution_cell="vit_embeddings",
        code=_PATCHES_HEAD + '''
    grid = images.reshape(batch, rows, patch_size, cols, patch_size, channels)
    grid = grid.transpose(0, 3, 1, 2, 4, 5)
    return grid.reshape(batch, rows * cols, patch_size * patch_size * channels)
''' + _CLASS_TOKEN_OK + _POSITION_OK,
        failing_tests=("test_vit_embeddings", "test_vit_embeddings_hidden"),
        message="reading order",
    ),
    Mistake(
        name="class token appended at the end instead of the front",
        solution_cell="vit_embeddings",
        code=_PATCHES_OK + _CLASS_TOKEN_HEAD + '''
    def call(self, x):
        token = keras.ops.cast(self.token, x.dtype)
        token = keras.ops.broadcast_to(token, (keras.ops.shape(x)[0], 1, x.shape[-1]))
        return keras.ops.concatenate([x, token], axis=1)
''' + _POSITION_OK,
        failing_tests=("test_vit_embeddings", "test_vit_embeddings_hidden") + _VIT_TESTS,
        message="index 0",
    ),
    # --- 15.6 ViT -------------------------------------------------------------------------
    Mistake(
        name="position embeddings counted without the class token's slot (N instead of N+1)",
        solution_cell="vit",
        code=_VIT_CHECK + _build_vit() + _vit_count(positions="num_patches * hidden_dim"),
        failing_tests=_VIT_TESTS,
        message="plus one for the class token",
    ),
    Mistake(
        name="patch count S/P instead of (S/P)^2 in the formula",
        solution_cell="vit",
        code=_VIT_CHECK + _build_vit() + _vit_count(num_patches="image_size // patch_size"),
        failing_tests=_VIT_TESTS,
        message="N = (S/P)^2",
    ),
    Mistake(
        name="position embeddings added before the class token is prepended",
        solution_cell="vit",
        code=_VIT_CHECK + _build_vit(embeddings='''x = PositionEmbedding(name="position_embedding")(x)
    x = ClassToken(name="class_token")(x)''') + _vit_count(),
        failing_tests=_VIT_TESTS,
        message="different order",
    ),
    Mistake(
        name="head on the average of all tokens instead of the class token",
        solution_cell="vit",
        code=_VIT_CHECK + _build_vit(readout="keras.ops.mean(x, axis=1)") + _vit_count(),
        failing_tests=_VIT_TESTS,
        message="read out position 0",
    ),
    Mistake(
        name="head computing in float16 (mixed precision reaches the class probabilities)",
        solution_cell="vit",
        code=_VIT_CHECK + _build_vit(head_dtype="mixed_float16") + _vit_count(),
        failing_tests=_VIT_TESTS,
        message="computes in float16",
    ),
    Mistake(
        name="final LayerNormalization with Keras' default epsilon (1e-3 instead of ViT's 1e-6)",
        solution_cell="vit",
        code=_VIT_CHECK + _build_vit(final_norm='layers.LayerNormalization(name="encoder_norm")')
        + _vit_count(),
        failing_tests=_VIT_TESTS,
        message="epsilon",
    ),
    # --- 15.7 decoder block ---------------------------------------------------------------
    Mistake(
        name="self-attention without the causal mask",
        solution_cell="decoder_block",
        code=_decoder(self_call="(y, y)"),
        failing_tests=_DECODER_TESTS,
        message="use_causal_mask=True",
    ),
    Mistake(
        name="cross-attention attends to the decoder's own tokens, not the encoder output",
        solution_cell="decoder_block",
        code=_decoder(cross_call="(y, y)"),
        failing_tests=_DECODER_TESTS,
        message="encoder_output as value",
    ),
]
