"""Values crossing between a student's kernel and the grader's judge, as data only.

When a lesson is graded, its test cells run in the grader's *judge*, not in the student's
kernel (see ``autograder.judge``). The judge asks the kernel for what a test needs: the
value of a name, the result of calling a student's function on the judge's inputs, an
attribute, a model. This module is both ends of that exchange:

- :func:`install` runs in the kernel: it answers requests on a socket of the judge's
  (:func:`serve`, one request sent as a cell, is the fallback when that cannot be set up);
- :func:`decode` and :class:`RemoteObject` run in the judge: an answer is parsed as plain
  data (JSON; arrays as ``.npy`` with ``allow_pickle=False``; Keras models as their
  configuration and weights, rebuilt by Keras' safe deserialiser). Whatever else the
  kernel holds (a function, an object of the student's class) stays there and is reached
  through a :class:`RemoteObject`, which can only be called, indexed or read; it never
  decides a comparison or a truth value, so an ``__eq__`` that always says yes has no
  effect on a verdict.

Nothing here is code crossing from the kernel: a request names an operation from a fixed
list, an answer is data, and an exception comes back as its type name and message.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import json
import math
import sys
import traceback

import numpy as np

MIME = "application/vnd.dlcourse.remote+json"
MAX_DEPTH = 64
MAX_WEIGHT_BYTES = 96 * 2**20
_BUILTIN_ERRORS = {name: value for name, value in vars(builtins).items()
                   if isinstance(value, type) and issubclass(value, Exception)}


class KernelError(Exception):
    """An exception the student's code raised in the kernel, of a non-builtin type."""


class NotTransferable(TypeError):
    """A value the judge cannot send to the kernel (e.g. a lambda or a local object)."""


# -- arrays ------------------------------------------------------------------------------
def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _from_npy(text: str) -> np.ndarray:
    return np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)


def _is_eager_tensor(value) -> bool:
    kind = type(value)
    return kind.__name__ == "EagerTensor" and kind.__module__.startswith("tensorflow")


# -- encoding (both ends) ----------------------------------------------------------------
def encode(value, keep, depth: int = 0, keras_objects: bool = True):
    """``value`` as JSON-ready data; ``keep(obj) -> id`` stores what is not data.

    Scalars are JSON; containers, arrays, tensors and non-finite floats are tagged dicts.
    """
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply to send")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) in (int,):
        return value if abs(value) < 2**53 else {"t": "int", "v": str(value)}
    if type(value) is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if type(value) in (list, tuple, set, frozenset):
        items = [encode(v, keep, depth + 1, keras_objects) for v in value]
        return {"t": type(value).__name__, "v": items}
    if type(value) is dict:
        return {"t": "dict", "v": [[encode(k, keep, depth + 1, keras_objects),
                                    encode(v, keep, depth + 1, keras_objects)]
                                   for k, v in value.items()]}
    if type(value) is np.ndarray and value.dtype != object:
        return {"t": "ndarray", "npy": _npy(value)}
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        return {"t": "npscalar", "npy": _npy(np.asarray(value))}
    if _is_eager_tensor(value) and value.dtype.name != "string":
        return {"t": "tensor", "npy": _npy(value.numpy())}
    if keras_objects:
        packed = _encode_keras(value, keep)
        if packed is not None:
            return packed
        if type(value).__name__ == "History" and type(value).__module__.startswith("keras."):
            return {"t": "history", "history": encode(dict(value.history), keep, depth + 1),
                    "epoch": encode(list(value.epoch), keep, depth + 1),
                    "params": encode(dict(value.params or {}), keep, depth + 1),
                    "model": encode(getattr(value, "model", None), keep, depth + 1),
                    "ref": keep(value)}
    return {"t": "ref", "id": keep(value), "type": _type_name(value),
            "bases": _bases(value), "callable": callable(value)}


def _bases(value) -> list[str]:
    return [c.__module__ + "." + c.__qualname__ for c in type(value).__mro__][:48]


def _type_name(value) -> str:
    return type(value).__qualname__


def _is_builtin_keras(obj) -> bool:
    return type(obj).__module__.startswith("keras.")


