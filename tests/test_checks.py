"""dlcourse.checks with right and wrong models and arrays."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from dlcourse import checks


def lenet_like(padding="valid", use_bias=True, activation="relu", pool=layers.MaxPooling2D):
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(6, 5, padding=padding, activation=activation, use_bias=use_bias),
        pool(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


EXPECTED = [
    ("Conv2D", (None, 28, 28, 6), 456),
    ("MaxPooling2D", (None, 14, 14, 6), 0),
    ("Flatten", (None, 1176), 0),
    ("Dense", (None, 10), 11770),
]


def test_layer_table_reads_shapes_and_params():
    rows = checks.layer_table(lenet_like())
    assert [(r.class_name, r.output_shape, r.params) for r in rows] == EXPECTED
    assert rows[0].settings["padding"] == "valid" and rows[0].settings["kernel_size"] == (5, 5)
    assert "total: 12,226" in checks.format_table(rows)


def test_check_layers_accepts_the_right_model():
    checks.check_layers(lenet_like(), EXPECTED)


@pytest.mark.parametrize("model, words", [
    (lenet_like(padding="same"), ["layer 0", "output shape expected (None, 28, 28, 6)",
                                  "got (None, 32, 32, 6)", "padding"]),
    (lenet_like(use_bias=False), ["layer 0", "expected 456", "got 450", "bias"]),
    (lenet_like(pool=layers.AveragePooling2D), ["layer 1", "expected a MaxPooling2D",
                                                "got AveragePooling2D"]),
])
def test_check_layers_reports_first_difference_with_hint(model, words):
    with pytest.raises(AssertionError) as info:
        checks.check_layers(model, EXPECTED)
    for word in words:
        assert word in str(info.value)


def test_check_layers_compares_lengths_both_ways():
    with pytest.raises(AssertionError, match="expected 3 layers, got 4; the first extra one "
                                             "is layer 3"):
        checks.check_layers(lenet_like(), EXPECTED[:3])
    with pytest.raises(AssertionError, match="expected 5 layers, got 4; the first missing one "
                                             "is layer 4: a Dense"):
        checks.check_layers(lenet_like(), EXPECTED + [("Dense", (None, 10), 110)])


def test_check_same_architecture_compares_settings_and_non_trainable():
    reference = lenet_like()
    checks.check_same_architecture(lenet_like(), reference)
    with pytest.raises(AssertionError, match="setting 'activation' expected 'relu', got "
                                             "'tanh'"):
        checks.check_same_architecture(lenet_like(activation="tanh"), reference)
    bn = keras.Sequential([keras.Input((8, 8, 4)), layers.BatchNormalization()])
    bn_frozen = keras.Sequential([keras.Input((8, 8, 4)), layers.BatchNormalization()])
    bn_frozen.layers[0].trainable = False
    with pytest.raises(AssertionError, match="8 trainable \\+ 8 non-trainable, got 0 \\+ 16"):
        checks.check_same_architecture(bn_frozen, bn)


def test_check_same_architecture_against_a_keras_application():
    reference = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3),
                                               alpha=0.35, classes=10)
    same = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35,
                                          classes=10)
    checks.check_same_architecture(same, reference)
    other = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.5,
                                           classes=10)
    with pytest.raises(AssertionError, match="layer 15 .* got \\(None, 24, 24, 16\\). "
                                             "Hint: only the last axis differs"):
        checks.check_same_architecture(other, reference)


def test_functional_model_with_input_layer_compares_like_sequential():
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(6, 5, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    checks.check_layers(keras.Model(inputs, outputs), EXPECTED)


def test_non_models_and_unbuilt_models_are_reported():
    with pytest.raises(AssertionError, match="should be a keras.Model, got NoneType"):
        checks.check_layers(None, EXPECTED)
    with pytest.raises(AssertionError, match="not built yet"):
        checks.check_layers(keras.Sequential([layers.Dense(3)]), EXPECTED)


def test_param_count_ignores_monkeypatched_count_params(monkeypatch):
    model = lenet_like()
    monkeypatch.setattr(keras.Model, "count_params", lambda self: 62006)
    monkeypatch.setattr(keras.layers.Layer, "count_params", lambda self: 0)
    assert checks.count_params(model) == 12226
    checks.check_param_count(model, 12226)
    with pytest.raises(AssertionError, match="expected 62,006 trainable"):
        checks.check_param_count(model, 62006)


def test_check_close_states_tolerance_and_worst_element():
    expected = np.arange(6.0).reshape(2, 3)
    checks.check_close(expected + 1e-8, expected)
    wrong = expected.copy()
    wrong[1, 2] += 0.5
    with pytest.raises(AssertionError) as info:
        checks.check_close(wrong, expected, rtol=1e-4, atol=1e-6, what="conv output")
    message = str(info.value)
    for word in ["conv output", "1 of 6", "rtol=0.0001", "atol=1e-06", "(1, 2)",
                 "expected 5", "got 5.5"]:
        assert word in message
    with pytest.raises(AssertionError, match="shape expected \\(2, 3\\), got \\(3, 2\\)"):
        checks.check_close(expected.T, expected)
    with pytest.raises(AssertionError, match="NaN or infinity"):
        checks.check_close(np.full((2, 3), np.nan), expected)
    with pytest.raises(AssertionError, match="Hint: flip the kernel"):
        checks.check_close(wrong, expected, what="conv output", hint="flip the kernel")
    with pytest.raises(AssertionError, match="forget to return"):
        checks.check_close(None, expected)


def test_check_close_is_not_fooled_by_patched_numpy(monkeypatch):
    monkeypatch.setattr(np, "abs", lambda x: np.zeros_like(x))
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    with pytest.raises(AssertionError):
        checks.check_close(np.ones(3), np.zeros(3))


def test_check_shape_equal_and_accuracy():
    checks.check_shape(np.zeros((4, 4)), (4, None))
    with pytest.raises(AssertionError, match="shape expected \\(4, 4\\), got \\(3, 3\\)"):
        checks.check_shape(np.zeros((3, 3)), (4, 4), what="the output")
    checks.check_equal((3, 3), (3, 3))
    with pytest.raises(AssertionError, match="expected 456, got 208. Hint: count the bias"):
        checks.check_equal(208, 456, hint="count the bias")
    checks.check_accuracy(0.9, 0.8)
    with pytest.raises(AssertionError, match="0.500, below the floor 0.800"):
        checks.check_accuracy(0.5, 0.8)
    with pytest.raises(AssertionError):
        checks.check_accuracy(float("nan"), 0.8)


def test_expected_row_validation():
    with pytest.raises(ValueError, match="needs 'params'"):
        checks.check_layers(lenet_like(), [{"class_name": "Conv2D"}])


def test_checks_cannot_be_replaced_from_a_notebook():
    original = checks.check_close
    with pytest.raises(AttributeError, match="read-only: 'check_close' cannot be replaced"):
        checks.check_close = lambda *args, **kwargs: None
    with pytest.raises(AttributeError, match="cannot be deleted"):
        del checks.check_layers
    assert checks.check_close is original


def test_checks_resist_patched_builtins():
    import builtins

    saved = builtins.len, builtins.abs, builtins.float
    builtins.len = lambda obj: 0
    builtins.abs = lambda x: 0
    builtins.float = lambda x=0: 0.0
    try:  # pytest's own machinery needs the real builtins, so catch by hand
        checks.check_close(np.ones(3), np.zeros(3), what="patched")
        message = "no error"
    except AssertionError as error:
        message = str(error)
    finally:
        builtins.len, builtins.abs, builtins.float = saved
    assert "patched: 3 of 3 values differ" in message and "got 1" in message


def test_custom_activation_functions_are_compared_by_name():
    def scaled_tanh(x):
        return 1.7159 * keras.ops.tanh(2 * x / 3)

    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation=scaled_tanh)])
    rows = checks.layer_table(model)
    assert rows[0].params == 15 and "tanh" in str(rows[0].settings["activation"])
    checks.check_same_architecture(model, model)
    assert checks.count_weights(model.layers[0]) == 15


def test_relu6_is_told_apart_from_relu():
    relu = keras.Sequential([keras.Input((4, 4, 2)), layers.ReLU()])
    relu6 = keras.Sequential([keras.Input((4, 4, 2)), layers.ReLU(6.0)])
    with pytest.raises(AssertionError, match="setting 'max_value' expected 6.0, got None"):
        checks.check_same_architecture(relu, relu6)


def test_recurrent_layers_get_parameter_hints():
    lstm = keras.Sequential([keras.Input((10, 32)), layers.LSTM(64)])
    gru = keras.Sequential([keras.Input((10, 32)), layers.GRU(64)])
    with pytest.raises(AssertionError, match="expected a GRU layer, got LSTM"):
        checks.check_same_architecture(lstm, gru)
    with pytest.raises(AssertionError, match="an LSTM has 4 gates"):
        checks.check_layers(lstm, [("LSTM", (None, 64), 18816)])
    checks.check_layers(gru, [("GRU", (None, 64), 18816)])


def test_float32_reference_builds_float32_layers_and_restores_the_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with checks.float32_reference():
            reference = layers.Dense(2)
            assert keras.mixed_precision.global_policy().name == "float32"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        assert reference.compute_dtype == "float32" and layers.Dense(2).compute_dtype == "float16"
        with pytest.raises(RuntimeError, match="inside"):
            with checks.float32_reference():
                raise RuntimeError("inside")
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        x = np.random.default_rng(0).normal(size=(4, 3))
        reference.build((None, 3))
        expected = x @ reference.kernel.numpy() + reference.bias.numpy()
        checks.check_close(reference(x.astype("float32")), expected, rtol=1e-5, atol=1e-5)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_block_model_and_build_or_explain():
    def identity_block(x, filters, name="block"):
        y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
        return layers.Add(name=f"{name}_add")([x, y])

    model = checks.block_model(identity_block, (6, 6, 4), 4, name="b")
    assert [layer.name for layer in model.layers[1:]] == ["b_conv", "b_add"]
    assert tuple(model.output.shape) == (None, 6, 6, 4) and model.count_params() == 3 * 3 * 4 * 4 + 4
    hints = {"incompatible shapes": "keep the shape for the shortcut", "": "read the error"}
    with pytest.raises(AssertionError, match=r"block\(8\) raised ValueError: .*Hint: keep the shape"):
        checks.build_or_explain(lambda: checks.block_model(identity_block, (6, 6, 4), 8),
                                "block(8)", hints)
    with pytest.raises(AssertionError, match=r"f raised TypeError: .*\. Hint: read the error\.$"):
        checks.build_or_explain(lambda: identity_block(None, "x"), "f", hints)
    with pytest.raises(AssertionError, match=r"raised ValueError: bad\.$"):
        checks.build_or_explain(lambda: (_ for _ in ()).throw(ValueError("bad")), "g")
    with pytest.raises(NotImplementedError):
        checks.build_or_explain(lambda: (_ for _ in ()).throw(NotImplementedError()), "blank")
    with pytest.raises(AssertionError, match="returned None: return the output tensor"):
        checks.block_model(lambda x: None, (3,))
    assert checks.build_or_explain(lambda: 7, "seven") == 7


def test_check_output_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        inputs = keras.Input((6,))
        hidden = layers.Dense(5, activation="relu")(inputs)
        kept = layers.Dense(3, activation="softmax", dtype="float32", name="kept")(hidden)
        checks.check_output_float32(keras.Model(inputs, kept))
        checks.check_output_float32(keras.Sequential(
            [keras.Input((6,)), layers.Dense(3), layers.Activation("softmax", dtype="float32")]))
        rounded = layers.Dense(3, activation="softmax", name="rounded")(hidden)
        with pytest.raises(AssertionError, match="'rounded' computes in float16"):
            checks.check_output_float32(keras.Model(inputs, rounded))
        with pytest.raises(AssertionError, match="'rounded' computes in float16"):
            checks.check_output_float32(keras.Model(inputs, [kept, rounded]))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(AssertionError, match="keras.Model"):
        checks.check_output_float32(np.zeros(3))


def test_policy_tolerance_follows_the_compute_dtype():
    assert checks.compute_dtype() == "float32"
    assert checks.policy_tolerance(1e-4, 1e-6) == {"rtol": 1e-4, "atol": 1e-6}
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        assert checks.compute_dtype() == "float16"
        assert checks.policy_tolerance(1e-4, 1e-6) == {"rtol": 2.0 ** -6, "atol": 2.0 ** -6}
        assert checks.policy_tolerance(0.1, 0.5) == {"rtol": 0.1, "atol": 0.5}
        x = np.random.default_rng(1).normal(size=(8, 5))
        w = np.random.default_rng(2).normal(size=(5, 4))
        layer = layers.Dense(4, use_bias=False)
        layer.build((None, 5))
        layer.set_weights([w])
        got = layer(x.astype("float32"))           # computed in float16
        with pytest.raises(AssertionError, match="beyond the tolerance"):
            checks.check_close(got, x @ w, rtol=1e-5, atol=1e-6)
        checks.check_close(got, x @ w, **checks.policy_tolerance(1e-5, 1e-6))
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        assert checks.policy_tolerance()["rtol"] == 16 * 2.0 ** -7
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _trained(num_examples=50, batch_size=16, epochs=2, learning_rate=0.01, **fit):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 4)).astype("float32"), rng.integers(0, 3, size=80)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit.setdefault("validation_data", (x[60:], y[60:]))
    history = model.fit(x[:num_examples], y[:num_examples], batch_size=batch_size,
                        epochs=epochs, verbose=0, **fit)
    return history, (x[60:], y[60:])


def test_check_fit_settings_reads_the_run_not_the_code():
    history, validation = _trained()
    checks.check_fit_settings(history, 50, 16, 2, learning_rate=0.01, validation=validation)
    with pytest.raises(AssertionError, match="ceil\\(70 / 16\\) = 5"):
        checks.check_fit_settings(history, 70, 16, 2)  # fewer examples fitted than given
    with pytest.raises(AssertionError, match="ceil\\(50 / 8\\) = 7"):
        checks.check_fit_settings(history, 50, 8, 2)   # another batch size
    with pytest.raises(AssertionError, match="learning rate is 0.01, expected 0.001"):
        checks.check_fit_settings(history, 50, 16, 2, learning_rate=1e-3)
    with pytest.raises(AssertionError, match="2 epochs trained, expected 3"):
        checks.check_fit_settings(history, 50, 16, 3)
    leaked, _ = _trained(num_examples=80)   # the validation examples fitted too
    with pytest.raises(AssertionError, match="no test or validation data added"):
        checks.check_fit_settings(leaked, 50, 16, 2)
    split, _ = _trained(validation_data=None, validation_split=0.5)
    with pytest.raises(AssertionError, match="steps per epoch"):
        checks.check_fit_settings(split, 50, 16, 2)
    elsewhere, _ = _trained(validation_data=(validation[0][:10], validation[1][:10]))
    rng = np.random.default_rng(1)
    other = (rng.normal(size=(200, 4)).astype("float32"), rng.integers(0, 3, size=200))
    with pytest.raises(AssertionError, match="validation examples it was given"):
        checks.check_fit_settings(elsewhere, 50, 16, 2, validation=other)
    full, _ = _trained(num_examples=60, batch_size=60)   # 60 examples in one full batch
    checks.check_fit_settings(full, 60, 60, 2)
    with pytest.raises(AssertionError, match="no whole number of the 50 training examples"):
        checks.check_fit_settings(full, 50, 50, 2)      # one step too, but on other data
    with pytest.raises(AssertionError, match="History"):
        checks.check_fit_settings({"loss": [1.0]}, 50, 16, 1)
