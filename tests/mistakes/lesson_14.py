"""Typical wrong answers for lesson 14 (sequence to sequence and attention).

The exercises are independent: greedy_decode is checked on toy models, and the date
translator's checks decode with their own loop, so a wrong or blank answer fails only its
own exercise's checks. (The ungraded cells after 14.4, the exact-match printout and the
attention heat map, call the student's greedy_decode and stop with an error while 14.3 is
blank; that costs no points.) 14.5's checks build the student's variants untrained and read
only the data cells, so they do not depend on 14.3 or 14.4 either; the comparison after them
(ungraded) needs 14.3, 14.4 and 14.5.
"""

from tests.mistakes import Mistake

LESSON = "14_seq2seq_attention"

_SCALED_HEAD = '''
def scaled_dot_product_attention(queries, keys, values, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V for a batch, with an optional mask."""
    queries, keys = np.asarray(queries, dtype=np.float64), np.asarray(keys, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim == 2:
            mask = mask[:, None, :]
    key_dim = queries.shape[-1]
'''

_ADDITIVE_HEAD = '''
def additive_attention(queries, keys, values, w_q, w_k, w_v, mask=None):
    """Bahdanau attention: scores w_v . tanh(q W_q + k W_k), masked softmax over the keys."""
    queries, keys = np.asarray(queries, dtype=np.float64), np.asarray(keys, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    w_q, w_k, w_v = (np.asarray(w, dtype=np.float64) for w in (w_q, w_k, w_v))
'''

_GREEDY_HEAD = '''
def greedy_decode(model, source, start_id, output_len):
    """Decode a batch greedily: feed back the most probable token, one step at a time."""
    source = np.asarray(source)
'''


def _translator(source_embedding="layers.Embedding(source_vocab_size, embedding_dim, "
                                 "mask_zero=True)",
                dense='layers.Dense(target_vocab_size, activation="softmax")',
                exposed="weights", decoder_call="(y, initial_state=encoder_last)"):
    return f'''
def build_date_translator(source_vocab_size, target_vocab_size, embedding_dim=16, units=32):
    """A GRU encoder-decoder with dot-product attention, and a model exposing its weights."""
    source = keras.Input(shape=(None,), dtype="int32")
    decoder_input = keras.Input(shape=(None,), dtype="int32")
    x = {source_embedding}(source)
    encoder_states, encoder_last = layers.GRU(units, return_sequences=True, return_state=True)(x)
    y = layers.Embedding(target_vocab_size, embedding_dim)(decoder_input)
    decoder_states = layers.GRU(units, return_sequences=True){decoder_call}
    context, weights = layers.Attention()([decoder_states, encoder_states],
                                          return_attention_scores=True)
    merged = layers.Concatenate()([decoder_states, context])
    probabilities = {dense}(merged)
    model = keras.Model([source, decoder_input], probabilities)
    attention_model = keras.Model([source, decoder_input], {exposed})
    return model, attention_model
'''


_VARIANTS = '''
def build_translator_variant(source_vocab_size, target_vocab_size, attention, embedding_dim=16,
                             units=32):
    """The date translator with dot-product, additive (Bahdanau) or no attention."""
    source = keras.Input(shape=(None,), dtype="int32")
    decoder_input = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True)(source)
    encoder_states, encoder_last = layers.GRU(units, return_sequences=True, return_state=True)(x)
    y = layers.Embedding(target_vocab_size, embedding_dim)(decoder_input)
    decoder_states = layers.GRU(units, return_sequences=True)(y, initial_state=encoder_last)
    if attention is None:
        merged = decoder_states
    else:
        if attention == "dot":
            context = layers.Attention()([decoder_states, encoder_states])
        else:
            query = layers.Dense(units, use_bias=False)(decoder_states)
            key = layers.Dense(units, use_bias=False)(encoder_states)
            context = layers.AdditiveAttention(use_scale=True)([query, encoder_states, key])
        merged = layers.Concatenate()([decoder_states, context])
    probabilities = layers.Dense(target_vocab_size, activation="softmax", dtype="float32")(merged)
    return keras.Model([source, decoder_input], probabilities)
'''


_VARIANT_TESTS = ("test_translator_variants", "test_translator_variants_hidden")


