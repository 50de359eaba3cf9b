"""Graded exercises: release, the pytest grading plugin and its contained worker, Gradescope.

Modules: :mod:`.plugin` (pytest plugin, ``sub`` fixture), :mod:`.remote` (the proxy),
:mod:`.session`, :mod:`.sandbox`, :mod:`.privileges`, :mod:`.limits` and :mod:`.processes` (the
worker process, its containment, dropping to uid nobody, its resource limits and its process
tree), :mod:`.runtime` (the only tfcourse the worker can import), :mod:`.codec` (data across the
boundary), :mod:`.worker` (runs the submission), :mod:`.results`, :mod:`.runner` and
:mod:`.batch` (grading from Python and the CLI), :mod:`.release`, :mod:`.check`,
:mod:`.autograder_zip` (building the Gradescope zip) and :mod:`.autograder` (running in it),
:mod:`.assignment`, :mod:`.markers`, :mod:`.loader`.
"""
