"""celltime: a time machine for marimo notebook results.

This package holds celltime's marimo plugin (`celltime.marimo`: the `celltime` cache store
and the cell executor that records lazy and whole-cell runs) and its native store binding
(`celltime._native`). The `celltime` command comes with the same wheel.
"""

__all__: list[str] = []
