"""The training loop of the RBM imputers: its state, learning-rate schedule and guard.

Pure torch, beside the numerical core :mod:`skrbm_impute._numerics.rbm`: the
estimators build a :class:`TrainingState` (tensors, parameters, velocity, generator,
the current learning rate and epoch) and a :class:`TrainingOptions`, and call
:func:`train`, which runs :func:`run_epoch` until ``n_epochs`` epochs have passed.
Each epoch either returns the mean squared reconstruction error of the observed
entries or reports a divergence (see :class:`DivergenceGuard`); after a divergence
the caller picks a smaller learning rate (:func:`backed_off_rate`) and training
starts again from the initial parameters.  ``train``'s ``on_epoch_end(state, error)``
runs after every completed epoch and may stop training by returning True (the place
for progress bars and a held-out early-stopping check).
"""

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from . import rbm

#: Divergence guard.  Its yardstick is the mean squared reconstruction error of the
#: observed entries under the initial model (every unit at its observed mean).  An epoch
#: whose error exceeds ``EPOCH_RATIO`` times that is worse than useless; a chunk of
#: batches above ``CHUNK_RATIO`` times it (saturated weights: 2-5 on MNIST) or with a
#: non-finite error stops the epoch at once, before the weights overflow.  Healthy
#: training stays near 1 in its first batches (single-batch transients up to ~3 at large
#: rates) and falls below it.
EPOCH_RATIO, CHUNK_RATIO = 1.5, 3.0
#: The yardstick's floor (an RMSE of 0.1), for data the initial model already fits
#: (constant columns): saturated 0/1 reconstructions of [0, 1] data exceed it by far.
MIN_INITIAL_ERROR = 0.01
#: An epoch after which the mean hidden probability of ``ACTIVITY_ROWS`` rows is below
#: ``MIN_ACTIVITY`` (or above 1 minus it) has collapsed the hidden layer, the other face
#: of a too large rate (healthy RBMs on MNIST: 0.05-0.5; collapsed: 0.002).
MIN_ACTIVITY, ACTIVITY_ROWS = 0.01, 512
#: Batches between two checks of the guard (one host synchronisation each).
GUARD_BATCHES = 8
#: Each back-off divides the learning rate by this, down to the floor.
BACKOFF, MIN_LEARNING_RATE = 10.0, 1e-10
#: Momentum during the first epoch (Hinton's practical guide: 0.5 at first).  One epoch
#: at 0.5 reached a lower validation RMSE after 12 epochs on MNIST than five (0.661
#: against 0.678 of the Mean imputer's, I.M. 0.6) or none (0.670).
INITIAL_MOMENTUM, INITIAL_MOMENTUM_EPOCHS = 0.5, 1
#: Damping δ of each factor's step scale 1 / (σ_max(other factor)² + δ).
FACTOR_DAMPING = 0.1


@dataclass(frozen=True)
class LearningRateSchedule:
    """The learning rate per update: a linear warm-up, then constant or a linear decay.

    Parameters
    ----------
    kind : {"constant", "linear"}
        ``"linear"`` decays η linearly to 0 over ``n_epochs`` (per update).
    n_epochs : int
        Epochs of the whole training.
    n_batches : int
        Updates per epoch.
    warmup_epochs : int, default=0
        Epochs over which η ramps linearly from ``η / n_updates`` up to η.
    """

    kind: str
    n_epochs: int
    n_batches: int
    warmup_epochs: int = 0

    def rate(self, learning_rate, step):
        """The rate at update ``step`` (counted from 0 across epochs).

        Parameters
        ----------
        learning_rate : float
            The base rate η.
        step : int
            The update's index.

        Returns
        -------
        rate : float
            The scheduled rate.
        """
        factor = 1.0
        warmup = self.warmup_epochs * self.n_batches
        if step < warmup:
            factor = (step + 1) / warmup
        if self.kind == "linear":
            factor *= 1.0 - step / max(self.n_epochs * self.n_batches, 1)
        return learning_rate * factor


