"""Typical wrong answers for lesson 13 (recurrent networks: RNN cell, GRU/LSTM counts,
padding and masking, a GRU classifier).

The exercises are independent: the solutions do not call each other and the training data
come from a helper cell, so a wrong or blank answer fails only its own exercise's checks
(no cascade). A student who calls their own rnn_cell_forward inside rnn_forward carries a
mistake of 13.1 into 13.2, which is the natural behaviour.
"""

from tests.mistakes import Mistake

LESSON = "13_recurrent_networks"

_CELL_HEAD = '''
def rnn_cell_forward(x_t, h_prev, w_xh, w_hh, b_h, activation=np.tanh):
    """One step of a simple recurrent cell: H_t = phi(X_t W_xh + H_{t-1} W_hh + b_h)."""
    x_t, h_prev = np.asarray(x_t, dtype=np.float64), np.asarray(h_prev, dtype=np.float64)
    w_xh, w_hh = np.asarray(w_xh, dtype=np.float64), np.asarray(w_hh, dtype=np.float64)
    b_h = np.asarray(b_h, dtype=np.float64)
'''

_FORWARD_HEAD = '''
def rnn_forward(x, h0, w_xh, w_hh, b_h, activation=np.tanh):
    """Run a simple recurrent cell over every step of a batch of sequences."""
    x, h0 = np.asarray(x, dtype=np.float64), np.asarray(h0, dtype=np.float64)
    w_xh, w_hh = np.asarray(w_xh, dtype=np.float64), np.asarray(w_hh, dtype=np.float64)
    b_h = np.asarray(b_h, dtype=np.float64)
    batch_size, seq_len, _ = x.shape
    units = w_xh.shape[1]
'''

_SIMPLE_OK = '''
def simple_rnn_param_count(units, input_dim):
    """Number of parameters of a SimpleRNN layer."""
    return int(input_dim * units + units * units + units)
'''

_GRU_OK = '''

def gru_param_count(units, input_dim, reset_after=True):
    """Number of parameters of a GRU layer."""
    biases_per_block = 2 if reset_after else 1
    return int(3 * (input_dim * units + units * units + biases_per_block * units))
'''

_LSTM_OK = '''

def lstm_param_count(units, input_dim):
    """Number of parameters of an LSTM layer."""
    return int(4 * (input_dim * units + units * units + units))
'''

_PAD_HEAD = '''
def pad_batch(sequences, max_len=None, value=0):
    """Pad and truncate token sequences into one array, with a mask."""
    sequences = [np.asarray(sequence, dtype=np.int64).ravel() for sequence in sequences]
    if max_len is None:
        max_len = max(len(sequence) for sequence in sequences)
'''

_MASKED_HEAD = '''
def masked_rnn_forward(x, mask, h0, w_xh, w_hh, b_h):
    """A tanh recurrent cell over a padded batch: masked steps keep the previous state."""
    x, h0 = np.asarray(x, dtype=np.float64), np.asarray(h0, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    w_xh, w_hh = np.asarray(w_xh, dtype=np.float64), np.asarray(w_hh, dtype=np.float64)
    b_h = np.asarray(b_h, dtype=np.float64)
    batch_size, seq_len, _ = x.shape
    units = w_xh.shape[1]
    states = np.zeros((batch_size, seq_len, units))
    h = h0
'''


def _classifier(embedding="layers.Embedding(vocab_size, embedding_dim, mask_zero=True)",
                recurrent="layers.GRU(units)",
                dense='layers.Dense(num_classes, activation="softmax")'):
    return f'''
def build_sequence_classifier(vocab_size, num_classes, embedding_dim=8, units=16):
    """Input(int ids) -> Embedding(mask_zero) -> GRU -> Dense(softmax)."""
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = {embedding}(inputs)
    x = {recurrent}(x)
    outputs = {dense}(x)
    return keras.Model(inputs, outputs)
'''


