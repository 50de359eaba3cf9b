"""Graded exercises: release, the pytest grading plugin and its contained worker, Gradescope.

Modules: :mod:`.plugin` (pytest plugin, ``sub`` fixture), :mod:`.remote` (the proxy),
:mod:`.session` and :mod:`.sandbox` (the worker process and its containment), :mod:`.codec`
(data across the boundary), :mod:`.worker` (runs the submission), :mod:`.results`,
:mod:`.runner` and :mod:`.batch` (grading from Python and the CLI), :mod:`.release`,
:mod:`.check`, :mod:`.autograder`, :mod:`.assignment`, :mod:`.markers`, :mod:`.loader`.
"""
