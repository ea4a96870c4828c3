# A draw conditioned on the very value it draws: refused (it would learn the identity).
domain H = {a, b}
domain W = vocabulary(f)
data f : [W]
param p : Categorical(W | W)
model { for i in 0..len(f): f[i] ~ p(f[i]) }