def epoch_momentum(momentum, epoch):
    """The momentum of epoch ``epoch``: capped at ``INITIAL_MOMENTUM`` at first.

    Parameters
    ----------
    momentum : float
        The momentum asked for.
    epoch : int
        The epoch, counted from 0.

    Returns
    -------
    momentum : float
        ``min(momentum, INITIAL_MOMENTUM)`` for the first ``INITIAL_MOMENTUM_EPOCHS``.
    """
    if epoch < INITIAL_MOMENTUM_EPOCHS:
        return min(momentum, INITIAL_MOMENTUM)
    return momentum


@dataclass(frozen=True)
class DivergenceGuard:
    """Tells a diverging training from a healthy one (see the module's constants).

    Parameters
    ----------
    initial_error : float
        The yardstick: the mean squared reconstruction error of the observed entries
        under the initial model, at least ``MIN_INITIAL_ERROR``.
    """

    initial_error: float

    @classmethod
    def from_initial_model(cls, v_obs, missing, visible_bias):
        """The guard whose yardstick is the initial model's error on the data.

        Parameters
        ----------
        v_obs, missing : tensor of shape (n_samples, n_visible)
            Observed values (0 in the holes) and the 0/1 missing mask.
        visible_bias : tensor of shape (n_visible,)
            The initial visible biases (each unit at its observed mean).

        Returns
        -------
        guard : DivergenceGuard
            The guard.
        """
        observed = 1.0 - missing
        error = float((torch.square(v_obs - torch.sigmoid(visible_bias)) * observed).sum())
        return cls(max(error / max(float(observed.sum()), 1.0), MIN_INITIAL_ERROR))

    def chunk_diverged(self, error, count):
        """Whether a chunk of batches stops the epoch.

        It does when its summed squared ``error`` over ``count`` observed entries is
        non-finite or above ``CHUNK_RATIO`` times the yardstick.

        Parameters
        ----------
        error : float
            Summed squared reconstruction error of the chunk's observed entries.
        count : float
            Number of those entries (at least 1).

        Returns
        -------
        diverged : bool
            True when training must start again at a smaller rate.
        """
        return not math.isfinite(error) or error / count > CHUNK_RATIO * self.initial_error

    def epoch_diverged(self, error):
        """Whether an epoch's mean squared error exceeds ``EPOCH_RATIO`` times the yardstick.

        Parameters
        ----------
        error : float
            The epoch's mean squared reconstruction error of the observed entries.

        Returns
        -------
        diverged : bool
            True when training must start again at a smaller rate.
        """
        return error > EPOCH_RATIO * self.initial_error

    @staticmethod
    def collapsed(activity):
        """Whether a mean hidden probability ``activity`` means a collapsed hidden layer.

        Parameters
        ----------
        activity : float
            Mean hidden probability over (up to) ``ACTIVITY_ROWS`` rows.

        Returns
        -------
        collapsed : bool
            True when the mean is within ``MIN_ACTIVITY`` of 0 or 1.
        """
        return not MIN_ACTIVITY <= activity <= 1.0 - MIN_ACTIVITY


def backed_off_rate(learning_rate):
    """The learning rate after a divergence, or ``None`` below ``MIN_LEARNING_RATE``.

    Parameters
    ----------
    learning_rate : float
        The rate training diverged at.

    Returns
    -------
    rate : float or None
        ``learning_rate / BACKOFF``, or ``None`` when that is below the floor.
    """
    smaller = learning_rate / BACKOFF
    return None if smaller < MIN_LEARNING_RATE else smaller


