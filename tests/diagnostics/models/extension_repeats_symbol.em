# `Tag2` extends `Tag` with a value `Tag` has already.
domain Tag = {N, V, NULL}
domain Tag2 = Tag + {NULL, X}
data tags : [Tag2]
param t : Categorical(Tag2)

model {
    for i in 0..len(tags): tags[i] ~ t
}
