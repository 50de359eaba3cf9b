"""The worker's runtime: the only tfcourse a submission can import, and the worker's sys.path.

The worker never imports tfcourse from where the grader has it (a checkout beside the solutions,
or a package holding the finished functions students must write themselves). Each worker gets a
fresh folder (:func:`build`) holding copies of:

* the worker's own modules and their tfcourse imports (:data:`WORKER_MODULES`, closed over
  statically by :func:`closure`);
* the tfcourse modules the assignment's *released* student file imports, and theirs
  (:func:`released_imports`; tutorial 3 gives ``tfcourse.errors`` and ``tfcourse.review.shapes``),
  and those its probes import, which run in the worker (:func:`probe_imports`);
* stand-ins for what instructor-made files import but a grading never needs
  (:data:`STAND_INS`: ``check`` of the handout notebook, the ``@mistake`` decorators);
* its own ``tfcourse/__init__.py`` (no lazy names) that answers any other ``tfcourse.*``
  import with "... is not available to submissions: write this exercise yourself", and a
  ``tfcourse`` distribution record, so the handout notebook's setup cell finds it installed.

The worker runs ``python -I -S`` (no site processing: no ``.pth`` file, such as an editable
install's, can put the checkout back) with the explicit path of :func:`worker_code`: the
runtime, then this interpreter's standard library and site-packages folders
(:func:`python_path`), never the checkout root nor any folder of the grader's.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import site
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

import tfcourse

WORKER_MODULES = ("tfcourse.grading.worker",)  # and, statically, whatever they import
PACKAGE = "tfcourse"
IMPORTS_KEY = "imports"  # in assignment.json: the tfcourse modules the student file imports
TEST_FILES = ("tests_public.py", "tests_hidden.py")
SITE_NAMES = ("site-packages", "dist-packages")

STAND_INS = {
    "tfcourse.notebook_setup": '''\
"""Stand-in while grading: the handout notebook's setup cell runs, ``check`` does nothing."""


def handout_check(namespace=None, tests="tests_public.py"):
    """A ``check`` that does nothing: the grader runs the tests itself."""

    def check(*args, **kwargs):
        return None

    return check


def setup_notebook():
    """Nothing to set up while grading."""
''',
    "tfcourse.grading.mistakes": '''\
"""Stand-in while grading: the ``@mistake`` and ``@alternative`` markers change nothing."""


def mistake(exercise, hint):
    """Leave the decorated object as it is."""
    return lambda obj: obj


def alternative(exercise):
    """Leave the decorated object as it is."""
    return lambda obj: obj
''',
}

_INIT = '''\
"""tfcourse as a graded submission sees it: only the modules its assignment gives students.

Written by the grader (tfcourse.grading.runtime) for one grading. Importing any other tfcourse
module raises ModuleNotFoundError: the finished functions an exercise asks for are not here.
"""

import sys

from tfcourse.errors import ConfigError, DataError, ShapeError, TfcourseError

__version__ = {version!r}


def _unavailable(name):
    return f"{{name}} is not available to submissions: write this exercise yourself"


class _NotForSubmissions:
    """Last on ``sys.meta_path``: a tfcourse module missing here gets a message that says why."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.startswith("tfcourse."):
            raise ModuleNotFoundError(_unavailable(name))
        return None


sys.meta_path.append(_NotForSubmissions())


def __getattr__(name):
    raise AttributeError(_unavailable(f"tfcourse.{{name}}"))
'''

_SUBPACKAGE_INIT = (
    '"""Part of tfcourse as a graded submission sees it (see tfcourse/__init__.py)."""\n'
)


def package_dir() -> Path:
    """The folder of the tfcourse package the grader runs."""
    return Path(tfcourse.__file__).resolve().parent


def module_file(name: str) -> Path | None:
    """The source file of tfcourse module ``name`` (a package's ``__init__.py``), if any."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_dir().joinpath(*parts[1:])
    if len(parts) == 1:
        return base / "__init__.py"
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_package(name: str) -> bool:
    found = module_file(name)
    return found is not None and found.name == "__init__.py"


def imported_modules(source: str, module: str = "") -> set[str]:
    """The tfcourse modules ``source`` imports anywhere (every Import / ImportFrom node).

    ``from tfcourse.x import y`` counts ``tfcourse.x`` and, when it is a module, ``tfcourse.x.y``;
    relative imports resolve against ``module`` (the importing module's name).
    """
    found: set[str] = set()
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if alias.name != "*")
    return {name for name in found if name.startswith(f"{PACKAGE}.") and module_file(name)}


def closure(names: Iterable[str]) -> set[str]:
    """``names`` and every tfcourse module they import, statically, to the end.

    A package counts only when its own ``__init__`` is imported by name; a module inside it
    needs just a plain package folder (:func:`build` writes one).
    """
    done: set[str] = set()
    todo = [n for n in names if module_file(n) is not None]
    while todo:
        name = todo.pop()
        if name in done or name == PACKAGE:
            continue
        done.add(name)
        if name in STAND_INS:
            continue  # replaced by its stand-in: the real one's imports are not needed
        source = module_file(name).read_text(encoding="utf-8")
        todo.extend(imported_modules(source, name) - done)
    return done


