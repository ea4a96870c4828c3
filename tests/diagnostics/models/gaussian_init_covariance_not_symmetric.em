# An initial covariance that is not symmetric: only its lower triangle would reach the
# Cholesky factor, so the upper one would be dropped without a word.
domain Comp = 0..2
data eruption : Real[2]

param weight : Categorical(Comp)
param shape  : Gaussian(Real[2] | Comp) {
    covariance: full,
    init_means: [[2, 60], [4, 80]],
    init_covariances: [[[1, 0.5], [0.2, 1]], [[1, 0], [0, 1]]]
}

model {
    hidden c : Comp
    c ~ weight
    eruption ~ shape(c)
}
