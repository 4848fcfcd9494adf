"""The grader's scan for code that tries to switch checks off."""

import nbformat

from autograder.tamper import scan_notebook, scan_source


def test_monkeypatching_is_spotted():
    hits = scan_source(
        "import numpy as np\n"
        "from dlcourse import checks\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "setattr(checks, 'check_close', print)\n"
        "keras.Model.count_params = lambda self: 62006\n"
        "get_ipython().set_custom_exc((Exception,), lambda *a: None)\n"
        "__builtins__['len'] = lambda x: 0\n"
        "import sys\nsys.excepthook = print\n")
    text = " ".join(hits)
    for word in ["np.testing.assert_allclose", "setattr(checks", "keras.Model.count_params",
                 "set_custom_exc", "__builtins__", "excepthook"]:
        assert word in text, (word, hits)


def test_ordinary_code_is_not_flagged():
    assert scan_source(
        "import numpy as np\nx = np.zeros(3)\nx[0] = 1\nmodel = keras.Sequential()\n"
        "model.count = 3\n%matplotlib inline\nhistory = model.fit(x, x)\n") == []
    assert scan_source("def broken(:\n") == []  # syntax errors are the grader's business


def test_graded_cells_are_not_scanned():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("np.abs = abs", metadata={"nbgrader": {
            "grade": True, "solution": False, "grade_id": "t", "points": 1}}),
        nbformat.v4.new_code_cell("checks.check_close = print"),
    ])
    assert scan_notebook(nb) == ["cell 1, line 1: assigns to checks.check_close"]
