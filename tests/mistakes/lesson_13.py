"""Typical wrong answers for lesson 13 (recurrent networks: RNN cell, GRU/LSTM counts,
LSTM and GRU steps, padding and masking, a GRU classifier, the length experiment).

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


_LSTM_HEAD = '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """One LSTM step with Keras' weight layout (blocks i, f, c~, o side by side)."""
    x_t, h_prev, c_prev = (np.asarray(a, dtype=np.float64) for a in (x_t, h_prev, c_prev))
    kernel, recurrent_kernel, bias = (np.asarray(a, dtype=np.float64)
                                      for a in (kernel, recurrent_kernel, bias))
    units = h_prev.shape[1]

    def block(k):
        cols = slice(k * units, (k + 1) * units)
        return x_t @ kernel[:, cols] + h_prev @ recurrent_kernel[:, cols] + bias[cols]
'''

_GRU_HEAD = '''
def gru_step(x_t, h_prev, kernel, recurrent_kernel, bias, reset_after=True):
    """One GRU step with Keras' weight layout (blocks z, r, h~ side by side)."""
    x_t, h_prev = np.asarray(x_t, dtype=np.float64), np.asarray(h_prev, dtype=np.float64)
    kernel, recurrent_kernel, bias = (np.asarray(a, dtype=np.float64)
                                      for a in (kernel, recurrent_kernel, bias))
    units = h_prev.shape[1]
    cols = [slice(k * units, (k + 1) * units) for k in range(3)]
'''

_GRU_BIASES = '''
    if reset_after:
        input_bias, recurrent_bias = bias[0], bias[1]
    else:
        input_bias, recurrent_bias = bias, np.zeros(3 * units)
'''

_GRU_GATES = '''
    def from_input(k):
        return x_t @ kernel[:, cols[k]] + input_bias[cols[k]]

    def from_state(k, state):
        return state @ recurrent_kernel[:, cols[k]] + recurrent_bias[cols[k]]

    update_gate = sigmoid(from_input(0) + from_state(0, h_prev))
    reset_gate = sigmoid(from_input(1) + from_state(1, h_prev))
'''

_GRU_CANDIDATE = '''
    if reset_after:
        candidate = np.tanh(from_input(2) + reset_gate * from_state(2, h_prev))
    else:
        candidate = np.tanh(from_input(2) + from_state(2, reset_gate * h_prev))
'''


def _length_experiment(layer="RECURRENT_LAYERS[cell_name](units)", accuracy="model.evaluate(x_test, y_test, verbose=0)[1]"):
    return f'''
