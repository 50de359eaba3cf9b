"""Forbidden means enforced: each exercise's declared rule is checked in the submission's source.

An exercise that uses what its rule forbids (a finished tfcourse function, ``keras.losses`` for
``loss_fn``, the global ``np.random`` for ``get_batch``...), however the name is spelled, loses
every test of that exercise with a message naming the rule and the line; the references and the
declared ``@alternative``s keep their rules. Most checks read source text only (no grading);
the gradings use the numpy-only ``toy`` assignment with a declared rule, plus one real
assignment end to end.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from concurrent.futures import Future, wait
from pathlib import Path

import nbformat
import pytest

from tfcourse.grading import forbidden, mistakes
from tfcourse.grading.assignment import load
from tfcourse.grading.errors import AssignmentError
from tfcourse.grading.forbidden import Program, Rules, check_program, read_rules
from tfcourse.grading.runner import grade

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = REPO / "assignments"
NAMES = sorted(p.parent.name for p in ASSIGNMENTS.glob("*/exercises.py"))
TOY = REPO / "tests" / "grading_fixtures" / "toy"
RULES = {name: read_rules(ASSIGNMENTS / name) for name in NAMES}
T1, T2, T3 = (RULES[n] for n in ("tutorial1_mlp", "tutorial2_a2c", "tutorial3_review"))
PUBLIC = "tests_public.py"
TOY_RULE = 'FORBIDDEN = {"scale": ["numpy.multiply"]}\n'


def _check(rules: Rules, exercise: str, source: str) -> forbidden.Violation | None:
    return check_program(Program([("", source)]), rules, exercise)


def _toy(folder: Path) -> Path:
    """A copy of the toy assignment whose ``scale`` may not use ``numpy.multiply``."""
    toy = shutil.copytree(TOY, folder / "toy")
    text = (toy / "exercises.py").read_text()
    (toy / "exercises.py").write_text(text.replace("\n\ndef helper_given", f"\n{TOY_RULE}\n\n"
                                                   "def helper_given"))  # fmt: skip
    return toy


# ---------------------------------------------------------------------- the declarations


@pytest.mark.parametrize("name", NAMES)
def test_references_and_alternatives_keep_every_rule(name):
    folder = ASSIGNMENTS / name
    rules = RULES[name]
    assert set(rules.entries) <= set(rules.exercises) and rules.entries, "no rule declared"
    program = Program(forbidden.file_cells(folder / "exercises.py"))
    broken = {e: check_program(program, rules, e) for e in rules.exercises}
    assert not any(broken.values()), {e: v.message() for e, v in broken.items() if v}
    for m in mistakes.declared(folder):
        if m.correct:  # an @alternative stands in for its exercise: it keeps the rule too
            found = check_program(program, rules, m.exercise, root=m.name)
            assert found is None, found.message()


def test_known_mistakes_that_use_a_forbidden_name_break_the_rule():
    program = Program(forbidden.file_cells(ASSIGNMENTS / "tutorial1_mlp" / "exercises.py"))
    found = check_program(program, T1, "get_batch", root="get_batch_global_random")
    assert (found.entry, found.used, found.via) == (
        "numpy.random",
        "numpy.random.randint",
        "get_batch_global_random",
    )


def test_the_released_file_keeps_the_rule_and_handouts_and_the_zip_record_it(tmp_path):
    from tfcourse.grading.autograder_zip import build
    from tfcourse.grading.release import release

    toy = _toy(tmp_path / "src")
    handout = release(str(toy), tmp_path / "handout")
    assert TOY_RULE in (handout / "toy.py").read_text()  # students read the rule
    meta = json.loads((handout / "assignment.json").read_text())
    assert meta["forbidden"] == {
        "exercises": {"scale": ["numpy.multiply"]},
        "given": [],
    }
    with zipfile.ZipFile(build(str(toy), tmp_path / "toy.zip")) as zf:
        zf.extractall(tmp_path / "autograder")
    for copy in (handout, tmp_path / "autograder" / "assignment"):
        assert read_rules(copy) == read_rules(toy)
    t3 = json.loads(load(str(ASSIGNMENTS / "tutorial3_review")).metadata_json())["forbidden"]
    assert t3["given"] == ["tfcourse.errors.ShapeError", "tfcourse.review.shapes.assert_shape"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('FORBIDDEN = {"mul": ["numpy"]}\n', "FORBIDDEN names 'mul', which EXERCISES does not"),
        ('FORBIDDEN = {"scale": "numpy"}\n', "FORBIDDEN['scale'] must be a list of dotted names"),
        ('FORBIDDEN = {"scale": ["numpy random"]}\n', "must be a list of dotted names"),
        ("FORBIDDEN = dict(scale=[])\n", "write the rules as a literal FORBIDDEN = {"),
    ],
)
def test_a_malformed_rule_is_refused_when_the_assignment_loads(tmp_path, rule, message):
    toy = shutil.copytree(TOY, tmp_path / "toy")
    (toy / "exercises.py").write_text((toy / "exercises.py").read_text() + "\n" + rule)
    with pytest.raises(AssignmentError, match=re.escape(message)):
        load(str(toy))


# ---------------------------------------------------------------------- the static check

SHORTCUTS = {  # (rules, exercise, source, entry, used, line)
    "finished tfcourse function": (
        T1, "compute_a", "from tfcourse.basics import compute_a\n",
        "tfcourse", "tfcourse.basics.compute_a", 1),
    "tfcourse module attribute": (
        T1, "loss_fn", "import tfcourse.mlp\n\n\ndef loss_fn(l, y):\n"
        "    return tfcourse.mlp.loss_fn(l, y)\n", "tfcourse", "tfcourse.mlp.loss_fn", 5),
    "aliased tfcourse import": (
        T2, "gae", "from tfcourse.rl.returns import gae_advantages as g\n\n\ndef gae(*a):\n"
        "    return g(*a)\n", "tfcourse", "tfcourse.rl.returns.gae_advantages", 5),
    "tfcourse base class": (
        T3, "SineNet", "from tfcourse.review.sine import SineMLP\n\n\nclass SineNet(SineMLP):\n"
        "    pass\n", "tfcourse", "tfcourse.review.sine.SineMLP", 4),
    "an ungiven name of a given module": (
        T3, "fixed_mse", "from tfcourse.review import shapes\n\n\ndef fixed_mse(y, p):\n"
        "    return shapes.guarded_mse(y, p)\n", "tfcourse", "tfcourse.review.shapes.guarded_mse",
        5),
    "keras.losses": (
        T1, "loss_fn", "import keras\n\n\ndef loss_fn(logits, labels):\n"
        "    return keras.losses.categorical_crossentropy(labels, logits)\n",
        "keras.losses", "keras.losses.categorical_crossentropy", 5),
    "import ... as": (
        T1, "loss_fn", "import keras.losses as L\n\n\ndef loss_fn(logits, labels):\n"
        "    return L.categorical_crossentropy(labels, logits)\n",
        "keras.losses", "keras.losses.categorical_crossentropy", 5),
    "from keras import losses": (
        T1, "loss_fn", "from keras import losses\n\n\ndef loss_fn(logits, labels):\n"
        "    return losses.CategoricalCrossentropy()(labels, logits)\n",
        "keras.losses", "keras.losses.CategoricalCrossentropy", 5),
    "tf.keras and tf.losses": (
        T1, "loss_fn", "import tensorflow as tf\n\n\ndef loss_fn(logits, labels):\n"
        "    return tf.keras.losses.mse(labels, logits) + tf.losses.mse(labels, logits)\n",
        "keras.losses", "keras.losses.mse", 5),
    "keras.ops cross-entropy": (
        T1, "loss_fn", "from keras import ops\n\n\ndef loss_fn(logits, labels):\n"
        "    return ops.categorical_crossentropy(labels, logits)\n",
        "keras.ops.*crossentropy", "keras.ops.categorical_crossentropy", 5),
    "star import": (
        T1, "loss_fn", "from keras.losses import *\n\n\ndef loss_fn(logits, labels):\n"
        "    return categorical_crossentropy(labels, logits)\n",
        "keras.losses", "keras.losses.categorical_crossentropy", 5),
    "getattr with a literal": (
        T1, "loss_fn", "import keras\n\n\ndef loss_fn(logits, labels):\n"
        "    return getattr(keras, 'losses').mse(labels, logits)\n",
        "keras.losses", "keras.losses.mse", 5),
    "importlib with a literal": (
        T1, "loss_fn", "import importlib\n\n\ndef loss_fn(logits, labels):\n"
        "    return importlib.import_module('keras.losses').mse(labels, logits)\n",
        "keras.losses", "keras.losses.mse", 5),
    "__import__ with a literal": (
        T1, "loss_fn", "def loss_fn(logits, labels):\n"
        "    return __import__('tfcourse.mlp', fromlist=['x']).loss_fn(logits, labels)\n",
        "tfcourse", "tfcourse.mlp.loss_fn", 2),
    "sys.modules": (
        T1, "loss_fn", "import sys\n\n\ndef loss_fn(logits, labels):\n"
        "    return sys.modules['keras.losses'].mse(labels, logits)\n",
        "keras.losses", "keras.losses.mse", 5),
    "vars()": (
        T1, "loss_fn", "import keras\n\n\ndef loss_fn(logits, labels):\n"
        "    return vars(keras)['losses'].mse(labels, logits)\n",
        "keras.losses", "keras.losses.mse", 5),
    "code in a literal eval string": (
        T1, "loss_fn", "import keras\n\n\ndef loss_fn(logits, labels):\n"
        "    return eval('keras.losses.mse')(labels, logits)\n",
        "keras.losses", "keras.losses.mse", 5),
    "a module-level exec string": (
        T1, "loss_fn", "x = 1\nexec('from tfcourse.mlp import loss_fn')\n",
        "tfcourse", "tfcourse.mlp.loss_fn", 2),
    "a module-level object": (
        T1, "loss_fn", "import keras\nCE = keras.losses.CategoricalCrossentropy()\n\n\n"
        "def loss_fn(logits, labels):\n    return CE(labels, logits)\n",
        "keras.losses", "keras.losses.CategoricalCrossentropy", 2),
    "a default argument": (
        T1, "loss_fn", "import keras\n\n\ndef loss_fn(logits, labels, f=keras.losses.mse):\n"
        "    return f(labels, logits)\n", "keras.losses", "keras.losses.mse", 4),
    "a lambda": (
        T1, "loss_fn", "import keras\nloss_fn = lambda l, y: keras.losses.mse(y, l)\n",
        "keras.losses", "keras.losses.mse", 2),
    "inside an if": (
        T1, "loss_fn", "import keras\nif True:\n    loss_fn = keras.metrics.mse\n",
        "keras.metrics", "keras.metrics.mse", 3),
    "globals()": (
        T1, "loss_fn", "import keras\nglobals()['loss_fn'] = keras.losses.mse\n",
        "keras.losses", "keras.losses.mse", 2),
    "setattr on the module": (
        T1, "loss_fn", "import sys\nimport keras\n"
        "setattr(sys.modules[__name__], 'loss_fn', keras.losses.mse)\n",
        "keras.losses", "keras.losses.mse", 3),
    "a global set by a function": (
        T1, "loss_fn", "def setup():\n    global loss_fn\n    from tfcourse.mlp import loss_fn\n"
        "\n\nsetup()\n", "tfcourse", "tfcourse.mlp.loss_fn", 3),
    "a patched library function": (
        T1, "loss_fn", "import keras\nimport tensorflow as tf\n\n"
        "tf.nn.l2_loss = keras.losses.mse\n\n\ndef loss_fn(logits, labels):\n"
        "    return tf.nn.l2_loss(labels - logits)\n", "keras.losses", "keras.losses.mse", 4),
    "numpy.random": (
        T1, "get_batch", "from numpy.random import randint\n\n\ndef get_batch(x, y, n, rng):\n"
        "    i = randint(0, len(y), n)\n    return x[i], y[i]\n",
        "numpy.random", "numpy.random.randint", 5),
    "tf.compat.v1": (
        T3, "port_tf1_to_tf2", "import tensorflow.compat.v1 as tf1\n\n\n"
        "def port_tf1_to_tf2():\n    return tf1.placeholder\n",
        "tensorflow.compat.v1", "tensorflow.compat.v1.placeholder", 5),
}  # fmt: skip


@pytest.mark.parametrize("case", SHORTCUTS)
def test_each_forbidden_shortcut_breaks_its_exercise_rule(case):
    rules, exercise, source, entry, used, line = SHORTCUTS[case]
    found = _check(rules, exercise, source)
    assert found is not None, f"not caught: {source}"
    assert (found.entry, found.used, found.where) == (entry, used, f"line {line}")
    assert found.code == source.splitlines()[line - 1].strip()
    assert found.message().startswith(f"{exercise} may not use ")


HELPER = "import keras\n\n\ndef _ce(l, y):\n    return keras.losses.mse(y, l)\n\n\n"


def test_a_helper_the_exercise_calls_is_checked_and_named():
    source = HELPER + "def loss_fn(logits, labels):\n    return _ce(logits, labels)\n"
    found = _check(T1, "loss_fn", source)
    assert found.message() == (
        "loss_fn may not use keras.losses (keras.losses.mse): the handout's FORBIDDEN rules it "
        "out for this exercise (its docstring says why); line 5, in `_ce`, which loss_fn uses: "
        "`return keras.losses.mse(y, l)`"
    )
    assert _check(T1, "accuracy", HELPER + "def accuracy(l, y):\n    return _ce(l, y)\n") is None


DYNAMIC = {
    "getattr with a built name": (
        "import keras\n\n\ndef loss_fn(logits, labels):\n"
        "    return getattr(keras, 'los' + 'ses').mse(labels, logits)\n",
        "look up a name built at run time in keras (it could reach keras.losses)", 5),
    "import of a built name": (
        "import importlib\n\n\ndef loss_fn(logits, labels, name='keras.losses'):\n"
        "    return importlib.import_module(name).mse(labels, logits)\n",
        "import a module named at run time (it could be tfcourse)", 5),
    "exec in the exercise": (
        "def loss_fn(logits, labels):\n    exec(CODE)\n",
        "run code built at run time (`exec`)", 2),
    "exec at module level": (
        "CODE = 'x = 1'\nexec(CODE)\n\n\ndef loss_fn(logits, labels):\n    return 0.0\n",
        "run code built at run time (`exec`)", 2),
    "a module passed as a default": (
        "import keras\n\n\ndef loss_fn(l, y, k=keras):\n    return k.losses.mse(y, l)\n",
        "use keras as a value (it holds keras.losses)", 4),
    "a module in a local variable": (
        "import tensorflow as tf\n\n\ndef loss_fn(l, y):\n    k = tf.keras\n"
        "    return k.losses.mse(y, l)\n",
        "use tensorflow.keras as a value (it holds keras.losses)", 5),
    "an importer in a local variable": (
        "def loss_fn(l, y):\n    f = __import__\n    return f('keras.losses').mse(y, l)\n",
        "use `__import__`, which loads code by a name or text built at run time", 2),
    "a module's __dict__": (
        "import keras\n\n\ndef loss_fn(l, y):\n    d = keras.__dict__\n"
        "    return d['losses'].mse(y, l)\n",
        "look up a name built at run time in keras (it could reach keras.losses)", 5),
}  # fmt: skip


@pytest.mark.parametrize("case", DYNAMIC)
def test_names_built_at_run_time_count_where_they_could_reach_a_rule(case):
    source, used, line = DYNAMIC[case]
    found = _check(T1, "loss_fn", source)
    assert (found.used, found.where, found.dynamic) == (used, f"line {line}", True)
    assert found.message().endswith(f"the grader cannot check such code; line {line}: "
                                    f"`{source.splitlines()[line - 1].strip()}`")  # fmt: skip


ALLOWED = {
    "tf.nn for loss_fn": (
        T1, "loss_fn", "import tensorflow as tf\n\n\ndef loss_fn(logits, labels):\n"
        "    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels, logits))\n"),
    "a forbidden name outside the exercise": (
        T1, "loss_fn", "import keras\nprint(keras.losses.mse([1.0], [1.0]))\n\n\n"
        "def loss_fn(logits, labels):\n    return 0.0\n"),
    "the last definition counts": (
        T1, "loss_fn", "from tfcourse.mlp import loss_fn\n\n\ndef loss_fn(logits, labels):\n"
        "    return 0.0\n"),
    "an unused import": (
        T1, "loss_fn", "import tfcourse.mlp\n\n\ndef loss_fn(l, y):\n    return 0\n"),
    "the excepted Generator": (
        T1, "get_batch", "import numpy as np\n\n\n"
        "def get_batch(x, y, n, rng: np.random.Generator):\n"
        "    assert isinstance(rng, np.random.Generator)\n    i = rng.integers(0, len(y), size=n)\n"
        "    return x[i], y[i]\n"),
    "what the handout imports": (
        T3, "fixed_mse", "import tfcourse.review.shapes as S\nfrom tfcourse.errors import "
        "ShapeError\n\n\ndef fixed_mse(y, p):\n    S.assert_shape(p, [None, 1])\n"
        "    raise ShapeError('no')\n"),
    "another exercise's rule": (
        T3, "train_step", "import keras\n\n\ndef train_step(model, opt, x, y):\n"
        "    return keras.losses.mse(y, model(x))\n"),
    "a local variable named like a module": (
        T1, "loss_fn", "def loss_fn(logits, labels):\n    keras = labels\n"
        "    return keras.losses\n"),
    "getattr on a local object": (
        T1, "loss_fn", "def loss_fn(logits, labels, name='sum'):\n"
        "    return getattr(logits, name)()\n"),
}  # fmt: skip


@pytest.mark.parametrize("case", ALLOWED)
def test_code_within_the_rules_keeps_them(case):
    rules, exercise, source = ALLOWED[case]
    found = _check(rules, exercise, source)
    assert found is None, found.message()


def test_a_use_is_charged_to_the_exercise_whose_rule_forbids_it():
    source = (
        "from tfcourse.mlp import loss_fn\nimport keras\n\n\ndef accuracy(l, y):\n"
        "    return loss_fn(l, y)\n\n\ndef train_step(x, labels, params, optimizer):\n"
        "    return loss_fn(x, labels) + accuracy(x, labels) + keras.metrics.mse(x, x)\n"
    )
    program = Program([("", source)])
    assert check_program(program, T1, "loss_fn").used == "tfcourse.mlp.loss_fn"
    assert check_program(program, T1, "accuracy") is None  # loss_fn pays for tfcourse.mlp
    assert check_program(program, T1, "train_step") is None  # keras.metrics is train_step's


def test_notebook_cells_are_named_in_the_message(tmp_path):
    v4 = nbformat.v4
    cells = ["import numpy as np\n%matplotlib inline", "!pip list", "def scale(x, factor):\n"
             "    return np.multiply(x, factor)", 'check("scale")']  # fmt: skip
    path = tmp_path / "work.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell(c) for c in cells]), path)
    rules = read_rules(_toy(tmp_path))
    found = forbidden.Checker(rules, path=path).violation("scale")
    assert found.message() == (
        "scale may not use numpy.multiply: the handout's FORBIDDEN rules it out for this "
        "exercise (its docstring says why); code cell 3, line 2: `return np.multiply(x, factor)`"
    )


def test_a_submission_too_large_to_read_fails_every_exercise(tmp_path):
    path = tmp_path / "toy.py"
    path.write_text("x = 1\n" * (forbidden.MAX_CODE_BYTES // 6 + 1))
    found = forbidden.Checker(read_rules(TOY), path=path).violation("add")
    assert found.message().startswith("add cannot be graded: your submission is too large")


def test_check_in_a_notebook_applies_the_rule(tmp_path):
    """``check()`` runs the tests in the student's kernel: the rule is read from the live
    functions' source there."""
    from tfcourse.grading.check import run_checks

    toy = _toy(tmp_path)

    def kernel(body: str) -> dict:
        """A namespace as a notebook's cells leave it (functions of ``__main__``)."""
        cell = tmp_path / f"cell{len(list(tmp_path.glob('cell*')))}.py"
        cell.write_text(f"import numpy as np\n\n\ndef scale(x, factor):\n    return {body}\n")
        namespace = {"__name__": "__main__"}
        exec(compile(cell.read_text(), str(cell), "exec"), namespace)
        return namespace

    earned, possible, lines = run_checks("scale", kernel("np.multiply(x, factor)"), toy / PUBLIC)
    assert (earned, possible) == (0, 1)
    assert "scale may not use numpy.multiply" in lines[0] and "`scale`, line 2" in lines[0]
    assert run_checks("scale", kernel("np.asarray(x) * factor"), toy / PUBLIC)[:2] == (1, 1)


