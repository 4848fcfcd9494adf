"""The instructor's side of the course: release lessons, grade a class, hand back feedback.

Built on nbgrader's own API and gradebook; run it as ``python -m autograder --help``.
"""