def length_experiment(cell_name, lengths, num_train, num_test, epochs, units=16, seed=0):
    """Train one fresh model of a recurrent cell type per sequence length on the adding problem."""
    accuracies, models = {{}}, {{}}
    for length in lengths:
        keras.utils.set_random_seed(seed)
        x_train, y_train = make_adding_data(num_train, length, seed=seed)
        x_test, y_test = make_adding_data(num_test, length, seed=seed + 1)
        model = keras.Sequential([keras.Input(shape=(length, 2)), {layer},
                                  layers.Dense(2, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=ADDING_LEARNING_RATE),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=ADDING_BATCH_SIZE, epochs=epochs, verbose=0)
        accuracies[length] = float({accuracy})
        models[length] = model
    return accuracies, models
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
    # --- 13.4 lstm_step -------------------------------------------------------------------
    Mistake(
        name="LSTM blocks read as i, f, o, c~ (gates first, candidate last)",
        solution_cell="lstm_step",
        code=_LSTM_HEAD + '''
    input_gate, forget_gate = sigmoid(block(0)), sigmoid(block(1))
    output_gate, candidate = sigmoid(block(2)), np.tanh(block(3))
    c_t = forget_gate * c_prev + input_gate * candidate
    return output_gate * np.tanh(c_t), c_t
''',
        failing_tests=("test_lstm_step", "test_lstm_step_hidden"),
        message="reads the blocks in the wrong order",
    ),
    Mistake(
        name="tanh on the gates, sigmoid on the candidate",
        solution_cell="lstm_step",
        code=_LSTM_HEAD + '''
    input_gate, forget_gate, output_gate = np.tanh(block(0)), np.tanh(block(1)), np.tanh(block(3))
    candidate = sigmoid(block(2))
    c_t = forget_gate * c_prev + input_gate * candidate
    return output_gate * np.tanh(c_t), c_t
''',
        failing_tests=("test_lstm_step", "test_lstm_step_hidden"),
        message="tanh and the sigmoid swapped",
    ),
    Mistake(
        name="H_t = O_t * C_t (tanh of the cell forgotten)",
        solution_cell="lstm_step",
        code=_LSTM_HEAD + '''
    input_gate, forget_gate = sigmoid(block(0)), sigmoid(block(1))
    candidate, output_gate = np.tanh(block(2)), sigmoid(block(3))
    c_t = forget_gate * c_prev + input_gate * candidate
    return output_gate * c_t, c_t
''',
        failing_tests=("test_lstm_step", "test_lstm_step_hidden"),
        message="apply tanh to the new cell state",
    ),
    # --- 13.5 gru_step --------------------------------------------------------------------
    Mistake(
        name="Z and 1 - Z swapped in the update (H_t = (1 - Z) H_{t-1} + Z H~_t)",
        solution_cell="gru_step",
        code=_GRU_HEAD + _GRU_BIASES + _GRU_GATES + _GRU_CANDIDATE + '''
    return (1.0 - update_gate) * h_prev + update_gate * candidate
''',
        failing_tests=("test_gru_step", "test_gru_step_hidden"),
        message="swaps Z and 1 - Z",
    ),
    Mistake(
        name="reset gate always applied after the recurrent product (reset_after ignored)",
        solution_cell="gru_step",
        code=_GRU_HEAD + _GRU_BIASES + _GRU_GATES + '''
    candidate = np.tanh(from_input(2) + reset_gate * from_state(2, h_prev))
    return update_gate * h_prev + (1.0 - update_gate) * candidate
''',
        failing_tests=("test_gru_step", "test_gru_step_hidden"),
        message="applies the reset gate after the recurrent product although reset_after=False",
    ),
    Mistake(
        name="reset_after=True with only the first bias row (the recurrent biases dropped)",
        solution_cell="gru_step",
        code=_GRU_HEAD + '''
    input_bias = bias[0] if reset_after else bias
    recurrent_bias = np.zeros(3 * units)
''' + _GRU_GATES + _GRU_CANDIDATE + '''
    return update_gate * h_prev + (1.0 - update_gate) * candidate
''',
        failing_tests=("test_gru_step", "test_gru_step_hidden"),
        message="ignores the second bias row",
    ),
    # --- 13.6 pad_batch -------------------------------------------------------------------
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
    # --- 13.7 masked_rnn_forward ----------------------------------------------------------
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
    # --- 13.8 sequence_classifier ---------------------------------------------------------
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
    Mistake(
        name="output layer in float16 (mixed precision reaches the softmax)",
        solution_cell="sequence_classifier",
        code=_classifier(dense='layers.Dense(num_classes, activation="softmax", '
                               'dtype="mixed_float16")'),
        failing_tests=("test_sequence_classifier", "test_sequence_classifier_hidden"),
        message="computes in float16",
    ),
    # --- 13.9 length_experiment -----------------------------------------------------------
    Mistake(
        name="cell_name ignored: an LSTM at every call",
        solution_cell="length_experiment",
        code=_length_experiment(layer="layers.LSTM(units)"),
        failing_tests=("test_length_experiment", "test_length_experiment_hidden"),
        message="build the layer named by cell_name",
    ),
    Mistake(
        name="the last epoch's training accuracy reported instead of the test accuracy",
        solution_cell="length_experiment",
        code=_length_experiment(accuracy='history.history["accuracy"][-1]'),
        failing_tests=("test_length_experiment", "test_length_experiment_hidden"),
        message="is not the model's accuracy on the test set",
    ),
    Mistake(
        name="one model built before the loop and trained on every length in turn",
        solution_cell="length_experiment",
        code='''
def length_experiment(cell_name, lengths, num_train, num_test, epochs, units=16, seed=0):
    """Train one model of a recurrent cell type on every sequence length in turn."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(None, 2)), RECURRENT_LAYERS[cell_name](units),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=ADDING_LEARNING_RATE),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    accuracies, models = {}, {}
    for length in lengths:
        x_train, y_train = make_adding_data(num_train, length, seed=seed)
        x_test, y_test = make_adding_data(num_test, length, seed=seed + 1)
        model.fit(x_train, y_train, batch_size=ADDING_BATCH_SIZE, epochs=epochs, verbose=0)
        accuracies[length] = float(model.evaluate(x_test, y_test, verbose=0)[1])
        models[length] = model
    return accuracies, models
''',
        failing_tests=("test_length_experiment", "test_length_experiment_hidden"),
        message="shared across lengths",
    ),
]
