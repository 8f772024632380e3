"""Warnings and errors the package's estimators raise."""

__all__ = ["DeviceWarning", "SlowFitWarning"]


class DeviceWarning(UserWarning):
    """A fitted torch model runs on another device than the one it was saved with.

    Raised when a model fitted on CUDA is unpickled where CUDA is not available: it
    then computes on the CPU (as skorch's warning of the same name says).

    Examples
    --------
    Make the fall-back an error where a silent move to the CPU is not wanted:

    >>> import warnings
    >>> from skrbm_impute.exceptions import DeviceWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DeviceWarning)
    """


class SlowFitWarning(UserWarning):
    """A fit is projected to take longer than ten minutes.

    ``MisGANImputer.fit`` times its first batches and, when the whole budget would take
    longer, warns once with the projection, the budget in batches and what to change
    (``architecture="fc"``, ``max_iter``, ``device="cuda"``).

    Examples
    --------
    Silence it for a fit known to be long:

    >>> import warnings
    >>> from skrbm_impute.exceptions import SlowFitWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SlowFitWarning)
    """
