"""Mutation testing (tools/mutate.py): the operators on small cells, the ids, the
declarations of equivalent mutants, and a fixed sample of mutants of lessons 01 to 08 and 14
graded through the real grader, every non-equivalent one of which must be killed."""

from __future__ import annotations

import ast
import time

import pytest

from autograder import notebooks, settings
from tests.conftest import ROOT
from tools import mutate

BEGIN, END = notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END


def cell(body: str, before: str = "def f(x, y):\n    \"\"\"Doc 1 + 2.\"\"\"\n",
         after: str = "") -> str:
    """A solution cell: ``before`` (outside), the indented ``body`` between the markers."""
    lines = [f"    {line}" if line else "" for line in body.strip("\n").splitlines()]
    return before + f"    {BEGIN}\n" + "\n".join(lines) + f"\n    {END}\n" + after


def codes(source: str, operator: str) -> set[str]:
    return {ast.unparse(ast.parse(m.code)) for m in mutate.mutate_source(source)
            if m.operator == operator}


def expect(source: str, replaced: str, by: str) -> str:
    """The unparsed cell with one piece of the solution replaced."""
    assert replaced in source
    return ast.unparse(ast.parse(source.replace(replaced, by, 1)))


# ------------------------------------------------------------------ operators

def test_number_constants():
    source = cell("return x * 3 + y * 0.5 + 2.0")
    assert codes(source, "number") == {
        expect(source, "x * 3", "x * 4"), expect(source, "x * 3", "x * 2"),
        expect(source, "0.5", "1.0"), expect(source, "0.5", "0.25"),
        expect(source, "2.0", "3.0"), expect(source, "2.0", "1.0")}


def test_arithmetic_swaps():
    source = cell("z = x + y\nz -= x * y // 2\nreturn z")
    got = codes(source, "arith")
    assert expect(source, "x + y", "x - y") in got
    assert expect(source, "z -= x", "z += x") in got
    assert expect(source, "x * y // 2", "x // y // 2") in got
    assert expect(source, "x * y // 2", "x * y * 2") in got
    assert len(got) == 4


def test_comparison_boundaries():
    source = cell("if x < 1 or y >= 2:\n    return 0\nreturn x > y")
    assert codes(source, "compare") == {
        expect(source, "x < 1", "x <= 1"), expect(source, "y >= 2", "y > 2"),
        expect(source, "x > y", "x >= y")}


def test_padding_strides_axis_use_bias_epsilon():
    source = cell('layer = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)\n'
                  'norm = layers.BatchNormalization(axis=-1, epsilon=1e-3)\n'
                  'return tf.nn.conv2d(x, y, strides=(1, 1), padding="VALID")')
    assert codes(source, "padding") == {expect(source, '"same"', '"valid"'),
                                        expect(source, '"VALID"', '"SAME"')}
    assert codes(source, "strides") == {
        expect(source, "strides=2", "strides=3"), expect(source, "strides=2", "strides=1"),
        expect(source, "strides=(1, 1)", "strides=(2, 2)")}   # no stride 0
    assert codes(source, "axis") == {expect(source, "axis=-1", "axis=0"),
                                     expect(source, "axis=-1", "axis=-2")}
    assert codes(source, "use_bias") == {expect(source, "use_bias=False", "use_bias=True")}
    assert codes(source, "epsilon") == {expect(source, "epsilon=1e-3", "epsilon=0.1"),
                                        expect(source, "epsilon=1e-3", "epsilon=1e-5")}
    # those keywords are not also mutated as plain numbers
    assert codes(source, "number") == {expect(source, "(8, 3", f"({a}, {b}") for a, b in
                                       ((9, 3), (7, 3), (8, 4), (8, 2))}


def test_use_bias_added_where_missing():
    source = cell("return layers.Dense(4, activation='relu')(x)")
    assert codes(source, "use_bias") == {
        expect(source, "activation='relu')", "activation='relu', use_bias=False)")}


def test_activation_swaps():
    source = cell('return layers.Dense(4, activation="relu")(x)')
    got = codes(source, "activation")
    assert got == {expect(source, '"relu"', f'"{a}"') for a in mutate.ACTIVATIONS
                   if a != "relu"}


