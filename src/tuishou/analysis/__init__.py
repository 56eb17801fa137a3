"""What-if analysis: policies compared over the same orders (extra ``notebook`` for frames).

- :mod:`~tuishou.analysis.compare`: ``compare`` and ``replace``;
- :mod:`~tuishou.analysis.report`: the figure and the HTML report;
- :mod:`~tuishou.analysis.compliance`: a policy's largest shares, generations paid, and
  compliance notes (三级分销, 团队计酬).

>>> from tuishou.analysis import compare
"""

from tuishou.analysis.compare import Comparison, compare

__all__ = ["Comparison", "compare"]
