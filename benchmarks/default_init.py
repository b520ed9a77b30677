"""Does the default initialisation train the tutorial's MNIST network? Test accuracy after a short run.

Run: python benchmarks/default_init.py [--digits] [--init NAME] [--epochs N] [--seed S]

The network is the Chinese backprop tutorial's 784-300-100-10 (ReLU hidden layers), made with
``nn.MLP``'s defaults, and trained with ``nn.fit``'s defaults except ``loss="cross_entropy"``,
``batch_size=100`` and ``compile=True``: so the default optimiser, SGD at lr 0.1, and the default
``init``. On Fashion-MNIST (found by ``nn.find_mnist``, e.g. Debian's dataset-fashion-mnist) one
epoch is 600 steps. Without it, or with --digits, the 8x8 digits stand in: a 64-300-100-10 network
on 1,347 training images, 14 steps an epoch, so the default there is 10 epochs (140 steps), where the
accuracy has levelled off above 0.9 for every seed tried; one epoch of 14 steps is not yet a
stable figure. ``--init uniform`` shows what micrograd's U(-1, 1) does to the same network.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import nn

DIGITS_EPOCHS = 10
"""The digits' default: 14 steps an epoch, and 10 epochs is where the accuracy has stopped moving much."""


def load(digits: bool) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(name, train points, train labels, test points, test labels): Fashion-MNIST or MNIST if found, else digits."""
    folder = None if digits else nn.find_mnist()
    if folder is not None:
        train_x, train_y = nn.load_mnist(folder, kind="train")
        test_x, test_y = nn.load_mnist(folder, kind="t10k")
        return nn.mnist_name(folder) or str(folder), train_x, train_y, test_x, test_y
    points, labels = nn.load_digits()
    train_x, test_x, train_y, test_y = nn.train_test_split(points, labels, test_fraction=0.25, seed=0)
    return "8x8 digits", train_x, train_y, test_x, test_y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", action="store_true", help="use the 8x8 digits even if MNIST-format data is found")
    parser.add_argument("--init", default=None, help="an init of nn.MLP (default: nn.MLP's own default)")
    parser.add_argument("--epochs", type=int, default=None, help=f"default 1, or {DIGITS_EPOCHS} on the digits")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    name, train_x, train_y, test_x, test_y = load(args.digits or os.environ.get("CHAINRULE_NO_MNIST") == "1")
    epochs = args.epochs if args.epochs is not None else (1 if name != "8x8 digits" else DIGITS_EPOCHS)
    settings = {} if args.init is None else {"init": args.init}
    model = nn.MLP(train_x.shape[1], [300, 100, 10], seed=args.seed, **settings)
    print(f"{name}: {len(train_x):,} training and {len(test_x):,} test images; {model.describe()}, init={model.init!r}")
    initial = np.asarray(nn.predict(model, test_x[:1000], compile=True))
    print(f"initial logits on 1,000 test images: standard deviation {initial.std():.3g}")
    start = time.perf_counter()
    history = nn.fit(model, train_x, train_y, loss="cross_entropy", epochs=epochs, batch_size=100, compile=True,
                     progress=False, seed=args.seed)  # fmt: skip
    seconds = time.perf_counter() - start
    print("epoch losses: " + ", ".join(f"{loss:.4g}" for loss in history["loss"]))
    accuracy = nn.accuracy(model, test_x, test_y, compile=True)
    print(f"{epochs} epoch{'s' if epochs != 1 else ''} of batches of 100 in {seconds:.1f} s")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
