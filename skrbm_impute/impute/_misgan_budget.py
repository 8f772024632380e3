"""MisGAN's training budgets, without torch: the estimator's warning and the benchmark's
tables read the same figures."""

#: Training batches of the paper's MisGAN: 500 epochs of 50,000 digits in batches of 64.
PAPER_BATCHES = 500 * 50_000 // 64

#: Batches below which MisGAN counts as undertrained: the first measured budget at which
#: its RMSE fell below the Mean imputer's on real MNIST at I.M. 0.6 ("fc", 8,000
#: training digits; benchmarks/results/misgan_budget/README.md).
UNDERTRAINED_BELOW_BATCHES = 4000
