"""Shared settings of the tune tests: tiny synthetic problems, 1-3 epochs."""

#: A fast train_mlp problem: synthetic MNIST-shaped data, 800 samples, one hidden layer.
#: Its good learning rates (SGD, 2-3 epochs) lie in about [0.03, 0.5]; below 0.005 it
#: barely learns, above 1 it stays at chance.
FAST = {"dataset": "mnist-like", "hidden": [32], "n_train": 800, "batch_size": 32,
        "epochs": 2}


def pytest_configure(config):
    # the Ray test carries a timeout for pytest-timeout; without the plugin it is a no-op
    config.addinivalue_line("markers", "timeout(seconds): fail a test that runs longer")
