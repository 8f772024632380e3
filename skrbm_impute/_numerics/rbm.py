"""Pure torch core of the RBM imputers: Algorithm 1 of Cannella et al. and friends.

Conventions: ``W`` is ``(n_visible, n_hidden)``; a batch ``v_obs`` is
``(batch, n_visible)`` with the missing entries already **set to 0**, and ``missing``
is the float 0/1 missing mask ``m`` of the same shape.  ``weights`` is either the
full matrix ``W`` or a pair ``(A, B)`` with ``W = A @ B`` (the low-rank
factorisation of ref [5], Eq. 14).  ``marginal=True`` adds ``b_m = sigmoid(b) * m`` to
the hidden input (the LM-RBM's linearised observed energy Ê_o); ``marginal=False`` is
ref [5] (missing units simply absent).

Every function is vectorised over the batch, device- and dtype-agnostic (float32 or
float64, whatever the tensors are), and draws its randomness either from a passed
``torch.Generator`` or from explicitly supplied uniform tensors (so that a reference
implementation can use the very same Bernoulli draws).

Cost of one CD-1 step (``p = batch * n_visible * n_hidden`` multiply-adds):
three products for the chain h, v', h' (3p), one for line 8's ``(h - h') Wᵀ`` (p,
LM only) and one for ΔW with lines 7 and 9 folded together,
``ΔW = [v_o + λ⊙b_m; v'_o + λ⊙b_m]ᵀ [h; -h']`` (2p, a single product of inner size
2·batch, accumulated in place into W).  Everything else is elementwise on
``batch x n_visible`` or ``batch x n_hidden`` arrays.
"""

import math

import torch


def _times_w(x, weights):
    """``x @ W`` (batch, n_hidden), through the factors when W = A B."""
    if isinstance(weights, tuple):
        visible_factor, hidden_factor = weights
        return (x @ visible_factor) @ hidden_factor
    return x @ weights


def _times_w_t(h, weights):
    """``h @ Wᵀ`` (batch, n_visible), through the factors when W = A B."""
    if isinstance(weights, tuple):
        visible_factor, hidden_factor = weights
        return (h @ hidden_factor.T) @ visible_factor.T
    return h @ weights.T


def _mm(a, b, out_dtype):
    """``a @ b`` in ``b``'s dtype, returned in ``out_dtype`` (no copies when equal)."""
    return (a.to(b.dtype) @ b).to(out_dtype)


def _affine(x, w, bias):
    """``x @ w + bias`` in ``bias``'s dtype; the product in ``w``'s (fused when equal)."""
    if w.dtype == bias.dtype:
        return torch.addmm(bias, x.to(w.dtype), w)
    return torch.add(x.to(w.dtype) @ w, bias)  # type promotion: one pass, in bias's dtype


def _accumulate(target, a, b, alpha, compute_dtype, keep=1.0):
    """``target ← keep · target + alpha · a @ b`` in place, the product in
    ``compute_dtype`` (``keep`` scales inside the product when the dtypes agree)."""
    if compute_dtype == target.dtype:
        target.addmm_(a, b, beta=keep, alpha=alpha)
    else:
        if keep != 1.0:
            target.mul_(keep)
        target.add_(a.to(compute_dtype) @ b.to(compute_dtype), alpha=alpha)


def missing_bias(visible_bias, missing, marginal):
    """``b_m = sigmoid(b) ⊙ m`` under Ê_o (LM-RBM), or ``None`` for ref [5].

    Parameters
    ----------
    visible_bias : tensor of shape (n_visible,)
        ``b``.
    missing : tensor of shape (batch, n_visible)
        The 0/1 missing mask ``m``.
    marginal : bool
        The LM-RBM (True) or ref [5] (False).

    Returns
    -------
    b_m : tensor of shape (batch, n_visible) or None
        ``None`` when ``marginal`` is False.
    """
    if not marginal:
        return None
    return torch.sigmoid(visible_bias) * missing