def test_pooling_swaps():
    source = cell("x = layers.MaxPooling2D(2)(x)\nx = layers.GlobalAveragePooling2D()(x)\n"
                  "return tf.nn.max_pool2d(x, 2, 2, 'VALID')")
    assert codes(source, "pooling") == {
        expect(source, "MaxPooling2D", "AveragePooling2D"),
        expect(source, "GlobalAveragePooling2D", "GlobalMaxPooling2D"),
        expect(source, "max_pool2d", "avg_pool2d")}


def test_dropped_skip_connections():
    source = cell("y = layers.Add()([x, shortcut])\nreturn y + shortcut")
    assert codes(source, "skip") == {
        expect(source, "layers.Add()([x, shortcut])", "x"),
        expect(source, "layers.Add()([x, shortcut])", "shortcut"),
        expect(source, "y + shortcut", "y"), expect(source, "y + shortcut", "shortcut")}
    assert not codes(cell("return x + y"), "skip")   # plain sums are arithmetic only


def test_dropped_normalisation():
    source = cell("x = layers.BatchNormalization(name='bn')(x)\n"
                  "model = keras.Sequential([layers.LayerNormalization()])\nreturn x")
    assert codes(source, "norm") == {
        expect(source, "layers.BatchNormalization(name='bn')(x)", "x"),
        expect(source, "layers.LayerNormalization()", "layers.Identity()")}


def test_swapped_dependent_statements_only():
    source = cell("a = x + 1\nb = y + 1\nc = a * b\nmodel.add(a)\nmodel.add(b)\nreturn c")
    got = codes(source, "swap")
    assert expect(source, "b = y + 1\n    c = a * b", "c = a * b\n    b = y + 1") in got
    assert expect(source, "model.add(a)\n    model.add(b)",
                  "model.add(b)\n    model.add(a)") in got
    # a and b are independent: swapping them changes nothing, so it is not a mutant
    assert expect(source, "a = x + 1\n    b = y + 1", "b = y + 1\n    a = x + 1") not in got
    # two module functions do not make statements dependent
    assert not codes(cell("a = np.sum(x)\nb = np.sum(y)\nreturn 0", ), "swap") - {
        expect(cell("a = np.sum(x)\nb = np.sum(y)\nreturn 0"),
               "b = np.sum(y)\n    return 0", "return 0\n    b = np.sum(y)")}


def test_only_the_solution_region_is_mutated():
    outside = "def f(x, y=2):\n    \"\"\"Doc.\"\"\"\n    if x < 0:\n        x = x + 1\n"
    source = cell("return x * y + 1", before=outside, after="\nZ = 3 * 4\n")
    mutants = mutate.mutate_source(source)
    assert mutants
    for mutant in mutants:
        tree = ast.parse(mutant.code)
        function, constant = tree.body
        assert ast.unparse(function.args) == "x, y=2"
        assert ast.unparse(function.body[1]) == "if x < 0:\n    x = x + 1"
        assert ast.unparse(constant) == "Z = 3 * 4"
        assert ast.unparse(function.body[2]) != "return x * y + 1"


def test_message_texts_are_not_mutated():
    source = cell("if x < 0:\n    raise ValueError(f'need x >= 0 + 1, got {x + 1}')\nreturn x")
    assert [m.operator for m in mutate.mutate_source(source)] == ["compare", "number",
                                                                   "number", "swap"]


def test_no_region_no_mutants():
    assert mutate.mutate_source("def f(x):\n    return x + 1\n") == []


# ------------------------------------------------------------------ every lesson

@pytest.fixture(scope="module")
def all_mutants():
    return {lesson: mutate.lesson_mutants(lesson) for lesson in settings.lessons(ROOT)}


def test_every_lesson_has_mutants_valid_unique_and_stable(all_mutants):
    operators = set()
    for lesson, mutants in all_mutants.items():
        assert mutants, lesson
        ids = [m.id for m in mutants]
        assert len(set(ids)) == len(ids), lesson
        assert len({m.student for m in mutants}) == len(ids), lesson
        assert len({m.code for m in mutants}) == len(ids), lesson   # no duplicate mutant
        for mutant in mutants:
            ast.parse(mutant.code)
            assert mutant.id.startswith(f"{lesson[:2]}:{mutant.grade_id}:{mutant.operator}:")
            assert "\n" not in mutant.description and mutant.description
        operators.update(m.operator for m in mutants)
    assert operators == set(mutate.OPERATORS)
    assert [m.id for m in mutate.lesson_mutants("02")] == [m.id for m in all_mutants[
        "02_padding_stride"]]


