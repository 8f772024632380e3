"""The base of the torch-based imputers (private): devices, seeds, threads, tensors.

:class:`MaskedRBMImputer`, :class:`LMRBMImputer` and :class:`MisGANImputer` share
one policy, which lives here:

- **devices**: the ``device`` parameter is checked with
  :func:`skrbm_impute.utils.check_device` and resolved at ``fit`` into ``device_``
  (where training ran) and again at each ``transform`` (so
  ``set_params(device="cpu")`` moves inference to the CPU).  Fitted state is kept on
  the CPU, so a model pickles anywhere; one saved with a CUDA device and unpickled
  where CUDA is absent computes on the CPU, with a
  :class:`~skrbm_impute.exceptions.DeviceWarning`;
- **seeds**: one integer seed drawn from ``random_state`` per ``fit``, feeding local
  ``torch.Generator`` objects (the global torch RNG is never touched);
- **threads**: torch's CPU thread count set from ``n_threads`` for each call that
  computes (estimators without that parameter leave torch's setting);
- **tensors**: NaN-marked arrays become float32 tensors of the observed values (0 in
  the holes) and of the 0/1 mask;
- the ``n_imputations`` argument of ``sample_imputations``.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch

from ..exceptions import DeviceWarning
from ..utils._compat import StrOptions
from ..utils._torch import make_generator, torch_threads
from ..utils._validation import StrictInterval, check_device, check_random_seed
from ._base import BaseImputer

#: ``_parameter_constraints`` of the parameters every torch imputer has: where it runs,
#: its seed and its progress output.
RUNTIME_CONSTRAINTS = {
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

#: ``n_threads`` of the imputers that set torch's thread count.
THREADS_CONSTRAINT = {
    "n_threads": [StrictInterval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
}

#: scikit-learn's early-stopping parameters (as in ``MLPClassifier``).
EARLY_STOPPING_CONSTRAINTS = {
    "early_stopping": ["boolean"],
    "validation_fraction": [StrictInterval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [StrictInterval(Integral, 1, None, closed="left")],
    "tol": [StrictInterval(Real, 0, None, closed="left")],
}


class BaseTorchImputer(BaseImputer):
    """Base of the torch-based imputers; private (see the module docstring)."""

    _requires_unit_interval = True
    _transform_parameters = ("device",)

    def _fit_device(self):
        """The device ``fit`` trains on (the caller stores it as ``device_``)."""
        return check_device(self.device, caller=type(self).__name__)

    def _transform_device(self):
        """The device of a ``transform``-like call: ``device`` resolved again."""
        return check_device(self.device, caller=type(self).__name__)

    def _fit_seed(self):
        """The one integer seed a ``fit`` draws from ``random_state``."""
        return check_random_seed(self.random_state)

    @staticmethod
    def _generator(seed, device):
        """A local generator seeded with ``seed`` on ``device``."""
        return make_generator(seed, device)

    def _threads(self):
        """Context manager: torch's thread count as ``n_threads`` says, if any."""
        return torch_threads(getattr(self, "n_threads", None))

    @staticmethod
    def _as_tensors(X, missing, device):
        """``(values, missing)`` float32 tensors on ``device``: the observed values with 0
        in the holes, and the 0/1 missing mask (1 = missing)."""
        values = torch.as_tensor(np.where(missing, 0.0, X), dtype=torch.float32)
        return values.to(device), torch.as_tensor(missing, dtype=torch.float32).to(device)

    @staticmethod
    def _check_n_imputations(n_imputations):
        """``n_imputations`` as an int; booleans and non-positive values are refused."""
        if (not isinstance(n_imputations, Integral) or isinstance(n_imputations, bool)
                or n_imputations < 1):
            raise ValueError(
                f"n_imputations must be a positive integer; got {n_imputations!r}."
            )
        return int(n_imputations)

    def __setstate__(self, state):
        # skorch's rule: a model saved with a CUDA device and loaded where there is
        # none computes on the CPU.
        super().__setstate__(state)
        device = self.__dict__.get("device")
        if isinstance(device, (str, torch.device)) and device != "auto":
            try:
                is_cuda = torch.device(device).type == "cuda"
            except RuntimeError:  # an invalid device: fit and transform say so
                is_cuda = False
            if is_cuda and not torch.cuda.is_available():
                warnings.warn(
                    f"{type(self).__name__} was saved with device={str(device)!r}, but "
                    "CUDA is not available here; computing on the CPU (device='cpu').",
                    DeviceWarning,
                )
                self.device = "cpu"
