"""MisGAN: networks against the research note's table, one training step, the gradient
penalty against its formula, and the estimator's behaviour."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skrbm_impute import MisGANImputer
from skrbm_impute._numerics.misgan import (
    ComplementImputer,
    ConvCritic,
    ConvGenerator,
    FCCritic,
    FCGenerator,
    MaskTransform,
    build_networks,
    critic_step,
    generator_step,
    gradient_penalty,
    make_optimizers,
    reset_parameters,
    train_step,
    update_critic,
)

CRITICS = ("data_critic", "mask_critic", "imputer_critic")
TRAINED_BY_GENERATOR_STEP = ("data_generator", "mask_generator", "imputer")


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def snapshot(networks):
    return {name: copy.deepcopy(net.state_dict()) for name, net in networks.items()}


def changed(before, after):
    return any(not torch.equal(before[key], after[key]) for key in before)


def tiny_batch(n_pixels, batch=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    observed = (torch.rand(batch, n_pixels, generator=gen) > 0.6).float()
    data = torch.rand(batch, n_pixels, generator=gen) * observed
    return data, observed


def unit_images(n=40, side=5, rate=0.4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, side * side))
    X[rng.uniform(size=X.shape) < rate] = np.nan
    return X


FAST = dict(architecture="fc", n_epochs=2, batch_size=16, latent_size=8)


# --- networks ------------------------------------------------------------------------

# research/misgan.md section 7.1
@pytest.mark.parametrize(
    "network, expected",
    [
        (ConvGenerator(), 1_556_673),
        (ConvCritic(), 1_030_145),
        (FCGenerator(), 566_800),
        (FCCritic(), 566_273),
        (ComplementImputer(), 2_461_760),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, torch.nn.Module) else "",
)
def test_parameter_counts_match_the_research_note(network, expected):
    assert n_parameters(network) == expected


def test_default_conv_configuration_has_8_67_million_parameters():
    assert round(n_parameters(build_networks("conv")) / 1e6, 2) == 8.67


@pytest.mark.parametrize("architecture, n_pixels", [("conv", 784), ("fc", 784), ("fc", 12)])
def test_network_shapes_and_output_ranges(architecture, n_pixels):
    networks = build_networks(architecture, n_pixels=n_pixels, latent_size=16)
    latent = torch.randn(3, 16)
    for name in ("data_generator", "mask_generator"):
        out = networks[name](latent)
        assert out.shape == (3, n_pixels)
        assert out.min() >= 0 and out.max() <= 1
    images = torch.rand(3, n_pixels)
    for name in CRITICS:
        assert networks[name](images).shape == (3,)
    observed = (torch.rand(3, n_pixels) > 0.5).float()
    out = networks["imputer"](images, observed, torch.rand(3, n_pixels))
    assert out.shape == (3, n_pixels)
    assert out.min() >= 0 and out.max() <= 1
    # the imputer is n_pixels wide throughout (784-784 for MNIST)
    widths = [layer.out_features for layer in networks["imputer"].modules()
              if isinstance(layer, torch.nn.Linear)]
    assert widths == [n_pixels] * 4


def test_conv_generator_crops_to_seven_before_the_last_deconvolutions():
    generator = ConvGenerator(latent_size=4)
    shapes = []
    hooks = [layer.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
             for layer in (generator.deconv1, generator.deconv2, generator.deconv_out)]
    generator(torch.randn(2, 4))
    for hook in hooks:
        hook.remove()
    assert shapes == [(128, 8, 8), (64, 11, 11), (1, 28, 28)]


def test_conv_architecture_refuses_other_sizes():
    with pytest.raises(ValueError, match="784 pixels"):
        build_networks("conv", n_pixels=100)


def test_mask_transforms_match_their_formulas():
    logits = torch.linspace(-4, 4, 801, dtype=torch.float64)
    temperature = 0.66
    scaled = logits / temperature
    sigmoid = 1 / (1 + torch.exp(-scaled))
    torch.testing.assert_close(MaskTransform("sigmoid", temperature)(logits), sigmoid)
    torch.testing.assert_close(
        MaskTransform("hardsigmoid", temperature)(logits), scaled.clamp(0, 1)
    )
    fusion = MaskTransform("fusion", temperature)(logits)
    torch.testing.assert_close(fusion, (1.2 * sigmoid - 0.1).clamp(0, 1))
    # exactly binary beyond +-T ln 11, strictly inside (0, 1) before
    edge = temperature * math.log(11)
    assert torch.all(fusion[logits < -edge - 1e-9] == 0)
    assert torch.all(fusion[logits > edge + 1e-9] == 1)
    inside = fusion[(logits.abs() < edge - 1e-6)]
    assert torch.all((inside > 0) & (inside < 1))


def test_reset_parameters_uses_the_local_generator_and_torch_bounds():
    first = build_networks("fc", n_pixels=9, latent_size=3)
    second = build_networks("fc", n_pixels=9, latent_size=3)
    torch.manual_seed(1)
    reset_parameters(first, torch.Generator().manual_seed(5))
    torch.manual_seed(2)  # the global RNG plays no part
    reset_parameters(second, torch.Generator().manual_seed(5))
    assert not changed(first.state_dict(), second.state_dict())
    layer = first["imputer"].net[0]
    bound = 1 / math.sqrt(9)
    assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
    assert layer.weight.abs().max() > 0.8 * bound  # uniform over the full range


# --- gradient penalty ------------------------------------------------------------------


class TinyCritic(torch.nn.Module):
    """D(y) = sum_k v_k tanh(A y)_k: its input gradient is A^T (v * (1 - tanh^2(A y)))."""

    def __init__(self, A, v):
        super().__init__()
        self.A = torch.nn.Parameter(A)
        self.v = torch.nn.Parameter(v)

    def forward(self, y):
        return torch.tanh(y @ self.A.T) @ self.v


def test_gradient_penalty_matches_its_formula():
    rng = np.random.RandomState(0)
    A, v = rng.normal(size=(3, 4)), rng.normal(size=3)
    real, fake = rng.uniform(size=(5, 4)), rng.uniform(size=(5, 4))
    critic = TinyCritic(torch.tensor(A), torch.tensor(v))
    penalty = gradient_penalty(
        critic, torch.tensor(real), torch.tensor(fake), torch.Generator().manual_seed(3)
    )
    xi = torch.rand(5, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    xi = xi.numpy()
    expected = 0.0
    for b in range(5):  # plain NumPy, one example at a time
        y = xi[b] * real[b] + (1 - xi[b]) * fake[b]
        gradient = A.T @ (v * (1 - np.tanh(A @ y) ** 2))
        expected += (np.sqrt(np.sum(gradient**2)) - 1) ** 2 / 5
    assert penalty.item() == pytest.approx(expected, rel=1e-12)
    penalty.backward()  # differentiable for the critic (create_graph=True)
    assert critic.A.grad is not None and torch.any(critic.A.grad != 0)


def test_critic_loss_is_wasserstein_estimate_plus_penalty():
    torch.manual_seed(0)
    critic = torch.nn.Linear(4, 1, dtype=torch.float64)
    real, fake = torch.rand(6, 4, dtype=torch.float64), torch.rand(6, 4, dtype=torch.float64)
    with torch.no_grad():
        weight = critic.weight.numpy().ravel().copy()
        score = lambda x: (x.numpy() @ weight + critic.bias.item())  # noqa: E731
        # a linear critic has gradient w everywhere: penalty (|w| - 1)^2
        expected = score(fake).mean() - score(real).mean() + 10 * (
            np.linalg.norm(weight) - 1) ** 2
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.0)
    loss = update_critic(
        lambda x: critic(x).squeeze(1), optimizer, real, fake, 10.0, torch.Generator()
    )
    assert loss == pytest.approx(expected, rel=1e-12)


# --- one training step -------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["fc", "conv"])
def test_one_training_step_trains_the_right_networks(architecture):
    n_pixels = 784 if architecture == "conv" else 16
    networks = build_networks(architecture, n_pixels=n_pixels, latent_size=4)
    generator = torch.Generator().manual_seed(0)
    reset_parameters(networks, generator)
    optimizers = make_optimizers(networks)
    data, observed = tiny_batch(n_pixels, batch=4)
    options = dict(tau=0.0, latent_size=4, generator=generator)

    before = snapshot(networks)
    losses = critic_step(networks, optimizers, data, observed, gp_lambda=10.0, **options)
    after_critics = snapshot(networks)
    assert set(losses) == set(CRITICS) and all(math.isfinite(v) for v in losses.values())
    for name in CRITICS:
        assert changed(before[name], after_critics[name]), name
    for name in TRAINED_BY_GENERATOR_STEP:
        assert not changed(before[name], after_critics[name]), name

    losses = generator_step(
        networks, optimizers, data, observed, alpha=0.1, beta=0.1, gamma=0.0, **options
    )
    after_generators = snapshot(networks)
    assert all(math.isfinite(v) for v in losses.values())
    for name in TRAINED_BY_GENERATOR_STEP:
        assert changed(after_critics[name], after_generators[name]), name
    for name in CRITICS:
        assert not changed(after_critics[name], after_generators[name]), name
        assert all(p.requires_grad for p in networks[name].parameters())  # unfrozen again


@pytest.mark.parametrize("update_generators", [False, True])
def test_train_step_is_the_critic_step_then_the_generator_step(update_generators):
    def fresh():
        networks = build_networks("fc", n_pixels=16, latent_size=4)
        reset_parameters(networks, torch.Generator().manual_seed(0))
        return networks, make_optimizers(networks)

    data, observed = tiny_batch(16)
    weights = dict(tau=0.0, alpha=0.1, beta=0.1, gamma=0.0)
    networks, optimizers = fresh()
    before = snapshot(networks)
    losses = train_step(
        networks, optimizers, data, observed, update_generators=update_generators,
        gp_lambda=10.0, latent_size=4, generator=torch.Generator().manual_seed(1), **weights,
    )
    after = snapshot(networks)
    trained = CRITICS + (TRAINED_BY_GENERATOR_STEP if update_generators else ())
    assert set(losses) == set(trained)
    for name in networks:
        assert changed(before[name], after[name]) == (name in trained), name

    manual, manual_optimizers = fresh()
    generator = torch.Generator().manual_seed(1)
    critic_step(manual, manual_optimizers, data, observed, tau=0.0, gp_lambda=10.0,
                latent_size=4, generator=generator)
    if update_generators:
        generator_step(manual, manual_optimizers, data, observed, latent_size=4,
                       generator=generator, **weights)
    manual_after = snapshot(manual)
    assert not any(changed(after[name], manual_after[name]) for name in networks)


def _data_generator_after_one_step(beta, beta_form, gamma=0.0):
    networks = build_networks("fc", n_pixels=16, latent_size=4)
    reset_parameters(networks, torch.Generator().manual_seed(0))
    optimizers = make_optimizers(networks)
    data, observed = tiny_batch(16)
    generator_step(
        networks, optimizers, data, observed, tau=0.0, alpha=0.1, beta=beta, gamma=gamma,
        latent_size=4, generator=torch.Generator().manual_seed(1), beta_form=beta_form,
    )
    return networks


def test_beta_is_a_no_op_in_the_released_form_and_acts_in_the_paper_form():
    released = _data_generator_after_one_step(0.1, "released")["data_generator"]
    without = _data_generator_after_one_step(0.0, "released")["data_generator"]
    assert not changed(released.state_dict(), without.state_dict())
    paper = _data_generator_after_one_step(0.1, "paper")["data_generator"]
    assert changed(paper.state_dict(), without.state_dict())


def test_gamma_changes_only_the_imputer_update():
    plain = _data_generator_after_one_step(0.1, "released", gamma=0.0)
    with_gamma = _data_generator_after_one_step(0.1, "released", gamma=1.0)
    assert changed(plain["imputer"].state_dict(), with_gamma["imputer"].state_dict())
    for name in ("data_generator", "mask_generator"):
        assert not changed(plain[name].state_dict(), with_gamma[name].state_dict())


# --- the estimator -----------------------------------------------------------------------


def test_transform_keeps_observed_pixels_bit_identical_and_fills_holes():
    X = unit_images()
    out = MisGANImputer(random_state=0, **FAST).fit(X).transform(X)
    observed = ~np.isnan(X)
    assert np.array_equal(out[observed].view(np.uint64), X[observed].view(np.uint64))
    assert not np.isnan(out).any()
    assert out.min() >= 0 and out.max() <= 1


def test_output_depends_on_random_state_only():
    X = unit_images()
    torch.manual_seed(1)
    first = MisGANImputer(random_state=3, **FAST).fit(X)
    torch.manual_seed(2)  # global torch state must not matter
    np.random.seed(2)
    second = MisGANImputer(random_state=3, **FAST).fit(X)
    other = MisGANImputer(random_state=4, **FAST).fit(X)
    out = first.transform(X)
    np.testing.assert_array_equal(out, second.transform(X))
    np.testing.assert_array_equal(out, first.transform(X))  # repeatable
    assert not np.array_equal(out, other.transform(X))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(out, restored.transform(X))


def test_rows_are_imputed_independently_of_the_other_rows():
    # the scikit-learn subset and order checks use data outside [0, 1]; same idea here
    X = unit_images()
    est = MisGANImputer(random_state=0, **FAST).fit(X)
    out = est.transform(X)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(est.transform(X[order]), out[order], rtol=1e-6)
    np.testing.assert_allclose(est.transform(X[:7]), out[:7], rtol=1e-6)


def test_multiple_imputations_differ_only_in_the_holes():
    X = unit_images()
    est = MisGANImputer(random_state=0, **FAST).fit(X)
    draws = est.sample_imputations(X, n_imputations=3, random_state=7)
    assert draws.shape == (3, *X.shape)
    missing = np.isnan(X)
    for draw in draws:
        assert np.array_equal(draw[~missing], X[~missing])
        assert not np.isnan(draw).any()
    assert not np.array_equal(draws[0][missing], draws[1][missing])
    np.testing.assert_array_equal(draws, est.sample_imputations(X, 3, random_state=7))
    with pytest.raises(ValueError, match="n_imputations"):
        est.sample_imputations(X, n_imputations=0)


def test_generator_updates_follow_n_critic_across_epochs():
    X = unit_images(n=48)  # 3 batches of 16 per epoch
    est = MisGANImputer(architecture="fc", n_epochs=3, batch_size=16, latent_size=4,
                        n_critic=4, random_state=0).fit(X)
    assert est.n_iter_ == 9
    assert est.n_generator_updates_ == 2  # the counter is not reset each epoch


def test_small_data_uses_one_batch_of_everything():
    X = unit_images(n=5)
    est = MisGANImputer(architecture="fc", n_epochs=2, batch_size=64, latent_size=4,
                        n_critic=1, random_state=0).fit(X)
    assert est.n_iter_ == 2 and est.n_generator_updates_ == 2


def test_fitted_state_lives_on_the_cpu():
    est = MisGANImputer(random_state=0, **FAST).fit(unit_images())
    assert est.device_ == torch.device("cpu")
    assert set(est.networks_) == set(CRITICS + TRAINED_BY_GENERATOR_STEP)
    assert all(p.device.type == "cpu" for p in est.networks_.parameters())


def test_fc_accepts_any_feature_count_and_image_shape():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(20, 6))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    est = MisGANImputer(random_state=0, **FAST).fit(X)
    assert est.image_shape_ == (1, 6)
    assert not np.isnan(est.transform(X)).any()
    est = MisGANImputer(image_shape=(2, 3), random_state=0, **FAST).fit(X)
    assert est.image_shape_ == (2, 3)


def test_verbose_shows_critic_losses_and_keeps_no_bar(capsys):
    est = MisGANImputer(verbose=1, random_state=0, **FAST).fit(unit_images())
    err = capsys.readouterr().err
    assert "D_x=" in err and "D_m=" in err and "D_i=" in err
    assert not any("tqdm" in type(value).__module__ for value in vars(est).values())


def test_conv_needs_28_by_28_images():
    with pytest.raises(ValueError, match="28x28"):
        MisGANImputer(architecture="conv", n_epochs=1).fit(unit_images())
    with pytest.raises(ValueError, match="perfect square"):
        MisGANImputer(architecture="conv", n_epochs=1).fit(unit_images()[:, :24])


def test_bad_parameters_and_values_are_refused():
    X = unit_images()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        MisGANImputer(**FAST).fit(X * 2)
    with pytest.raises(ValueError, match="adam_betas"):
        MisGANImputer(adam_betas=(0.5, 1.5), **FAST).fit(X)
    with pytest.raises(InvalidParameterError, match="architecture"):
        MisGANImputer(architecture="mlp").fit(X)
    with pytest.raises(InvalidParameterError, match="mask_transform"):
        MisGANImputer(mask_transform="relu", **FAST).fit(X)
    with pytest.raises(InvalidParameterError, match="beta_form"):
        MisGANImputer(beta_form="both", **FAST).fit(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the error without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        MisGANImputer(device="cuda", **FAST).fit(unit_images())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_keeps_fitted_state_on_the_cpu():
    X = unit_images()
    est = MisGANImputer(device="cuda", random_state=0, **FAST).fit(X)
    assert est.device_.type == "cuda"
    assert all(p.device.type == "cpu" for p in est.networks_.parameters())
    out = est.transform(X)
    assert np.array_equal(out[~np.isnan(X)], X[~np.isnan(X)])
    np.testing.assert_array_equal(out, pickle.loads(pickle.dumps(est)).transform(X))
    again = MisGANImputer(device="cuda", random_state=0, **FAST).fit(X)
    np.testing.assert_array_equal(out, again.transform(X))


def test_conv_architecture_fits_and_imputes_28_by_28_images():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(16, 784))
    X[rng.uniform(size=X.shape) < 0.6] = np.nan
    est = MisGANImputer(architecture="conv", n_epochs=1, batch_size=8, latent_size=8,
                        n_critic=2, random_state=0).fit(X)
    assert est.n_generator_updates_ == 1
    assert isinstance(est.networks_["data_critic"], ConvCritic)
    out = est.transform(X)
    assert np.array_equal(out[~np.isnan(X)], X[~np.isnan(X)])
    assert not np.isnan(out).any()


# --- roles and signs: which inputs each critic sees as real / fake, and the loss signs ---


class _Constant(torch.nn.Module):
    """A stand-in generator / imputer whose output is one learnable row, whatever the
    noise: the update of that row is the loss gradient, known in closed form."""

    def __init__(self, row):
        super().__init__()
        self.row = torch.nn.Parameter(torch.as_tensor(row, dtype=torch.float64).clone())

    def forward(self, first, *rest):
        return self.row.expand(first.shape[0], -1)


class _LinearCritic(torch.nn.Module):
    """D(x) = x @ w: the WGAN loss gradient for w is mean(fake) - mean(real)."""

    def __init__(self, weight):
        super().__init__()
        self.w = torch.nn.Parameter(torch.as_tensor(weight, dtype=torch.float64).clone())

    def forward(self, x):
        return x @ self.w


def _role_setup(n_pixels=6, batch=5):
    rng = np.random.RandomState(0)
    observed = (rng.uniform(size=(batch, n_pixels)) > 0.5).astype(float)
    data = rng.uniform(size=(batch, n_pixels)) * observed
    rows = {name: rng.uniform(0.1, 0.9, size=n_pixels)
            for name in ("data_generator", "mask_generator", "imputer")}
    weights = {name: rng.normal(size=n_pixels) for name in CRITICS}
    networks = {name: _Constant(row) for name, row in rows.items()}
    networks.update({name: _LinearCritic(w) for name, w in weights.items()})
    optimizers = {name: torch.optim.SGD(net.parameters(), lr=1.0)
                  for name, net in networks.items()}
    return (networks, optimizers, torch.tensor(data), torch.tensor(observed), data, observed,
            rows, weights)


def test_critic_step_gives_each_critic_its_real_and_fake_inputs():
    tau = 0.3
    networks, optimizers, data_t, observed_t, data, observed, rows, weights = _role_setup()
    losses = critic_step(networks, optimizers, data_t, observed_t, tau=tau, gp_lambda=0.0,
                         latent_size=3, generator=torch.Generator().manual_seed(0))
    G, M, imputed = rows["data_generator"], rows["mask_generator"], rows["imputer"]
    # NumPy restatement of the roles (MisGAN, Li et al. 2019, and research/misgan.md):
    pairs = {
        # data critic: real f_tau(x, m) against fake f_tau(G_x(z), G_m(eps))
        "data_critic": (observed * data + (1 - observed) * tau,
                        np.broadcast_to(M * G + (1 - M) * tau, data.shape)),
        # mask critic: real masks against generated masks
        "mask_critic": (observed, np.broadcast_to(M, observed.shape)),
        # imputer critic: generated complete data is "real", completed data "fake"
        "imputer_critic": (np.broadcast_to(G, data.shape),
                           observed * data + (1 - observed) * imputed),
    }
    for name, (real, fake) in pairs.items():
        w = weights[name]
        # the critic minimises mean D(fake) - mean D(real): SGD(lr=1) moves w by
        # mean(real) - mean(fake), towards scoring real higher
        np.testing.assert_allclose(networks[name].w.detach().numpy(),
                                   w + real.mean(0) - fake.mean(0), rtol=1e-12, err_msg=name)
        assert losses[name] == pytest.approx((fake @ w).mean() - (real @ w).mean(), rel=1e-12)


def test_critic_step_penalty_is_added_not_subtracted():
    # A linear critic's penalty is (|w| - 1)^2 whatever the inputs: its gradient
    # 2 (|w| - 1) w / |w| is added to the WGAN gradient.
    gp_lambda = 10.0
    networks, optimizers, data_t, observed_t, data, observed, rows, weights = _role_setup()
    without = copy.deepcopy(networks)
    critic_step(networks, optimizers, data_t, observed_t, tau=0.0, gp_lambda=gp_lambda,
                latent_size=3, generator=torch.Generator().manual_seed(0))
    critic_step(without, {n: torch.optim.SGD(net.parameters(), lr=1.0)
                          for n, net in without.items()},
                data_t, observed_t, tau=0.0, gp_lambda=0.0,
                latent_size=3, generator=torch.Generator().manual_seed(0))
    for name in CRITICS:
        w = weights[name]
        norm = np.linalg.norm(w)
        penalty_step = -gp_lambda * 2 * (norm - 1) * w / norm
        np.testing.assert_allclose(
            networks[name].w.detach().numpy() - without[name].w.detach().numpy(),
            penalty_step, rtol=1e-10, err_msg=name)


@pytest.mark.parametrize("beta_form", ["released", "paper"])
def test_generator_step_loss_signs_and_roles(beta_form):
    tau, alpha, beta = 0.3, 0.1, 0.2
    networks, optimizers, data_t, observed_t, data, observed, rows, weights = _role_setup()
    losses = generator_step(networks, optimizers, data_t, observed_t, tau=tau, alpha=alpha,
                            beta=beta, gamma=0.0, latent_size=3,
                            generator=torch.Generator().manual_seed(0), beta_form=beta_form)
    G, M, imputed = rows["data_generator"], rows["mask_generator"], rows["imputer"]
    w_x, w_m, w_i = (weights[name] for name in CRITICS)
    # critics are frozen during the generator step
    for name in CRITICS:
        np.testing.assert_array_equal(networks[name].w.detach().numpy(), weights[name])
    # mask generator maximises D_m(G_m) + alpha D_x(f_tau(G_x, G_m)):
    # loss -w_m.M - alpha w_x.(G M + (1 - M) tau), gradient -w_m - alpha w_x (G - tau)
    new_M = M + w_m + alpha * w_x * (G - tau)
    np.testing.assert_allclose(networks["mask_generator"].row.detach().numpy(), new_M,
                               rtol=1e-12)
    assert losses["mask_generator"] == pytest.approx(
        -w_m @ M - alpha * w_x @ (G * M + (1 - M) * tau), rel=1e-12)
    # data generator maximises D_x(f_tau(G_x, G_m)) (with the mask generator already
    # updated); the paper form adds + beta D_i(G_x), which it minimises
    step_G = w_x * new_M - (beta * w_i if beta_form == "paper" else 0.0)
    np.testing.assert_allclose(networks["data_generator"].row.detach().numpy(), G + step_G,
                               rtol=1e-12)
    data_loss = -w_x @ (G * new_M + (1 - new_M) * tau)
    if beta_form == "paper":
        data_loss += beta * w_i @ G
    assert losses["data_generator"] == pytest.approx(data_loss, rel=1e-12)
    # imputer maximises D_i(m x + (1 - m) imputer): gradient -w_i (1 - m) averaged
    np.testing.assert_allclose(networks["imputer"].row.detach().numpy(),
                               imputed + w_i * (1 - observed).mean(0), rtol=1e-12)
    completed = observed * data + (1 - observed) * imputed
    assert losses["imputer"] == pytest.approx(-(completed @ w_i).mean(), rel=1e-12)