# ---------------------------------------------------------------------- through the grader


def _notebook(path: Path) -> Path:
    v4 = nbformat.v4
    cells = [
        "import numpy as np",
        "def add(a, b):\n    return __import__('tfcourse.basics').x(a, b)",  # tfcourse: not given
        "def mean_square(x):\n    return float(np.mean(np.asarray(x, float) ** 2))",
        "def _times(x, f):\n    return np.multiply(x, f)\n\n\ndef scale(x, factor):\n"
        "    return _times(np.asarray(x), factor)",
    ]
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell(c) for c in cells]), path)
    return path


T1_KERAS_LOSS = '''

def loss_fn(logits, labels):
    """Right values, forbidden means."""
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    return tf.reduce_mean(keras.losses.categorical_crossentropy(labels, logits, from_logits=True))
'''


@pytest.fixture(scope="module")
def graded(grading_pool, tmp_path_factory) -> dict[str, Future]:
    folder = tmp_path_factory.mktemp("rules")
    toy = load(str(_toy(folder)))
    t1 = folder / "tutorial1_mlp.py"
    t1.write_text((ASSIGNMENTS / "tutorial1_mlp" / "exercises.py").read_text() + T1_KERAS_LOSS)
    jobs = {
        "toy_notebook": (_notebook(folder / "toy.ipynb"), toy),
        "toy_reference": (Path(toy.path) / "exercises.py", toy),
        "t1_keras_loss": (t1, load(str(ASSIGNMENTS / "tutorial1_mlp"))),
    }
    futures = {
        k: grading_pool.submit(grade, path, a, timeout=60, self_check="off")
        for k, (path, a) in jobs.items()
    }
    wait(futures.values())  # before any test runs: see grading_pool
    return futures