MISTAKES = [
    # --- 13.1 rnn_cell_forward ------------------------------------------------------------
    Mistake(
        name="W_hh transposed (H_{t-1} W_hh^T)",
        solution_cell="rnn_cell_forward",
        code=_CELL_HEAD + '''
    return activation(x_t @ w_xh + h_prev @ w_hh.T + b_h)
''',
        failing_tests=("test_rnn_cell_forward", "test_rnn_cell_forward_hidden"),
        message="uses W_hh transposed",
    ),
    Mistake(
        name="no activation (tanh missing)",
        solution_cell="rnn_cell_forward",
        code=_CELL_HEAD + '''
    return x_t @ w_xh + h_prev @ w_hh + b_h
''',
        failing_tests=("test_rnn_cell_forward", "test_rnn_cell_forward_hidden"),
        message="apply the activation phi",
    ),
    Mistake(
        name="tanh hard-coded, the activation argument ignored",
        solution_cell="rnn_cell_forward",
        code=_CELL_HEAD + '''
    return np.tanh(x_t @ w_xh + h_prev @ w_hh + b_h)
''',
        failing_tests=("test_rnn_cell_forward_hidden",),
        message="apply the function passed as activation",
    ),
    # --- 13.2 rnn_forward -----------------------------------------------------------------
    Mistake(
        name="returns only the last state",
        solution_cell="rnn_forward",
        code=_FORWARD_HEAD + '''
    h = h0
    for t in range(seq_len):
        h = activation(x[:, t, :] @ w_xh + h @ w_hh + b_h)
    return h
''',
        failing_tests=("test_rnn_forward", "test_rnn_forward_hidden"),
        message="every time step",
    ),
    Mistake(
        name="starts from zeros instead of h0",
        solution_cell="rnn_forward",
        code=_FORWARD_HEAD + '''
    states = np.zeros((batch_size, seq_len, units))
    h = np.zeros((batch_size, units))
    for t in range(seq_len):
        h = activation(x[:, t, :] @ w_xh + h @ w_hh + b_h)
        states[:, t, :] = h
    return states
''',
        failing_tests=("test_rnn_forward", "test_rnn_forward_hidden"),
        message="ignores h0",
    ),
    Mistake(
        name="W_hh transposed in the loop",
        solution_cell="rnn_forward",
        code=_FORWARD_HEAD + '''
    states = np.zeros((batch_size, seq_len, units))
    h = h0
    for t in range(seq_len):
        h = activation(x[:, t, :] @ w_xh + h @ w_hh.T + b_h)
        states[:, t, :] = h
    return states
''',
        failing_tests=("test_rnn_forward", "test_rnn_forward_hidden"),
        message="uses W_hh transposed",
    ),
    # --- 13.3 recurrent_param_counts ------------------------------------------------------
    Mistake(
        name="LSTM counted with 3 blocks like a GRU",
        solution_cell="recurrent_param_counts",
        code=_SIMPLE_OK + _GRU_OK + '''

def lstm_param_count(units, input_dim):
    """Number of parameters of an LSTM layer."""
    return int(3 * (input_dim * units + units * units + units))
''',
        failing_tests=("test_recurrent_param_counts", "test_recurrent_param_counts_hidden"),
        message="an LSTM has 4 blocks",
    ),
    Mistake(
        name="reset_after's second bias forgotten (18,624 instead of 18,816)",
        solution_cell="recurrent_param_counts",
        code=_SIMPLE_OK + '''

def gru_param_count(units, input_dim, reset_after=True):
    """Number of parameters of a GRU layer."""
    return int(3 * (input_dim * units + units * units + units))
''' + _LSTM_OK,
        failing_tests=("test_recurrent_param_counts", "test_recurrent_param_counts_hidden"),
        message="second, recurrent bias",
    ),
    Mistake(
        name="SimpleRNN without the recurrent weights W_hh",
        solution_cell="recurrent_param_counts",
        code='''
def simple_rnn_param_count(units, input_dim):
    """Number of parameters of a SimpleRNN layer."""
    return int(input_dim * units + units)
''' + _GRU_OK + _LSTM_OK,
        failing_tests=("test_recurrent_param_counts", "test_recurrent_param_counts_hidden"),
        message="W_hh (units x units)",
    ),
    # --- 13.4 pad_batch -------------------------------------------------------------------
    Mistake(
        name="pads at the front (pre-padding)",
        solution_cell="pad_batch",
        code=_PAD_HEAD + '''
    padded = np.full((len(sequences), max_len), value, dtype=np.int64)
    mask = np.zeros((len(sequences), max_len), dtype=bool)
    for row, sequence in enumerate(sequences):
        kept = sequence[:max_len]
        padded[row, max_len - len(kept):] = kept
        mask[row, max_len - len(kept):] = True
    return padded, mask
''',
        failing_tests=("test_pad_batch", "test_pad_batch_hidden"),
        message="pads at the front",
    ),
    Mistake(
        name="keras.utils.pad_sequences with padding='post' but its default truncating='pre'",
        solution_cell="pad_batch",
        code=_PAD_HEAD + '''
    padded = keras.utils.pad_sequences(sequences, maxlen=max_len, padding="post",
                                       value=value).astype(np.int64)
    lengths = np.array([min(len(sequence), max_len) for sequence in sequences])
    mask = np.arange(max_len)[None, :] < lengths[:, None]
    return padded, mask
''',
        failing_tests=("test_pad_batch_hidden",),
        message="keeps its first max_len tokens",
    ),
    Mistake(
        name="mask inverted (True on the padding, PyTorch's key_padding_mask convention)",
        solution_cell="pad_batch",
        code=_PAD_HEAD + '''
    padded = np.full((len(sequences), max_len), value, dtype=np.int64)
    mask = np.ones((len(sequences), max_len), dtype=bool)
    for row, sequence in enumerate(sequences):
        kept = sequence[:max_len]
        padded[row, :len(kept)] = kept
        mask[row, :len(kept)] = False
    return padded, mask
''',
        failing_tests=("test_pad_batch", "test_pad_batch_hidden"),
        message="the mask is inverted",
    ),
    # --- 13.5 masked_rnn_forward ----------------------------------------------------------
    Mistake(
        name="mask ignored",
        solution_cell="masked_rnn_forward",
        code=_MASKED_HEAD + '''
    for t in range(seq_len):
        h = np.tanh(x[:, t, :] @ w_xh + h @ w_hh + b_h)
        states[:, t, :] = h
    return states
''',
        failing_tests=("test_masked_rnn_forward", "test_masked_rnn_forward_hidden"),
        message="ignores the mask",
    ),
    Mistake(
        name="state set to zero at padded steps",
        solution_cell="masked_rnn_forward",
        code=_MASKED_HEAD + '''
    for t in range(seq_len):
        h = np.tanh(x[:, t, :] @ w_xh + h @ w_hh + b_h) * mask[:, t, None]
        states[:, t, :] = h
    return states
''',
        failing_tests=("test_masked_rnn_forward", "test_masked_rnn_forward_hidden"),
        message="copy the previous state unchanged",
    ),
    Mistake(
        name="only the inputs are masked (x * mask), the state still updates",
        solution_cell="masked_rnn_forward",
        code=_MASKED_HEAD + '''
    x = x * mask[:, :, None]
    for t in range(seq_len):
        h = np.tanh(x[:, t, :] @ w_xh + h @ w_hh + b_h)
        states[:, t, :] = h
    return states
''',
        failing_tests=("test_masked_rnn_forward", "test_masked_rnn_forward_hidden"),
        message="copy the previous state unchanged",
    ),
    # --- 13.6 sequence_classifier ---------------------------------------------------------
    Mistake(
        name="Embedding without mask_zero: the GRU reads the padding",
        solution_cell="sequence_classifier",
        code=_classifier(embedding="layers.Embedding(vocab_size, embedding_dim)"),
        failing_tests=("test_sequence_classifier", "test_sequence_classifier_hidden"),
        message="mask_zero=True",
    ),
    Mistake(
        name="GRU with return_sequences=True (a prediction per step)",
        solution_cell="sequence_classifier",
        code=_classifier(recurrent="layers.GRU(units, return_sequences=True)"),
        failing_tests=("test_sequence_classifier", "test_sequence_classifier_hidden"),
        message="output shape expected",
    ),
    Mistake(
        name="no softmax on the output layer",
        solution_cell="sequence_classifier",
        code=_classifier(dense="layers.Dense(num_classes)"),
        failing_tests=("test_sequence_classifier", "test_sequence_classifier_hidden"),
        message="expected 'softmax'",
    ),
]
