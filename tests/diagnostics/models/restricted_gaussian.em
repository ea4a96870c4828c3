# `within` after a Gaussian family: only Categorical and Logistic rows can be restricted.
domain C = 0..2
data x : Real
param g : Gaussian(Real | C)

proc go(i) {
    if i < 1 {
        x ~ g(0) within 0 .. 1
    }
}

model { go(0) }
