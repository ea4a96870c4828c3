# A one-dimensional Gaussian mixture of K components, for `emc select --set K=...`
# (tests/score.rs). Its data were drawn from mixture.truth.json (K = 3, well apart):
#   emc sample tests/score/mixture.em --params tests/score/mixture.truth.json -n 400 --seed 1 > tests/score/mixture.txt
#   emc sample tests/score/mixture.em --params tests/score/mixture.truth.json -n 200 --seed 2 > tests/score/mixture.heldout.txt

const K = 3
domain Comp = 0..K
data x : Real

param weight : Categorical(Comp)
param shape  : Gaussian(Real | Comp) { covariance: full }

train { iterations: 300, tolerance: 1e-8, seed: 0, restarts: 3 }

model {
    hidden c : Comp
    c ~ weight
    x ~ shape(c)
}