@dataclass(frozen=True)
class HeldOutEntries:
    """Observed entries held out of training, to score the model on after each epoch.

    Build it with :meth:`split`.  The rows' other observed entries still train; the
    held-out ones are missing for the training (no gradient, not in λ) and are imputed
    by the mean-field pass from the rows' other observed entries.

    Parameters
    ----------
    rows : ndarray of int
        The training rows holding held-out entries.
    v_obs, missing : tensor of shape (n_rows, n_visible)
        Those rows as the model sees them: 0 in the holes and at the held-out entries,
        and their missing mask (held-out entries missing).
    targets : tensor of shape (n_rows, n_visible)
        The rows' true values, 0 wherever nothing is held out.
    held_out : tensor of shape (n_rows, n_visible)
        The 0/1 mask of the held-out entries.
    """

    rows: object
    v_obs: torch.Tensor
    missing: torch.Tensor
    targets: torch.Tensor
    held_out: torch.Tensor

    #: Share of a validation row's observed entries that is held out.
    ROW_SHARE = 0.5

    @classmethod
    def split(cls, X, missing, fraction, rng, device):
        """Hold out ``ROW_SHARE`` of the observed entries of ``fraction`` of the rows.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_visible)
            The training data (any value in the holes).
        missing : ndarray of bool, same shape
            Its missing mask.
        fraction : float in (0, 1)
            Share of the rows to hold entries out of (at least one row).
        rng : numpy.random.RandomState
            Source of the rows and entries drawn.
        device : torch.device
            Where the tensors live.

        Returns
        -------
        held_out : HeldOutEntries
            The validation entries.
        training_missing : ndarray of bool
            ``missing`` with the held-out entries set: the mask to train with.
        """
        n_samples = X.shape[0]
        n_rows = min(max(int(round(fraction * n_samples)), 1), n_samples)
        rows = np.sort(rng.permutation(n_samples)[:n_rows])
        held = ~missing[rows] & (rng.random_sample((n_rows, X.shape[1])) < cls.ROW_SHARE)
        training_missing = missing.copy()
        training_missing[rows] |= held
        rows_missing = training_missing[rows]
        as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32).to(device)  # noqa: E731
        return cls(
            rows=rows,
            v_obs=as_tensor(np.where(rows_missing, 0.0, X[rows])),
            missing=as_tensor(rows_missing),
            targets=as_tensor(np.where(held, X[rows], 0.0)),
            held_out=as_tensor(held),
        ), training_missing

    def score(self, state, marginal):
        """Minus the RMSE of the mean-field imputation of the held-out entries.

        Parameters
        ----------
        state : TrainingState
            The model to score.
        marginal : bool
            ``b_m`` in the hidden input (LM-RBM).

        Returns
        -------
        score : float
            ``-sqrt(mean((v̂ - v)²))`` over the held-out entries (higher is better; 0
            when nothing is held out).
        """
        imputed = rbm.impute(self.v_obs, self.missing, state.visible_bias, state.weights,
                             state.hidden_bias, marginal=marginal)
        squared = (torch.square(imputed - self.targets) * self.held_out).sum()
        return -math.sqrt(float(squared) / max(float(self.held_out.sum()), 1.0))