def _encode_keras(value, keep):
    """A Keras model or layer built only from Keras' own classes: its configuration and
    weights (the judge rebuilds it). Anything with the student's own classes: None."""
    keras = sys.modules.get("keras")  # not imported: nothing can be a Keras object
    if keras is None or not isinstance(value, keras.layers.Layer):
        return None
    parts = value._flatten_layers(include_self=True, recursive=True)
    if not all(_is_builtin_keras(layer) for layer in parts):
        return None
    try:
        config = keras.saving.serialize_keras_object(value)
        json.dumps(config)
    except Exception:  # a configuration Keras cannot serialise: keep it remote
        return None
    # Very large models (VGG, ResNet-50) cross as structure only: the judge rebuilds them
    # with fresh weights of the same shapes (their checks are structural).
    size = sum(int(np.prod(w.shape)) * 4 for w in value.weights) if value.built else 0
    send = value.built and size <= MAX_WEIGHT_BYTES
    packed = {"t": "keras", "config": config, "built": bool(value.built),
              "weights": [_npy(np.asarray(w)) for w in value.get_weights()] if send else [],
              "ref": keep(value), "type": _type_name(value), "bases": _bases(value)}
    compile_config = _state(value, weights=False).get("compile")
    if compile_config is not None:
        packed["compile"] = compile_config
    return packed


