# A three-component mixture with tied covariances over both Old Faithful columns
# (models/gmm_2d.txt), for emc score against scikit-learn's GaussianMixture (tests/score.rs).

domain Comp = 0..3
data eruption : Real[2]

param weight : Categorical(Comp)
param shape  : Gaussian(Real[2] | Comp) { covariance: tied }

train { iterations: 200, tolerance: 1e-10, seed: 1 }

model {
    hidden c : Comp
    c ~ weight
    eruption ~ shape(c)
}
