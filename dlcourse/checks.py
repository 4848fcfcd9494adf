"""Checks the graded cells call: models layer by layer, shapes, numbers with tolerances.

Every failure raises ``AssertionError`` whose message says *where* the first difference
is, *expected vs got*, and a *hint* at the usual cause, because that message is the
feedback a student reads.

Keras-3 safe: output shapes come from ``layer.output.shape`` (``layer.output_shape`` no
longer exists), parameter counts from the variables themselves, and table lengths are
compared before rows (no silent ``zip`` truncation). The functions this module relies on
are bound when it is imported, so a student's later monkeypatching of ``numpy``,
``Layer.count_params`` or builtins does not change what the checks compute.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import re
from dataclasses import dataclass, field

import numpy as np

from dlcourse.remote import is_remote as _is_remote

# Bound at import time on purpose (see module docstring).
_asarray = np.asarray
_isfinite = np.isfinite
_np_abs = np.abs
_np_all = np.all
_np_any = np.any
_np_argmax = np.argmax
_unravel_index = np.unravel_index
_prod = math.prod
_isinstance = builtins.isinstance
_len = builtins.len
_int = builtins.int
_float = builtins.float
_re_sub = re.sub
_re_fullmatch = re.fullmatch
_re_escape = re.escape

# Settings compared when both layers have them (from ``layer.get_config()``).
KEY_SETTINGS = (
    "filters", "kernel_size", "strides", "padding", "dilation_rate", "groups",
    "depth_multiplier", "units", "activation", "use_bias", "pool_size", "rate",
    "epsilon", "momentum", "center", "scale", "size", "cropping", "interpolation",
    "num_heads", "key_dim", "output_padding", "return_sequences", "reset_after",
    "max_value", "negative_slope", "threshold", "mask_zero", "input_dim", "output_dim",
)

HINTS = {
    ("params", "Conv2D"): "a Conv2D layer has (f*f*n_c_prev + 1) * n_c parameters: "
    "count the bias (one per filter) and the input channels",
    ("params", "Conv1D"): "a Conv1D layer has (f*n_c_prev + 1) * n_c parameters: "
    "count the bias and the input channels",
    ("params", "DepthwiseConv2D"): "a depthwise layer has f*f * n_c_prev * multiplier "
    "weights (plus n_c_prev * multiplier biases if use_bias): one filter per input channel, "
    "no mixing across channels",
    ("params", "SeparableConv2D"): "separable = depthwise (f*f*n_c_prev) + pointwise "
    "(n_c_prev*n_c) + bias n_c",
    ("params", "Dense"): "a Dense layer has (inputs + 1) * units parameters: check the bias "
    "and the size of what comes in (the flattened shape)",
    ("params", "SimpleRNN"): "a SimpleRNN layer has units * (inputs + units + 1) parameters",
    ("params", "GRU"): "a GRU has 3 * units * (inputs + units + 1) parameters, plus another "
    "3 * units biases with reset_after=True",
    ("params", "LSTM"): "an LSTM has 4 gates: 4 * units * (inputs + units + 1) parameters",
    ("params", "Embedding"): "an Embedding has input_dim * output_dim parameters",
    ("params", "BatchNormalization"): "batch normalisation has 2 trainable (gamma, beta) and "
    "2 non-trainable (moving mean, variance) values per channel",
    ("shape", "Conv2D"): "output side = floor((n + 2p - f) / s) + 1: check padding "
    "('valid' vs 'same'), kernel size and strides",
    ("shape", "MaxPooling2D"): "pooling shrinks each side to floor((n - f) / s) + 1: check "
    "pool_size, strides and padding",
    ("shape", "AveragePooling2D"): "pooling shrinks each side to floor((n - f) / s) + 1: "
    "check pool_size, strides and padding",
    ("shape", "Dense"): "the last axis of a Dense output is its number of units",
    ("shape", "DepthwiseConv2D"): "output side = floor((n + 2p - f) / s) + 1 and channels = "
    "input channels * depth_multiplier",
    ("shape", "SeparableConv2D"): "output side = floor((n + 2p - f) / s) + 1: check padding "
    "and strides",
    ("shape", "ZeroPadding2D"): "zero padding adds the pad on both sides: n + 2p",
    ("class", None): "the layers are in a different order or one is missing: compare "
    "your architecture with the table in the lesson",
}


@dataclass(frozen=True)
class LayerRow:
    """One row of a model's layer table."""

    name: str
    class_name: str
    output_shape: tuple
    trainable_params: int
    non_trainable_params: int
    settings: dict = field(default_factory=dict, compare=False)

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params


def _count(variables) -> int:
    return _int(sum(_prod(tuple(v.shape)) for v in variables))


def _normalise(value):
    if _isinstance(value, list):
        return tuple(_normalise(v) for v in value)
    if _isinstance(value, dict):  # e.g. a serialised custom activation
        config = value.get("config")
        if _isinstance(config, dict):
            return config.get("name", value.get("class_name", str(value)))
        return config if _isinstance(config, str) else value.get("class_name", str(value))
    return value


def _output_shape(layer) -> tuple | str:
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return "unknown (layer not connected or used several times)"
    if _isinstance(output, (list, tuple)):
        return tuple(tuple(o.shape) for o in output)
    return tuple(output.shape)


def _require_model(model, what: str):
    import keras

    if _is_remote(model):  # graded in the judge: a model of the student's own layer classes
        if not model.is_a("keras.src.models.model.Model"):
            raise AssertionError(
                f"{what} should be a keras.Model, got {model.remote_type}. Did the function "
                "return the model (and not e.g. None or a layer)?")
        return
    if not _isinstance(model, keras.Model):
        raise AssertionError(
            f"{what} should be a keras.Model, got {type(model).__name__}. Did the function "
            "return the model (and not e.g. None or a layer)?"
        )
    if not model.built:
        raise AssertionError(
            f"{what} is not built yet: start it with keras.Input(shape=...) so every layer "
            "has a known output shape"
        )


