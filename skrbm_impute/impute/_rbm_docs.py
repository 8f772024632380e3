"""The docstrings of the two RBM imputers, assembled from one template.

Both share their parameters, attributes and methods; each names its own summary,
extra parameters, "See Also" entry and example.  Measured figures behind the
defaults live in ``docs/user_guide/estimator_measurements.rst``.
"""

_TEMPLATE = """{summary}

    Parameters
    ----------
    n_components : int, default=512
        Number of hidden units ``m`` (the paper: 4096).
    n_epochs : int, default=40
        Passes over the training data (the paper: 500); the most epochs with
        ``early_stopping``.
    batch_size : int, default=128
        Rows per CD-1 update (the paper's 128).
    learning_rate : float, default=1e-3
        The rate η of Algorithm 1 (the paper: 1e-4).  The updates are **summed** over the
        batch, as in the paper.  Should training diverge (the reconstruction error of
        the observed entries rising far above that of the initial model, a weight
        becoming non-finite, or every hidden unit switching off), training starts
        again from the initial parameters with η divided by 10, and a
        :class:`~sklearn.exceptions.ConvergenceWarning` names the rate used;
        ``learning_rate_`` holds the final one.
    momentum : float in [0, 1), default=0.9
        Momentum of the updates (Hinton's practical guide): a velocity per parameter,
        ``u ← momentum · u + η Δθ``, ``θ += u``, where ``Δθ`` is Algorithm 1's
        update; ``momentum`` is capped at 0.5 for the first epoch.  The effective
        step is about ``η / (1 - momentum)``: lower ``learning_rate`` to match.
        0 is the paper's plain step.  Measured effect: see the user guide's
        "Estimator measurements".
    weight_decay : float, default=0.0
        L2 weight cost on the weights (not the biases): ``Δ W -= weight_decay · W``
        at each update (Hinton suggests 1e-4 when used).
    learning_rate_schedule : {{"constant", "linear"}}, default="linear"
        ``"linear"`` decays η linearly to 0 over the ``n_epochs`` (per update);
        ``"constant"`` is the paper's.
    warmup_epochs : int, default=0
        Ramp η linearly from ``η / n_updates`` to η over the first this many epochs.
    early_stopping : bool, default=False
        Hold out observed entries and stop training when their imputation has stopped
        improving (scikit-learn's ``MLPClassifier`` rule): after each epoch the
        held-out entries are imputed by the mean-field pass, scored by minus their
        RMSE (``validation_scores_``), and training stops once ``n_iter_no_change``
        consecutive epochs have each scored below the best score plus ``tol``; the
        parameters of the best epoch are kept, and ``n_epochs`` caps the epochs.  The
        learning-rate schedule still spans ``n_epochs``.  Off by default (see the user guide's "Estimator measurements").
    validation_fraction : float in (0, 1), default=0.1
        With ``early_stopping``: the share of the training rows that hold validation
        entries.  In each such row half of the observed entries (drawn at random,
        seeded by ``random_state``) are held out: they are never used for the
        gradient (nor for λ) and are imputed from the row's other observed entries,
        which still train.  Only these rows are imputed after each epoch (a few
        per cent of an epoch's cost at 0.1).
    n_iter_no_change : int, default=5
        With ``early_stopping``: consecutive epochs without an improvement of at least
        ``tol`` that stop training.
    tol : float, default=1e-4
        With ``early_stopping``: the smallest increase of the validation score (minus
        the held-out RMSE, on the [0, 1] pixel scale) that counts as an improvement.
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
        δ = 0.1 (``σ_max`` by warm-started power iterations at each update), so
        that neither factor's share of W's step (``ΔA B``, ``A ΔB``) exceeds ``ΔW``.
        The plain chain rule (``ΔA = ΔW Bᵀ``, ``ΔB = Aᵀ ΔW``) makes the step on ``W``
        grow with the factors and diverged within an epoch at learning rates a full
        ``W`` tolerates.  False keeps ``A`` at its principal directions (only
        ``B`` learns, ``ΔB = Aᵀ ΔW``: the full step projected onto span(A)), which
        caps what reconstructions can express at high missing rates.{extra_parameters}
    imputation : {{"mean-field", "sample-hidden", "sample"}}, default="mean-field"
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
        ``"mean-field"`` (the modes' measured RMSE and FID: see the user guide's
        "Estimator measurements").  Ignored when ``perception`` is set.
    perception : float in [0, 1] or None, default=None
        The perception-distortion knob (``None``: impute as ``imputation`` says).
        Each hole gets ``(1 - p) x̂_0 + p x̂_1``: ``x̂_0`` the mean-field pass (the
        low-distortion end), ``x̂_1`` one 0/1 draw of the clamped Gibbs chain of
        :meth:`sample_imputations`.  This is the interpolation of Freirich, Michaeli &
        Meir (NeurIPS 2021) between the minimum-MSE estimate and a perfect-perception
        one, with a posterior sample in the second role: for an exact posterior mean
        and sample its MSE is exactly ``(1 + p²)`` times the minimum, and it lies on
        the theory's boundary only where that sample is also the best
        perfect-perception estimator (not in general, not even for Gaussians, whose
        best one is a deterministic map of the posterior mean).  The draw is seeded at
        ``fit``, so ``transform`` is deterministic and every ``p`` moves each hole
        along the same straight line; tune ``p`` with ``GridSearchCV`` and the
        masked-RMSE and FID scorers of :mod:`skrbm_impute.metrics`, or compute
        several levels at once with :meth:`transform_perception_levels`.  Read at
        ``transform`` (checked there too).
    matmul_dtype : {{"float32", "bfloat16"}}, default="float32"
        Dtype of the training's matrix products.  ``"bfloat16"`` runs them faster on
        CPUs with AVX512-BF16 and on GPUs, with float32 parameters and float32
        elementwise steps (the rounding of the products, ~0.4%, is far below the
        CD-1 sampling noise); inference is always float32.
    cd_statistics : {{"sampled", "probabilities"}}, default="sampled"
        What each CD-1 update is made of.  ``"sampled"`` (the default, and the
        paper's) is Algorithm 1 as printed: ``h``, ``v'`` and ``h'`` are 0/1 draws and
        the updates use them.  ``"probabilities"`` is an option (Hinton's practical
        guide, section 3): ``h`` is still drawn to drive the reconstruction, but the
        updates use ``P(h=1|v_o)``, ``v' = P(v=1|h)`` and ``h' = P(h=1|v'_o)`` in
        place of the draws (one draw per update instead of three).  The positive
        statistics keep their expectation; ``h'`` computed from the probabilities
        ``v'`` instead of a 0/1 draw is a mean-field negative phase, so the expected
        update differs from Algorithm 1's and so does what the model learns.
        Measured (8,000 training / 2,000 imputed MNIST digits, I.M. 0.6, one thread):
        with ``n_components=256, n_epochs=16, learning_rate=2e-3`` it gave
        LM-RBM/Mean 0.560 in 7.7 CPU-s on a quiet core, against 0.587 in 40 epochs
        (34.6 CPU-s) at the defaults; but it hurts RBM [5]
        (:class:`~skrbm_impute.MaskedRBMImputer`), the more the longer it trains
        (validation split, 512 hidden units, 40 epochs: 0.634 sampled, 0.797 with
        probabilities; the LM-RBM 0.613 and 0.587), so the two models are not
        compared fairly under it and it is not the default (see the user guide's
        "The LM-RBM method", "Faster training (an option)").
    solver : {{"sgd", "adam"}}, default="sgd"
        ``"sgd"``: the step ``η Δθ`` (with ``momentum``), Algorithm 1's.  ``"adam"``:
        Adam's per-parameter step on ``Δθ`` (Kingma & Ba, 2015; β = 0.9, 0.999,
        ε = 1e-8), ``momentum`` unused, ``learning_rate`` about the largest change of a
        parameter per update (1e-2 is a start); with a factorised ``W`` the factors'
        steps are Adam's on their chain-rule updates.  Slower to a given imputation
        quality than ``"sgd"`` in the measurements (see the user guide's "The
        LM-RBM method").
    n_threads : int, "auto" or None, default="auto"
        The number of torch's CPU threads during ``fit``, ``transform``, ``transform_hidden`` and
        ``sample_imputations`` (torch's own setting is restored afterwards).
        ``"auto"``: torch's thread count capped at the cores other processes leave
        idle (at least one), because torch's threads spin while waiting for each
        other and an oversubscribed fit runs several times slower than a one-thread
        fit.  "Other processes" is measured on Linux as all processes' CPU time over
        50 ms less this process's own (reused for 5 s); elsewhere it is the 1-minute
        load average.  ``None`` leaves torch's setting as it is.  Booleans are
        refused.
    device : {{"cpu", "cuda", "auto"}} or torch.device, default="cpu"
        Where to compute (``"cuda:<index>"`` too); resolved at ``fit`` into
        ``device_``, and again at each ``transform`` (so ``set_params(device="cpu")``
        moves inference to the CPU).  Training runs in float32.  A model saved with a
        CUDA device and unpickled where CUDA is absent computes on the CPU, with a
        :class:`~skrbm_impute.exceptions.DeviceWarning`.
    random_state : int, RandomState instance or None, default=None
        Seeds a local ``torch.Generator`` (initialisation, shuffling, Gibbs draws);
        the global torch seed is never touched.
    verbose : int, default=0
        Show a tqdm progress bar over epochs with the mean squared reconstruction
        error of the observed entries.

    Attributes
    ----------
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
        Number of training epochs of the final model (``n_epochs``, or fewer when
        ``early_stopping`` stopped training; epochs run before a back-off of the
        divergence guard are not counted).
    validation_scores_ : list of float or None
        With ``early_stopping``: the score of the held-out entries after each epoch
        (minus their RMSE; higher is better); ``None`` without.
    best_validation_score_ : float or None
        With ``early_stopping``: the best of ``validation_scores_``, the epoch whose
        parameters were kept; ``None`` without (or when no epoch ran).
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

    See Also
    --------
    {see_also}

    Notes
    -----
    The defaults aim at the paper's imputation quality on a few thousand 28x28 images
    in the least CPU time (the measurements: the user guide's "Estimator
    measurements"), with Algorithm 1's sampled CD-1 step.  The paper's settings
    (section 4) are ``n_components=4096, n_epochs=500, batch_size=128,
    learning_rate=1e-4, momentum=0, learning_rate_schedule="constant", rank="auto",
    cd_statistics="sampled"`` (no weight decay): the ``paper`` preset of
    ``skrbm-impute benchmark``, about a hundred times the updates of the defaults.
    Fitted values are stored on the CPU.  An
    interrupted ``fit`` leaves the estimator as it was before.
    For ordinary tables, see :class:`~skrbm_impute.TabularRBMImputer`.

    Examples
    --------
{examples}
"""


def rbm_docstring(summary, *, extra_parameters="", see_also, examples):
    """One RBM imputer's docstring from the shared template.

    Parameters
    ----------
    summary : str
        The summary line and extended summary (indented as in a class body).
    extra_parameters : str, default=""
        The numpydoc entries of the class's own parameters, each line indented by four
        spaces, starting with a newline; placed after ``train_visible_factor``.
    see_also : str
        The "See Also" entry.
    examples : str
        The doctest lines, indented by four spaces.

    Returns
    -------
    docstring : str
        The class docstring.
    """
    return _TEMPLATE.format(summary=summary, extra_parameters=extra_parameters,
                            see_also=see_also, examples=examples)
