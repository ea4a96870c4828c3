domain D = substrings(f, max_len = 3)
data f : [D]
param p : Categorical(D)
model { for i in 0..len(f): f[i] ~ p }