def layer_table(model, include_input: bool = False) -> list[LayerRow]:
    """The model's layers as rows: name, class, output shape, parameter counts, settings.

    Args:
        model: a built ``keras.Model`` (Sequential or functional).
        include_input: keep ``InputLayer`` rows (functional models list them).
    """
    _require_model(model, "the model")
    if _is_remote(model):  # the kernel lists it; the judge compares
        return [LayerRow(r["name"], r["class_name"], _shape(r["output_shape"]),
                         _int(r["trainable_params"]), _int(r["non_trainable_params"]),
                         dict(r["settings"]))
                for r in model.facts("layer_table", include_input=include_input)]
    rows = []
    for layer in model.layers:
        class_name = type(layer).__name__
        if class_name == "InputLayer" and not include_input:
            continue
        try:
            config = layer.get_config()
        except NotImplementedError:
            config = {}
        settings = {k: _normalise(config[k]) for k in KEY_SETTINGS if k in config}
        rows.append(LayerRow(
            name=layer.name,
            class_name=class_name,
            output_shape=_output_shape(layer),
            trainable_params=_count(layer.trainable_weights),
            non_trainable_params=_count(layer.non_trainable_weights),
            settings=settings,
        ))
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """A printable table (like ``model.summary()`` but with the columns the checks use)."""
    lines = [f"{'#':>3}  {'layer (class)':<40} {'output shape':<24} {'trainable':>11} "
             f"{'non-train.':>10}"]
    for i, row in enumerate(rows):
        label = f"{row.name} ({row.class_name})"
        lines.append(f"{i:>3}  {label:<40} {str(row.output_shape):<24} "
                     f"{row.trainable_params:>11,} {row.non_trainable_params:>10,}")
    total_t = sum(r.trainable_params for r in rows)
    total_n = sum(r.non_trainable_params for r in rows)
    lines.append(f"     total: {total_t + total_n:,} ({total_t:,} trainable, "
                 f"{total_n:,} non-trainable)")
    return "\n".join(lines)


def _hint(kind: str, class_name: str | None) -> str:
    hint = HINTS.get((kind, class_name)) or HINTS.get((kind, None))
    return f" Hint: {hint}." if hint else ""


def _shape_hint(got: LayerRow, expected: LayerRow) -> str:
    g, e = tuple(got.output_shape), tuple(expected.output_shape)
    if _len(g) == _len(e) and g[:-1] == e[:-1]:
        return (" Hint: only the last axis differs: check the number of filters/units "
                "(channels) of this layer.")
    return _hint("shape", got.class_name)


def _compare_rows(got: list[LayerRow], expected: list[LayerRow], what: str,
                  compare_settings: bool = True) -> None:
    for i in range(min(_len(got), _len(expected))):
        g, e = got[i], expected[i]
        where = f"{what}, layer {i} ('{g.name}')"
        if g.class_name != e.class_name:
            raise AssertionError(f"{where}: expected a {e.class_name} layer, got "
                                 f"{g.class_name}.{_hint('class', None)}")
        if e.output_shape is not None and tuple(g.output_shape) != tuple(e.output_shape):
            raise AssertionError(f"{where} ({g.class_name}): output shape expected "
                                 f"{e.output_shape}, got {g.output_shape}."
                                 f"{_shape_hint(g, e)}")
        if compare_settings:
            for key, value in e.settings.items():
                if key in g.settings and g.settings[key] != value:
                    raise AssertionError(f"{where} ({g.class_name}): setting {key!r} "
                                         f"expected {value!r}, got {g.settings[key]!r}.")
        if (g.trainable_params, g.non_trainable_params) != (
                e.trainable_params, e.non_trainable_params):
            raise AssertionError(
                f"{where} ({g.class_name}): parameters expected {e.trainable_params:,} "
                f"trainable + {e.non_trainable_params:,} non-trainable, got "
                f"{g.trainable_params:,} + {g.non_trainable_params:,}."
                f"{_hint('params', g.class_name)}")
    if _len(got) != _len(expected):
        n = min(_len(got), _len(expected))
        if _len(got) > _len(expected):
            extra = got[n]
            detail = f"the first extra one is layer {n}: {extra.name} ({extra.class_name})"
        else:
            missing = expected[n]
            detail = f"the first missing one is layer {n}: a {missing.class_name}"
        raise AssertionError(f"{what}: expected {_len(expected)} layers, got {_len(got)}; "
                             f"{detail}.")


def _row_from_spec(spec) -> LayerRow:
    if _isinstance(spec, LayerRow):
        return spec
    if _isinstance(spec, (tuple, list)):
        class_name, output_shape, params = spec
        spec = {"class_name": class_name, "output_shape": output_shape, "params": params}
    if not _isinstance(spec, dict):
        raise ValueError(f"expected row must be a tuple, dict or LayerRow, received {spec!r}")
    trainable = spec.get("trainable_params", spec.get("params"))
    if trainable is None:
        raise ValueError(f"expected row needs 'params' or 'trainable_params': {spec!r}")
    shape = spec.get("output_shape")
    return LayerRow(
        name=spec.get("name", "?"),
        class_name=spec["class_name"],
        output_shape=None if shape is None else tuple(shape),
        trainable_params=_int(trainable),
        non_trainable_params=_int(spec.get("non_trainable_params", 0)),
        settings=dict(spec.get("settings", {})),
    )


def check_layers(model, expected, what: str = "your model") -> None:
    """Compare a model with an expected layer table, first difference first.

    Args:
        model: the student's built ``keras.Model``.
        expected: rows, each ``(class_name, output_shape, params)`` (``params`` all
            trainable, ``output_shape`` including the batch axis ``None``) or a dict with
            keys ``class_name``, ``output_shape``, ``trainable_params``,
            ``non_trainable_params``, ``settings``.
        what: how the feedback names the model.

    Raises:
        AssertionError: at the first layer that differs, naming expected vs got and a hint.
    """
    _require_model(model, what)
    _compare_rows(layer_table(model), [_row_from_spec(s) for s in expected], what)


def check_same_architecture(model, reference, what: str = "your model",
                            compare_settings: bool = True) -> None:
    """Compare a model with a reference model layer by layer (names are not compared).

    Args:
        model: the student's built model.
        reference: e.g. ``keras.applications.ResNet50(weights=None)``.
        what: how the feedback names the model.
        compare_settings: also compare the key settings (padding, strides, activation...).

    Raises:
        AssertionError: at the first differing layer, or if the layer counts differ.
    """
    _require_model(model, what)
    _require_model(reference, "the reference model")
    _compare_rows(layer_table(model), layer_table(reference), what, compare_settings)


def _snake_case(class_name: str) -> str:
    """The base of the names Keras generates for a layer class (as Keras' ``to_snake_case``:
    ``GlobalAveragePooling2D`` -> ``global_average_pooling2d``)."""
    name = _re_sub(r"\W+", "", class_name)
    name = _re_sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return _re_sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _name_key(name: str, class_name: str) -> str:
    """A layer's name with the counter of a Keras-generated name removed (``reshape_3`` of
    a ``Reshape`` -> ``reshape``), since that counter depends on what else was built."""
    base = _snake_case(class_name)
    if name == base or _re_fullmatch(_re_escape(base) + r"_\d+", name):
        return base
    return name


