"""Shared helpers: validation, torch device and seeding, scikit-learn compatibility.

Public: :func:`check_device`, which validates a ``device`` value (an estimator's
parameter, a command-line option) the way the torch-based imputers do.
"""

from ._validation import check_device

__all__ = ["check_device"]