def released_imports(folder: Path | None) -> frozenset[str]:
    """The tfcourse modules the student file of the assignment in ``folder`` imports.

    From ``exercises.py`` as release strips it; else from ``assignment.json`` (release and the
    Gradescope zip record them there); else from the released ``<name>.py`` of a handout
    written before they were recorded. Nothing known: none.
    """
    if folder is None:
        return frozenset()
    source = folder / "exercises.py"
    if source.is_file():
        from tfcourse.grading.errors import GradingError
        from tfcourse.grading.markers import strip_solutions

        try:
            text = strip_solutions(source.read_text(encoding="utf-8"), source)
            return frozenset(imported_modules(text))
        except (GradingError, SyntaxError, ValueError, OSError):
            return frozenset()  # bad markers: the self-check and release say so
    try:
        meta = json.loads((folder / "assignment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    listed = meta.get(IMPORTS_KEY) if isinstance(meta, dict) else None
    if isinstance(listed, list):
        return frozenset(n for n in listed if isinstance(n, str) and module_file(n))
    handout = folder / f"{meta.get('name', folder.name)}.py"
    try:
        return frozenset(imported_modules(handout.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, ValueError):
        return frozenset()


def probe_imports(folder: Path | None) -> frozenset[str]:
    """The tfcourse modules the assignment's tests import inside their functions.

    A probe (``sub.run(_probe, ...)``) is shipped to the worker as source and runs there, so
    what it imports must be in the runtime; imports at the top of a tests file run in pytest's
    process only and are not counted. A submission can import these too.
    """
    found: set[str] = set()
    for name in TEST_FILES:
        try:
            tree = ast.parse((folder / name).read_text(encoding="utf-8")) if folder else None
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body if tree is not None else []:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found |= imported_modules(ast.unparse(node))
    return frozenset(found)


def build(dest: Path, modules: Iterable[str] = ()) -> list[str]:
    """Write the runtime into the empty folder ``dest``; return the modules it holds.

    Args:
        dest: the runtime folder (goes first on the worker's ``sys.path``).
        modules: tfcourse modules submissions may import (:func:`released_imports`,
            :func:`probe_imports`).
    """
    wanted = closure([*WORKER_MODULES, *modules])
    available = sorted({*wanted, *STAND_INS} - {PACKAGE})
    root = dest / PACKAGE
    root.mkdir(parents=True)
    text = _INIT.format(version=tfcourse.__version__)
    (root / "__init__.py").write_text(text, encoding="utf-8")
    for name in available:
        parts = name.split(".")[1:]
        for depth in range(1, len(parts)):  # the packages on the way: plain unless wanted
            init = root.joinpath(*parts[:depth], "__init__.py")
            if not init.exists():
                init.parent.mkdir(parents=True, exist_ok=True)
                init.write_text(_SUBPACKAGE_INIT, encoding="utf-8")
        source = module_file(name)
        target = root.joinpath(*parts)
        target = (
            target / "__init__.py" if source.name == "__init__.py" else target.with_suffix(".py")
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        if name in STAND_INS:
            target.write_text(STAND_INS[name], encoding="utf-8")
        else:
            shutil.copyfile(source, target)
    record = dest / f"{PACKAGE}-{tfcourse.__version__}.dist-info"
    record.mkdir()
    (record / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {tfcourse.__version__}\n",
        encoding="utf-8",
    )
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return available


def _is_site(path: str) -> bool:
    return os.path.basename(path.rstrip("/")) in SITE_NAMES


def python_path() -> list[str]:
    """This interpreter's standard library and site-packages folders, in ``sys.path`` order.

    What ``.pth`` files or the grader's own runs added (a checkout, pytest's rootdir, the
    current folder) is left out: only folders that are the standard library (or inside it, as
    ``lib-dynload``) or that are named ``site-packages`` / ``dist-packages``.
    """
    stdlib = {os.path.realpath(sysconfig.get_path(key)) for key in ("stdlib", "platstdlib")} - {""}
    sites = {os.path.realpath(p) for p in site.getsitepackages()}
    if site.ENABLE_USER_SITE:
        sites.add(os.path.realpath(site.getusersitepackages()))
    keep: list[str] = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry) or not os.path.exists(entry):
            continue
        real = os.path.realpath(entry)
        beside = real.endswith(".zip") and any(
            os.path.dirname(real) == os.path.dirname(d) for d in stdlib
        )
        in_stdlib = real in stdlib or os.path.dirname(real) in stdlib or beside  # pythonXY.zip
        if (in_stdlib or real in sites or _is_site(real)) and real not in keep:
            keep.append(real)
    return keep


def worker_code(runtime: str, path: list[str]) -> str:
    """The ``python -I -S -c`` program of the worker: its ``sys.path``, then the worker.

    ``exit``, ``quit`` and ``help`` are the built-ins ``site`` would add (without its path
    changes), so a submission that calls ``exit()`` behaves as it would elsewhere.
    """
    return (
        f"import sys; sys.path[:] = {[runtime, *path]!r}; "
        "import site; site.setquit(); site.sethelper(); "
        "from tfcourse.grading.worker import main; main()"
    )


def masked_entries(folder: str) -> list[str]:
    """What of tfcourse itself a site-packages ``folder`` holds: the package, its
    distribution record, an editable install's finder (it names the checkout)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    prefixes = (
        f"{PACKAGE}-",
        f"{PACKAGE}.",
        f"__editable__.{PACKAGE}-",
        f"__editable___{PACKAGE}_",
    )
    return [
        os.path.join(folder, n) for n in sorted(names) if n == PACKAGE or n.startswith(prefixes)
    ]
