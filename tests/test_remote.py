"""What crosses between the student's kernel and the judge is data, parsed strictly."""

from __future__ import annotations

import base64
import io
import pickle

import numpy as np
import pytest

from dlcourse import remote


def _roundtrip(value):
    kept = []
    data = remote.encode(value, lambda obj: kept.append(obj) or len(kept))
    return remote.decode(data), kept


def test_plain_values_and_arrays_come_back_equal():
    value = {"a": [1, 2.5, None, True, "x"], (1, 2): {3, 4}, "big": 2**70,
             "nan": float("nan"), "array": np.arange(6).reshape(2, 3),
             "scalar": np.float32(1.5)}
    back, kept = _roundtrip(value)
    assert not kept
    assert back["a"] == [1, 2.5, None, True, "x"] and back[(1, 2)] == {3, 4}
    assert back["big"] == 2**70 and np.isnan(back["nan"])
    assert back["array"].dtype == value["array"].dtype
    np.testing.assert_array_equal(back["array"], value["array"])
    assert type(back["scalar"]) is np.float32


def test_objects_stay_in_the_kernel_as_handles():
    class AlwaysEqual(float):
        def __eq__(self, other):
            return True

    back, kept = _roundtrip([AlwaysEqual(1), lambda x: x])
    assert [type(k).__name__ for k in kept] == ["AlwaysEqual", "function"]
    handle = back[0]
    assert remote.is_remote(handle) and type(handle).__name__ == "AlwaysEqual"
    assert handle != 1.0 and not (handle == 9)       # never decides a comparison
    assert bool(handle) is True and handle == handle  # identity only


def test_pickles_and_object_arrays_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    forged = {"t": "ndarray", "npy": base64.b64encode(buffer.getvalue()).decode()}
    with pytest.raises(ValueError):
        remote.decode(forged)
    with pytest.raises(ValueError):
        remote.decode({"t": "ndarray", "npy": base64.b64encode(pickle.dumps([1])).decode()})
    for malformed in ({"t": "code", "v": "import os"}, {"t": "list", "v": "abc"},
                      {"no": "tag"}, [1, 2], {"t": "dict", "v": [[1]]}):
        with pytest.raises(ValueError):
            remote.decode(malformed)


def test_deeply_nested_answers_are_refused():
    data = 1
    for _ in range(remote.MAX_DEPTH + 2):
        data = {"t": "list", "v": [data]}
    with pytest.raises(ValueError):
        remote.decode(data)


def test_builtin_errors_keep_their_type_and_others_do_not():
    assert type(remote.error_from_reply({"type": "ValueError", "message": "m"})) is ValueError
    for name in ("AssertionError", "MyError", "SystemExit", "KeyboardInterrupt"):
        error = remote.error_from_reply({"type": name, "message": "m"})
        assert isinstance(error, remote.KernelError), name


def test_in_kernel_runs_locally_outside_the_grader():
    assert remote.in_kernel("result = x * 2", x=21) == 42


def test_keras_configs_that_could_reach_the_judges_files_are_not_rebuilt():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu")])
    config = keras.saving.serialize_keras_object(model)
    assert remote.safe_config(config)
    vocabulary = {"module": "keras.layers", "class_name": "StringLookup",
                  "config": {"vocabulary": "/etc/passwd"}}
    utility = {"module": "keras.src.utils.file_utils", "class_name": "function",
               "config": "get_file"}
    foreign = {"module": "os", "class_name": "system", "config": {}}
    for bad in (vocabulary, utility, foreign):
        nested = {"module": "keras", "class_name": "Sequential", "config": {"layers": [bad]}}
        assert not remote.safe_config(nested), bad
        packed = {"t": "keras", "config": nested, "weights": [], "ref": 1, "type": "X"}
        assert remote.is_remote(remote.decode(packed))  # stays a handle, never built
