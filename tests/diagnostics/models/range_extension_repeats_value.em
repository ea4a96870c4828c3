# `2` is a value of `0..3` already.
domain Len = 0..3 + {2}
data ls : [Len]
param t : Categorical(Len)

model {
    for i in 0..len(ls): ls[i] ~ t
}