def hidden_input(v_obs, missing, visible_bias, weights, hidden_bias, *, marginal):
    """Hidden pre-activation under Ê_o: ``(v ⊙ (1-m) + b_m) W + c``.

    ``marginal=False`` drops ``b_m`` (ref [5]: the missing units contribute nothing).

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Observed values with 0 in the holes, and the 0/1 missing mask ``m``.
    visible_bias, weights, hidden_bias : tensors
        ``b``, ``W`` (or the factors ``(A, B)``), ``c``.
    marginal : bool
        Add ``b_m`` to the hidden input (the LM-RBM's Ê_o); False is ref [5].

    Returns
    -------
    pre_activation : tensor of shape (batch, n_hidden)
        The hidden units' input.
    """
    b_m = missing_bias(visible_bias, missing, marginal)
    x = v_obs if b_m is None else v_obs + b_m
    return _times_w(x, weights) + hidden_bias


def hidden_probabilities(v_obs, missing, visible_bias, weights, hidden_bias, *, marginal):
    """``P(h = 1 | v_o)`` under Ê_o: the "RBM †" features the paper classifies.

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Observed values with 0 in the holes, and the 0/1 missing mask ``m``.
    visible_bias, weights, hidden_bias : tensors
        ``b``, ``W`` (or the factors ``(A, B)``), ``c``.
    marginal : bool
        Add ``b_m`` to the hidden input (the LM-RBM's Ê_o); False is ref [5].

    Returns
    -------
    probabilities : tensor of shape (batch, n_hidden)
        ``sigmoid`` of :func:`hidden_input`.
    """
    return torch.sigmoid(
        hidden_input(v_obs, missing, visible_bias, weights, hidden_bias, marginal=marginal)
    )


def _bernoulli(probabilities, generator, uniform):
    """``[u < p]`` as 0./1. in ``p``'s dtype, ``u`` uniform (drawn, or given)."""
    if uniform is None:
        # Compared in place: one pass over the fresh uniforms, no boolean temporary
        # and no cast (the same values as ``(u < p).to(dtype)``).
        return torch.rand(
            probabilities.shape,
            generator=generator,
            device=probabilities.device,
            dtype=probabilities.dtype,
        ).lt_(probabilities)
    return (uniform < probabilities).to(probabilities.dtype)


def _bernoulli_into(out, probabilities, generator, uniform):
    """:func:`_bernoulli` written into ``out`` (same draws: ``torch.rand`` is
    ``uniform_`` on a fresh tensor)."""
    if uniform is None:
        return out.uniform_(generator=generator).lt_(probabilities)
    return out.copy_(uniform < probabilities)


#: What the updates of :func:`cd1_step` are made of: Algorithm 1's draws, or their
#: conditional expectations.
CD_STATISTICS = ("sampled", "probabilities")

#: The imputation modes of :func:`impute`, from the low-distortion end to the sampled one.
IMPUTATION_MODES = ("mean-field", "sample-hidden", "sample")


def impute(
    v_obs, missing, visible_bias, weights, hidden_bias, *, marginal, mode="mean-field",
    generator=None, uniforms=None,
):
    """Reconstruction ``v̂`` of every visible unit (the caller keeps the observed ones).

    Hidden units are conditioned on the observed units under Ê_o (``p_h =
    sigmoid((v ⊙ (1-m) + b_m) W + c)``), then the visible layer on the hidden units
    under E:

    - ``"mean-field"``: ``v̂ = sigmoid(W p_h + b)``, the hidden probabilities passed
      through (one deterministic pass);
    - ``"sample-hidden"``: ``h ~ Bernoulli(p_h)``, ``v̂ = sigmoid(W h + b)`` (the
      paper's sentence read literally: hidden activations sampled, the visible
      reconstruction its conditional probabilities);
    - ``"sample"``: ``h ~ Bernoulli(p_h)``, ``v̂ ~ Bernoulli(sigmoid(W h + b))`` (a
      0/1 draw from the model).

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Observed values with 0 in the holes, and the 0/1 missing mask ``m``.
    visible_bias, weights, hidden_bias : tensors
        ``b``, ``W`` (or the factors ``(A, B)``), ``c``.
    marginal : bool
        Add ``b_m`` to the hidden input (the LM-RBM's Ê_o); False is ref [5].
    mode : {"mean-field", "sample-hidden", "sample"}, default="mean-field"
        As listed above.
    generator : torch.Generator or None, default=None
        Source of the draws of the sampling modes.
    uniforms : pair of tensors or None, default=None
        Testing hook: explicit ``(u_h, u_v)`` replacing the generator's draws,
        ``h = [u_h < p_h]`` and ``v̂ = [u_v < p_v]``.

    Returns
    -------
    reconstruction : tensor of shape (batch, n_visible)
        ``v̂`` for every unit.
    """
    if mode not in IMPUTATION_MODES:
        raise ValueError(f"mode must be one of {IMPUTATION_MODES}; got {mode!r}.")
    u_h, u_v = uniforms if uniforms is not None else (None, None)
    p_hidden = hidden_probabilities(
        v_obs, missing, visible_bias, weights, hidden_bias, marginal=marginal
    )
    hidden = p_hidden if mode == "mean-field" else _bernoulli(p_hidden, generator, u_h)
    p_visible = torch.sigmoid(_times_w_t(hidden, weights) + visible_bias)
    return _bernoulli(p_visible, generator, u_v) if mode == "sample" else p_visible


