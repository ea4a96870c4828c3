"""The two-coins example of Do & Batzoglou (2008) from Python: the model as a string, the
data as a list of lines, ten EM iterations, the learned probabilities, the decoded coins.

    python python/examples/two_coins.py
"""

import emc

MODEL = """
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]

param choice : Categorical(Coin) { fixed, init: [0.5, 0.5] }
param toss   : Categorical(Face | Coin) { init: [[0.6, 0.4], [0.5, 0.5]] }

train { iterations: 10, tolerance: 0 }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
"""

DATA = [
    "H T T T H H T H T H",
    "H H H H T H H H H H",
    "H T H H H H H T H H",
    "H T H T T T H H T T",
    "T H H H T H H H T H",
]


def main():
    model = emc.Model(MODEL)
    model.fit(DATA, callback=lambda it: print(
        "iteration %2d  log-likelihood %.6f" % (it["iteration"], it["log_likelihood"])))
    toss = model.params_["toss"]           # rows: Coin (A, B); columns: Face (H, T)
    print("P(H | A) = %.4f   P(H | B) = %.4f   (the paper: 0.80 and 0.52)"
          % (toss[0, 0], toss[1, 0]))
    print("coins:", " ".join(model.decode(DATA)))
    print("log-likelihood %.6f (total), %.6f (per set of tosses)"
          % (model.score(DATA), model.score(DATA, per_sample=True)))


if __name__ == "__main__":
    main()
