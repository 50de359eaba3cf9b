"""Names split out of grading modules stay importable from where they used to live."""

from __future__ import annotations

import pytest

from tfcourse.grading import autograder, autograder_zip, limits, sandbox

LIMITS_NAMES = [
    "Limits",
    "preexec",
    "pids_cgroup",
    "remove_cgroup",
    "PIDS_CGROUP",
    "CLONE_NEWNET",
    "_user_tasks",
    "_no_network",
]
ZIP_NAMES = [
    "build",
    "pinned_requirements",
    "setup_script",
    "run_script",
    "_package_files",
    "SETUP_SH",
    "RUN_AUTOGRADER",
    "VENV",
    "BROKEN_RESULTS",
    "PINNED",
]


@pytest.mark.parametrize("name", LIMITS_NAMES)
def test_resource_limits_are_still_importable_from_sandbox(name):
    assert getattr(sandbox, name) is getattr(limits, name)


@pytest.mark.parametrize("name", ZIP_NAMES)
def test_zip_building_is_still_importable_from_autograder(name):
    assert getattr(autograder, name) is getattr(autograder_zip, name)


def test_from_imports_of_the_old_paths():
    from tfcourse.grading.autograder import build, run_script
    from tfcourse.grading.sandbox import Limits, preexec

    assert Limits is limits.Limits and Limits().max_procs == 512
    assert preexec is limits.preexec
    assert build is autograder_zip.build
    assert "--timeout 7" in run_script(7)


def test_unknown_names_still_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sandbox.nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        autograder.nope  # noqa: B018


def test_the_new_modules_are_bundled_in_the_autograder_zip():
    names = {arcname for _, arcname in autograder_zip._package_files()}
    for module in ("limits", "sandbox", "autograder", "autograder_zip", "processes"):
        assert f"tfcourse_src/tfcourse/grading/{module}.py" in names