MISTAKES = [
    # --- 14.1 scaled_dot_product_attention ------------------------------------------------
    Mistake(
        name="no scaling by sqrt(d_k)",
        solution_cell="scaled_dot_product_attention",
        code=_SCALED_HEAD + '''
    scores = queries @ keys.transpose(0, 2, 1)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention",
                       "test_scaled_dot_product_attention_hidden"),
        message="divide the scores by sqrt(d_k)",
    ),
    Mistake(
        name="mask applied after the softmax (weights zeroed, not renormalised)",
        solution_cell="scaled_dot_product_attention",
        code=_SCALED_HEAD + '''
    scores = queries @ keys.transpose(0, 2, 1) / np.sqrt(key_dim)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = weights * mask
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention",
                       "test_scaled_dot_product_attention_hidden"),
        message="apply the mask before the softmax",
    ),
    Mistake(
        name="softmax over the queries axis instead of the keys",
        solution_cell="scaled_dot_product_attention",
        code=_SCALED_HEAD + '''
    scores = queries @ keys.transpose(0, 2, 1) / np.sqrt(key_dim)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = weights / weights.sum(axis=1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention",
                       "test_scaled_dot_product_attention_hidden"),
        message="softmax over the keys axis",
    ),
    Mistake(
        name="softmax without subtracting the maximum score (overflows on large scores)",
        solution_cell="scaled_dot_product_attention",
        code=_SCALED_HEAD + '''
    scores = queries @ keys.transpose(0, 2, 1) / np.sqrt(key_dim)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention_hidden",),
        message="subtract each row's maximum score",
    ),
    Mistake(
        name="maximum subtracted before masking (a masked key's score can be the largest)",
        solution_cell="scaled_dot_product_attention",
        code=_SCALED_HEAD + '''
    scores = queries @ keys.transpose(0, 2, 1) / np.sqrt(key_dim)
    scores = scores - scores.max(axis=-1, keepdims=True)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_scaled_dot_product_attention_hidden",),
        message="after masking",
    ),
    # --- 14.2 additive_attention ----------------------------------------------------------
    Mistake(
        name="tanh missing in the score network",
        solution_cell="additive_attention",
        code=_ADDITIVE_HEAD + '''
    scores = ((queries @ w_q)[:, :, None, :] + (keys @ w_k)[:, None, :, :]) @ w_v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_additive_attention", "test_additive_attention_hidden"),
        message="forgets the tanh",
    ),
    Mistake(
        name="softmax over the queries axis",
        solution_cell="additive_attention",
        code=_ADDITIVE_HEAD + '''
    scores = np.tanh((queries @ w_q)[:, :, None, :] + (keys @ w_k)[:, None, :, :]) @ w_v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = weights / weights.sum(axis=1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_additive_attention", "test_additive_attention_hidden"),
        message="softmax over the keys axis",
    ),
    Mistake(
        name="masked scores set to 0 (scores * mask) instead of -1e9",
        solution_cell="additive_attention",
        code=_ADDITIVE_HEAD + '''
    scores = np.tanh((queries @ w_q)[:, :, None, :] + (keys @ w_k)[:, None, :, :]) @ w_v
    if mask is not None:
        scores = scores * mask[:, None, :]
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_additive_attention", "test_additive_attention_hidden"),
        message="-1e9 before the softmax",
    ),
    Mistake(
        name="softmax without subtracting the maximum score (overflows on large scores)",
        solution_cell="additive_attention",
        code=_ADDITIVE_HEAD + '''
    scores = np.tanh((queries @ w_q)[:, :, None, :] + (keys @ w_k)[:, None, :, :]) @ w_v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
''',
        failing_tests=("test_additive_attention_hidden",),
        message="subtract each row's maximum score",
    ),
    # --- 14.3 greedy_decode ---------------------------------------------------------------
    Mistake(
        name="reads the first position's distribution at every step",
        solution_cell="greedy_decode",
        code=_GREEDY_HEAD + '''
    decoder_input = np.full((source.shape[0], 1), start_id, dtype=np.int32)
    for _ in range(output_len):
        probabilities = np.asarray(model([source, decoder_input]))
        next_token = np.argmax(probabilities[:, 0, :], axis=-1).astype(np.int32)
        decoder_input = np.concatenate([decoder_input, next_token[:, None]], axis=1)
    return decoder_input[:, 1:]
''',
        failing_tests=("test_greedy_decode", "test_greedy_decode_hidden"),
        message="repeats the first prediction",
    ),
    Mistake(
        name="returns the start token too",
        solution_cell="greedy_decode",
        code=_GREEDY_HEAD + '''
    decoder_input = np.full((source.shape[0], 1), start_id, dtype=np.int32)
    for _ in range(output_len):
        probabilities = np.asarray(model([source, decoder_input]))
        next_token = np.argmax(probabilities[:, -1, :], axis=-1).astype(np.int32)
        decoder_input = np.concatenate([decoder_input, next_token[:, None]], axis=1)
    return decoder_input
''',
        failing_tests=("test_greedy_decode", "test_greedy_decode_hidden"),
        message="without the start token",
    ),
    Mistake(
        name="one call on a decoder input of start tokens, no feedback",
        solution_cell="greedy_decode",
        code=_GREEDY_HEAD + '''
    decoder_input = np.full((source.shape[0], output_len), start_id, dtype=np.int32)
    probabilities = np.asarray(model([source, decoder_input]))
    return np.argmax(probabilities, axis=-1)
''',
        failing_tests=("test_greedy_decode", "test_greedy_decode_hidden"),
        message="feed each prediction back",
    ),
    # --- 14.4 date_translator -------------------------------------------------------------
    Mistake(
        name="source Embedding without mask_zero: attention on the padding",
        solution_cell="date_translator",
        code=_translator(source_embedding="layers.Embedding(source_vocab_size, embedding_dim)"),
        failing_tests=("test_date_translator", "test_date_translator_hidden"),
        message="mask_zero=True",
    ),
    Mistake(
        name="attention_model returns the context instead of the weights",
        solution_cell="date_translator",
        code=_translator(exposed="context"),
        failing_tests=("test_date_translator", "test_date_translator_hidden"),
        message="return_attention_scores=True",
    ),
    Mistake(
        name="no softmax on the output layer",
        solution_cell="date_translator",
        code=_translator(dense="layers.Dense(target_vocab_size)"),
        failing_tests=("test_date_translator", "test_date_translator_hidden"),
        message="expected 'softmax'",
    ),
    Mistake(
        name="decoder GRU without initial_state: it ignores the encoder's state",
        solution_cell="date_translator",
        code=_translator(decoder_call="(y)"),
        failing_tests=("test_date_translator", "test_date_translator_hidden"),
        message="does not start from the encoder's state",
    ),
    # --- 14.5 translator_variants ---------------------------------------------------------
    Mistake(
        name="additive attention on the raw states, without Bahdanau's W_q and W_k",
        solution_cell="translator_variants",
        code=_VARIANTS.replace('''            query = layers.Dense(units, use_bias=False)(decoder_states)
            key = layers.Dense(units, use_bias=False)(encoder_states)
            context = layers.AdditiveAttention(use_scale=True)([query, encoder_states, key])''',
                               '''            context = layers.AdditiveAttention(use_scale=True)([decoder_states, encoder_states])'''),
        failing_tests=_VARIANT_TESTS,
        message="Dense(units, use_bias=False)",
    ),
    Mistake(
        name="no-attention variant keeps a Concatenate of the decoder states with themselves",
        solution_cell="translator_variants",
        code=_VARIANTS.replace("        merged = decoder_states\n",
                               "        merged = layers.Concatenate()([decoder_states, decoder_states])\n"),
        failing_tests=_VARIANT_TESTS,
        message="no attention layer and no Concatenate",
    ),
    Mistake(
        name="additive attention averages the projected keys instead of the encoder states",
        solution_cell="translator_variants",
        code=_VARIANTS.replace("layers.AdditiveAttention(use_scale=True)([query, encoder_states, key])",
                               "layers.AdditiveAttention(use_scale=True)([query, key])"),
        failing_tests=_VARIANT_TESTS,
        message="layers read",
    ),
    Mistake(
        name="Concatenate of [context, decoder_states]: the softmax reads the halves swapped",
        solution_cell="translator_variants",
        code=_VARIANTS.replace("layers.Concatenate()([decoder_states, context])",
                               "layers.Concatenate()([context, decoder_states])"),
        failing_tests=_VARIANT_TESTS,
        message="[decoder_states, context]",
    ),
    Mistake(
        name="softmax Dense of the variants in float16 (mixed precision reaches the output)",
        solution_cell="translator_variants",
        code=_VARIANTS.replace('activation="softmax", dtype="float32"',
                               'activation="softmax", dtype="mixed_float16"'),
        failing_tests=_VARIANT_TESTS,
        message="computes in float16",
    ),
]
