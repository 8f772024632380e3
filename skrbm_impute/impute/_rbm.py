"""RBM imputers: the masked RBM of ref [5] and the paper's Linearized Marginal RBM."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from .._numerics import rbm as core
from .._numerics import rbm_posterior, rbm_training
from ..utils._compat import StrOptions, _get_container_adapter
from ..utils._validation import StrictInterval, check_random_seed
from ._base import fill_rows
from ._mean import observed_mean
from ._rbm_docs import rbm_docstring
from ._torch import (EARLY_STOPPING_CONSTRAINTS, RUNTIME_CONSTRAINTS, THREADS_CONSTRAINT,
                     BaseTorchImputer)


class _BaseRBMImputer(BaseTorchImputer):
    """Training, imputation and posterior sampling shared by the two RBM imputers.

    Subclasses set ``_marginal`` (``b_m`` in the hidden input) and implement
    ``_update_flags()`` -> ``(gradient_correction, observation_scaling)``.
    """

    _marginal = False
    _transform_parameters = ("imputation", "perception", "n_threads", "device")

    _parameter_constraints: dict = {
        "n_components": [StrictInterval(Integral, 1, None, closed="left")],
        "n_epochs": [StrictInterval(Integral, 0, None, closed="left")],
        "batch_size": [StrictInterval(Integral, 1, None, closed="left")],
        "learning_rate": [StrictInterval(Real, 0, None, closed="neither")],
        "momentum": [StrictInterval(Real, 0, 1, closed="left")],
        "weight_decay": [StrictInterval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [StrOptions({"constant", "linear"})],
        **EARLY_STOPPING_CONSTRAINTS,
        "warmup_epochs": [StrictInterval(Integral, 0, None, closed="left")],
        "rank": [StrictInterval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "train_visible_factor": ["boolean"],
        "imputation": [StrOptions(set(core.IMPUTATION_MODES))],
        "perception": [StrictInterval(Real, 0, 1, closed="both"), None],
        "matmul_dtype": [StrOptions({"float32", "bfloat16"})],
        "cd_statistics": [StrOptions(set(core.CD_STATISTICS))],
        "solver": [StrOptions({"sgd", "adam"})],
        **THREADS_CONSTRAINT,
        **RUNTIME_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        n_components=512,
        n_epochs=40,
        batch_size=128,
        learning_rate=1e-3,
        momentum=0.9,
        weight_decay=0.0,
        learning_rate_schedule="linear",
        warmup_epochs=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        rank=None,
        train_visible_factor=True,
        imputation="mean-field",
        perception=None,
        matmul_dtype="float32",
        cd_statistics="sampled",
        solver="sgd",
        n_threads="auto",
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.learning_rate_schedule = learning_rate_schedule
        self.warmup_epochs = warmup_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.rank = rank
        self.train_visible_factor = train_visible_factor
        self.imputation = imputation
        self.perception = perception
        self.matmul_dtype = matmul_dtype
        self.cd_statistics = cd_statistics
        self.solver = solver
        self.n_threads = n_threads
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _update_flags(self):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    def _fit(self, X, missing):
        device = self._fit_device()
        seed = self._fit_seed()
        stopping = None
        if self.early_stopping:  # its own draws: the training's stream stays as it is
            held_out, missing = rbm_training.HeldOutEntries.split(
                X, missing, self.validation_fraction, np.random.RandomState(seed), device)
            stopping = rbm_training.EarlyStopping(held_out, self._marginal,
                                                  self.n_iter_no_change, self.tol)
        with self._threads():
            state, options = self._initial_state(X, missing, device, seed)
            progress = tqdm(total=self.n_epochs, disable=not self.verbose,
                            desc=type(self).__name__)
            with progress:
                rbm_training.train(
                    state, options,
                    on_diverged=lambda s: self._back_off(s, progress, stopping),
                    on_epoch_end=lambda s, error: self._on_epoch_end(s, error, progress,
                                                                     stopping),
                )
            if stopping is not None:
                stopping.restore_best(state)
        self.validation_scores_ = None if stopping is None else list(stopping.scores)
        self.best_validation_score_ = (
            None if stopping is None or not stopping.scores else stopping.best_score)
        self.device_ = device
        # Transform's local generator is seeded from this, so transform is deterministic.
        self._transform_seed = seed + 1
        self.rank_ = state.weights[0].shape[1] if isinstance(state.weights, tuple) else None
        self.n_iter_ = state.epoch
        self.learning_rate_ = state.learning_rate
        self._store(state)

    def _initial_state(self, X, missing, device, seed):
        """The training state before the first epoch, and the fixed options."""
        generator = self._generator(seed, device)
        gradient_correction, observation_scaling = self._update_flags()
        n_samples, n_features = X.shape
        observation_prob = 1.0 - missing.mean(axis=0)
        rank = self._resolve_rank(observation_prob, n_features)
        v_obs, missing_t = self._as_tensors(X, missing, device)
        means = observed_mean(X, missing, fill_value=0.5)
        basis = None
        if rank is not None:
            fill = torch.as_tensor(means, dtype=torch.float32).to(device)
            basis = core.principal_directions(v_obs + fill * missing_t, rank)
        visible_bias, hidden_bias, weights = core.init_parameters(
            means, self.n_components, generator=generator, dtype=torch.float32,
            device=device, visible_basis=basis,
        )
        state = rbm_training.TrainingState.start(
            v_obs, missing_t, visible_bias, hidden_bias, weights,
            generator=generator, learning_rate=self.learning_rate,
            observation_prob=(torch.as_tensor(observation_prob, dtype=torch.float32)
                              .to(device) if observation_scaling else None),
            momentum=self.momentum, solver=self.solver,
        )
        options = rbm_training.TrainingOptions(
            n_epochs=self.n_epochs,
            batch_size=self.batch_size,
            schedule=rbm_training.LearningRateSchedule(
                self.learning_rate_schedule, self.n_epochs,
                -(-n_samples // self.batch_size), self.warmup_epochs),
            marginal=self._marginal,
            gradient_correction=gradient_correction,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            train_visible_factor=self.train_visible_factor,
            matmul_dtype=getattr(torch, self.matmul_dtype),
            statistics=self.cd_statistics,
        )
        return state, options

    def _on_epoch_end(self, state, error, progress, stopping=None):
        """After each completed epoch: the progress bar and the early-stopping check.
        Returns True to stop."""
        progress.update()
        stop = stopping is not None and stopping(state)
        if self.verbose:
            postfix = {"observed_mse": f"{error:.5f}"}
            if stopping is not None:
                postfix["validation_score"] = f"{stopping.scores[-1]:.5f}"
            progress.set_postfix(postfix)
        return stop

    def _back_off(self, state, progress, stopping=None):
        """The learning rate to train again with after a divergence (or raise)."""
        if stopping is not None:
            stopping.reset()
        learning_rate, epoch = state.learning_rate, state.epoch
        smaller = rbm_training.backed_off_rate(learning_rate)
        if smaller is None:
            raise FloatingPointError(
                f"{type(self).__name__}: training diverged in epoch {epoch + 1} of "
                f"{self.n_epochs} even at learning_rate={_number(learning_rate)}; the data may "
                "not suit a binary RBM."
            )
        warnings.warn(
            f"{type(self).__name__}: training diverged in epoch {epoch + 1} of "
            f"{self.n_epochs} at learning_rate={_number(learning_rate)} (the reconstruction "
            "error of the observed entries rose far above the initial model's, or the "
            "hidden units all switched off); training again from the start with "
            f"learning_rate={_number(smaller)}. "
            f"Pass learning_rate={_number(smaller)} or smaller to avoid this.",
            ConvergenceWarning,
        )
        progress.reset()
        return smaller

    def _resolve_rank(self, observation_prob, n_features):
        """``None`` (full W) or the factorisation's rank."""
        if self.rank is None:
            return None
        if self.rank == "auto":
            rank = max(int(round(float(observation_prob.sum()))), 1)
        else:
            rank = int(self.rank)
        # A rank reaching min(n, m) does not restrict W: train the full matrix.
        return None if rank >= min(n_features, self.n_components) else rank

    def _store(self, state):
        """Fitted state as CPU NumPy arrays, so the estimator pickles without CUDA."""
        self.intercept_visible_ = state.visible_bias.cpu().numpy()
        self.intercept_hidden_ = state.hidden_bias.cpu().numpy()
        if isinstance(state.weights, tuple):
            self.visible_factor_ = state.weights[0].cpu().numpy()
            self.hidden_factor_ = state.weights[1].cpu().numpy()
        self.components_ = core.full_weights(state.weights).T.cpu().numpy()

    # ------------------------------------------------------------ transform
    def _weights(self, device):
        """``(b, W or (A, B), c)`` as tensors on ``device``."""
        to = lambda a: torch.as_tensor(a).to(device)  # noqa: E731
        if self.rank_ is None:
            weights = to(self.components_).T
        else:
            weights = (to(self.visible_factor_), to(self.hidden_factor_))
        return to(self.intercept_visible_), weights, to(self.intercept_hidden_)

    def _model_tensors(self, X, missing):
        """The fitted parameters and the data as tensors on the transform device."""
        device = self._transform_device()
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._as_tensors(X, missing, device)
        return dict(v_obs=v_obs, missing=missing_t, visible_bias=visible_bias,
                    weights=weights, hidden_bias=hidden_bias, marginal=self._marginal)

    def _impute(self, X, missing):
        if self.perception is not None:
            p = float(self.perception)
            return self._blend(*self._perception_ends(X, missing, [p]), p)
        tensors = self._model_tensors(X, missing)
        generator = self._generator(self._transform_seed, tensors["v_obs"].device)
        with torch.no_grad(), self._threads():
            values = core.impute(**tensors, mode=self.imputation, generator=generator)
        return values.cpu().numpy()

    def transform_hidden(self, X):
        """Hidden-unit probabilities given the observed entries of ``X``.

        ``P(h = 1 | v_o) = sigmoid((v ⊙ (1 - m) + b_m) W + c)`` with
        ``b_m = sigmoid(b) ⊙ m`` for the LM-RBM (Ê_o) and ``b_m = 0`` for ref [5]:
        the "RBM †" features the paper classifies.  Follows ``set_output``: with
        ``set_output(transform="pandas")`` a DataFrame with columns ``hidden0``,
        ``hidden1``, ... (and ``X``'s index when ``X`` is a DataFrame).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in [0, 1] with NaN for the missing entries.

        Returns
        -------
        H : ndarray or DataFrame of shape (n_samples, n_components)
            Hidden probabilities, in the dtype of ``X`` (float32 or float64).
        """
        X_input = X
        X, missing = self._check_transform_input(X)
        with torch.no_grad(), self._threads():
            hidden = core.hidden_probabilities(**self._model_tensors(X, missing))
        hidden = hidden.cpu().numpy().astype(X.dtype, copy=False)
        adapter = _get_container_adapter("transform", self)
        if adapter is None:
            return hidden
        columns = np.asarray([f"hidden{i}" for i in range(hidden.shape[1])], dtype=object)
        return adapter.create_container(hidden, X_input, columns=columns)

    # ------------------------------------------------- posterior sampling
    def sample_imputations(self, X, n_imputations=5, random_state=None):
        """Draw imputations of ``X`` from the RBM's posterior of the missing pixels.

        One Gibbs chain per row with the observed entries clamped, started from the
        hidden layer conditioned on them under Ê_o (``b_m`` for the LM-RBM, none for
        ref [5]); after 50 burn-in steps a draw is recorded every 10 steps
        (``GIBBS_BURN_IN``, ``GIBBS_THINNING`` of
        :mod:`skrbm_impute._numerics.rbm_posterior`).  The chain's stationary
        distribution is the model's exact conditional ``P(v_m | v_o)`` under the
        energy E.  Draws are 0/1 in the holes.  The signature and shape are those of
        :meth:`MisGANImputer.sample_imputations`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in [0, 1] with NaN for the missing entries.
        n_imputations : int, default=5
            Number of draws per row (a positive integer, not a boolean).
        random_state : int, RandomState instance or None, default=None
            Seeds the chains' local torch generator; an int gives the same draws at
            every call.

        Returns
        -------
        imputations : ndarray of shape (n_imputations, n_samples, n_features)
            Each with the observed entries of ``X`` bit-identical.
        """
        n_imputations = self._check_n_imputations(n_imputations)
        X, missing = self._check_transform_input(X)
        with self._threads():
            draws = self._gibbs_draws(X, missing, n_imputations,
                                      check_random_seed(random_state))
        imputations = np.repeat(X[None], n_imputations, axis=0)
        for imputation, values in zip(imputations, draws):
            np.copyto(imputation, values.astype(X.dtype), where=missing)
        return imputations

    def transform_perception_levels(self, X, levels):
        """Impute ``X`` at several levels of the perception knob at once.

        Equal to ``[clone_with(perception=p).transform(X) for p in levels]`` bit for
        bit, but the mean-field pass and the Gibbs chain run once for all levels (the
        benchmark's perception-distortion curve).  ``perception`` itself is neither
        read nor changed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in [0, 1] with NaN for the missing entries.
        levels : sequence of float in [0, 1]
            The knob's values ``p``.

        Returns
        -------
        imputations : list of ndarray of shape (n_samples, n_features)
            One imputation per level, in the order of ``levels``.
        """
        levels = [_check_level(p) for p in levels]
        X, missing = self._check_transform_input(X)
        rows = missing.any(axis=1)
        if not rows.any():
            return [X.copy() for _ in levels]
        missing_rows = missing[rows]
        ends = self._perception_ends(X[rows], missing_rows, levels)
        imputations = []
        for p in levels:
            imputed = X.copy()
            fill_rows(imputed, rows, missing_rows, self._blend(*ends, p))
            imputations.append(imputed)
        return imputations

    def _gibbs_draws(self, X, missing, n_draws, seed):
        """``n_draws`` 0/1 draws of the clamped chain, as a NumPy array."""
        tensors = self._model_tensors(X, missing)
        generator = self._generator(seed, tensors["v_obs"].device)
        with torch.no_grad():
            draws = rbm_posterior.clamped_gibbs(**tensors, n_draws=n_draws,
                                                generator=generator)
        return draws.cpu().numpy()

    def _mean_field(self, X, missing):
        """The knob's ``p = 0`` end: ``sigmoid(W p(h) + b)`` with ``p(h)`` under Ê_o
        (its RMSE against the clamped chain's average: see the user guide's
        "Estimator measurements")."""
        with torch.no_grad():
            values = core.impute(**self._model_tensors(X, missing), mode="mean-field")
        return values.cpu().numpy()

    def _perception_ends(self, X, missing, levels):
        """``(x̂_0, x̂_1)``, each computed only if some level in ``levels`` needs it."""
        with self._threads():
            estimate = self._mean_field(X, missing) if any(p < 1 for p in levels) else None
            sample = (self._gibbs_draws(X, missing, 1, self._transform_seed)[0]
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


def _number(value):
    """``value`` for a message: every digit the user typed, none of the rounding noise of
    a division (``0.003 / 10`` reads 0.0003)."""
    return repr(float(f"{value:.15g}"))


def _check_level(p):
    """A perception level as a float in [0, 1] (booleans and NaN refused)."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, Real) or not 0 <= p <= 1:
        raise ValueError(f"each perception level must be a float in [0, 1]; got {p!r}.")
    return float(p)


class MaskedRBMImputer(_BaseRBMImputer):
    __doc__ = rbm_docstring(
        """Binary RBM trained on incomplete data, missing units absent (ref [5]).

    Salakhutdinov, Mnih & Hinton (2007): each row trains the RBM restricted to its
    observed visible units.  The hidden input is ``v_o W_o + c`` and only observed
    units get a gradient (Algorithm 1 of Cannella et al. without ``b_m`` and without
    lines 8-9).  Missing entries are filled with ``sigmoid(W h + b)`` given the
    observed ones.""",
        see_also="""LMRBMImputer : The Linearized Marginal RBM, which also trains the parameters
        of the missing units.""",
        examples="""    >>> import numpy as np
    >>> from skrbm_impute import MaskedRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.binomial(1, 0.5, size=(50, 16)).astype(float)
    >>> X[rng.rand(50, 16) < 0.2] = np.nan
    >>> imputer = MaskedRBMImputer(n_components=8, n_epochs=2, learning_rate=0.01,
    ...                            random_state=0)
    >>> np.isnan(imputer.fit_transform(X)).any()
    np.False_""",
    )

    _marginal = False

    def _update_flags(self):
        return False, False


class LMRBMImputer(_BaseRBMImputer):
    __doc__ = rbm_docstring(
        """The Linearized Marginal RBM of Cannella et al. (Algorithm 1).

    The marginal energy of the observed units is linearised around ``W_m h = 0``,
    giving Ê_o, whose hidden input ``(v ⊙ (1 - m) + b_m) W + c`` with
    ``b_m = sigmoid(b) ⊙ m`` involves the parameters of the missing units too.
    Training is minibatch CD-1 on Ê_o with the gradient corrections of lines 8-9,
    scaled by each unit's observation probability λ in the training data.  Missing
    entries are filled from the hidden units conditioned under Ê_o.""",
        extra_parameters="""
    gradient_correction : bool, default=True
        Lines 8 and 9 of Algorithm 1 (the gradient through ``b_m``).  False gives
        "Algorithm 1 without lines 8-9": the ``b_m`` term in the hidden input only.
    observation_scaling : bool, default=True
        Scale lines 8-9 by λ; False means λ = 1.""",
        see_also="MaskedRBMImputer : Ref [5], the RBM this one improves on.",
        examples="""    >>> import numpy as np
    >>> from skrbm_impute import LMRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.binomial(1, 0.5, size=(50, 16)).astype(float)
    >>> X[rng.rand(50, 16) < 0.2] = np.nan
    >>> imputer = LMRBMImputer(n_components=8, n_epochs=2, learning_rate=0.01,
    ...                        random_state=0)
    >>> imputer.fit(X).transform_hidden(X).shape
    (50, 8)""",
    )

    _marginal = True

    _parameter_constraints: dict = {
        **_BaseRBMImputer._parameter_constraints,
        "gradient_correction": ["boolean"],
        "observation_scaling": ["boolean"],
    }

    def __init__(
        self,
        *,
        n_components=512,
        n_epochs=40,
        batch_size=128,
        learning_rate=1e-3,
        momentum=0.9,
        weight_decay=0.0,
        learning_rate_schedule="linear",
        warmup_epochs=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        rank=None,
        train_visible_factor=True,
        gradient_correction=True,
        observation_scaling=True,
        imputation="mean-field",
        perception=None,
        matmul_dtype="float32",
        cd_statistics="sampled",
        solver="sgd",
        n_threads="auto",
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_components=n_components,
            n_epochs=n_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            momentum=momentum,
            weight_decay=weight_decay,
            learning_rate_schedule=learning_rate_schedule,
            warmup_epochs=warmup_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            rank=rank,
            train_visible_factor=train_visible_factor,
            imputation=imputation,
            perception=perception,
            matmul_dtype=matmul_dtype,
            cd_statistics=cd_statistics,
            solver=solver,
            n_threads=n_threads,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.gradient_correction = gradient_correction
        self.observation_scaling = observation_scaling

    def _update_flags(self):
        return self.gradient_correction, self.observation_scaling