class EarlyStopping:
    """Stops training when the held-out score has stopped improving.

    After each epoch the model is scored on ``held_out``; training stops once
    ``n_iter_no_change`` consecutive epochs have each scored below the best score so
    far plus ``tol``, and the parameters of the best-scoring epoch are kept
    (scikit-learn's ``MLPClassifier`` rule).

    Parameters
    ----------
    held_out : HeldOutEntries
        The validation entries.
    marginal : bool
        ``b_m`` in the hidden input (LM-RBM).
    n_iter_no_change : int
        Epochs without an improvement of at least ``tol`` that stop training.
    tol : float
        The improvement that counts.

    Attributes
    ----------
    scores : list of float
        The score of every epoch since the last (re)start.
    best_score : float
        The highest of them (``-inf`` before the first epoch).
    """

    def __init__(self, held_out, marginal, n_iter_no_change, tol):
        self.held_out, self.marginal = held_out, marginal
        self.n_iter_no_change, self.tol = n_iter_no_change, tol
        self.reset()

    def reset(self):
        """Forget the scores: training started again from the initial parameters."""
        self.scores, self.best_score = [], -math.inf
        self._best_params, self._no_improvement = None, 0

    def __call__(self, state):
        """Score the epoch just completed; True when training should stop.

        Parameters
        ----------
        state : TrainingState
            The model after the epoch.

        Returns
        -------
        stop : bool
            Whether the last ``n_iter_no_change`` epochs all failed to improve.
        """
        score = self.held_out.score(state, self.marginal)
        self.scores.append(score)
        self._no_improvement = (self._no_improvement + 1
                                if score < self.best_score + self.tol else 0)
        if score > self.best_score:
            self.best_score = score
            self._best_params = [p.clone() for p in state.params]
        return self._no_improvement >= self.n_iter_no_change

    def restore_best(self, state):
        """Copy the best-scoring epoch's parameters into ``state`` (if any epoch ran).

        Parameters
        ----------
        state : TrainingState
            Its parameters are overwritten in place.
        """
        if self._best_params is not None:
            for param, best in zip(state.params, self._best_params):
                param.copy_(best)


@dataclass(frozen=True)
class TrainingOptions:
    """What stays fixed during a training: the estimator's settings, resolved.

    Parameters
    ----------
    n_epochs, batch_size : int
        Epochs to train and rows per CD-1 update.
    schedule : LearningRateSchedule
        The learning rate per update.
    marginal, gradient_correction : bool
        ``b_m`` in the hidden input (LM-RBM) and Algorithm 1's lines 8-9.
    momentum, weight_decay : float
        As in :func:`skrbm_impute._numerics.rbm.cd1_step`.
    train_visible_factor : bool
        Whether ``A`` learns when ``W = A B``.
    matmul_dtype : torch.dtype
        Dtype of the training's matrix products.
    statistics : {"sampled", "probabilities"}
        What the CD-1 updates are made of (see
        :func:`skrbm_impute._numerics.rbm.cd1_step`).
    """

    n_epochs: int
    batch_size: int
    schedule: LearningRateSchedule
    marginal: bool
    gradient_correction: bool
    momentum: float = 0.0
    weight_decay: float = 0.0
    train_visible_factor: bool = True
    matmul_dtype: torch.dtype = torch.float32
    statistics: str = "sampled"


