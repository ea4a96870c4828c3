const K1 = 4
const K2 = 5
domain D4 = {D4_0, D4_1, D4_2}
domain D5 = D4
domain D6 = substrings(f3, max_len = 3)
domain D7 = {D7_0, D7_1, D7_2}
data f3 : [D4] ||| w8 : weight
param p9 : Gaussian(Real | D6, D6) { covariance: full }
model {
    for i in 0..len(f3): f3[i] ~ uniform
}

