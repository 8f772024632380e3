"""Posterior sampling and the perception knob of the RBM imputers (a mixin).

The knob moves one fitted RBM along the perception-distortion trade-off:
``perception=p`` fills each hole with ``(1 - p) x̂_0 + p x̂_1``, where ``x̂_0`` is the
low-distortion estimate of the posterior mean and ``x̂_1`` one draw of a Gibbs chain
with the observed pixels clamped (see :mod:`skrbm_impute._numerics.rbm_posterior` for
the distribution that chain targets).
"""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._numerics import rbm as core
from .._numerics import rbm_posterior
from ..utils._torch import make_generator, resolve_device, torch_threads
from ..utils._validation import check_random_seed
from ._base import fill_rows

#: Gibbs steps discarded before the first recorded draw (each step: visible, then hidden).
GIBBS_BURN_IN = 50
#: Gibbs steps between two recorded draws of :meth:`sample_imputations`.
GIBBS_THINNING = 10
#: What a recorded draw is (see ``rbm_posterior.clamped_gibbs``): the 0/1 visible draw.
GIBBS_RECORD = "sample"


class _PosteriorSamplingMixin:
    """``sample_imputations`` and the ``perception`` knob for ``_BaseRBMImputer``.

    Needs from the host: ``_validate_input``, ``_weights(device)``,
    ``_tensors(X, missing, device)``, ``_marginal``, ``_transform_seed`` and the
    ``perception`` parameter.
    """

    def sample_imputations(self, X, n_imputations=5, random_state=None):
        """Draw imputations of ``X`` from the RBM's posterior of the missing pixels.

        One Gibbs chain per row with the observed entries clamped, started from the
        hidden layer conditioned on them under Ê_o (``b_m`` for the LM-RBM, none for
        ref [5]); after ``GIBBS_BURN_IN`` (50) steps a draw is recorded every
        ``GIBBS_THINNING`` (10) steps.  The chain's stationary distribution is the
        model's exact conditional ``P(v_m | v_o)`` under the energy E.  Draws are 0/1
        in the holes.  The signature and shape are those of
        :meth:`MisGANImputer.sample_imputations`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in [0, 1] with NaN for the missing entries.
        n_imputations : int, default=5
            Number of draws per row.
        random_state : int, RandomState instance or None, default=None
            Seeds the chains' local torch generator; an int gives the same draws at
            every call.

        Returns
        -------
        imputations : ndarray of shape (n_imputations, n_samples, n_features)
            Each with the observed entries of ``X`` bit-identical.
        """
        check_is_fitted(self)
        if not isinstance(n_imputations, Integral) or isinstance(n_imputations, bool) \
                or n_imputations < 1:
            raise ValueError(f"n_imputations must be a positive integer; got {n_imputations!r}.")
        X, missing = self._validate_input(X, reset=False)
        with torch_threads(self.n_threads):
            draws = self._gibbs_draws(X, missing, int(n_imputations),
                                      check_random_seed(random_state), GIBBS_THINNING)
        imputations = np.repeat(X[None], n_imputations, axis=0)
        for imputation, values in zip(imputations, draws):
            np.copyto(imputation, values.astype(X.dtype), where=missing)
        return imputations

    def _gibbs_draws(self, X, missing, n_draws, seed, thinning):
        device = resolve_device(self.device)
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._tensors(X, missing, device)
        with torch.no_grad():
            draws = rbm_posterior.clamped_gibbs(
                v_obs, missing_t, visible_bias, weights, hidden_bias,
                marginal=self._marginal, n_draws=n_draws, burn_in=GIBBS_BURN_IN,
                thinning=thinning, generator=make_generator(seed, device),
                record=GIBBS_RECORD,
            )
        return draws.cpu().numpy()

    def _posterior_mean_estimate(self, X, missing):
        """The knob's ``p = 0`` end: the mean-field pass (``sigmoid(W p(h) + b)`` with
        ``p(h)`` under Ê_o).  It measured a far lower RMSE than the average of the
        clamped chain (an estimate of the model's exact ``E[v_m | v_o]``): on MNIST I.M.
        0.6, LM-RBM, RMSE / Mean 0.561 against 0.706 (``benchmarks/perception_knob.py
        --parts posterior-mean``).  A CD-1-trained RBM reconstructs well in one pass but
        its equilibrium conditional is a poorer estimate."""
        device = resolve_device(self.device)
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._tensors(X, missing, device)
        with torch.no_grad():
            values = core.impute(v_obs, missing_t, visible_bias, weights, hidden_bias,
                                 marginal=self._marginal, mode="mean-field")
        return values.cpu().numpy()

    def _perception_ends(self, X, missing, levels):
        """``(x̂_0, x̂_1)``, each computed only if some level in ``levels`` needs it."""
        with torch_threads(self.n_threads):
            estimate = (self._posterior_mean_estimate(X, missing)
                        if any(p < 1 for p in levels) else None)
            sample = (self._gibbs_draws(X, missing, 1, self._transform_seed, GIBBS_THINNING)[0]
                      if any(p > 0 for p in levels) else None)
        return estimate, sample

    @staticmethod
    def _blend(estimate, sample, p):
        """``(1 - p) x̂_0 + p x̂_1`` (an end alone at ``p`` = 0 or 1)."""
        if p == 0:
            return estimate
        if p == 1:
            return sample
        return (1.0 - p) * estimate + p * sample

    def _impute_at_perception(self, X, missing):
        """``(1 - p) x̂_0 + p x̂_1`` for ``p = self.perception``; the chain is seeded from
        ``fit``'s ``random_state``, so ``transform`` is deterministic."""
        p = float(self.perception)
        return self._blend(*self._perception_ends(X, missing, [p]), p)

    def _transform_at_levels(self, X, levels):
        """``[transform(X) with perception=p for p in levels]``, with the mean-field pass
        and the chain run once for all levels (the benchmark's curve); each array equals
        what ``transform`` returns at that level."""
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        rows = missing.any(axis=1)
        if not rows.any():
            return [X.copy() for _ in levels]
        levels = [float(p) for p in levels]
        missing_rows = missing[rows]
        ends = self._perception_ends(X[rows], missing_rows, levels)
        imputations = []
        for p in levels:
            imputed = X.copy()
            fill_rows(imputed, rows, missing_rows, self._blend(*ends, p))
            imputations.append(imputed)
        return imputations
