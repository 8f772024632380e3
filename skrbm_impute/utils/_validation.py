"""Input checks shared by every imputer and by the metrics."""

import math
import re
from numbers import Integral

import numpy as np

from ._compat import Interval, InvalidParameterError, validate_parameter_constraints


def resolve_image_shape(image_shape, n_features):
    """Return ``(H, W)`` for ``n_features`` pixels.

    Parameters
    ----------
    image_shape : tuple (height, width) or None
        ``None`` means a square image.
    n_features : int
        Pixels per image.

    Returns
    -------
    shape : tuple of int
        ``(height, width)``.

    Raises
    ------
    ValueError
        When ``n_features`` is not a perfect square (``None``) or does not equal
        ``height * width``.
    """
    if image_shape is None:
        side = math.isqrt(int(n_features))
        if side * side != n_features:
            raise ValueError(
                f"image_shape=None needs square images, but n_features={n_features} is not "
                "a perfect square; pass image_shape=(height, width)."
            )
        return side, side
    if len(image_shape) != 2 or not all(
        isinstance(s, Integral) and s >= 1 for s in image_shape
    ):
        raise ValueError(
            f"image_shape must be a pair of positive integers (height, width); got {image_shape!r}."
        )
    height, width = int(image_shape[0]), int(image_shape[1])
    if height * width != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)} holds {height * width} pixels, but X has "
            f"{n_features} features."
        )
    return height, width


def _exact(value):
    """``value`` with every digit a float64 needs (``1 + 1e-12`` must not read as 1)."""
    return repr(float(value))


def check_unit_interval(X, estimator_name="this estimator"):
    """Raise ``ValueError`` when an observed (non-NaN) entry lies outside [0, 1].

    Parameters
    ----------
    X : ndarray
        Float array with NaN for the missing entries.
    estimator_name : str, default="this estimator"
        Who needs [0, 1] data, for the message.

    Raises
    ------
    ValueError
        Naming the observed range, each bound with every digit it needs.
    """
    observed = X[~np.isnan(X)]
    if observed.size and (observed.min() < 0 or observed.max() > 1):
        raise ValueError(
            f"{estimator_name} models values in [0, 1], but X has observed values in "
            f"[{_exact(observed.min())}, {_exact(observed.max())}]; rescale first (for "
            "example MinMaxScaler in a Pipeline)."
        )


def check_random_seed(random_state):
    """Draw one integer seed from a ``random_state`` (int, RandomState or None).

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As in scikit-learn.

    Returns
    -------
    seed : int
        In ``[0, 2**31 - 1)``.
    """
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class StrictInterval(Interval):
    """The ``Interval`` constraint of scikit-learn, without booleans.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real, "real_not_int"}
        The numbers allowed.
    left, right : float, int or None
        The bounds (``None``: unbounded).
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.

    Notes
    -----
    ``True`` is not the number 1:
    ``Interval(Integral, ...)`` and ``Interval(Real, ...)`` accept ``True`` and
    ``False`` (``bool`` is a subclass of ``int``); for a count or a rate that silently
    turns a flag into 1 or 0, so this constraint refuses them with the same message
    scikit-learn writes for any other value out of the interval.
    """

    def is_satisfied_by(self, val):
        """Whether ``val`` is a non-boolean number in the interval.

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        satisfied : bool
            False for ``True`` and ``False``.
        """
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)


def validate_params_subset(estimator, names):
    """Check the parameters ``names`` of ``estimator`` against its constraints.

    Used at ``transform`` for the parameters that only ``transform`` reads, so
    ``set_params`` after ``fit`` gives the same ``InvalidParameterError`` as ``fit``.

    Parameters
    ----------
    estimator : estimator instance
        With a ``_parameter_constraints`` dict.
    names : iterable of str
        The parameters to check.

    Raises
    ------
    InvalidParameterError
        Naming the parameter, its accepted values and the value found.
    """
    constraints = {name: estimator._parameter_constraints[name] for name in names}
    params = estimator.get_params(deep=False)
    validate_parameter_constraints(
        constraints, {name: params[name] for name in constraints},
        caller_name=type(estimator).__name__,
    )


#: What ``device`` accepts (besides a ``torch.device`` of these types).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:<index>")
_DEVICE_PATTERN = re.compile(r"(cpu|cuda(:\d+)?)\Z")


def check_device(device, *, param_name="device", caller=None):
    """Validate a device and resolve it into a ``torch.device``.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:<index>"} or torch.device
        ``"auto"`` picks CUDA when it is available, else the CPU.
    param_name : str, default="device"
        The parameter's name, for the messages.
    caller : str or None, default=None
        Who asks (an estimator's class name, a command-line option), for the
        messages.

    Returns
    -------
    device : torch.device
        The resolved device.

    Raises
    ------
    InvalidParameterError
        When ``device`` is none of the accepted values (a subclass of ``ValueError``
        and ``TypeError``).
    ValueError
        When CUDA is asked for on a machine without it.

    Examples
    --------
    >>> from skrbm_impute.utils import check_device
    >>> check_device("cpu")
    device(type='cpu')
    """
    import torch

    where = f" of {caller}" if caller else ""
    who = f"{caller}: " if caller else ""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    valid = (
        isinstance(device, torch.device) and device.type in ("cpu", "cuda")
    ) or (isinstance(device, str) and _DEVICE_PATTERN.match(device) is not None)
    if not valid:
        raise InvalidParameterError(
            f"The {param_name!r} parameter{where} must be one of "
            f"{', '.join(repr(c) for c in DEVICE_CHOICES)} or a torch.device of type "
            f"'cpu' or 'cuda'; got {device!r} instead."
        )
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{who}{param_name}={str(device)!r} was requested but CUDA is not available."
        )
    return device


__all__ = [
    "DEVICE_CHOICES",
    "StrictInterval",
    "check_device",
    "check_random_seed",
    "check_unit_interval",
    "resolve_image_shape",
    "validate_params_subset",
]