def library_fingerprint(model) -> tuple:
    """What a ``keras.applications`` model keeps when it is returned, re-wrapped in
    ``keras.Model(m.inputs, m.outputs)``, cloned or renamed as a whole: the class and the
    name of each of its layers (the input layer left out, Keras-generated names without
    their counter). Works on a model of the student's own layer classes in the judge too."""
    return tuple((row.class_name, _name_key(row.name, row.class_name))
                 for row in layer_table(model))


def _library_references(library, model) -> list:
    """``library`` as built models: models are taken as they are, builders (e.g.
    ``keras.applications.MobileNet``) are called with ``weights=None`` at the input shape
    and number of classes of ``model``."""
    items = library if _isinstance(library, (list, tuple)) else [library]
    built = []
    for item in items:
        if callable(item) and not hasattr(item, "layers"):
            if _is_remote(model):   # a model of the student's classes: its layer table
                rows = layer_table(model, include_input=True)
                input_shape, output_shape = rows[0].output_shape, rows[-1].output_shape
            else:
                input_shape, output_shape = model.inputs[0].shape, model.outputs[0].shape
            item = item(weights=None, input_shape=tuple(input_shape[1:]),
                        classes=_int(output_shape[-1]))
        built.append(item)
    return built


def check_not_library_model(model, library, what: str = "your model", hint: str = "") -> None:
    """Fail if ``model`` is a ``keras.applications`` model itself rather than one built
    layer by layer: returned as the library builds it, re-wrapped, cloned, or nested as a
    layer of the model.

    Every layer of a library model carries the name its builder gives it (``conv_pw_1``,
    ``block_1_expand``, ``conv2_block1_0_bn``...), so a model whose layers have, one for
    one and in order, the classes and names of the library model's is that model (a
    student who writes the network gives some layer another name, if only one that Keras
    generates). A library model whose layers were all renamed has the same architecture as
    the reference by construction, so this check cannot see it: pair it with a check the
    library cannot pass, e.g. the student's builder called with a table of blocks, a
    growth rate or a compression that the ``keras.applications`` builder does not take.

    Args:
        model: the student's built model (or its handle in the judge).
        library: the library model(s) to compare with, built with ``weights=None`` (e.g.
            the ``reference`` a test already compares with), or builder(s) such as
            ``keras.applications.MobileNet``, called with ``weights=None`` at ``model``'s
            input shape and number of classes; a list checks against each.
        what: how the feedback names the model.
        hint: appended to the failure message.

    Raises:
        AssertionError: naming the library model ``model`` is.
    """
    _require_model(model, what)
    got = library_fingerprint(model)
    nested = []
    if not _is_remote(model):
        import keras

        nested = [layer for layer in model.layers if _isinstance(layer, keras.Model)]
    for reference in _library_references(library, model):
        _require_model(reference, "the library model")
        expected = library_fingerprint(reference)
        label = f"keras.applications' own model '{reference.name}'"
        if got == expected:
            example = next((name for _, name in expected if "_" in name), expected[0][1])
            raise AssertionError(_with_hint(
                f"{what} is {label}: all its {_len(got)} layers have the classes and the "
                f"names the library gives them (e.g. '{example}'). The exercise is to build "
                "the network yourself, layer by layer, from your own blocks", hint))
        for layer in nested:
            if library_fingerprint(layer) == expected:
                raise AssertionError(_with_hint(
                    f"{what} wraps {label} as its layer '{layer.name}'. The exercise is to "
                    "build the network yourself, layer by layer, from your own blocks", hint))


# --- Structure: the network the lesson teaches, not only its numbers -------------------

# Settings that change what a layer computes without changing its shape or parameter count
# (so only a structural check sees them), compared strictly by :func:`check_structure`.
STRUCTURE_SETTINGS = (
    "kernel_size", "strides", "padding", "dilation_rate", "groups", "activation",
    "pool_size", "epsilon", "use_bias", "center", "scale", "rate", "size", "interpolation",
    "negative_slope", "max_value", "threshold",
)

WHY = {
    "activation": "the non-linearity is part of the network: another one keeps every shape "
    "and parameter count but computes another function",
    "padding": "padding decides whether each side shrinks ('valid') or is kept ('same')",
    "strides": "the stride decides the resolution every later layer works at",
    "pool_size": "the pooling window decides the resolution every later layer works at",
    "kernel_size": "the kernel size decides what each unit sees",
    "dilation_rate": "dilation spreads the kernel: same weights, another receptive field",
    "groups": "groups split the channels into separate towers",
    "epsilon": "epsilon is added to the variance before the square root: another value "
    "normalises differently and does not match the published network (or its weights)",
    "use_bias": "a bias changes the layer's parameters and what it computes",
    "pooling": "pooling halves the resolution from where it stands, so its place decides the "
    "size every later layer works at; moving it keeps the parameter count, so only the layer "
    "order shows it",
    "inputs": "the order of the inputs of a merge decides which channels the next layer's "
    "weights read: the same branches in another order are another network (weights trained "
    "or published for one do not fit the other)",
    "class": "the layers are in a different order or one is missing or extra",
}


@dataclass(frozen=True)
class StructureRow:
    """One layer of a model's structure: its class, the settings of
    :data:`STRUCTURE_SETTINGS` it has, and (functional models) the positions of the layers
    it reads, in order (``"input"`` for a model input)."""

    name: str
    class_name: str
    settings: dict
    inputs: tuple | None = None


# Operations Keras may put between layers of a rebuilt model that change no value's meaning.
_TRANSPARENT_OPERATIONS = ("ConvertToTensor", "Cast")


def _sources(tensor, position) -> list:
    """Where a tensor comes from: a table position, "input", or a named operation that is
    not a layer of the model; looks through :data:`_TRANSPARENT_OPERATIONS`."""
    history = tensor._keras_history
    source = history.operation
    if id(source) in position:
        return [position[id(source)]]
    name = type(source).__name__
    if name == "InputLayer":
        return ["input"]
    if name in _TRANSPARENT_OPERATIONS:
        node = source._inbound_nodes[history.node_index]
        return [k for t in node.arguments.keras_tensors for k in _sources(t, position)]
    return [f"operation {name}"]  # e.g. keras.ops.add on two tensors


