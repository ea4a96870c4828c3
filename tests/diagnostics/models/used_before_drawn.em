# A cycle: `a` is conditioned on `b` before `b` is drawn, so the story defines no distribution.
domain C = {x, y}
data o : C
param t : Categorical(C | C)
param e : Categorical(C | C)
model {
    hidden a : C
    hidden b : C
    a ~ t(b)
    b ~ t(a)
    o ~ e(a)
}
