# x ~ p(x): a hidden variable conditioned on itself is not a generative order.
domain H = {a, b}
data f : [H]
param p : Categorical(H | H)
param q : Categorical(H | H)
model { hidden x : H
 x ~ p(x)
 for i in 0..len(f): f[i] ~ q(x) }
