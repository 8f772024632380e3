"""Warnings and errors the package's estimators raise."""

__all__ = ["DeviceWarning"]


class DeviceWarning(UserWarning):
    """A fitted torch model runs on another device than the one it was saved with.

    Raised when a model fitted on CUDA is unpickled where CUDA is not available: it
    then computes on the CPU (as skorch's warning of the same name says).
    """
