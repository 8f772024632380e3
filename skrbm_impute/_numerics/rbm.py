"""Pure torch core of the RBM imputers: Algorithm 1 of Cannella et al. and friends.

Conventions (spec §2.1): ``W`` is ``(n_visible, n_hidden)``; a batch ``v_obs`` is
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


def _accumulate(target, a, b, alpha, compute_dtype):
    """``target += alpha * a @ b`` in place, the product in ``compute_dtype``."""
    if compute_dtype == target.dtype:
        target.addmm_(a, b, alpha=alpha)
    else:
        target.add_(a.to(compute_dtype) @ b.to(compute_dtype), alpha=alpha)


def missing_bias(visible_bias, missing, marginal):
    """``b_m = sigmoid(b) ⊙ m`` under Ê_o (LM-RBM), or ``None`` for ref [5]."""
    if not marginal:
        return None
    return torch.sigmoid(visible_bias) * missing


def hidden_input(v_obs, missing, visible_bias, weights, hidden_bias, *, marginal):
    """Hidden pre-activation under Ê_o: ``(v ⊙ (1-m) + b_m) W + c``.

    ``marginal=False`` drops ``b_m`` (ref [5]: the missing units contribute nothing).
    """
    b_m = missing_bias(visible_bias, missing, marginal)
    x = v_obs if b_m is None else v_obs + b_m
    return _times_w(x, weights) + hidden_bias


def hidden_probabilities(v_obs, missing, visible_bias, weights, hidden_bias, *, marginal):
    """``P(h = 1 | v_o)`` under Ê_o: the "RBM †" features the paper classifies."""
    return torch.sigmoid(
        hidden_input(v_obs, missing, visible_bias, weights, hidden_bias, marginal=marginal)
    )


def _bernoulli(probabilities, generator, uniform):
    if uniform is None:
        uniform = torch.rand(
            probabilities.shape,
            generator=generator,
            device=probabilities.device,
            dtype=probabilities.dtype,
        )
    return (uniform < probabilities).to(probabilities.dtype)


def impute(
    v_obs, missing, visible_bias, weights, hidden_bias, *, marginal, sample=False,
    generator=None,
):
    """Reconstruction ``v̂`` of every visible unit (the caller keeps the observed ones).

    Hidden units are conditioned on the observed units under Ê_o, then the visible
    layer on the hidden units under E.  ``sample=False`` (mean-field) uses the hidden
    probabilities and returns ``sigmoid(W h + b)``; ``sample=True`` draws ``h`` and then
    ``v̂`` as Bernoulli variables (a draw from the model, 0/1 values).
    """
    p_hidden = hidden_probabilities(
        v_obs, missing, visible_bias, weights, hidden_bias, marginal=marginal
    )
    hidden = _bernoulli(p_hidden, generator, None) if sample else p_hidden
    p_visible = torch.sigmoid(_times_w_t(hidden, weights) + visible_bias)
    return _bernoulli(p_visible, generator, None) if sample else p_visible


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
    factor_preconditioners=None,
    matmul_dtype=None,
    train_visible_factor=True,
    generator=None,
    uniforms=None,
):
    """One minibatch CD-1 update of Algorithm 1, applied **in place**; returns the
    batch's summed squared reconstruction error of the observed entries (a 0-d tensor).

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Data with missing entries set to 0, and the 0/1 missing mask ``m``.
    visible_bias, hidden_bias : tensor of shape (n_visible,), (n_hidden,)
        ``b`` and ``c``; updated in place.
    weights : tensor (n_visible, n_hidden) or pair (A, B)
        ``W``, or the factors of ``W = A B``; updated in place.  With factors the
        update is the chain rule of the summed ΔW, ``ΔA = ΔW Bᵀ`` and
        ``ΔB = Aᵀ ΔW``, both with the old factors, never forming an
        ``n_visible x n_hidden`` matrix.
    learning_rate : float
        η; the updates are **summed** over the batch (not averaged).
    marginal : bool
        Add ``b_m`` to the hidden inputs (Ê_o).  False with
        ``gradient_correction=False`` is ref [5].
    gradient_correction : bool
        Lines 8 and 9 of Algorithm 1 (needs ``marginal``).
    observation_prob : tensor of shape (n_visible,) or None
        λ, each unit's observation probability in the training data; ``None``
        means λ = 1.
    factor_preconditioners : pair of (rank, rank) tensors or None
        Symmetric ``(P_A, P_B)`` turning the factor steps into ``ΔA = ΔW Bᵀ P_B``
        and ``ΔB = P_A Aᵀ ΔW`` (see :func:`factor_preconditioners`); ``None`` is the
        plain chain rule.
    train_visible_factor : bool, default=True
        False keeps ``A`` fixed (only ``B`` learns, ``ΔB = Aᵀ ΔW``): with
        orthonormal ``A`` the step of W is then exactly ``A Aᵀ ΔW``, the full-rank
        step projected onto A's column space.
    matmul_dtype : torch.dtype or None
        Dtype of the matrix products (e.g. ``torch.bfloat16``: about twice the
        float32 speed on CPUs with AVX512-BF16 and on GPUs); the parameters and
        everything elementwise stay in the tensors' dtype.  ``None``: the tensors'.
    generator : torch.Generator or None
        Source of the Bernoulli draws.
    uniforms : triple of tensors or None
        Explicit uniforms ``(u_h, u_v, u_h')`` of shapes (batch, n_hidden),
        (batch, n_visible), (batch, n_hidden) used instead of the generator:
        ``h = [u_h < P(h=1|...)]`` etc.
    """
    if gradient_correction and not marginal:
        raise ValueError("gradient_correction (lines 8-9) needs marginal=True.")
    u_h, u_v, u_h2 = uniforms if uniforms is not None else (None, None, None)
    dtype = v_obs.dtype
    compute = dtype if matmul_dtype is None else matmul_dtype
    factored = isinstance(weights, tuple)
    # One cast of the weights per step when the products run in another dtype.
    w_c = tuple(w.to(compute) for w in weights) if factored else weights.to(compute)

    def hidden_pre(x):  # x W + c (through A, B when factored)
        if factored:
            return _affine(_mm(x, w_c[0], compute), w_c[1], hidden_bias)
        return _affine(x, w_c, hidden_bias)

    def times_b_t(h):  # h Bᵀ (factored), in the compute dtype
        return _mm(h, w_c[1].T, compute)

    def times_w_t(h_or_hb):  # h Wᵀ = (h Bᵀ) Aᵀ, in the compute dtype
        return _mm(h_or_hb, (w_c[0] if factored else w_c).T, compute)

    observed = 1.0 - missing
    sigmoid_b = torch.sigmoid(visible_bias)
    b_m = sigmoid_b * missing if marginal else None

    # Line 3: h ~ P(h | v_o) under Ê_o.
    x_pos = v_obs if b_m is None else v_obs + b_m
    h = _bernoulli(torch.sigmoid(hidden_pre(x_pos)), generator, u_h)
    # Line 4: v' ~ P(v | h) under E; only v'_o enters the updates.
    h_b = times_b_t(h) if factored else h
    p_v = torch.sigmoid(_affine(h_b, (w_c[0] if factored else w_c).T, visible_bias))
    v_neg = _bernoulli(p_v, generator, u_v) * observed
    # Line 5: h' ~ P(h | v'_o) under Ê_o.
    x_neg = v_neg if b_m is None else v_neg + b_m
    h2 = _bernoulli(torch.sigmoid(hidden_pre(x_neg)), generator, u_h2)
    h2_b = times_b_t(h2) if factored else h2

    # Line 6, and line 8 with the old weights.
    delta_c = (h - h2).sum(0)
    delta_b = (v_obs - v_neg).sum(0)
    if gradient_correction:
        scaled_b_m = b_m if observation_prob is None else observation_prob * b_m
        w_dh = times_w_t(h_b - h2_b)  # (h - h') Wᵀ
        delta_b += (scaled_b_m * w_dh).sum(0) * (1.0 - sigmoid_b)
        # Line 9 folded into line 7: ΔW = (v_o + λb_m)ᵀ h - (v'_o + λb_m)ᵀ h'.
        x_pos, x_neg = v_obs + scaled_b_m, v_neg + scaled_b_m
    else:
        x_pos, x_neg = v_obs, v_neg
    stacked_x = torch.cat([x_pos, x_neg])
    stacked_h = torch.cat([h, -h2])

    # Line 11, accumulated in place without an n x m temporary (with float32 products).
    if factored:
        visible_factor, hidden_factor = weights
        stacked_hb = torch.cat([h_b, -h2_b]).to(dtype)  # [h; -h'] Bᵀ
        stacked_xa = _mm(stacked_x, w_c[0], dtype)  # X A, before A moves
        if factor_preconditioners is not None:
            precond_a, precond_b = factor_preconditioners
            stacked_hb = stacked_hb @ precond_b  # ΔW Bᵀ P_B
            stacked_xa = stacked_xa @ precond_a  # (P_A Aᵀ ΔW)ᵀ, P_A symmetric
        if train_visible_factor:
            _accumulate(visible_factor, stacked_x.T, stacked_hb, learning_rate, compute)
        _accumulate(hidden_factor, stacked_xa.T, stacked_h, learning_rate, compute)
    else:
        _accumulate(weights, stacked_x.T, stacked_h, learning_rate, compute)
    visible_bias.add_(delta_b, alpha=learning_rate)
    hidden_bias.add_(delta_c, alpha=learning_rate)
    return torch.sum(torch.square(v_obs - p_v * observed))


def principal_directions(x, rank):
    """The ``rank`` leading right singular vectors of ``x`` (n_samples, n_visible), as
    the orthonormal columns of an ``(n_visible, rank)`` matrix (from ``xᵀx``, so the cost
    is linear in n_samples)."""
    _, vectors = torch.linalg.eigh(x.T @ x)
    return vectors[:, -rank:].flip(1).contiguous()


def random_orthonormal(n_rows, n_columns, *, generator, dtype, device):
    """An ``(n_rows, n_columns)`` matrix with orthonormal columns (QR of a Gaussian)."""
    gaussian = torch.randn(n_rows, n_columns, generator=generator, dtype=dtype, device=device)
    return torch.linalg.qr(gaussian).Q.contiguous()


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


def factor_preconditioners(visible_factor, hidden_factor, damping):
    """``((AᵀA + δI)⁻¹, (BBᵀ + δI)⁻¹)``: damped scaled gradient descent on W = A B.

    With them the step of W, ``A P_A Aᵀ ΔW + ΔW Bᵀ P_B B``, is the full-rank ΔW
    projected onto A's column space and B's row space with weights
    ``σ²/(σ² + δ) <= 1``: it no longer grows with the size of the factors (the plain
    chain-rule step ``A Aᵀ ΔW + ΔW BᵀB`` does, and diverges at learning rates a full W
    tolerates), and the damping δ keeps it from dividing by B's tiny initial
    singular values.  This is ScaledGD (Tong, Ma & Chi, JMLR 2021) with damping.
    """
    eye = torch.eye(visible_factor.shape[1], dtype=visible_factor.dtype,
                    device=visible_factor.device)
    grams = (
        torch.addmm(eye, visible_factor.T, visible_factor, beta=damping),
        torch.addmm(eye, hidden_factor, hidden_factor.T, beta=damping),
    )
    return tuple(torch.cholesky_inverse(torch.linalg.cholesky(g)) for g in grams)


def full_weights(weights):
    """``W`` itself, or ``A @ B``."""
    if isinstance(weights, tuple):
        return weights[0] @ weights[1]
    return weights