def _layer_inputs(model, layers) -> list | None:
    """For each layer, the table positions of its inputs in ``model``'s graph, in order;
    None when the graph cannot be read (a model of the student's own classes in the judge,
    or a Keras without these internals: connections are then not compared)."""
    if _is_remote(model):
        return None
    try:
        from keras.src.ops.function import make_node_key

        graph = getattr(model, "_functional", None) or model  # a Sequential's graph
        nodes = graph._nodes
        position = {id(layer): i for i, layer in enumerate(layers)}
        result = []
        for layer in layers:
            node = next(n for k, n in enumerate(layer._inbound_nodes)
                        if make_node_key(layer, k) in nodes)
            sources = []
            for tensor in node.arguments.keras_tensors:
                sources.extend(_sources(tensor, position))
            result.append(tuple(sources))
        return result
    except Exception:  # noqa: BLE001 - private Keras API: fall back to no connections
        return None


def structure_table(model, keys=STRUCTURE_SETTINGS) -> list[StructureRow]:
    """The model's layers (input layers left out) with the settings of ``keys`` each has
    (from ``get_config``) and, for a model built of Keras layers, where its inputs come
    from. Works on a model of the student's own layer classes in the judge (without the
    connections)."""
    rows = layer_table(model)
    layers_ = None
    if not _is_remote(model):
        layers_ = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    inputs = _layer_inputs(model, layers_) if layers_ is not None else None
    return [StructureRow(row.name, row.class_name,
                         {k: row.settings[k] for k in keys if k in row.settings},
                         None if inputs is None else inputs[i])
            for i, row in enumerate(rows)]


def _structure_from_spec(spec) -> StructureRow:
    if _isinstance(spec, StructureRow):
        return spec
    if _isinstance(spec, str):
        return StructureRow("?", spec, {})
    if _isinstance(spec, (tuple, list)):
        class_name, settings = spec
        return StructureRow("?", class_name, dict(settings))
    if _isinstance(spec, dict):
        inputs = spec.get("inputs")
        return StructureRow(spec.get("name", "?"), spec["class_name"],
                            {k: _normalise(v) for k, v in spec.get("settings", {}).items()},
                            None if inputs is None else tuple(inputs))
    raise ValueError(f"an expected structure row must be a class name, a (class_name, "
                     f"settings) pair, a dict or a StructureRow, received {spec!r}")


def _why(key: str, why: dict | None) -> str:
    text = (why or {}).get(key) or WHY.get(key)
    return f" Why it matters: {text}." if text else ""


def _is_pooling(class_name: str) -> bool:
    return "Pooling" in class_name or class_name in ("Subsampling",)


def _positions(rows, test) -> list:
    return [i for i, row in enumerate(rows) if test(row.class_name)]


def _input_names(rows, inputs) -> str:
    return ", ".join(("the model input" if i == "input" else str(i)) if not _isinstance(i, _int)
                     else f"{i} ({rows[i].class_name} '{rows[i].name}')" for i in inputs)


# Merges whose result does not depend on the order of their inputs.
COMMUTATIVE = ("Add", "Multiply", "Average", "Maximum", "Minimum")


def _signatures(rows, intern: dict) -> list:
    """A number per layer that is equal for two layers exactly when they, their settings
    and everything they read (in order) are equal: a table of subgraphs, shared through
    ``intern`` by the two models compared."""
    signatures = []
    for row in rows:
        inputs = tuple(signatures[i] if _isinstance(i, _int) else i for i in row.inputs)
        if row.class_name in COMMUTATIVE:
            inputs = tuple(sorted(inputs, key=str))
        key = (row.class_name, repr(sorted(row.settings.items())), inputs)
        signatures.append(intern.setdefault(key, _len(intern)))
    return signatures


def _outputs(rows) -> list:
    """Table positions no other layer reads (the model's outputs), last first."""
    read = {i for row in rows for i in row.inputs if _isinstance(i, _int)}
    return [i for i in range(_len(rows) - 1, -1, -1) if i not in read]


def _differ_layer(got, expected, i, j, what, why, keys) -> None:
    g, e = got[i], expected[j]
    where = f"{what}, layer {i} ('{g.name}', {g.class_name})"
    if g.class_name != e.class_name:
        if _is_pooling(g.class_name) or _is_pooling(e.class_name):
            pools_got = _positions(got, _is_pooling)
            pools_expected = _positions(expected, _is_pooling)
            raise AssertionError(
                f"{where}: expected a {e.class_name} here; the pooling layers are at "
                f"positions {pools_got} of your layer table, expected {pools_expected}."
                f"{_why('pooling', why)}")
        raise AssertionError(f"{where}: expected a {e.class_name} here (layer {j} of the "
                             f"reference).{_why('class', why)}")
    for key, value in e.settings.items():
        if key not in g.settings:
            raise AssertionError(
                f"{where}: does not report its {key!r} (expected {value!r}); a layer of your "
                f"own class must return it from get_config.{_why(key, why)}")
        if g.settings[key] != value:
            raise AssertionError(f"{where}: {key} expected {value!r}, got "
                                 f"{g.settings[key]!r}.{_why(key, why)}")


def _sorted_by(inputs, signatures):
    pairs = sorted(zip(signatures, inputs), key=lambda p: str(p[0]))
    return [i for _, i in pairs], [s for s, _ in pairs]


def _compare_graphs(got, expected, what, why, keys) -> None:
    intern = {}
    sig_got, sig_expected = _signatures(got, intern), _signatures(expected, intern)
    for i, row in enumerate(got):
        other = next((k for k in row.inputs if not _isinstance(k, _int) and k != "input"), None)
        if other is not None:
            raise AssertionError(
                f"{what}, layer {i} ('{row.name}', {row.class_name}) reads the result of "
                f"{other[len('operation '):]}, an operation that is not a Keras layer (e.g. "
                "keras.ops or a + b on tensors): use the layers the exercise names (such as "
                "layers.Add or layers.Concatenate), so the network can be compared with the "
                "reference.")
    out_got, out_expected = _outputs(got), _outputs(expected)
    if _len(out_got) != _len(out_expected):
        raise AssertionError(f"{what}: {_len(out_got)} layers end the network (read by no "
                             f"other layer), expected {_len(out_expected)}: is a branch "
                             "left unused or missing?")
    pairs = [(i, j) for i, j in zip(out_got, out_expected) if sig_got[i] != sig_expected[j]]
    seen = set()
    while pairs:
        i, j = pairs.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        _differ_layer(got, expected, i, j, what, why, keys)
        g_in, e_in = got[i].inputs, expected[j].inputs
        g_sig = [sig_got[k] if _isinstance(k, _int) else k for k in g_in]
        e_sig = [sig_expected[k] if _isinstance(k, _int) else k for k in e_in]
        where = f"{what}, layer {i} ('{got[i].name}', {got[i].class_name})"
        if _len(g_in) != _len(e_in):
            raise AssertionError(f"{where} reads {_len(g_in)} inputs "
                                 f"({_input_names(got, g_in)}), expected {_len(e_in)}.")
        if got[i].class_name in COMMUTATIVE:  # pair the inputs by what they compute
            g_in, g_sig = _sorted_by(g_in, g_sig)
            e_in, e_sig = _sorted_by(e_in, e_sig)
        elif g_sig != e_sig and sorted(g_sig, key=str) == sorted(e_sig, key=str):
            order = [e_sig.index(s) + 1 for s in g_sig]
            raise AssertionError(
                f"{where} reads the right inputs in another order: its inputs are, in order, "
                f"{_input_names(got, g_in)}, which are the reference's inputs number "
                f"{order}.{_why('inputs', why)}")
        for gk, ek, gs, es in zip(g_in, e_in, g_sig, e_sig):
            if gs != es:
                if not (_isinstance(gk, _int) and _isinstance(ek, _int)):
                    raise AssertionError(f"{where}: reads "
                                         f"{_input_names(got, [gk])} where the reference "
                                         f"reads {_input_names(expected, [ek])}.")
                pairs.append((gk, ek))
    if _len(got) != _len(expected):
        raise AssertionError(f"{what}: expected {_len(expected)} layers, got {_len(got)}."
                             f"{_why('class', why)}")