@torch.no_grad()
def cd1_step(
    v_obs,
    missing,
    visible_bias,
    weights,
    hidden_bias,
    *,
    learning_rate,
    marginal,
    gradient_correction,
    observation_prob=None,
    momentum=0.0,
    velocity=None,
    weight_decay=0.0,
    train_visible_factor=True,
    factor_rates=None,
    matmul_dtype=None,
    statistics="sampled",
    adam=None,
    generator=None,
    uniforms=None,
):
    """One minibatch CD-1 update of Algorithm 1, applied **in place**.

    The update ``Δθ`` is Algorithm 1's (lines 6-9, summed over the batch).  Without
    ``velocity`` and with ``weight_decay=0`` the step is ``θ += η Δθ`` exactly as
    printed.  The optional training aids wrap that same ``Δθ``:

    - weight decay (Hinton's "weight-cost", on the weights only, not the biases):
      ``ΔW - weight_decay · W``;
    - momentum (Hinton's practical guide, section 9): ``u ← momentum · u + η (Δθ -
      decay)``, then ``θ += u``, with one velocity ``u`` per parameter tensor.

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Data with missing entries set to 0, and the 0/1 missing mask ``m``.
    visible_bias : tensor of shape (n_visible,)
        ``b``; updated in place.
    weights : tensor (n_visible, n_hidden) or pair (A, B)
        ``W``, or the factors of ``W = A B``; updated in place.  With factors the
        update is the chain rule of the summed ΔW, ``ΔA = ΔW Bᵀ`` and
        ``ΔB = Aᵀ ΔW``, both with the old factors, never forming an
        ``n_visible x n_hidden`` matrix.
    hidden_bias : tensor of shape (n_hidden,)
        ``c``; updated in place.
    learning_rate : float
        The rate η; the updates are **summed** over the batch (not averaged).
    marginal : bool
        Add ``b_m`` to the hidden inputs (Ê_o).  False with
        ``gradient_correction=False`` is ref [5].
    gradient_correction : bool
        Lines 8 and 9 of Algorithm 1 (needs ``marginal``).
    observation_prob : tensor of shape (n_visible,) or None
        Each unit's observation probability λ in the training data; ``None``
        means λ = 1.
    momentum : float, default=0.0
        The velocities' decay (needs ``velocity``).
    velocity : list of tensors or None
        Velocities shaped like ``[*weights, b, c]`` (``weights`` is one tensor or the
        two factors), updated in place; ``None``: no momentum.
    weight_decay : float, default=0.0
        L2 weight cost on ``W`` (on ``A`` and ``B`` when factorised, ``A`` only when it
        is trained).
    train_visible_factor : bool, default=True
        False keeps ``A`` fixed (only ``B`` learns, ``ΔB = Aᵀ ΔW``): with
        orthonormal ``A`` the step of W is then exactly ``A Aᵀ ΔW``, the full-rank
        step projected onto A's column space.
    factor_rates : pair of floats or 0-d tensors, or None
        ``(r_A, r_B)`` scaling the factors' steps: ``ΔA = r_A ΔW Bᵀ`` and ``ΔB = r_B
        Aᵀ ΔW``.  With ``r_A = 1 / (σ_max(B)² + δ)`` and ``r_B = 1 / (σ_max(A)² +
        δ)`` (see :func:`spectral_norm_squared`) each factor's share of W's step
        (``ΔA B`` and ``A ΔB``) is never larger than ``ΔW`` itself, whatever the
        factors' sizes; the plain chain rule (``None``) grows with them and diverges.
    matmul_dtype : torch.dtype or None
        Dtype of the matrix products (e.g. ``torch.bfloat16``: about twice the
        float32 speed on CPUs with AVX512-BF16 and on GPUs); the parameters and
        everything elementwise stay in the tensors' dtype.  ``None``: the tensors'.
    statistics : {"sampled", "probabilities"}, default="sampled"
        ``"sampled"`` is Algorithm 1 as printed: ``h``, ``v'`` and ``h'`` are 0/1
        draws and the updates use them.  ``"probabilities"`` (Hinton's practical
        guide, section 3): ``h`` is still drawn to drive the reconstruction, but the
        updates use the conditional expectations in its place, ``p_h = P(h=1|v_o)``,
        ``v' = P(v=1|h)`` (not drawn) and ``h' = P(h=1|v'_o)``, one draw per step
        instead of three.  The positive statistics keep their expectation; ``h'`` of
        the probabilities ``v'`` is a mean-field negative phase (``E[σ(f(v'))]`` is
        not ``σ(f(E[v']))``), so the expected update is not Algorithm 1's.
    adam : AdamMoments or None, default=None
        Take Adam's step on ``Δθ`` (minus the weight decay) instead of the plain or
        momentum step: ``momentum``, ``velocity`` and ``factor_rates`` are then
        ignored, and ``learning_rate`` is about the largest change of a parameter
        per update (Adam's step is invariant to the scale of ``Δθ``).
    generator : torch.Generator or None
        Source of the Bernoulli draws.
    uniforms : triple of tensors or None
        Testing hook: explicit uniforms ``(u_h, u_v, u_h')`` of shapes (batch,
        n_hidden), (batch, n_visible), (batch, n_hidden) used instead of the
        generator, ``h = [u_h < P(h=1|...)]`` etc., so that a reference
        implementation can use the very same draws (``"probabilities"`` uses
        ``u_h`` only).

    Returns
    -------
    error : 0-d tensor
        The batch's summed squared reconstruction error of the observed entries.
    """
    if gradient_correction and not marginal:
        raise ValueError("gradient_correction (lines 8-9) needs marginal=True.")
    if statistics not in CD_STATISTICS:
        raise ValueError(f"statistics must be one of {CD_STATISTICS}; got {statistics!r}.")
    expected = statistics == "probabilities"
    u_h, u_v, u_h2 = uniforms if uniforms is not None else (None, None, None)
    dtype = v_obs.dtype
    compute = dtype if matmul_dtype is None else matmul_dtype
    factored = isinstance(weights, tuple)
    batch = v_obs.shape[0]
    # One cast of the weights per step when the products run in another dtype.
    w_c = tuple(w.to(compute) for w in weights) if factored else weights.to(compute)
    w_visible = w_c[0] if factored else w_c  # W, or A (the factor next to v)

    def hidden_pre(x):  # x W + c (through A, B when factored)
        if factored:
            return _affine(_mm(x, w_c[0], compute), w_c[1], hidden_bias)
        return _affine(x, w_c, hidden_bias)

    def times_b_t(h):  # h Bᵀ (factored), in the compute dtype
        return _mm(h, w_c[1].T, compute)

    # Line 11's operands X = [x_o; x'_o] and H = [h; -h'] are written straight into
    # stacked buffers (no concatenation copies): x = v + λ b_m with lines 8-9, else v.
    stacked_x = v_obs.new_empty((2 * batch, v_obs.shape[1]))
    stacked_h = v_obs.new_empty((2 * batch, hidden_bias.shape[0]))
    h, h2 = stacked_h[:batch], stacked_h[batch:]
    observed = 1.0 - missing
    sigmoid_b = torch.sigmoid(visible_bias)
    scaled_sigmoid_b = sigmoid_b  # λ ⊙ sigmoid(b)
    if gradient_correction and observation_prob is not None:
        scaled_sigmoid_b = observation_prob * sigmoid_b
    # The hidden inputs v + b_m are X's halves themselves unless λ or the missing
    # lines 8-9 make them differ.
    inputs_are_x = not marginal or (gradient_correction and observation_prob is None)

    def hidden_input_of(v, half):  # v + b_m = v + sigmoid(b) ⊙ m, in one pass
        out = stacked_x[half] if inputs_are_x else None
        if not marginal:
            return out.copy_(v)
        return torch.addcmul(v, missing, sigmoid_b, out=out)

    # Line 3: h ~ P(h | v_o) under Ê_o (with "probabilities" h holds P(h | v_o), and
    # the draw that drives the reconstruction is a separate tensor).
    p_h = hidden_pre(hidden_input_of(v_obs, slice(None, batch)))
    if expected:
        h_drawn = _bernoulli(torch.sigmoid(p_h, out=h), generator, u_h)
    else:
        h_drawn = _bernoulli_into(h, p_h.sigmoid_(), generator, u_h)
    # Line 4: v' ~ P(v | h) under E (or its probabilities); only v'_o enters the updates.
    h_b = times_b_t(h_drawn) if factored else h_drawn
    p_v = _affine(h_b, w_visible.T, visible_bias).sigmoid_()
    if expected:
        v_neg = p_v * observed
        h_b = times_b_t(h) if factored else h  # the statistics' h (Bᵀ), lines 8 and 11
    else:
        v_neg = _bernoulli(p_v, generator, u_v).mul_(observed)
    # Line 5: h' ~ P(h | v'_o) under Ê_o (or its probabilities).
    p_h2 = hidden_pre(hidden_input_of(v_neg, slice(batch, None)))
    if expected:
        torch.sigmoid(p_h2, out=h2)
    else:
        _bernoulli_into(h2, p_h2.sigmoid_(), generator, u_h2)
    h2_b = times_b_t(h2) if factored else h2

    # Line 6, and line 8 with the old weights.
    delta_c = (h - h2).sum(0)
    delta_b = (v_obs - v_neg).sum(0)
    if gradient_correction:
        w_dh = _mm(h_b - h2_b, w_visible.T, compute)  # (h - h') Wᵀ
        # Σ_rows λ b_m ⊙ (h - h') Wᵀ ⊙ (1 - σ(b)), where b_m = σ(b) ⊙ m.
        delta_b += (missing * w_dh).sum(0) * (scaled_sigmoid_b * (1.0 - sigmoid_b))
    if not inputs_are_x:
        if gradient_correction:  # line 9 folded into line 7: x = v + λ b_m
            torch.addcmul(v_obs, missing, scaled_sigmoid_b, out=stacked_x[:batch])
            torch.addcmul(v_neg, missing, scaled_sigmoid_b, out=stacked_x[batch:])
        else:
            stacked_x[:batch], stacked_x[batch:] = v_obs, v_neg
    h2.neg_()

    params = [*(weights if factored else (weights,)), visible_bias, hidden_bias]
    decayed = (train_visible_factor, True) if factored else (True,)
    # Each weight target becomes ``keep · target + η (its product)``, its decay running
    # inside the product (BLAS beta): the velocity's momentum, or the plain step's
    # weight-decay shrinking ``W - η · weight_decay · W``.
    step_rate = learning_rate
    if adam is not None:  # the products write Adam's gradients: keep 0, rate 1
        targets, keep, step_rate, factor_rates = adam.gradients, [0.0] * len(decayed), 1.0, None
    elif velocity is None:
        targets = params
        keep = [1.0 - learning_rate * weight_decay if decay else 1.0 for decay in decayed]
    else:
        targets = velocity
        keep = [momentum] * len(decayed)
        if weight_decay:  # the biases' velocities decay below, with their steps
            for param, u, decay in zip(params, velocity, decayed):
                u.mul_(momentum)
                if decay:
                    u.add_(param, alpha=-learning_rate * weight_decay)
            keep = [1.0] * len(decayed)

    # Line 11, accumulated in place without an n x m temporary (with float32 products).
    if factored:
        stacked_hb = torch.cat([h_b, -h2_b]).to(dtype)  # [h; -h'] Bᵀ
        stacked_xa = _mm(stacked_x, w_c[0], dtype)  # X A, before A moves
        if factor_rates is not None:
            stacked_hb = stacked_hb * factor_rates[0]
            stacked_xa = stacked_xa * factor_rates[1]
        if train_visible_factor:
            _accumulate(targets[0], stacked_x.T, stacked_hb, step_rate, compute,
                        keep[0])
        elif keep[0] != 1.0:
            targets[0].mul_(keep[0])
        _accumulate(targets[1], stacked_xa.T, stacked_h, step_rate, compute, keep[1])
    else:
        _accumulate(targets[0], stacked_x.T, stacked_h, step_rate, compute, keep[0])
    if adam is not None:
        for param, gradient, decay in zip(params, adam.gradients, decayed):
            if decay and weight_decay:
                gradient.add_(param, alpha=-weight_decay)
        adam.gradients[-2].copy_(delta_b)
        adam.gradients[-1].copy_(delta_c)
        adam.step(params, learning_rate)
    else:
        for target, delta in zip(targets[-2:], (delta_b, delta_c)):
            if velocity is not None:
                target.mul_(momentum)
            target.add_(delta, alpha=learning_rate)
    if velocity is not None and adam is None:
        for param, u in zip(params, velocity):
            param.add_(u)
    residual = torch.addcmul(v_obs, p_v, observed, value=-1.0).view(-1)
    return torch.dot(residual, residual)


