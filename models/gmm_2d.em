# A two-component Gaussian mixture with full covariances over both Old Faithful columns
# (eruption length in minutes, waiting time in minutes): the short-and-soon and the
# long-and-late eruptions. Means start by k-means++ seeding on the data.

domain Comp = 0..2
data eruption : Real[2]

param weight : Categorical(Comp)
param shape  : Gaussian(Real[2] | Comp) { covariance: full }

train { iterations: 100, tolerance: 1e-10, seed: 1 }

model {
    hidden c : Comp
    c ~ weight
    eruption ~ shape(c)
}