def check_structure(model, reference, what: str = "your model", keys=None,
                    why: dict | None = None) -> None:
    """Compare a model's structure with a reference: the layer classes (so where each
    pooling sits), the settings that change what a layer computes without changing any
    shape or parameter count (activation, padding, strides, pool size, epsilon...), and
    for functional models the graph, with the order of each layer's inputs (so the order of
    a ``Concatenate``'s branches). Shapes and parameter counts are not compared (see
    :func:`check_layers`): this is the check a network with the right numbers but another
    architecture fails.

    Models of Keras layers are compared as graphs, walked from the output back, so the
    first difference reported is the one nearest the output and a merge whose branches
    are the reference's in another order is named as such. Where the graph cannot be read
    (a model of the student's own classes in the judge, or expected rows without
    ``inputs``) the layer sequences are compared.

    Args:
        model: the student's built model (or its handle in the judge).
        reference: a built ``keras.Model`` (built by instructor code, best inside
            :func:`float32_reference`), or expected rows: a class name, a
            ``(class_name, settings)`` pair, or a dict with ``class_name``, ``settings``
            and optionally ``inputs`` (table positions, ``"input"`` for the model input).
        what: how the feedback names the model.
        keys: the settings compared (default: :data:`STRUCTURE_SETTINGS`, those of them a
            reference layer has). Unlike :func:`check_same_architecture`, a setting the
            reference has must be reported by the student's layer too (in ``get_config``).
        why: extra "why it matters" texts by setting name (or "pooling", "inputs",
            "class"), replacing the defaults of :data:`WHY`.

    Raises:
        AssertionError: at the first difference, saying what differs and why it matters.
    """
    _require_model(model, what)
    keys = STRUCTURE_SETTINGS if keys is None else tuple(keys)
    got = structure_table(model, keys)
    if _isinstance(reference, (list, tuple)):
        expected = [_structure_from_spec(s) for s in reference]
    else:
        _require_model(reference, "the reference model")
        expected = structure_table(reference, keys)
    if all(r.inputs is not None for r in got + expected):
        _compare_graphs(got, expected, what, why, keys)
        return
    n_common = min(_len(got), _len(expected))
    for i in range(n_common):
        _differ_layer(got, expected, i, i, what, why, keys)
    if _len(got) != _len(expected):
        if _len(got) > _len(expected):
            detail = f"the first extra one is layer {n_common}: '{got[n_common].name}' " \
                     f"({got[n_common].class_name})"
        else:
            detail = f"the first missing one is layer {n_common}: a " \
                     f"{expected[n_common].class_name}"
        raise AssertionError(f"{what}: expected {_len(expected)} layers, got {_len(got)}; "
                             f"{detail}.{_why('class', why)}")


def _shape(value):
    return tuple(_shape(v) if _isinstance(v, (list, tuple)) else v for v in value) \
        if _isinstance(value, (list, tuple)) else value


def _param_counts(model) -> tuple[int, int]:
    if _is_remote(model):
        trainable, non_trainable = model.facts("param_counts")
        return _int(trainable), _int(non_trainable)
    return _count(model.trainable_weights), _count(model.non_trainable_weights)


def count_weights(layer_or_weights) -> int:
    """Number of values in a layer's weights (or in a list of variables/arrays)."""
    if _is_remote(layer_or_weights):
        return sum(_param_counts(layer_or_weights))
    weights = getattr(layer_or_weights, "weights", layer_or_weights)
    return _count(weights)


def count_params(model) -> int:
    """Total parameters, computed from the variables (not from ``model.count_params``)."""
    _require_model(model, "the model")
    return sum(_param_counts(model))


def check_param_count(model, expected_trainable: int, expected_non_trainable: int = 0,
                      what: str = "your model") -> None:
    """Check the trainable and non-trainable totals of a model."""
    _require_model(model, what)
    trainable, non_trainable = _param_counts(model)
    if (trainable, non_trainable) != (expected_trainable, expected_non_trainable):
        raise AssertionError(
            f"{what}: expected {expected_trainable:,} trainable + {expected_non_trainable:,} "
            f"non-trainable parameters, got {trainable:,} + {non_trainable:,}. Print "
            "dlcourse.checks.format_table(layer_table(model)) to see which layer differs.")


