"""Hypothesis profiles for the suite: ``default`` on every run, ``thorough`` before a release.

Select one with ``HYPOTHESIS_PROFILE=thorough`` or pytest's ``--hypothesis-profile=thorough``.
``thorough`` draws ten times as many examples: in property tests that set no count of their
own (hypothesis' default of 100 becomes 1 000), and in those that scale theirs with
``helpers.examples`` (the differential tests, tests/test_differential.py).
"""

from __future__ import annotations

import os

from hypothesis import settings

THOROUGH = 10  # times the default number of examples

settings.register_profile(
    "thorough", max_examples=THOROUGH * settings.get_profile("default").max_examples
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
