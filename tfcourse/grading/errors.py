"""Errors of the grading tools: instructor and student mistakes with a clear fix.

All of them are :class:`~tfcourse.errors.TfcourseError` subclasses, so the command line prints
them on one line and exits with code 2.
"""

from __future__ import annotations

from tfcourse.errors import TfcourseError


class GradingError(TfcourseError):
    """Base class of every grading-tool mistake."""


class AssignmentError(GradingError):
    """An assignment folder is missing, unknown or malformed (``EXERCISES``, tests)."""


class MarkerError(AssignmentError):
    """``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers are unbalanced or misplaced."""


class SubmissionError(GradingError):
    """A submission file is missing or not a ``.py`` / ``.ipynb`` file."""


class GraderFailure(GradingError):
    """The grader itself could not grade: its setup, sandbox or reference solution failed.

    Never the student's fault: no grade is written, the command exits non-zero and the message
    names the setup problem and its fix.
    """