# -- decoding (judge side: strict) -------------------------------------------------------
def decode(data, link=None, depth: int = 0):
    """Parse an answer from the kernel. Raises ``ValueError`` for anything malformed."""
    if depth > MAX_DEPTH:
        raise ValueError("answer nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is not dict or type(data.get("t")) is not str:
        raise ValueError(f"malformed answer of type {type(data).__name__}")
    tag = data["t"]
    if tag in ("list", "tuple", "set", "frozenset"):
        items = [decode(v, link, depth + 1) for v in _list(data["v"])]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict":
        return {decode(k, link, depth + 1): decode(v, link, depth + 1)
                for k, v in (_pair(p) for p in _list(data["v"]))}
    if tag == "int":
        return int(_str(data["v"]))
    if tag == "float":
        return float(_str(data["v"]))
    if tag == "ndarray":
        return _from_npy(_str(data["npy"]))
    if tag == "npscalar":
        return _from_npy(_str(data["npy"]))[()]
    if tag == "tensor":
        import tensorflow as tf

        return tf.constant(_from_npy(_str(data["npy"])))
    if tag == "keras":
        model = _rebuild_keras(data)
        if model is not None:
            if link is not None:  # the judge has its own copy: the kernel may free its one
                link.dropped.append(int(data["ref"]))
            return model
        return _proxy(link, int(data["ref"]), _str(data["type"]),
                      [_str(b) for b in _list(data.get("bases", []))], True)
    if tag == "history":
        import keras

        history = keras.callbacks.History()
        history.history = decode(data["history"], link, depth + 1)
        history.epoch = decode(data["epoch"], link, depth + 1)
        history.params = decode(data["params"], link, depth + 1)
        if data.get("model") is not None:
            history.set_model(decode(data["model"], link, depth + 1))
        return history
    if tag == "graph":
        return _symbolic_outputs(data, link)
    if tag == "ref":
        return _proxy(link, int(data["id"]), _str(data["type"]),
                      [_str(b) for b in _list(data.get("bases", []))],
                      bool(data.get("callable")))
    raise ValueError(f"unknown answer tag {tag!r}")


def _list(value) -> list:
    if type(value) is not list:
        raise ValueError("malformed answer: expected a list")
    return value


def _pair(value):
    if type(value) is not list or len(value) != 2:
        raise ValueError("malformed answer: expected a key-value pair")
    return value


def _str(value) -> str:
    if type(value) is not str:
        raise ValueError("malformed answer: expected a string")
    return value


def _rebuild_keras(data):
    """The student's model rebuilt in the judge from its configuration, with its weights."""
    import keras

    if not safe_config(data["config"]) or not safe_config(data.get("compile")):
        return None
    try:
        obj = keras.saving.deserialize_keras_object(_without_compile(data["config"]),
                                                    safe_mode=True)
    except Exception:  # e.g. a configuration this Keras cannot read: keep it remote
        return None
    weights = [_from_npy(_str(w)) for w in _list(data["weights"])]
    if weights:
        expected = [tuple(w.shape) for w in obj.weights]
        if expected != [w.shape for w in weights]:
            return None
        obj.set_weights(weights)
    if type(data.get("compile")) is dict and hasattr(obj, "compile_from_config"):
        try:  # Keras' safe deserialiser rebuilds the optimizer, loss and metrics
            obj.compile_from_config(data["compile"])
        except Exception:  # a loss of the student's own: the model stays uncompiled
            pass
    return obj


# Keras' safe mode refuses lambdas; a judge also refuses what could reach its own files
# (vocabulary files, saved models, utilities): such a model stays a handle in the kernel.
_REFUSED_CLASSES = {"Lambda", "TextVectorization", "StringLookup", "IntegerLookup",
                    "TFSMLayer", "get_file"}
_REFUSED_MODULE_PARTS = (".utils", ".saving", ".export", "legacy", ".backend.")


def safe_config(config, depth: int = 0) -> bool:
    """Does a serialised Keras object name only Keras classes a judge may build?"""
    if depth > 4 * MAX_DEPTH:
        return False
    if type(config) is list:
        return all(safe_config(c, depth + 1) for c in config)
    if type(config) is not dict:
        return True
    module = config.get("module")
    if module is not None and (type(module) is not str or not (
            module == "keras" or module.startswith("keras.")) or any(
            part in module for part in _REFUSED_MODULE_PARTS)):
        return False
    for key in ("class_name", "registered_name"):
        if config.get(key) in _REFUSED_CLASSES:
            return False
    return all(safe_config(v, depth + 1) for v in config.values())


def _without_compile(config):
    """The serialised object without its compile settings: they travel separately (a loss
    of the student's own would stop the whole model from being rebuilt)."""
    if type(config) is dict and "compile_config" in config:
        return {k: v for k, v in config.items() if k != "compile_config"}
    return config


def _symbolic_outputs(data, link):
    """A student's function applied to the judge's ``keras.Input``s, as judge-side tensors:
    the kernel built the graph on matching inputs, the judge rebuilds it and applies its
    layers to its own inputs, so ``keras.Model(inputs, outputs)`` works in the judge."""
    import keras

    graph = _rebuild_keras(data["model"])
    if graph is None:
        raise NotTransferable("the function returned layers that cannot be rebuilt outside "
                              "your notebook (a layer class of your own?)")
    inputs = [link.symbolic_inputs[int(i)] for i in _list(data["inputs"])]
    # Functional.call runs each layer of the graph on the judge's tensors (calling the
    # model itself would nest it as one layer).
    outputs = graph.call(inputs[0] if len(inputs) == 1 else inputs)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    structure = _str(data["structure"])
    if structure == "single":
        return outputs[0]
    return tuple(outputs) if structure == "tuple" else list(outputs)


# -- judge-side proxy ----------------------------------------------------------------------
_DATA_DUNDERS = ("__name__", "__qualname__", "__doc__", "__module__")


class RemoteObject:
    """Something that lives in the student's kernel (a function, an object of their class).

    The judge may call it, read an attribute, index it, take its length, iterate it or
    convert it to an array: each is a request whose answer is data (or another
    ``RemoteObject``). Comparisons and truth values are never asked of it: ``==`` is
    identity and ``bool()`` is ``True``, as for any object.
    """

    __slots__ = ("_link", "_id", "_type", "_bases", "_callable")

    def __init__(self, link, ident: int, type_name: str, bases: list, is_callable: bool):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_bases", tuple(bases))
        object.__setattr__(self, "_callable", is_callable)

    def _ask(self, op, **fields):
        return self._link.request(op, id=self._id, **fields)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in _DATA_DUNDERS:
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __setattr__(self, name, value):
        self._ask("setattr", name=name, value=self._link.encode(value))

    def __call__(self, *args, **kwargs):
        return self._link.call(self, args, kwargs)

    def __getitem__(self, key):
        return self._ask("getitem", key=self._link.encode(key))

    def __len__(self):
        value = self._ask("len")
        if type(value) is not int:
            raise TypeError("len() of an object from your notebook did not give an int")
        return value

    def __iter__(self):
        items = self._ask("list")
        if type(items) is not list:
            raise TypeError("iterating an object from your notebook did not give items")
        return iter(items)

    def __array__(self, dtype=None, copy=None):
        array = self._ask("array")
        if type(array) is not np.ndarray:
            raise TypeError(f"a {self._type} from your notebook cannot be read as an array")
        return array if dtype is None else array.astype(dtype)

    def __float__(self):
        return float(self._checked_number())

    def __int__(self):
        return int(self._checked_number())

    __index__ = __int__

    def _checked_number(self):
        value = self._ask("number")
        if type(value) not in (int, float):
            raise TypeError(f"a {self._type} from your notebook is not a number")
        return value

    def __bool__(self):
        return True

    def __eq__(self, other):
        return self is other

    def __del__(self):
        # The kernel may free the object once the judge no longer refers to it (sent
        # along with the next request: nothing is sent from a finaliser).
        dropped = getattr(getattr(self, "_link", None), "dropped", None)
        if dropped is not None:
            dropped.append(self._id)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"<{self._type} from your notebook>"

    def __dir__(self):
        return []

    @property
    def remote_type(self) -> str:
        return self._type

    def is_a(self, qualified_name: str) -> bool:
        """Does the kernel say its class derives from ``module.QualName``? (data from the
        kernel: use it for messages and dispatch, never as the verdict itself)."""
        return qualified_name in self._bases

    def facts(self, kind: str, **options):
        """Facts the kernel computes about the object (e.g. its layer table)."""
        return self._ask("facts", kind=kind, options=options)


_proxy_classes: dict[str, type] = {}


def _proxy(link, ident, type_name, bases, is_callable) -> RemoteObject:
    """A handle whose ``type(...).__name__`` is the kernel's class name (for messages and
    for finding a layer of the student's class; it is only a name)."""
    name = type_name.rsplit(".", 1)[-1]
    if not name.isidentifier():
        name = "RemoteObject"
    kind = _proxy_classes.get(name)
    if kind is None:
        kind = _proxy_classes[name] = type(name, (RemoteObject,), {"__slots__": ()})
    return kind(link, ident, type_name, bases, is_callable)


def is_remote(value) -> bool:
    return isinstance(value, RemoteObject)


# -- kernel side: the agent --------------------------------------------------------------
_handles: dict[int, object] = {}


_next_handle = [0]


def _keep(obj) -> int:
    _next_handle[0] += 1
    _handles[_next_handle[0]] = obj
    return _next_handle[0]


def _decode_args(data, depth=0):
    """Requests from the judge: data, references to kept objects, symbolic inputs and
    Keras objects by configuration."""
    if depth > MAX_DEPTH:
        raise ValueError("request nested too deeply")
    if type(data) is dict and data.get("t") == "ref":
        return _handles[int(data["id"])]
    if type(data) is dict and data.get("t") == "symbolic":
        import keras

        shape = data["shape"]
        tensor = keras.Input(batch_shape=tuple(shape), dtype=data["dtype"])
        _symbolic.append((int(data["slot"]), tensor))
        return tensor
    if type(data) is dict and data.get("t") in ("list", "tuple", "set", "frozenset"):
        items = [_decode_args(v, depth + 1) for v in data["v"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[
            data["t"]](items)
    if type(data) is dict and data.get("t") == "dict":
        return {_decode_args(k, depth + 1): _decode_args(v, depth + 1) for k, v in data["v"]}
    if type(data) is dict and data.get("t") == "callback":
        return _Callback(int(data["id"]), str(data.get("name", "function")))
    if type(data) is dict and data.get("t") == "keras":
        import keras

        obj = keras.saving.deserialize_keras_object(_without_compile(data["config"]),
                                                    safe_mode=True)
        if data.get("weights"):
            obj.set_weights([_from_npy(w) for w in data["weights"]])
        if data.get("compile") and hasattr(obj, "compile_from_config"):
            try:
                obj.compile_from_config(data["compile"])
            except Exception:  # e.g. a loss of the check's own: the model stays uncompiled
                pass
        _received.append(obj)
        return obj
    return decode(data)


class _Callback:
    """A function of the judge's, passed to the student's code: calling it asks the judge
    (over its socket, or Jupyter's stdin channel) to run it there on the arguments, as
    data."""

    def __init__(self, ident: int, name: str):
        self.ident, self.__name__ = ident, name

    def __call__(self, *args, **kwargs):
        import IPython

        request = json.dumps({"callback": self.ident,
                              "args": encode(tuple(args), _keep),
                              "kwargs": encode(dict(kwargs), _keep)})
        if _channel[0] is not None:  # asked over the judge's socket: answered there
            _channel[0].send_string(request)
            answer = json.loads(_channel[0].recv_string())
        else:
            answer = json.loads(IPython.get_ipython().kernel.raw_input(CALLBACK_PROMPT
                                                                       + request))
        if not answer.get("ok"):
            raise error_from_reply(answer.get("error", {}))
        received = len(_received)
        try:
            return _decode_args(answer["value"])
        finally:  # what the judge's function returned is not one of the call's arguments
            del _received[received:]

    def __repr__(self):
        return f"<the check's {self.__name__}>"


CALLBACK_PROMPT = "dlcourse-callback:"
_symbolic: list = []
_received: list = []   # Keras objects the judge sent with this request (their weights go back)


def _result(value):
    """Encode a call's result; symbolic Keras outputs become a graph the judge rebuilds."""
    if _symbolic and _has_keras_tensor(value):
        import keras

        slots = [slot for slot, _ in _symbolic]
        inputs = [tensor for _, tensor in _symbolic]
        single = not isinstance(value, (list, tuple))
        outputs = [value] if single else list(value)
        graph = keras.Model(inputs, outputs)
        packed = _encode_keras(graph, _keep)
        if packed is None:
            raise TypeError("the result holds layers of your own classes, which the grader "
                            "cannot rebuild outside your notebook")
        return {"t": "graph", "model": packed, "inputs": slots,
                "structure": "single" if single else type(value).__name__}
    return encode(value, _keep)


def _state(obj, weights: bool = True) -> dict:
    """Weights and compile settings of a Keras object after the student's code used it."""
    state = {"weights": [_npy(np.asarray(w)) for w in obj.get_weights()] if weights else [],
             "trainable": [bool(layer.trainable)
                           for layer in obj._flatten_layers(include_self=True, recursive=True)]}
    compiled = getattr(obj, "compiled", False) and hasattr(obj, "get_compile_config")
    if compiled:
        try:
            config = obj.get_compile_config()
            json.dumps(config)
            state["compile"] = config
        except Exception:  # a loss of the student's own: the judge cannot rebuild it
            pass
    return state


def _has_keras_tensor(value) -> bool:
    items = value if isinstance(value, (list, tuple)) else [value]
    return any(type(v).__name__ == "KerasTensor" for v in items)


def _facts(obj, kind: str, options: dict):
    from dlcourse import checks

    if kind == "layer_table":
        rows = checks.layer_table(obj, include_input=bool(options.get("include_input")))
        return [{"name": r.name, "class_name": r.class_name,
                 "output_shape": r.output_shape, "trainable_params": r.trainable_params,
                 "non_trainable_params": r.non_trainable_params, "settings": r.settings}
                for r in rows]
    if kind == "param_counts":
        return [checks.count_weights(obj.trainable_weights),
                checks.count_weights(obj.non_trainable_weights)]
    raise ValueError(f"unknown facts {kind!r}")


def _free(idents) -> bool:
    """Forget objects the judge no longer refers to. A Keras model can hold hundreds of MB
    inside reference cycles, so freeing one collects at once; anything else goes by
    reference counting (a full collection costs ~0.2 s with TensorFlow loaded)."""
    found = [_handles.pop(int(i), None) for i in idents]
    if not found:
        return False
    keras = sys.modules.get("keras")
    holds_cycles = keras is not None and any(isinstance(obj, (keras.layers.Layer,
                                                               keras.callbacks.History))
                                             for obj in found)
    del found
    if holds_cycles:
        import gc

        gc.collect()
    return True


def _dispatch(request: dict):
    op = request.get("op")
    _free(request.get("drop", []))
    if op == "name":
        import IPython

        namespace = IPython.get_ipython().user_ns
        name = request["name"]
        if name not in namespace:
            raise NameError(f"name {name!r} is not defined in your notebook")
        return namespace[name]
    if op == "ping":
        return None
    if op == "release":  # the judge finished a test: all its handles may be freed
        _free(list(_handles))
        return None
    obj = _handles[int(request["id"])] if "id" in request else None
    if op == "getattr":
        return getattr(obj, request["name"])
    if op == "setattr":
        setattr(obj, request["name"], _decode_args(request["value"]))
        return None
    if op == "call":
        args = _decode_args(request["args"])
        kwargs = _decode_args(request["kwargs"])
        return obj(*args, **kwargs)
    if op == "getitem":
        return obj[_decode_args(request["key"])]
    if op == "len":
        return len(obj)
    if op == "list":
        return list(obj)
    if op == "array":
        return np.asarray(obj)
    if op == "number":
        return float(obj) if not isinstance(obj, int) else int(obj)
    if op == "facts":
        return _facts(obj, request["kind"], request.get("options", {}))
    if op == "run":
        return _run_here(request["source"], _decode_args(request["names"]))
    raise ValueError(f"unknown operation {op!r}")


def _run_here(source: str, names: dict):
    """Run ``source`` with the notebook's names plus ``names``; its ``result``."""
    import IPython

    shell = IPython.get_ipython()
    namespace = dict(shell.user_ns) if shell is not None else {}
    namespace.update(names)
    exec(compile(source, "<check>", "exec"), namespace)
    return namespace.get("result")


_judge_link = [None]   # set in the judge: where in_kernel sends its code


def in_kernel(source: str, **names):
    """Run ``source`` where the student's code lives and return its ``result`` variable.

    In the student's own notebook that is right here. When the grader judges a test cell,
    the code (the check's, not the student's) is sent to the student's kernel and only the
    result comes back, as data. A check uses it for what must be built next to the
    student's code, e.g. a Keras model around a layer of the student's own class.
    """
    link = _judge_link[0]
    if link is None:
        return _run_here(source, names)
    return link.request("run", source=source, names=link.encode(dict(names)))


MAX_PRINTED_CHARS = 20_000   # what the student's code may print during one request
_channel = [None]            # the judge's socket while a request from it is answered


class BoundedText(io.StringIO):
    """Keeps the first MAX_PRINTED_CHARS characters written (an output flood stops here)."""

    def write(self, text):
        room = MAX_PRINTED_CHARS - self.tell()
        if room > 0:
            super().write(str(text)[:room])
        return len(text)


def install(address: str) -> None:
    """Answer judge requests on a socket of their own (ZMQ ``PAIR`` at ``address``, a Unix
    socket in the folder the sandbox shares with the grader), served by the kernel's event
    loop in its main thread whenever no cell runs. A request then costs one message each
    way: no Jupyter message signing, no status broadcast, no cell."""
    import asyncio
    import atexit
    import signal

    import zmq

    import IPython

    # The kernel's own ZMQ context: a new one would start an I/O thread, which a
    # submission at its process cap cannot get (libzmq then aborts the kernel).
    app = getattr(IPython.get_ipython().kernel, "parent", None)
    context = getattr(app, "context", None) or zmq.Context.instance()
    socket = context.socket(zmq.PAIR)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(address)
    # The kernel terminates its context at exit, which waits for every socket: ours is
    # closed first (exit handlers run last-registered first).
    atexit.register(socket.close, 0)

    def ready():
        while socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            message = json.loads(socket.recv_string(zmq.NOBLOCK))
            printed = BoundedText()
            _channel[0] = socket   # callbacks during this request go over it too
            # The judge interrupts a request that runs too long; between cells the kernel
            # ignores SIGINT, so take it for the request as a cell execution does.
            interrupts = signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                    reply = answer(message["request"])
            finally:
                signal.signal(signal.SIGINT, interrupts)
                _channel[0] = None
            socket.send_string(json.dumps({"id": message["id"], "reply": reply,
                                           "printed": printed.getvalue()}))

    asyncio.get_running_loop().add_reader(socket.getsockopt(zmq.FD), ready)


def serve(request_text: str) -> None:
    """Answer one judge request sent as a cell (before :func:`install` ran)."""
    from IPython.display import publish_display_data

    publish_display_data({MIME: answer(request_text)})


def _student_traceback(error: BaseException) -> str:
    """The traceback without this module's own frames (the student's code is what
    matters to them)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename != __file__]
    return "".join(traceback.format_list(frames)
                   + traceback.format_exception_only(type(error), error))


def answer(request_text: str) -> dict:
    """The kernel's answer to one judge request, as data."""
    _symbolic.clear()
    _received.clear()
    try:
        request = json.loads(request_text)
        reply = {"ok": True, "value": _result(_dispatch(request))}
        # A function may train the model it was given: the judge's copy gets the weights.
        reply["synced"] = [_state(obj) for obj in _received]
    except BaseException as error:  # noqa: B902: the judge reports every failure
        reply = {"ok": False, "error": {
            "type": type(error).__name__,
            "message": str(error)[:4000],
            "traceback": _student_traceback(error)[-6000:]}}
    finally:
        _symbolic.clear()
        _received.clear()
    return reply


def error_from_reply(error: dict) -> BaseException:
    """The judge's exception for an error the kernel reported (builtin types kept, so a
    test can expect e.g. ``ValueError``; any other type becomes :class:`KernelError`)."""
    name = str(error.get("type", "Exception"))
    message = str(error.get("message", ""))
    kind = _BUILTIN_ERRORS.get(name)
    if kind is None or kind in (AssertionError,):
        made = KernelError(f"{name}: {message}")
    else:
        try:
            made = kind(message)
        except Exception:  # an exception type that wants other arguments
            made = KernelError(f"{name}: {message}")
    # What the judge shows the student about where it happened, as text.
    made.kernel_traceback = str(error.get("traceback", ""))[-3000:]
    return made