def test_a_mutant_changes_one_solution_cell_of_a_submission(all_mutants):
    mutant = all_mutants["02_padding_stride"][0]
    source = notebooks.read(ROOT / settings.SOURCE_DIRECTORY / mutant.lesson / mutant.notebook)
    released = notebooks.read(ROOT / settings.RELEASE_DIRECTORY / mutant.lesson
                              / mutant.notebook)
    complete = notebooks.fill_in(released, source)
    mutated = notebooks.fill_in(released, source, replacements={mutant.grade_id: mutant.code})
    changed = [notebooks.grade_id(a) for a, b in zip(complete.cells, mutated.cells)
               if a.source != b.source]
    assert changed == [mutant.grade_id]


def test_equivalent_declarations_name_generated_mutants_with_reasons(all_mutants, tmp_path):
    declared = mutate.load_equivalent()
    generated = {m.id for mutants in all_mutants.values() for m in mutants}
    assert set(declared) <= generated, sorted(set(declared) - generated)
    assert all(reason.strip() for reason in declared.values())
    bad = tmp_path / "equivalent.toml"
    bad.write_text('[[equivalent]]\nid = "02:x:number:1.1:plus1"\nreason = " "\n')
    with pytest.raises(ValueError, match="reason"):
        mutate.load_equivalent(bad)


def test_dependencies_and_attribution():
    nb = notebooks.read(ROOT / settings.SOURCE_DIRECTORY / "01_edge_detection"
                        / "01_edge_detection.ipynb")
    deps = mutate.test_dependencies(nb)
    assert deps["conv2d_valid"] == {"test_conv2d_valid", "test_conv2d_valid_hidden",
                                    "test_edge_magnitude", "test_edge_magnitude_hidden"}
    assert deps["edge_filter"] == {"test_edge_filter", "test_edge_filter_hidden"}
    keyed = {("n", k): {("n", t) for t in v} for k, v in deps.items()}
    made = [mutate.Mutant(f"01:{gid}:number:1.0:{i}", "01_edge_detection", "n", gid,
                          "number", "d", "") for i, gid in
            enumerate(["conv2d_valid", "edge_magnitude", "edge_filter", "conv2d_valid"])]
    plan = mutate.plan_submissions(made, keyed, group=6)
    assert [[m.grade_id for m in s] for s in plan] == [
        ["conv2d_valid", "edge_filter"], ["edge_magnitude"], ["conv2d_valid"]]
    assert len(mutate.plan_submissions(made, keyed, group=1)) == 4


def test_sample_is_deterministic(all_mutants):
    mutants = all_mutants["01_edge_detection"]
    assert mutate.sample(mutants, 5, seed=3) == mutate.sample(mutants, 5, seed=3)
    assert len(mutate.sample(mutants, 5)) == 5
    assert mutate.sample(mutants, None) == mutants


# ------------------------------------------------------------------ the real grader