def check_fit_settings(history, num_examples: int, batch_size: int, num_epochs: int,
                       learning_rate: float | None = None, validation=None,
                       what: str = "the training run", data_hint: str = "") -> None:
    """Check the settings a training run was prescribed, read from the run itself (the
    ``History`` that ``fit`` returned and the model it trained), not from the code.

    - ``num_epochs`` epochs were run;
    - each epoch took ``ceil(num_examples / batch_size)`` steps: the model was fitted on
      exactly the ``num_examples`` training examples it was given, in batches of
      ``batch_size`` (test or validation data added, a ``validation_split`` or another
      batch size change the count);
    - each epoch's training ``accuracy`` (when recorded) is a whole number of correct
      examples out of ``num_examples``, which full batches of other data would not give;
    - the optimizer's learning rate is ``learning_rate`` (when given);
    - ``validation=(x_val, y_val)``: the last ``val_accuracy`` is the trained model's
      accuracy on exactly those examples (argmax of its outputs against integer labels),
      so the validation curve was measured on the data given, not on the test set.

    Args:
        history: the ``keras.callbacks.History`` returned by ``fit``.
        num_examples: the number of training examples the run was given.
        batch_size, num_epochs, learning_rate: the prescribed settings.
        validation: optional ``(x_val, y_val)`` the run had to validate on.
        what: how the feedback names the run.
        data_hint: what the hint says about the data to fit when the steps differ (default:
            exactly the training data given, nothing added, no validation_split).

    Raises:
        AssertionError: at the first setting that differs, with a hint.
    """
    params = getattr(history, "params", None)
    if not _isinstance(params, dict) or not _isinstance(getattr(history, "history", None), dict):
        raise AssertionError(f"{what}: expected the History that model.fit returns, got "
                             f"{type(history).__name__}.")
    epochs = _len(history.history.get("loss", []))
    if epochs != _int(num_epochs):
        raise AssertionError(f"{what}: {epochs} epochs trained, expected {num_epochs}. Hint: "
                             "pass epochs=num_epochs to fit (the argument, not a constant).")
    steps = params.get("steps")
    expected_steps = -(-_int(num_examples) // _int(batch_size))
    if steps != expected_steps:
        data_hint = data_hint or ("fit on exactly the training data you were given (no test or "
                                  "validation data added, no validation_split)")
        raise AssertionError(
            f"{what}: fit ran {steps} steps per epoch; {num_examples} training examples in "
            f"batches of {batch_size} take ceil({num_examples} / {batch_size}) = "
            f"{expected_steps}. Hint: {data_hint}, with batch_size=batch_size (the argument, "
            "not a constant).")
    # An epoch's training accuracy is (correct examples) / (examples fitted): a whole number
    # of the examples given, whatever the batches (full batches take one step on any data).
    for epoch, accuracy in enumerate(history.history.get("accuracy", []), start=1):
        correct = _float(accuracy) * _int(num_examples)
        if _np_abs(correct - _int(correct + 0.5)) > 0.01:  # correct >= 0
            raise AssertionError(
                f"{what}: the training accuracy of epoch {epoch} is {_float(accuracy):.6f}, "
                f"which is no whole number of the {num_examples} training examples given "
                f"({_float(accuracy):.6f} x {num_examples} = {correct:.3f}): the model was "
                f"fitted on other data. Hint: "
                f"{data_hint or 'fit on exactly the training data you were given'}.")
    model = getattr(history, "model", None)
    if learning_rate is not None:
        optimizer = getattr(model, "optimizer", None)
        try:
            got = _float(_asarray(optimizer.learning_rate))
        except (AttributeError, TypeError, ValueError):
            raise AssertionError(f"{what}: the trained model has no optimizer with a learning "
                                 "rate. Hint: compile it with keras.optimizers.Adam("
                                 "learning_rate=learning_rate) before fit.") from None
        if not _np_abs(got - _float(learning_rate)) <= 1e-6 * _np_abs(_float(learning_rate)):
            raise AssertionError(
                f"{what}: the optimizer's learning rate is {got:g}, expected "
                f"{_float(learning_rate):g}. Hint: pass the learning_rate argument to the "
                "optimizer, keras.optimizers.Adam(learning_rate=learning_rate).")
    if validation is not None:
        x_val, y_val = validation
        curve = history.history.get("val_accuracy")
        if not curve:
            raise AssertionError(f"{what}: the History has no val_accuracy (it has "
                                 f"{sorted(history.history)}). Hint: compile with "
                                 "metrics=['accuracy'] and pass validation_data=(x_val, y_val).")
        labels = _asarray(y_val).reshape(-1)
        predicted = _np_argmax(_asarray(model.predict(x_val, verbose=0)), axis=-1).reshape(-1)
        measured = _float((predicted == labels).mean())
        if not _np_abs(_float(curve[-1]) - measured) <= 1.5 / _len(labels):
            raise AssertionError(
                f"{what}: the last val_accuracy of the History is {_float(curve[-1]):.4f}, but "
                f"the trained model scores {measured:.4f} on the {_len(labels)} validation "
                "examples it was given. Hint: validate on exactly validation_data=(x_val, "
                "y_val) as given, not on the test data or a validation_split.")


def _with_hint(message: str, hint: str) -> str:
    return message + (f" Hint: {hint}." if hint else "")


def check_shape(array, expected_shape, what: str = "the result", hint: str = "") -> None:
    """Check an array's shape (``None`` in ``expected_shape`` matches any size).

    Args:
        hint: appended to the failure message (e.g. the formula to use).
    """
    shape = tuple(getattr(array, "shape", ()))
    expected_shape = tuple(expected_shape)
    ok = _len(shape) == _len(expected_shape) and all(
        e is None or _int(e) == _int(s) for s, e in zip(shape, expected_shape))
    if not ok:
        raise AssertionError(_with_hint(f"{what}: shape expected {expected_shape}, got "
                                        f"{shape}.", hint))


def check_close(actual, expected, rtol: float = 1e-5, atol: float = 1e-6,
                what: str = "the result", hint: str = "") -> None:
    """Check values element-wise: ``|actual - expected| <= atol + rtol * |expected|``.

    The message gives the tolerance, the number of elements outside it, and the worst one;
    ``hint`` (if given) is appended to it.
    """
    if actual is None:
        raise AssertionError(f"{what} is None: did the function forget to return?")
    try:
        got = _asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{what}: expected numbers, got {type(actual).__name__} "
                             f"({error})") from None
    want = _asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(_with_hint(f"{what}: shape expected {want.shape}, got "
                                        f"{got.shape}.", hint))
    if not _np_all(_isfinite(got)):
        raise AssertionError(f"{what} contains NaN or infinity: look for a division by zero, "
                             "a log of 0 or an overflowing exp.")
    error = _np_abs(got - want)
    allowed = atol + rtol * _np_abs(want)
    bad = error > allowed
    n_bad = _int(bad.sum())
    if n_bad:
        worst = _unravel_index(_np_argmax(error - allowed), error.shape) if error.ndim else ()
        raise AssertionError(_with_hint(
            f"{what}: {n_bad} of {error.size} values differ beyond the tolerance "
            f"(rtol={rtol:g}, atol={atol:g}); worst at index {tuple(_int(i) for i in worst)}: "
            f"expected {_float(want[worst]):.6g}, got {_float(got[worst]):.6g}.", hint))


