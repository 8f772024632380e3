"""RBM imputers: the masked RBM of ref [5] and the paper's Linearized Marginal RBM."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._numerics import rbm as core
from ..utils._compat import Interval, StrOptions, _get_container_adapter
from ..utils._torch import make_generator, resolve_device, torch_threads
from ..utils._validation import check_random_seed
from ._base import BaseImputer
from ._mean import observed_mean
from ._rbm_posterior import _PosteriorSamplingMixin  # issue 13: posterior draws, knob

#: Divergence guard.  Its yardstick is the mean squared reconstruction error of the
#: observed entries under the initial model (every unit at its observed mean).  An epoch
#: whose error exceeds ``_EPOCH_RATIO`` times that is worse than useless; a chunk of
#: batches above ``_CHUNK_RATIO`` times it (saturated weights: 2-5 on MNIST) or with a
#: non-finite error stops the epoch at once, before the weights overflow.  Healthy
#: training stays near 1 in its first batches (single-batch transients up to ~3 at large
#: rates) and falls below it.
_EPOCH_RATIO, _CHUNK_RATIO = 1.5, 3.0
#: The yardstick's floor (an RMSE of 0.1), for data the initial model already fits
#: (constant columns): saturated 0/1 reconstructions of [0, 1] data exceed it by far.
_MIN_INITIAL_ERROR = 0.01
#: ... and an epoch after which the mean hidden probability of ``_ACTIVITY_ROWS`` rows
#: is below ``_MIN_ACTIVITY`` (or above 1 minus it) has collapsed the hidden layer, the
#: other face of a too large rate (healthy RBMs on MNIST: 0.05-0.5; collapsed: 0.002).
_MIN_ACTIVITY, _ACTIVITY_ROWS = 0.01, 512
#: Batches between two checks of the guard (one host synchronisation each).
_GUARD_BATCHES = 8
#: Each back-off divides the learning rate by this, down to the floor.
_BACKOFF, _MIN_LEARNING_RATE = 10.0, 1e-10
#: Momentum during the first epochs (Hinton's practical guide: 0.5 for about 5 epochs).
_INITIAL_MOMENTUM, _INITIAL_MOMENTUM_EPOCHS = 0.5, 5
#: Damping δ of A's step scale 1 / (σ_max(B)² + δ) (``train_visible_factor=True``).
_FACTOR_DAMPING = 0.1


class _BaseRBMImputer(_PosteriorSamplingMixin, BaseImputer):
    """Shared training loop and imputation of the two RBM imputers.

    Subclasses set ``_marginal`` (``b_m`` in the hidden input) and implement
    ``_update_flags()`` -> ``(gradient_correction, observation_scaling)``.
    """

    _requires_unit_interval = True
    _marginal = False

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [StrOptions({"constant", "linear"})],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "rank": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "train_visible_factor": ["boolean"],
        "imputation": [StrOptions(set(core.IMPUTATION_MODES))],
        "perception": [Interval(Real, 0, 1, closed="both"), None],  # issue 13
        "matmul_dtype": [StrOptions({"float32", "bfloat16"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _update_flags(self):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    def _fit(self, X, missing):
        with torch_threads(self.n_threads):
            self._fit_torch(X, missing)

    def _fit_torch(self, X, missing):
        self.device_ = resolve_device(self.device)
        seed = check_random_seed(self.random_state)
        # Transform's local generator is seeded from this, so transform is deterministic.
        self._transform_seed = seed + 1
        generator = make_generator(seed, self.device_)
        gradient_correction, observation_scaling = self._update_flags()

        n_samples, n_features = X.shape
        observation_prob = 1.0 - missing.mean(axis=0)
        self.rank_ = self._resolve_rank(observation_prob, n_features)
        v_obs = torch.as_tensor(np.where(missing, 0.0, X), dtype=torch.float32)
        v_obs = v_obs.to(self.device_)
        missing_t = torch.as_tensor(missing, dtype=torch.float32).to(self.device_)
        lam = (
            torch.as_tensor(observation_prob, dtype=torch.float32).to(self.device_)
            if observation_scaling
            else None
        )
        means = observed_mean(X, missing, fill_value=0.5)
        basis = None
        if self.rank_ is not None:
            fill = torch.as_tensor(means, dtype=torch.float32).to(self.device_)
            basis = core.principal_directions(v_obs + fill * missing_t, self.rank_)
        visible_bias, hidden_bias, weights = core.init_parameters(
            means,
            self.n_components,
            generator=generator,
            dtype=torch.float32,
            device=self.device_,
            visible_basis=basis,
        )
        params = [*(weights if isinstance(weights, tuple) else (weights,)),
                  visible_bias, hidden_bias]
        # Power iterations' warm starts for σ_max(B)², σ_max(A)² (``train_visible_factor``).
        power_vectors = [torch.full((n,), n ** -0.5, device=self.device_)
                         for n in (self.n_components, self.rank_ or 1)]
        velocity = [torch.zeros_like(p) for p in params] if self.momentum > 0 else None
        # The guard's yardstick: the squared error of the initial reconstruction
        # (every unit at its observed mean) per observed entry.
        observed_t = 1.0 - missing_t
        initial_error = max(float(
            (torch.square(v_obs - torch.sigmoid(visible_bias)) * observed_t).sum()
        ) / max(float(observed_t.sum()), 1.0), _MIN_INITIAL_ERROR)
        observed_per_row = observed_t.sum(1)

        n_batches = -(-n_samples // self.batch_size)
        learning_rate = float(self.learning_rate)
        initial = [p.clone() for p in params]
        progress = tqdm(total=self.n_epochs, disable=not self.verbose,
                        desc=type(self).__name__)
        epoch = 0
        while epoch < self.n_epochs:
            error = self._epoch(
                epoch, learning_rate, n_batches, v_obs, missing_t, observed_per_row,
                visible_bias, weights, hidden_bias, velocity, lam,
                gradient_correction, generator, initial_error, power_vectors,
            )
            if error is None:  # diverged: start again, from the initial parameters
                learning_rate = self._back_off(epoch, learning_rate, params, initial,
                                               velocity)
                epoch = 0
                progress.reset()
                continue
            epoch += 1
            progress.update()
            if self.verbose:
                progress.set_postfix(observed_mse=f"{error:.5f}")
        progress.close()
        self.n_iter_ = self.n_epochs
        self.learning_rate_ = learning_rate
        self._store(visible_bias, hidden_bias, weights)

    def _epoch(self, epoch, learning_rate, n_batches, v_obs, missing_t, observed_per_row,
               visible_bias, weights, hidden_bias, velocity, lam, gradient_correction,
               generator, initial_error, power_vectors):
        """One pass over the data; the mean squared error of the observed entries, or
        ``None`` when the divergence guard tripped (the parameters are then unusable)."""
        n_samples = v_obs.shape[0]
        order = torch.randperm(n_samples, generator=generator, device=self.device_)
        v_epoch, m_epoch, counts = v_obs[order], missing_t[order], observed_per_row[order]
        learn_a = self.train_visible_factor and isinstance(weights, tuple)
        momentum = self.momentum
        if epoch < _INITIAL_MOMENTUM_EPOCHS:
            momentum = min(momentum, _INITIAL_MOMENTUM)
        total_error, total_count = 0.0, 0.0
        chunk_error = torch.zeros((), device=self.device_)
        chunk_start = 0
        for batch in range(n_batches):
            start, stop = batch * self.batch_size, (batch + 1) * self.batch_size
            factor_rates = None
            if learn_a:  # each factor's step scaled by 1 / (σ_max(other factor)² + δ)
                factor_rates = tuple(
                    1.0 / (core.spectral_norm_squared(factor, vector) + _FACTOR_DAMPING)
                    for factor, vector in zip(weights[::-1], power_vectors)
                )
            chunk_error += core.cd1_step(
                v_epoch[start:stop],
                m_epoch[start:stop],
                visible_bias,
                weights,
                hidden_bias,
                learning_rate=self._scheduled(learning_rate, epoch * n_batches + batch,
                                              n_batches),
                marginal=self._marginal,
                gradient_correction=gradient_correction,
                observation_prob=lam,
                momentum=momentum,
                velocity=velocity,
                weight_decay=self.weight_decay,
                train_visible_factor=self.train_visible_factor,
                factor_rates=factor_rates,
                matmul_dtype=getattr(torch, self.matmul_dtype),
                generator=generator,
            )
            if (batch + 1) % _GUARD_BATCHES and batch + 1 < n_batches:
                continue
            # The guard acts on the reconstructions before the weights overflow.
            error = float(chunk_error)
            count = max(float(counts[chunk_start * self.batch_size:stop].sum()), 1.0)
            if not np.isfinite(error) or error / count > _CHUNK_RATIO * initial_error:
                return None
            total_error, total_count = total_error + error, total_count + count
            chunk_error.zero_()
            chunk_start = batch + 1
        error = total_error / max(total_count, 1.0)
        if error > _EPOCH_RATIO * initial_error or not self._finite(
            visible_bias, hidden_bias, weights
        ):
            return None
        # A hidden layer switched off (or on) for every row has collapsed: the model
        # then imputes the visible biases only, at any later epoch too.
        activity = float(core.hidden_probabilities(
            v_epoch[:_ACTIVITY_ROWS], m_epoch[:_ACTIVITY_ROWS], visible_bias, weights,
            hidden_bias, marginal=self._marginal).mean())
        if not _MIN_ACTIVITY <= activity <= 1.0 - _MIN_ACTIVITY:
            return None
        return error

    def _scheduled(self, learning_rate, step, n_batches):
        """η at update ``step``: linear warm-up, then constant or linear decay to 0."""
        factor = 1.0
        warmup = self.warmup_epochs * n_batches
        if step < warmup:
            factor = (step + 1) / warmup
        if self.learning_rate_schedule == "linear":
            factor *= 1.0 - step / max(self.n_epochs * n_batches, 1)
        return learning_rate * factor

    def _back_off(self, epoch, learning_rate, params, initial, velocity):
        """Restore the initial parameters and divide the learning rate."""
        for param, saved in zip(params, initial):
            param.copy_(saved)
        if velocity is not None:
            for u in velocity:
                u.zero_()
        smaller = learning_rate / _BACKOFF
        if smaller < _MIN_LEARNING_RATE:
            raise FloatingPointError(
                f"{type(self).__name__}: training diverged in epoch {epoch + 1} of "
                f"{self.n_epochs} even at learning_rate={learning_rate:g}; the data may "
                "not suit a binary RBM."
            )
        warnings.warn(
            f"{type(self).__name__}: training diverged in epoch {epoch + 1} of "
            f"{self.n_epochs} at learning_rate={learning_rate:g} (the reconstruction "
            "error of the observed entries rose far above the initial model's, or the "
            "hidden units all switched off); training again from the start with "
            f"learning_rate={smaller:g}. "
            f"Pass learning_rate={smaller:g} or smaller to avoid this.",
            ConvergenceWarning,
        )
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

    @staticmethod
    def _finite(visible_bias, hidden_bias, weights):
        factors = weights if isinstance(weights, tuple) else (weights,)
        return all(bool(torch.isfinite(t).all()) for t in (visible_bias, hidden_bias, *factors))

    def _store(self, visible_bias, hidden_bias, weights):
        """Fitted state as CPU NumPy arrays, so the estimator pickles without CUDA."""
        self.intercept_visible_ = visible_bias.cpu().numpy()
        self.intercept_hidden_ = hidden_bias.cpu().numpy()
        if isinstance(weights, tuple):
            self.visible_factor_ = weights[0].cpu().numpy()
            self.hidden_factor_ = weights[1].cpu().numpy()
        self.components_ = core.full_weights(weights).T.cpu().numpy()

    # ------------------------------------------------------------ transform
    def _weights(self, device):
        to = lambda a: torch.as_tensor(a).to(device)  # noqa: E731
        if self.rank_ is None:
            weights = to(self.components_).T
        else:
            weights = (to(self.visible_factor_), to(self.hidden_factor_))
        return to(self.intercept_visible_), weights, to(self.intercept_hidden_)

    def _tensors(self, X, missing, device):
        v_obs = torch.as_tensor(np.where(missing, 0.0, X), dtype=torch.float32).to(device)
        return v_obs, torch.as_tensor(missing, dtype=torch.float32).to(device)

    def _impute(self, X, missing):
        if self.perception is not None:  # issue 13: the perception knob
            return self._impute_at_perception(X, missing)
        device = resolve_device(self.device)
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._tensors(X, missing, device)
        with torch.no_grad(), torch_threads(self.n_threads):
            values = core.impute(
                v_obs,
                missing_t,
                visible_bias,
                weights,
                hidden_bias,
                marginal=self._marginal,
                mode=self.imputation,
                generator=make_generator(self._transform_seed, device),
            )
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
        check_is_fitted(self)
        X_input = X
        X, missing = self._validate_input(X, reset=False)
        device = resolve_device(self.device)
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._tensors(X, missing, device)
        with torch.no_grad(), torch_threads(self.n_threads):
            hidden = core.hidden_probabilities(
                v_obs, missing_t, visible_bias, weights, hidden_bias, marginal=self._marginal
            )
        hidden = hidden.cpu().numpy().astype(X.dtype, copy=False)
        adapter = _get_container_adapter("transform", self)
        if adapter is None:
            return hidden
        columns = np.asarray([f"hidden{i}" for i in range(hidden.shape[1])], dtype=object)
        return adapter.create_container(hidden, X_input, columns=columns)

    def __setstate__(self, state):
        # skorch's rule: a model fitted on CUDA and loaded where there is none runs on the CPU.
        super().__setstate__(state)
        device = self.__dict__.get("device")
        if device is not None and device != "auto" and torch.device(device).type == "cuda":
            if not torch.cuda.is_available():
                warnings.warn(
                    f"{type(self).__name__} was saved with device={str(device)!r}, but CUDA "
                    "is not available here; computing on the CPU (device='cpu').",
                    UserWarning,
                )
                self.device = "cpu"


_COMMON_PARAMS_DOC = """
    n_components : int, default=512
        Number of hidden units ``m`` (the paper: 4096).
    n_epochs : int, default=100
        Passes over the training data (the paper: 500).
    batch_size : int, default=128
        Rows per CD-1 update (the paper's 128).
    learning_rate : float, default=1e-3
        η of Algorithm 1 (the paper: 1e-4).  The updates are **summed** over the
        batch, as in the paper.  Should training diverge (the reconstruction error of
        the observed entries rising far above that of the initial model, a weight
        becoming non-finite, or every hidden unit switching off), training starts
        again from the initial parameters with η divided by 10, and a
        :class:`~sklearn.exceptions.ConvergenceWarning` names the rate used;
        ``learning_rate_`` holds the final one.
    momentum : float in [0, 1), default=0.9
        Momentum of the updates (Hinton's practical guide): a velocity per parameter,
        ``u ← momentum · u + η Δθ``, ``θ += u``, where ``Δθ`` is Algorithm 1's
        update; ``momentum`` is capped at 0.5 for the first 5 epochs.  The effective
        step is about ``η / (1 - momentum)``: lower ``learning_rate`` to match.
        0 is the paper's plain step.  On MNIST, 0.9 with a linearly decaying rate
        reached in 40 epochs what the plain step reached in about twice as many.
    weight_decay : float, default=0.0
        L2 weight cost on the weights (not the biases): ``Δ W -= weight_decay · W``
        at each update (Hinton suggests 1e-4 when used).
    learning_rate_schedule : {"constant", "linear"}, default="linear"
        ``"linear"`` decays η linearly to 0 over the ``n_epochs`` (per update);
        ``"constant"`` is the paper's.
    warmup_epochs : int, default=0
        Ramp η linearly from ``η / n_updates`` to η over the first this many epochs.
    rank : int, "auto" or None, default=None
        Rank ``r`` of the factorisation ``W = A B`` (ref [5], Eq. 14; ``A`` is
        ``n x r``, ``B`` is ``r x m``).  ``None`` trains a full ``W``.  ``"auto"`` is
        the paper's rule: the expected number of observed visible units per training
        row, rounded.  A rank of at least ``min(n_features, n_components)`` trains a
        full ``W``, since it restricts nothing.  Initialisation (the paper is silent
        on it): ``A`` is the ``r`` leading (uncentred) principal directions of the
        training data with holes filled by the observed means, ``B ~ N(0, 0.01²)``.
    train_visible_factor : bool, default=True
        With a factorised ``W``, both factors learn (as in ref [5] and the paper), by
        the chain rule with each factor's step scaled down by the other's size:
        ``ΔA = ΔW Bᵀ / (σ_max(B)² + δ)`` and ``ΔB = Aᵀ ΔW / (σ_max(A)² + δ)``,
        δ = 0.1 (``σ_max`` by one warm-started power-iteration step per update), so
        that neither factor's share of W's step (``ΔA B``, ``A ΔB``) exceeds ``ΔW``.
        The plain chain rule (``ΔA = ΔW Bᵀ``, ``ΔB = Aᵀ ΔW``) makes the step on ``W``
        grow with the factors and diverged within an epoch at learning rates a full
        ``W`` tolerates.  False keeps ``A`` at its principal directions (only
        ``B`` learns, ``ΔB = Aᵀ ΔW``: the full step projected onto span(A)), which
        caps what reconstructions can express at high missing rates.
    imputation : {"mean-field", "sample-hidden", "sample"}, default="mean-field"
        How a hole is filled from ``p_h = sigmoid((v ⊙ (1-m) + b_m) W + c)``:
        ``"mean-field"``, ``v̂ = sigmoid(W p_h + b)``: the conditional expectation
        through the hidden probabilities, the low-distortion (RMSE) end of the
        trade-off, blurry where the data are uncertain; ``"sample-hidden"``,
        ``h ~ Bernoulli(p_h)`` and ``v̂ = sigmoid(W h + b)`` (the paper's sentence
        read literally: hidden activations sampled, the visible layer's conditional
        probabilities), sharper and one random completion at a higher RMSE;
        ``"sample"``, ``h`` drawn and ``v̂ ~ Bernoulli(sigmoid(W h + b))``, 0/1
        values drawn from the model.  Draws come from a local generator seeded at
        ``fit``, so ``transform`` is deterministic.  The benchmark presets use
        ``"mean-field"``: on MNIST at I.M. 0.6 (5,000 training digits) it had the
        lowest RMSE (LM-RBM/Mean 0.63 against 0.69 and 1.06) and the lowest FID
        (13.3 against 14.4 and 14.6), already far below diffusion's (31.6) at an RMSE
        level with it (0.61): the pattern of the paper's Table 1.  Ignored when
        ``perception`` is set.
    perception : float in [0, 1] or None, default=None
        The perception-distortion knob (``None``: impute as ``imputation`` says).
        Each hole gets ``(1 - p) x̂_0 + p x̂_1``: ``x̂_0`` the mean-field pass (the
        low-distortion end; it measured a far lower RMSE than averaging clamped Gibbs
        samples), ``x̂_1`` one 0/1 draw of the clamped Gibbs chain of
        :meth:`sample_imputations`.  This is the interpolation of Freirich, Michaeli &
        Meir (NeurIPS 2021) between the minimum-MSE estimate and a perfect-perception
        one, with a posterior sample in the second role: for an exact posterior mean
        and sample its MSE is exactly ``(1 + p²)`` times the minimum, and it lies on
        the theory's boundary only where that sample is also the best
        perfect-perception estimator (not in general, not even for Gaussians, whose
        best one is a deterministic map of the posterior mean).  The draw is seeded at
        ``fit``, so ``transform`` is deterministic and every ``p`` moves each hole
        along the same straight line; tune ``p`` with ``GridSearchCV`` and the
        masked-RMSE and FID scorers of :mod:`skrbm_impute.metrics`.
    matmul_dtype : {"float32", "bfloat16"}, default="float32"
        Dtype of the training's matrix products.  ``"bfloat16"`` runs them about
        twice as fast on CPUs with AVX512-BF16 and on GPUs, with float32 parameters
        and float32 elementwise steps (the rounding of the products, ~0.4%, is far
        below the CD-1 sampling noise); inference is always float32.
    n_threads : int, "auto" or None, default="auto"
        torch's CPU threads during ``fit``, ``transform``, ``transform_hidden`` and
        ``sample_imputations`` (torch's own setting is restored afterwards).
        ``"auto"``: torch's thread count capped at the cores other processes leave
        idle (at least one), because torch's threads spin while waiting for each
        other and, on a busy machine, an oversubscribed fit ran 2-4 times slower than
        a one-thread fit.  "Other processes" is measured on Linux as all processes'
        CPU time over 50 ms less this process's own (reused for 5 s); elsewhere it is
        the 1-minute load average.
        ``None`` leaves torch's setting as it is.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where to compute; resolved at ``fit`` into ``device_``, and again at each
        ``transform`` (so ``set_params(device="cpu")`` moves inference to the CPU).
        Training runs in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds a local ``torch.Generator`` (initialisation, shuffling, Gibbs draws);
        the global torch seed is never touched.
    verbose : int, default=0
        Show a tqdm progress bar over epochs with the mean squared reconstruction
        error of the observed entries.

    Notes
    -----
    The defaults aim at a good imputation of a few thousand 28x28 images in about a
    minute on two CPU cores.  The paper's settings (section 4) are
    ``n_components=4096, n_epochs=500, batch_size=128, learning_rate=1e-4,
    momentum=0, learning_rate_schedule="constant", rank="auto"`` (no weight
    decay): the ``paper`` preset of ``skrbm-impute benchmark``, about a hundred
    times the updates of the defaults.
"""

_COMMON_ATTRIBUTES_DOC = """
    components_ : ndarray of shape (n_components, n_features)
        ``Wᵀ`` (as in :class:`sklearn.neural_network.BernoulliRBM`); ``(A B)ᵀ`` when
        factorised.
    visible_factor_, hidden_factor_ : ndarrays of shape (n_features, `rank_`), (`rank_`, n_components)
        ``A`` and ``B`` (only when ``rank_`` is not None).
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``b``.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``c``.
    rank_ : int or None
        The factorisation's rank, ``None`` for a full ``W``.
    device_ : torch.device
        The device training ran on.
    n_iter_ : int
        Number of training epochs of the final model (``n_epochs``; epochs run
        before a back-off of the divergence guard are not counted).
    learning_rate_ : float
        The learning rate training finished with: ``learning_rate``, or smaller after
        a back-off of the divergence guard.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only when ``X`` has string column names).

    Raises
    ------
    FloatingPointError
        From ``fit`` when training diverges even at a learning rate of 1e-10 (never
        seen on [0, 1] data).
"""


class MaskedRBMImputer(_BaseRBMImputer):
    __doc__ = (
        """Binary RBM trained on incomplete data, missing units absent (ref [5]).

    Salakhutdinov, Mnih & Hinton (2007): each row trains the RBM restricted to its
    observed visible units.  The hidden input is ``v_o W_o + c`` and only observed
    units get a gradient (Algorithm 1 of Cannella et al. without ``b_m`` and without
    lines 8-9).  Missing entries are filled with ``sigmoid(W h + b)`` given the
    observed ones.  Fitted values are stored on the CPU.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    LMRBMImputer : the Linearized Marginal RBM, which also trains the parameters of
        the missing units.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import MaskedRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.binomial(1, 0.5, size=(50, 16)).astype(float)
    >>> X[rng.rand(50, 16) < 0.2] = np.nan
    >>> imputer = MaskedRBMImputer(n_components=8, n_epochs=2, learning_rate=0.01,
    ...                            random_state=0)
    >>> np.isnan(imputer.fit_transform(X)).any()
    np.False_
    """
    )

    _marginal = False

    def __init__(
        self,
        *,
        n_components=512,
        n_epochs=100,
        batch_size=128,
        learning_rate=1e-3,
        momentum=0.9,
        weight_decay=0.0,
        learning_rate_schedule="linear",
        warmup_epochs=0,
        rank=None,
        train_visible_factor=True,
        imputation="mean-field",
        perception=None,
        matmul_dtype="float32",
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
        self.rank = rank
        self.train_visible_factor = train_visible_factor
        self.imputation = imputation
        self.perception = perception
        self.matmul_dtype = matmul_dtype
        self.n_threads = n_threads
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _update_flags(self):
        return False, False


class LMRBMImputer(_BaseRBMImputer):
    __doc__ = (
        """The Linearized Marginal RBM of Cannella et al. (Algorithm 1).

    The marginal energy of the observed units is linearised around ``W_m h = 0``,
    giving Ê_o, whose hidden input ``(v ⊙ (1 - m) + b_m) W + c`` with
    ``b_m = sigmoid(b) ⊙ m`` involves the parameters of the missing units too.
    Training is minibatch CD-1 on Ê_o with the gradient corrections of lines 8-9,
    scaled by each unit's observation probability λ in the training data.  Missing
    entries are filled from the hidden units conditioned under Ê_o.  Fitted values
    are stored on the CPU.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    gradient_correction : bool, default=True
        Lines 8 and 9 of Algorithm 1 (the gradient through ``b_m``).  False gives
        "Algorithm 1 without lines 8-9": the ``b_m`` term in the hidden input only.
    observation_scaling : bool, default=True
        Scale lines 8-9 by λ; False means λ = 1.

    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    MaskedRBMImputer : ref [5], the RBM this one improves on.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import LMRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.binomial(1, 0.5, size=(50, 16)).astype(float)
    >>> X[rng.rand(50, 16) < 0.2] = np.nan
    >>> imputer = LMRBMImputer(n_components=8, n_epochs=2, learning_rate=0.01,
    ...                        random_state=0)
    >>> imputer.fit(X).transform_hidden(X).shape
    (50, 8)
    """
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
        n_epochs=100,
        batch_size=128,
        learning_rate=1e-3,
        momentum=0.9,
        weight_decay=0.0,
        learning_rate_schedule="linear",
        warmup_epochs=0,
        rank=None,
        train_visible_factor=True,
        gradient_correction=True,
        observation_scaling=True,
        imputation="mean-field",
        perception=None,
        matmul_dtype="float32",
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
        self.rank = rank
        self.train_visible_factor = train_visible_factor
        self.gradient_correction = gradient_correction
        self.observation_scaling = observation_scaling
        self.imputation = imputation
        self.perception = perception
        self.matmul_dtype = matmul_dtype
        self.n_threads = n_threads
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _update_flags(self):
        return self.gradient_correction, self.observation_scaling