def _by_exercise(results: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for t in results["tests"]:
        out.setdefault(t["name"].split(":")[0], []).append(t)
    return out


def test_every_test_of_an_exercise_that_breaks_its_rule_fails_with_the_rule(graded):
    tests = _by_exercise(graded["toy_notebook"].result())
    assert [t["score"] for t in tests["mean_square"]] == [2]
    for exercise in ("add", "scale"):
        assert len(tests[exercise]) == 2 and all(t["score"] == 0 for t in tests[exercise])
    assert {t["output"] for t in tests["scale"]} == {
        "scale may not use numpy.multiply: the handout's FORBIDDEN rules it out for this "
        "exercise (its docstring says why); code cell 4, line 2, in `_times`, which scale "
        "uses: `return np.multiply(x, f)`"
    }
    assert {t["output"] for t in tests["add"]} == {
        "add may not use tfcourse.basics.x: of tfcourse, a submission may use only what the "
        "handout file imports; code cell 2, line 2: "
        "`return __import__('tfcourse.basics').x(a, b)`"
    }
    assert graded["toy_reference"].result()["score"] == 6


def test_a_real_assignment_loses_exactly_the_exercise_that_breaks_its_rule(graded):
    assignment = load(str(ASSIGNMENTS / "tutorial1_mlp"))
    results = graded["t1_keras_loss"].result()
    tests = _by_exercise(results)
    lost = sum(t.points for t in assignment.tests if t.exercise == "loss_fn")
    assert lost > 0 and results["score"] == assignment.max_score - lost
    assert all(t["output"].startswith("loss_fn may not use keras.losses") for t in tests["loss_fn"])