def check_equal(actual, expected, what: str = "the result", hint: str = "") -> None:
    """Check exact equality of plain values (ints, tuples, strings) with a clear message."""
    if actual != expected:
        raise AssertionError(_with_hint(f"{what}: expected {expected!r}, got {actual!r}.",
                                        hint))


# Every floor check_accuracy saw in this process, in order (read with floors_checked()):
# the full-profile runs report each lesson's accuracies against their floors from it.
_FLOORS_CHECKED: list = []


@dataclass(frozen=True)
class FloorCheck:
    """One :func:`check_accuracy` call: what was measured, its value, the floor, the
    profile the floor belongs to, and whether it was skipped (a smoke run)."""

    what: str
    value: float
    floor: float
    profile: str
    skipped: bool


def floors_checked() -> list[FloorCheck]:
    """The floors :func:`check_accuracy` has checked (or skipped) in this process."""
    return list(_FLOORS_CHECKED)


def check_accuracy(accuracy: float, floor: float, what: str = "test accuracy",
                   hint: str = "check the loss and the labels, the learning rate and the "
                               "number of epochs") -> None:
    """Check a measured accuracy (or any score that must reach a floor) against a floor.

    The floor belongs to the current profile (``fast`` and ``full`` train on different
    data), which the message names. In a smoke run of ``full`` (``DLCOURSE_SMOKE=1``:
    random mock data, capped epochs) no floor can be reached: the check is reported as
    skipped, not passed, and recorded like every other in :func:`floors_checked`.
    """
    from dlcourse import runtime

    accuracy, floor = _float(accuracy), _float(floor)
    profile = runtime.get_profile()
    skipped = runtime.smoke_run()
    _FLOORS_CHECKED.append(FloorCheck(what, accuracy, floor, profile, skipped))
    if skipped:
        print(f"SKIPPED in a smoke run ({runtime.SMOKE_ENV}=1, mock data): {what} is "
              f"{accuracy:.3f}; the {profile} profile's floor {floor:.3f} is not checked.")
        return
    if not accuracy >= floor:
        raise AssertionError(_with_hint(f"{what} is {accuracy:.3f}, below the floor "
                                        f"{floor:.3f} of the {profile} profile.", hint))


# Round-off unit (machine epsilon) of the low-precision compute dtypes of Keras policies.
_LOW_PRECISION_EPSILON = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}
# A result a Keras layer computes in a low-precision dtype is trusted to this many eps.
_POLICY_EPS_FACTOR = 16


def compute_dtype() -> str:
    """The compute dtype of Keras' global dtype policy: ``"float32"`` in the ``fast``
    profile, ``"float16"`` under the ``full`` profile's ``mixed_float16``."""
    try:
        import keras
    except ImportError:  # a lesson without Keras computes in NumPy's float64/float32
        return "float32"
    return str(keras.mixed_precision.global_policy().compute_dtype)


def policy_tolerance(rtol: float = 1e-5, atol: float = 1e-6) -> dict:
    """Tolerances for a value Keras computed under the global precision policy.

    For a comparison where the value *checked* comes out of Keras layers running under
    the policy (a float32 reference is better where one can be built: see
    :func:`float32_reference`). Under a float32 policy ``rtol`` and ``atol`` come back
    unchanged; when the policy computes in float16 (``mixed_float16``) or bfloat16, both
    are raised to at least 16 round-off units of that dtype (1.6e-2 for float16): right
    code carries that much error there.

    Returns:
        ``{"rtol": ..., "atol": ...}``, to pass on: ``check_close(a, b, **policy_tolerance())``
        or ``np.allclose(a, b, **policy_tolerance())``.
    """
    rtol, atol = _float(rtol), _float(atol)
    epsilon = _LOW_PRECISION_EPSILON.get(compute_dtype())
    if epsilon is None:  # float32 (or wider): the tolerances as given
        return {"rtol": rtol, "atol": atol}
    floor = _POLICY_EPS_FACTOR * epsilon
    return {"rtol": rtol if rtol > floor else floor, "atol": atol if atol > floor else floor}


def build_or_explain(build, what: str, hints: dict | None = None):
    """Call ``build()`` and return what it returns; turn the errors Keras raises while
    wiring layers into feedback that names the call and the usual cause.

    Args:
        build: a function without arguments, e.g. ``lambda: build_densenet((32, 32, 3), 4)``.
        what: how the feedback names the call.
        hints: ``{text: hint}``; the first ``text`` found in the error's first line adds
            its ``hint`` (the key ``""`` matches every error).

    Raises:
        AssertionError: "<what> raised ValueError: <first line of the error>. Hint: ...",
            for a ``ValueError`` or ``TypeError`` inside ``build``. ``NotImplementedError``
            (an exercise left blank) and ``AssertionError`` pass through unchanged.
    """
    try:
        return build()
    except (NotImplementedError, AssertionError):
        raise
    except (ValueError, TypeError) as error:
        text = (str(error).splitlines() or [""])[0][:300]
        hint = next((hint for key, hint in (hints or {}).items() if key in text), "")
        raise AssertionError(f"{what} raised {type(error).__name__}: {text}."
                             + (f" Hint: {hint}." if hint else "")) from None


def block_model(function, input_shape, *args, **kwargs):
    """One block function as a model: ``keras.Input(input_shape)`` → ``function(inputs,
    *args, **kwargs)``, for checking a block's layers, shapes and parameters on its own.

    Raises:
        AssertionError: when ``function`` returns None instead of the block's output tensor.
    """
    import keras

    inputs = keras.Input(shape=input_shape)
    outputs = function(inputs, *args, **kwargs)
    if outputs is None:
        raise AssertionError(f"{getattr(function, '__name__', 'the block function')} returned "
                             "None: return the output tensor of the block")
    return keras.Model(inputs, outputs)


def check_output_float32(model, what: str = "your model") -> None:
    """Check that ``model`` computes its outputs in float32 (Keras' mixed-precision guide:
    the output layer stays in float32, or the probabilities and the loss are rounded to
    float16 in the ``full`` profile). Under the ``fast`` profile's float32 policy every
    layer is float32 unless given another dtype."""
    import keras

    _require_model(model, what)
    # The layers whose outputs the model returns (a Sequential's last layer).
    output_layers = [output._keras_history[0] for output in model.outputs]
    for layer in output_layers:
        if getattr(layer, "compute_dtype", "float32") != "float32":
            raise AssertionError(
                f"{what}: the output layer {layer.name!r} computes in {layer.compute_dtype}. "
                "Keep the output layer in float32 under mixed precision: give it "
                "dtype=\"float32\" (e.g. layers.Dense(n, activation=\"softmax\", "
                "dtype=\"float32\")).")
    dtypes = [keras.backend.standardize_dtype(output.dtype) for output in model.outputs]
    if any(dtype != "float32" for dtype in dtypes):
        raise AssertionError(
            f"{what}: its outputs are {', '.join(dtypes)}, expected float32: keep the output "
            "layer in float32 (dtype=\"float32\") under mixed precision.")


