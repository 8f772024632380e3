"""Mutation check of the MisGAN role and sign tests.

Applies one mutation at a time to ``skrbm_impute/_numerics/misgan.py`` (a critic's real
and fake inputs swapped, a loss sign flipped), runs the new role/sign tests and, apart,
the rest of ``tests/test_misgan.py``, and prints whether each caught it.  The source is
restored after every mutation (and on any exit through Python); run it on a clean
checkout and check ``git status`` afterwards.

    OMP_NUM_THREADS=1 python benchmarks/misgan_role_mutations.py [--new-only] \
        > benchmarks/results/misgan_role_mutations/misgan_role_mutations.md

It first checks that the new tests pass on the unmutated code.
"""
import pathlib
import subprocess
import sys

path = pathlib.Path("skrbm_impute/_numerics/misgan.py")
original = path.read_text()
DATA_PAIR = '"data_critic": (mask_data(data, observed, tau), mask_data(fake_data, fake_mask, tau)),'
DATA_SWAPPED = ('"data_critic": (mask_data(fake_data, fake_mask, tau), '
                'mask_data(data, observed, tau)),')
mutations = {
    "data critic real/fake swapped": (DATA_PAIR, DATA_SWAPPED),
    "mask critic real/fake swapped": ('"mask_critic": (observed, fake_mask),',
                                      '"mask_critic": (fake_mask, observed),'),
    "imputer critic real/fake swapped": ('"imputer_critic": (fake_data, completed),',
                                         '"imputer_critic": (completed, fake_data),'),
    "critic loss sign flipped": ("        critic(fake).mean()\n        - critic(real).mean()",
                                 "        critic(real).mean()\n        - critic(fake).mean()"),
    "gradient penalty sign flipped": ("        + gp_lambda * gradient_penalty(",
                                      "        - gp_lambda * gradient_penalty("),
    "imputer loss sign flipped": ("imputer_loss = -d_i(completed).mean()",
                                  "imputer_loss = d_i(completed).mean()"),
    "mask generator loss sign flipped": ("mask_loss = -d_m(fake_mask).mean() - alpha",
                                         "mask_loss = d_m(fake_mask).mean() - alpha"),
    "mask generator alpha term sign flipped": ("- alpha * d_x(masked_fake).mean()",
                                               "+ alpha * d_x(masked_fake).mean()"),
    "data generator loss sign flipped": (
        "data_loss = -d_x(mask_data(fake_data, fake_mask, tau)).mean()",
        "data_loss = d_x(mask_data(fake_data, fake_mask, tau)).mean()"),
    "data generator beta term sign flipped": (
        "data_loss = data_loss + beta * d_i(fake_data).mean()",
        "data_loss = data_loss - beta * d_i(fake_data).mean()"),
}
new_tests = "real_and_fake or penalty_is or signs"
groups = [("new tests", new_tests)]
if "--new-only" not in sys.argv:
    groups.append(("old tests", f"not ({new_tests})"))
subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "tests/test_misgan.py", "-k", new_tests], check=True,
               capture_output=True)  # the new tests pass on the unmutated code
print("| mutation | " + " | ".join(label for label, _ in groups) + " |")
print("|" + " --- |" * (len(groups) + 1))
try:
    for name, (old, new) in mutations.items():
        assert original.count(old) == 1, name
        path.write_text(original.replace(old, new))
        results = {}
        for label, selector in groups:
            rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                                 "no:cacheprovider", "tests/test_misgan.py", "-k", selector],
                                capture_output=True, text=True)
            results[label] = "FAIL (caught)" if rc.returncode else "pass (missed)"
        print(f"| {name} | " + " | ".join(results.values()) + " |", flush=True)
finally:
    path.write_text(original)