@dataclass
class TrainingState:
    """Everything a training changes, and the data it trains on.

    Build it with :meth:`start`.  ``epoch`` counts the completed epochs since the last
    (re)start; ``restart`` goes back to the initial parameters at a new rate.

    Parameters
    ----------
    v_obs, missing : tensor of shape (n_samples, n_visible)
        Observed values (0 in the holes) and the 0/1 missing mask.
    observed_per_row : tensor of shape (n_samples,)
        Observed entries per row (the guard's counts).
    observation_prob : tensor of shape (n_visible,) or None
        The observation probabilities λ of the units, or ``None`` for λ = 1.
    visible_bias, hidden_bias : tensor
        ``b`` and ``c``, trained in place.
    weights : tensor or pair of tensors
        ``W``, or the factors ``(A, B)``, trained in place.
    velocity : list of tensors or None
        The momentum's velocities, shaped like :attr:`params`.
    adam : AdamMoments or None
        Adam's moments (``solver="adam"``), or ``None``.
    power_vectors : list of two tensors
        Warm starts of the power iterations for ``σ_max(B)²`` and ``σ_max(A)²``.
    generator : torch.Generator
        Source of every random draw of the training.
    learning_rate : float
        The base rate of the current attempt.
    guard : DivergenceGuard
        The divergence test.
    initial : list of tensors
        Copies of the initial parameters, for a restart.
    epoch : int, default=0
        Completed epochs since the last (re)start.
    """

    v_obs: torch.Tensor
    missing: torch.Tensor
    observed_per_row: torch.Tensor
    observation_prob: object
    visible_bias: torch.Tensor
    hidden_bias: torch.Tensor
    weights: object
    velocity: object
    adam: object
    power_vectors: list
    generator: torch.Generator
    learning_rate: float
    guard: DivergenceGuard
    initial: list = field(repr=False)
    epoch: int = 0

    @classmethod
    def start(cls, v_obs, missing, visible_bias, hidden_bias, weights, *, generator,
              learning_rate, observation_prob=None, momentum=0.0, solver="sgd"):
        """The state before the first epoch, from initial parameters.

        Parameters
        ----------
        v_obs, missing : tensor of shape (n_samples, n_visible)
            Observed values (0 in the holes) and the 0/1 missing mask.
        visible_bias, hidden_bias, weights : tensors
            The initial parameters (see :func:`skrbm_impute._numerics.rbm.init_parameters`).
        generator : torch.Generator
            Source of the training's draws.
        learning_rate : float
            The base rate η.
        observation_prob : tensor of shape (n_visible,) or None, default=None
            The observation probabilities λ, or ``None`` for λ = 1.
        momentum : float, default=0.0
            Velocities are kept only when it is positive (and ``solver`` is "sgd").
        solver : {"sgd", "adam"}, default="sgd"
            ``"adam"`` keeps Adam's moments instead of velocities.

        Returns
        -------
        state : TrainingState
            The new state.
        """
        params = [*(weights if isinstance(weights, tuple) else (weights,)),
                  visible_bias, hidden_bias]
        rank = weights[0].shape[1] if isinstance(weights, tuple) else 1
        device = v_obs.device
        return cls(
            v_obs=v_obs,
            missing=missing,
            observed_per_row=(1.0 - missing).sum(1),
            observation_prob=observation_prob,
            visible_bias=visible_bias,
            hidden_bias=hidden_bias,
            weights=weights,
            velocity=([torch.zeros_like(p) for p in params]
                      if momentum > 0 and solver == "sgd" else None),
            adam=rbm.AdamMoments(params) if solver == "adam" else None,
            power_vectors=[torch.full((n,), n ** -0.5, device=device)
                           for n in (hidden_bias.shape[0], rank)],
            generator=generator,
            learning_rate=float(learning_rate),
            guard=DivergenceGuard.from_initial_model(v_obs, missing, visible_bias),
            initial=[p.clone() for p in params],
        )

    @property
    def params(self):
        """``[*weights, b, c]``: the trained tensors (``weights`` one or two)."""
        factors = self.weights if isinstance(self.weights, tuple) else (self.weights,)
        return [*factors, self.visible_bias, self.hidden_bias]

    def restart(self, learning_rate):
        """Back to the initial parameters and epoch 0, at ``learning_rate``.

        Parameters
        ----------
        learning_rate : float
            The new base rate.
        """
        for param, saved in zip(self.params, self.initial):
            param.copy_(saved)
        if self.velocity is not None:
            for u in self.velocity:
                u.zero_()
        if self.adam is not None:
            self.adam.reset()
        self.learning_rate = float(learning_rate)
        self.epoch = 0

    def parameters_finite(self):
        """Whether every parameter is finite.

        Returns
        -------
        finite : bool
            False when some entry is NaN or infinite.
        """
        return all(bool(torch.isfinite(t).all()) for t in self.params)