@contextlib.contextmanager
def float32_reference():
    """Build and run Keras reference layers in float32, whatever the global policy.

    Keras fixes a layer's dtype policy when the layer is created, so a reference created
    inside the block computes in float32 even under the ``full`` profile's
    ``mixed_float16``, and a NumPy answer can be compared with it at float32 tolerances.
    The previous global policy is restored on leaving the block, also when it raises. Put
    only the reference in the block, not the code being checked::

        with checks.float32_reference():
            layer = layers.Conv2D(2, 3, activation="relu")
            layer.build((None, 6, 6, 3))
            layer.set_weights([kernel, bias])
            expected = layer(images.astype("float32")).numpy()
        checks.check_close(conv_layer_forward(images, kernel, bias), expected, rtol=1e-4)
    """
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def check_decoder_initial_state(model, source, decoder_input, what: str = "the decoder"):
    """Check that an encoder-decoder's decoder RNN starts from the encoder's state.

    The decoder RNN (the last recurrent layer that returns sequences but not its state)
    reads only the target side, so its first step depends on the source through its
    initial state alone: a decoder that ignores the encoder's state gives the same first
    step for every source, however well attention later makes up for it. The check feeds
    the same decoder inputs with the sources of the batch in reverse order.

    Args:
        model: a functional ``keras.Model`` of built-in layers, inputs [source, decoder input].
        source: int array (B, S) of at least two different sources.
        decoder_input: int array (B, T).
        what: how the feedback names the model.
    """
    import keras

    _require_model(model, what)
    recurrent = [layer for layer in model.layers if _isinstance(layer, keras.layers.RNN)
                 and layer.return_sequences and not layer.return_state]
    if not recurrent:
        raise AssertionError(f"{what}: no recurrent layer with return_sequences=True and no "
                             "return_state was found to act as the decoder.")
    states = keras.Model(model.inputs, recurrent[-1].output)
    source = _asarray(source)
    reversed_source = source[::-1]
    changed = _np_any(source != reversed_source, axis=1)
    first = _asarray(states([source, decoder_input]))[:, 0]
    other = _asarray(states([reversed_source, decoder_input]))[:, 0]
    difference = _np_abs(first - other).max(axis=-1)[changed]
    if _len(difference) == 0 or not difference.min() > 1e-6:
        raise AssertionError(
            f"{what}: the decoder's first step is the same for different sources "
            f"(largest change {_float(difference.max()) if _len(difference) else 0.0:.2e}), "
            "so the decoder does not start from the encoder's state. Call the decoder "
            f"{recurrent[-1].__class__.__name__} with initial_state= the encoder's last "
            "state (the second output of the encoder with return_state=True).")


_READOUT_SOURCE = """
import numpy as np
import keras

rng = np.random.default_rng(seed)
dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
head = dense[-1]
values = {}
for layer in model.layers:
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.MultiHeadAttention) or layer in dense[:-1]:
        layer.set_weights([np.zeros(w.shape) for w in layer.get_weights()])
    elif isinstance(layer, keras.layers.LayerNormalization):
        layer.set_weights([np.full(w.shape, 1.0 if 'gamma' in w.path else 0.0)
                           for w in layer.weights])
    elif kind in ('ClassToken', 'PositionEmbedding') or layer is head:
        values[kind] = [rng.normal(size=w.shape) for w in layer.get_weights()]
        layer.set_weights(values[kind])
images = rng.uniform(size=(3,) + tuple(model.inputs[0].shape[1:])).astype('float32')
result = {'probabilities': np.asarray(model(images, training=False)),
          'token': values['ClassToken'][0], 'table': values['PositionEmbedding'][0],
          'kernel': values['Dense'][0], 'bias': values['Dense'][1]}
"""


def check_class_token_readout(model, what: str = "your ViT", seed: int = 0) -> None:
    """Check that a ViT classifies from the class token: prepended, read out at position 0.

    Every attention layer and every ``Dense`` but the head is set to zero, so each
    pre-norm block passes its input through unchanged; the class token, the position
    table and the head get random values. The output must then be the head applied to the
    final LayerNorm of ``token + table[0]``, the same for every image: reading another
    position or an average of the tokens brings the image back in.

    Args:
        model: the ViT (built in the student's kernel when it holds their layer classes);
            its weights are overwritten.
        what: how the feedback names the model.
        seed: seed of the random weights and images.
    """
    from dlcourse import remote

    data = remote.in_kernel(_READOUT_SOURCE, model=model, seed=seed)
    probabilities = _asarray(data["probabilities"], dtype=float)
    start = (_asarray(data["token"], dtype=float).reshape(-1)
             + _asarray(data["table"], dtype=float)[0])
    normalised = (start - start.mean()) / np.sqrt(start.var() + 1e-6)
    logits = normalised @ _asarray(data["kernel"], dtype=float) + _asarray(data["bias"], dtype=float)
    expected = np.exp(logits - logits.max())
    expected = np.broadcast_to(expected / expected.sum(), probabilities.shape)
    tolerance = policy_tolerance(atol=1e-4)["atol"]   # the head may compute in float16
    if not _np_abs(probabilities - expected).max() < tolerance:
        varies = _np_abs(probabilities - probabilities[:1]).max() > tolerance
        raise AssertionError(
            f"{what}: with every block switched off (its attention and MLP zero), the class "
            "probabilities should be the head applied to the final LayerNorm of the class "
            "token plus position embedding 0, the same for every image; "
            + ("they change with the image, so the head reads another token or an average "
               "of the tokens. " if varies else "they differ from it. ")
            + "Prepend the class token (ClassToken), then read out position 0 with x[:, 0] "
              "after the final LayerNormalization.")


class _ReadOnlyModule(type(builtins)):
    """This module's type: its functions cannot be replaced from a notebook, so a
    student's ``checks.check_close = lambda *a: None`` fails loudly instead of silently
    switching a graded check off."""

    def __setattr__(self, name, value):
        raise AttributeError(f"dlcourse.checks is read-only: {name!r} cannot be replaced "
                             "(the graded checks must run as written)")

    def __delattr__(self, name):
        raise AttributeError(f"dlcourse.checks is read-only: {name!r} cannot be deleted")


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _ReadOnlyModule
