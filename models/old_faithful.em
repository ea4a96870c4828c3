# Old Faithful waiting times (minutes between eruptions, 272 of them) as a mixture of two
# normals with equal variances, from the start mixtools' normalmixEM example uses: lambda = 0.5,
# mu = (55, 80), sigma = 5. Converges to lambda = (0.3608498, 0.6391502),
# mu = (54.61364, 80.09031), sigma = 5.869089, log-likelihood -1034.002.

domain Comp = {short, long}
data waiting : Real

param lambda : Categorical(Comp) { init: [0.5, 0.5] }
param time   : Gaussian(Real | Comp) {
    covariance: tied,                       # equal variances
    reg_covar: 0,
    init_means: [[55], [80]],
    init_covariances: [[[25]], [[25]]]
}

# mixtools stops when the log-likelihood changes by less than 1e-8: about 1e-11 relative here.
train { iterations: 1000, tolerance: 1e-11 }

model {
    hidden c : Comp
    c ~ lambda
    waiting ~ time(c)
}