def run_epoch(state, options):
    """One pass over the data in a fresh random order, updating ``state`` in place.

    Parameters
    ----------
    state : TrainingState
        Its ``epoch`` selects the momentum and the scheduled rates.
    options : TrainingOptions
        The fixed settings.

    Returns
    -------
    error : float or None
        The mean squared reconstruction error of the observed entries, or ``None``
        when the divergence guard tripped (the parameters are then unusable).
    """
    v_obs, missing, weights = state.v_obs, state.missing, state.weights
    n_samples, batch_size = v_obs.shape[0], options.batch_size
    n_batches = options.schedule.n_batches
    order = torch.randperm(n_samples, generator=state.generator, device=v_obs.device)
    v_epoch, m_epoch, counts = v_obs[order], missing[order], state.observed_per_row[order]
    # (Adam's step is invariant to the factors' step scales: none computed.)
    learn_a = (options.train_visible_factor and isinstance(weights, tuple)
               and state.adam is None)
    momentum = epoch_momentum(options.momentum, state.epoch)
    total_error, total_count = 0.0, 0.0
    chunk_error = torch.zeros((), device=v_obs.device)
    chunk_start = 0
    for batch in range(n_batches):
        start, stop = batch * batch_size, (batch + 1) * batch_size
        factor_rates = None
        if learn_a:  # each factor's step scaled by 1 / (σ_max(other factor)² + δ)
            factor_rates = tuple(
                1.0 / (rbm.spectral_norm_squared(factor, vector) + FACTOR_DAMPING)
                for factor, vector in zip(weights[::-1], state.power_vectors)
            )
        chunk_error += rbm.cd1_step(
            v_epoch[start:stop],
            m_epoch[start:stop],
            state.visible_bias,
            weights,
            state.hidden_bias,
            learning_rate=options.schedule.rate(
                state.learning_rate, state.epoch * n_batches + batch),
            marginal=options.marginal,
            gradient_correction=options.gradient_correction,
            observation_prob=state.observation_prob,
            momentum=momentum,
            velocity=state.velocity,
            weight_decay=options.weight_decay,
            train_visible_factor=options.train_visible_factor,
            factor_rates=factor_rates,
            matmul_dtype=options.matmul_dtype,
            statistics=options.statistics,
            adam=state.adam,
            generator=state.generator,
        )
        if (batch + 1) % GUARD_BATCHES and batch + 1 < n_batches:
            continue
        # The guard acts on the reconstructions before the weights overflow.
        error = float(chunk_error)
        count = max(float(counts[chunk_start * batch_size:stop].sum()), 1.0)
        if state.guard.chunk_diverged(error, count):
            return None
        total_error, total_count = total_error + error, total_count + count
        chunk_error.zero_()
        chunk_start = batch + 1
    error = total_error / max(total_count, 1.0)
    if state.guard.epoch_diverged(error) or not state.parameters_finite():
        return None
    # A hidden layer switched off (or on) for every row has collapsed: the model then
    # imputes the visible biases only, at any later epoch too.
    activity = float(rbm.hidden_probabilities(
        v_epoch[:ACTIVITY_ROWS], m_epoch[:ACTIVITY_ROWS], state.visible_bias, weights,
        state.hidden_bias, marginal=options.marginal).mean())
    if state.guard.collapsed(activity):
        return None
    return error


def train(state, options, *, on_diverged, on_epoch_end=None):
    """Run epochs until ``options.n_epochs`` have completed since the last restart.

    Parameters
    ----------
    state : TrainingState
        Trained in place.
    options : TrainingOptions
        The fixed settings.
    on_diverged : callable
        ``on_diverged(state) -> learning_rate``, called when an epoch diverged (with
        ``state.epoch`` the diverging epoch); training restarts from the initial
        parameters at the returned rate.  It raises to give up.
    on_epoch_end : callable or None, default=None
        ``on_epoch_end(state, error) -> bool``, called after each completed epoch
        (``state.epoch`` already counts it) with the epoch's mean squared
        reconstruction error of the observed entries; returning True stops training.

    Returns
    -------
    state : TrainingState
        The same object.
    """
    while state.epoch < options.n_epochs:
        error = run_epoch(state, options)
        if error is None:
            state.restart(on_diverged(state))
            continue
        state.epoch += 1
        if on_epoch_end is not None and on_epoch_end(state, error):
            break
    return state