class AdamMoments:
    """Adam's running moments (Kingma & Ba, ICLR 2015) for :func:`cd1_step`'s ascent.

    Each parameter moves by ``η m̂ / (sqrt(v̂) + ε)``, ``m`` and ``v`` the running
    means of ``Δθ`` and ``Δθ²`` (decays ``beta_1``, ``beta_2``), ``m̂`` and ``v̂`` their
    bias-corrected values: a step of about η per parameter whatever the scale of its
    CD-1 update (``Δθ`` is summed over the batch, so ``ε`` is negligible).

    Parameters
    ----------
    params : list of tensors
        The trained tensors, ``[*weights, b, c]``; the moments are shaped like them.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's decays and its denominator's floor.

    Attributes
    ----------
    first, second : list of tensors
        The running means of ``Δθ`` and of its square.
    gradients : list of tensors
        The buffers :func:`cd1_step` writes each update's ``Δθ`` into.
    n_steps : int
        Updates taken.
    """

    def __init__(self, params, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.first = [torch.zeros_like(p) for p in params]
        self.second = [torch.zeros_like(p) for p in params]
        self.gradients = [torch.zeros_like(p) for p in params]
        self.n_steps = 0

    def reset(self):
        """Forget the moments (training starts again)."""
        for t in (*self.first, *self.second):
            t.zero_()
        self.n_steps = 0

    def step(self, params, learning_rate):
        """Move ``params`` in place by Adam's step on the gradients in :attr:`gradients`.

        Parameters
        ----------
        params : list of tensors
            The parameters, in the order of the moments.
        learning_rate : float
            The rate η.
        """
        self.n_steps += 1
        correction_1 = 1.0 - self.beta_1 ** self.n_steps
        root_correction_2 = math.sqrt(1.0 - self.beta_2 ** self.n_steps)
        for param, gradient, first, second in zip(params, self.gradients, self.first,
                                                  self.second):
            first.lerp_(gradient, 1.0 - self.beta_1)
            second.mul_(self.beta_2).addcmul_(gradient, gradient, value=1.0 - self.beta_2)
            denominator = second.sqrt().div_(root_correction_2).add_(self.epsilon)
            param.addcdiv_(first, denominator, value=learning_rate / correction_1)


def principal_directions(x, rank):
    """The ``rank`` leading right singular vectors of ``x``, as orthonormal columns.

    Computed in float64 from ``xᵀx`` (cost linear in n_samples); should that
    eigendecomposition fail to converge, from the SVD of ``x`` itself (LAPACK's
    ``gesvd``, through SciPy).  In float32 the eigendecomposition of ``xᵀx`` loses
    the smaller directions to rounding and, on some inputs and thread counts, does
    not converge at all.

    Parameters
    ----------
    x : tensor of shape (n_samples, n_visible)
        The data.
    rank : int
        Number of directions.

    Returns
    -------
    basis : tensor of shape (n_visible, rank)
        Orthonormal columns, in ``x``'s dtype and on its device.
    """
    x64 = x.detach().to(device="cpu", dtype=torch.float64)
    try:
        _, vectors = torch.linalg.eigh(x64.T @ x64)
        basis = vectors[:, -rank:].flip(1)
    except RuntimeError:  # torch.linalg.LinAlgError: no convergence
        import scipy.linalg

        _, _, vt = scipy.linalg.svd(x64.numpy(), full_matrices=False, lapack_driver="gesvd")
        basis = torch.from_numpy(vt[:rank].T.copy())
    return basis.to(device=x.device, dtype=x.dtype).contiguous()


def init_parameters(
    observed_mean, n_hidden, *, generator, dtype, device, visible_basis=None, scale=0.01
):
    """Initial ``(b, c, weights)``.

    ``b = logit(observed mean)`` (clipped to [1e-3, 1 - 1e-3]; Hinton's practical
    guide), ``c = 0``.  Full rank (``visible_basis=None``): ``W ~ N(0, scale²)``.
    Factorised: ``A = visible_basis`` (orthonormal columns) and ``B ~ N(0, scale²)``,
    so ``W = A B`` starts as a full-rank initialisation projected onto A's column
    space, and the chain-rule step ``ΔA B + A ΔB = ΔW BᵀB + A Aᵀ ΔW`` starts as the
    full-rank step projected onto that space (``A Aᵀ`` has eigenvalues 1, ``BᵀB`` is
    tiny).  Small random A and B instead give a vanishing second-order step.

    Parameters
    ----------
    observed_mean : ndarray of shape (n_visible,)
        Each unit's observed mean.
    n_hidden : int
        Number of hidden units.
    generator : torch.Generator or None
        Source of the Gaussian draws.
    dtype : torch.dtype
        The parameters' dtype.
    device : str or torch.device
        The parameters' device.
    visible_basis : tensor of shape (n_visible, rank) or None, default=None
        ``A`` (copied), or ``None`` for a full ``W``.
    scale : float, default=0.01
        Standard deviation of the Gaussian weights.

    Returns
    -------
    visible_bias, hidden_bias : tensors of shape (n_visible,), (n_hidden,)
        ``b`` and ``c``.
    weights : tensor or pair of tensors
        ``W``, or ``(A, B)``.
    """
    n_visible = observed_mean.shape[0]
    p = torch.as_tensor(observed_mean, dtype=dtype, device=device).clamp(1e-3, 1 - 1e-3)
    visible_bias = torch.log(p) - torch.log1p(-p)
    hidden_bias = torch.zeros(n_hidden, dtype=dtype, device=device)
    if visible_basis is None:
        weights = scale * torch.randn(
            n_visible, n_hidden, generator=generator, dtype=dtype, device=device
        )
        return visible_bias, hidden_bias, weights
    visible_factor = visible_basis.to(dtype=dtype, device=device, copy=True).contiguous()
    hidden_factor = scale * torch.randn(
        visible_factor.shape[1], n_hidden, generator=generator, dtype=dtype, device=device
    )
    return visible_bias, hidden_bias, (visible_factor, hidden_factor)


def spectral_norm_squared(matrix, vector, n_iter=8):
    """``σ_max(matrix)²`` by power iterations on ``matrixᵀ matrix``, warm-started.

    ``vector`` (``matrix.shape[1]`` entries) is replaced in place by the last
    normalised iterate, so that repeated calls on a slowly changing matrix converge;
    returns the last iterate's ``|matrixᵀ matrix v|`` as a 0-d tensor (no host
    synchronisation).  A single step per call lagged behind the fast growth of ``B``
    in the first updates and let the factors' steps explode.

    Parameters
    ----------
    matrix : tensor of shape (n_rows, n_columns)
        The matrix.
    vector : tensor of shape (n_columns,)
        The warm start; overwritten with the last normalised iterate.
    n_iter : int, default=8
        Power-iteration steps.

    Returns
    -------
    norm_squared : 0-d tensor
        The estimate of ``σ_max(matrix)²``.
    """
    for _ in range(n_iter):
        product = matrix.T @ (matrix @ vector)
        norm = torch.linalg.vector_norm(product)
        vector.copy_(product / norm.clamp_min(torch.finfo(product.dtype).tiny))
    return norm


def full_weights(weights):
    """``W`` itself, or ``A @ B``.

    Parameters
    ----------
    weights : tensor or pair of tensors
        ``W``, or the factors ``(A, B)``.

    Returns
    -------
    W : tensor of shape (n_visible, n_hidden)
        The full weight matrix.
    """
    if isinstance(weights, tuple):
        return weights[0] @ weights[1]
    return weights