# A fixed sample, chosen by hand: for lessons 01 and 02 it covers the operators they offer
# and every solution cell (three submissions); then one submission per further lesson.
SAMPLE = {
    "01_edge_detection": [
        "01:conv2d_valid:arith:9.19:add",          # out_h = n_h + f_h + 1
        "01:edge_filter:number:1.52:plus1",        # Sobel centre weight 3
        "01:learn_filter:number:31.71:plus1",      # two output channels: half the gradient
        "01:edge_filter:swap:10.4:body7",          # return before the filter is built
        "01:edge_magnitude:number:2.59:minus1",    # a non-square kernel accepted
    ],
    "02_padding_stride": [
        "02:conv_output_size:arith:7.16:floordiv",
        "02:same_padding:compare:1.7:lte",
        "02:zero_pad:number:1.86:plus1",
        "02:conv2d_strided:arith:8.24:floordiv",
        "02:keras_output_shape:padding:3.22:valid",
        "02:convolve2d:number:1.24:plus1",
    ],
    # One submission each: mutants of independent cells, taken from the killed mutants of
    # benchmarks/mutation_table.py (and the survivors its runs revealed, now killed).
    "03_volumes_pooling": [
        "03:conv_volume:arith:3.10:add",
        "03:param_counts:number:2.38:plus1",
        "03:weight_sharing:arith:1.15:floordiv",
        "03:pool2d:arith:7.63:floordiv",
        "03:conv_layer_forward:number:8.61:minus1",
        "03:one_conv_net:pooling:3.8:AveragePooling2D",
    ],
    "04_cnn_example": [
        "04:layer_info:arith:24.12:mul",
        "04:cnn_example:strides:3.49:minus1",
    ],
    "05_classic_networks": [
        "05:lenet5:padding:18.73:same",            # Subsampling over a partial border block
        "05:lrn:number:17.27:minus1",
        "05:receptive_field:arith:21.11:floordiv~3",
        "05:simple_lenet:use_bias:8.8:false",
    ],
    "06_residual_networks": [
        "06:digit_net:activation:11.51:sigmoid",   # the classifier's softmax
        "06:wide_resnext:activation:46.26:tanh",   # the WRN's post-activation
        "06:resnet50:use_bias:6.8:false",
        "06:basic_block:number:2.42:minus1",
    ],
    "07_inception": [
        "07:conv1x1:swap:5.4:body4",               # the channel check skipped
        "07:mini_googlenet:number:8.28:minus1",    # pool_3 with a 2x2 window
        "07:inception_v4_stem:strides:19.37:minus1",
        "07:label_smoothing:number:5.12:minus1",
    ],
    "08_efficient_networks": [
        "08:tiny_mobilenet:swap:3.4:body3",        # ReLU6 before the stem's normalisation
        "08:xception_entry:padding:1.60:valid",
        "08:nasnet_cell:arith:28.34:sub~2",
        "08:densenet:compare:73.11:lte",
        "08:separable_cost:number:27.63:minus1",
    ],
    "14_seq2seq_attention": [
        "14:additive_attention:swap:5.4:body10",   # softmax without the maximum subtracted
        "14:greedy_decode:axis:4.61:plus1",
        "14:scaled_dot_product_attention:swap:3.4:body8",  # maximum taken before masking
    ],
    # Lesson 11 is a cascade (its experiment runs every exercise): one mutant per submission.
    "11_end_to_end": [
        "11:shapes_dataset:arith:5.38:sub",        # glare never on the last rows and columns
    ],
    "15_transformer_vit": [
        "15:vit:epsilon:10.42:div100",             # the final LayerNormalization's epsilon
        "15:mha_param_count:arith:5.13:floordiv~2",
        "15:positional_encoding:number:6.13:minus1",
        "15:decoder_block:epsilon:9.42:div100",
        "15:scaled_dot_product_attention:number:2.42:minus1",
    ],
}
# Not a generated mutant: an equivalent rewrite of an answer, undeclared. It must come back
# as a survivor, or the test could not fail.
CANARY = mutate.Mutant(
    "01:learn_filter:canary:0.0:equivalent", "01_edge_detection", "01_edge_detection.ipynb",
    "learn_filter", "canary", "NUM_STEPS written as 299 + 1", "")


@pytest.mark.notebooks
def test_sampled_mutants_are_killed_by_the_real_grader(tmp_path):
    chosen = []
    for lesson, ids in SAMPLE.items():
        found = {m.id: m for m in mutate.lesson_mutants(lesson)}
        missing = [i for i in ids if i not in found]
        assert not missing, f"sample ids no longer generated (lesson edited?): {missing}"
        chosen += [found[i] for i in ids]
    source = next(c.source for c in notebooks.read(
        ROOT / settings.SOURCE_DIRECTORY / "01_edge_detection" / "01_edge_detection.ipynb"
    ).cells if notebooks.grade_id(c) == "learn_filter")
    canary = mutate.Mutant(**{**CANARY.__dict__, "code": notebooks.solution_code(
        source).replace("NUM_STEPS = 300", "NUM_STEPS = 299 + 1")})
    assert canary.code != notebooks.solution_code(source)
    started = time.perf_counter()
    reports = mutate.grade_mutants(chosen + [canary], workers=1, tmp=tmp_path,
                                   control=False, group=6)
    seconds = time.perf_counter() - started
    print(f"\n{mutate.table(reports)}\n{seconds:.0f} s")
    assert sum(r.submissions for r in reports.values()) == 12, "the sample got dearer"
    results = {r.mutant.id: r for rep in reports.values() for r in rep.results}
    assert results[canary.id].status == "survived", results[canary.id]
    del results[canary.id]
    not_killed = {i: (r.status, r.mutant.description, r.note) for i, r in results.items()
                  if r.status not in ("killed", "equivalent") or r.note}
    relevant = [r for r in results.values() if r.status != "equivalent"]
    killed = sum(r.status == "killed" for r in relevant)
    assert killed >= 0.99 * len(relevant) and not not_killed, not_killed
