"""dlcourse.checks.check_structure: right numbers, wrong network (issue 10).

Each wrong model below has the reference's shapes and parameter counts (so check_layers and
check_param_count pass it) and differs only in what the lesson teaches: an activation, the
place of a pooling layer, a BatchNormalization epsilon, the order of a concatenation."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from dlcourse import checks


def chain(activation="tanh", pool_after=1):
    """conv, conv, conv with one max pooling after conv number ``pool_after``."""
    items = [layers.Conv2D(4, 3, padding="same", activation=activation) for _ in range(3)]
    items.insert(pool_after, layers.MaxPooling2D(2))
    return keras.Sequential([keras.Input((8, 8, 1)), *items, layers.Flatten(),
                             layers.Dense(3, activation="softmax")])


def inception(order=(0, 1, 2), epsilon=1e-3, add_order=(0, 1)):
    """Three branches concatenated in ``order``, a BN, and an Add with a 1x1 shortcut."""
    inputs = keras.Input((8, 8, 4))
    branches = [layers.Conv2D(2, 1, activation="relu")(inputs),
                layers.Conv2D(3, 3, padding="same", activation="relu")(inputs),
                layers.MaxPooling2D(3, strides=1, padding="same")(inputs)]
    x = layers.Concatenate()([branches[k] for k in order])
    x = layers.BatchNormalization(epsilon=epsilon)(x)
    shortcut = layers.Conv2D(9, 1)(inputs)
    x = layers.Add()([[shortcut, x][k] for k in add_order])
    return keras.Model(inputs, x)


def message(model, reference, **kwargs) -> str:
    with pytest.raises(AssertionError) as error:
        checks.check_structure(model, reference, **kwargs)
    return str(error.value)


def test_the_same_network_passes():
    checks.check_structure(chain(), chain())
    checks.check_structure(inception(), inception())


def test_a_commutative_merge_may_take_its_inputs_in_any_order():
    checks.check_structure(inception(add_order=(1, 0)), inception())


def test_the_wrong_networks_have_the_right_numbers():
    # the premise: the checks of numbers cannot see these mistakes
    checks.check_layers(chain("relu"), [(r.class_name, r.output_shape, r.params)
                                        for r in checks.layer_table(chain())])
    assert checks.count_params(chain(pool_after=2)) == checks.count_params(chain())
    assert checks.count_params(inception((1, 0, 2))) == checks.count_params(inception())


def test_another_activation_is_named_with_why_it_matters():
    text = message(chain("relu"), chain(), what="LeNet")
    assert "LeNet, layer 3" in text and "activation expected 'tanh', got 'relu'" in text
    assert "Why it matters: the non-linearity" in text


def test_a_moved_pooling_layer_is_named_by_its_positions():
    text = message(chain(pool_after=2), chain())
    assert "the pooling layers are at positions [2] of your layer table, expected [1]" in text
    assert "moving it keeps the parameter count" in text


def test_another_epsilon_is_found_and_why_can_be_replaced():
    text = message(inception(epsilon=1e-5), inception(),
                   why={"epsilon": "the paper uses 1e-3"})
    assert "epsilon expected 0.001, got 1e-05" in text and "the paper uses 1e-3" in text


def test_a_concatenation_in_another_order_is_named_as_such():
    text = message(inception((1, 0, 2)), inception())
    assert "Concatenate" in text and "reads the right inputs in another order" in text
    assert "[2, 1, 3]" in text and "which channels the next layer's" in text


def test_expected_rows_compare_layer_sequences_strictly():
    rows = [("Conv2D", {"activation": "tanh"}), "MaxPooling2D",
            ("Conv2D", {"activation": "tanh"}), ("Conv2D", {"activation": "tanh"}),
            "Flatten", ("Dense", {"activation": "softmax"})]
    checks.check_structure(chain(), rows)
    assert "activation expected 'tanh'" in message(chain("relu"), rows)
    assert "pooling layers are at positions" in message(chain(pool_after=3), rows)
    assert "expected 7 layers, got 6" in message(chain(), rows + ["Dense"])


def test_a_setting_the_layer_does_not_report_fails():
    class Scale(layers.Layer):  # a student's layer whose get_config forgets its activation
        def call(self, inputs):
            return keras.activations.tanh(inputs)

    inputs = keras.Input((4,))
    model = keras.Model(inputs, Scale()(inputs))
    text = message(model, [("Scale", {"activation": "tanh"})])
    assert "does not report its 'activation'" in text and "get_config" in text


def test_structure_table_lists_settings_and_inputs():
    rows = checks.structure_table(inception())
    concat = next(r for r in rows if r.class_name == "Concatenate")
    assert concat.inputs == (0, 1, 2)
    assert rows[0].inputs == ("input",) and rows[0].settings["activation"] == "relu"
    assert checks.structure_table(chain())[1].inputs == (0,)  # a Sequential's graph


def test_a_missing_branch_is_found():
    inputs = keras.Input((8, 8, 4))
    x = layers.Concatenate()([layers.Conv2D(2, 1, activation="relu")(inputs),
                              layers.Conv2D(3, 3, padding="same", activation="relu")(inputs)])
    x = layers.BatchNormalization()(x)
    shortcut = layers.Conv2D(5, 1)(inputs)
    text = message(keras.Model(inputs, layers.Add()([shortcut, x])), inception())
    assert "reads 2 inputs" in text and "expected 3" in text


def test_reference_must_be_a_model_or_rows():
    with pytest.raises(AssertionError, match="should be a keras.Model"):
        checks.check_structure(None, chain())
    with pytest.raises(ValueError, match="expected structure row"):
        checks.check_structure(chain(), [42])


def test_an_operation_that_is_not_a_layer_is_named():
    def block(merge):
        inputs = keras.Input((4, 4, 2))
        x = layers.Conv2D(2, 3, padding="same")(inputs)
        return keras.Model(inputs, layers.Activation("relu")(merge(inputs, x)))

    reference = block(lambda a, b: layers.Add()([a, b]))
    text = message(block(lambda a, b: keras.ops.add(a, b)), reference)
    assert "Activation" in text and "an operation that is not a Keras layer" in text
