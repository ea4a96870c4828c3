# Eight hidden values of 100 each drawn in one procedure: 10^16 branches of one call, far
# over the hyperedge budget of a line.
domain D = 0..100
domain Term = vocabulary(words)
data words : [Term]
param p : Categorical(D)
param emit : Categorical(Term | D)

proc all(i) {
    hidden a : D
    hidden b : D
    hidden c : D
    hidden d : D
    hidden e : D
    hidden f : D
    hidden g : D
    hidden h : D
    a ~ p
    b ~ p
    c ~ p
    d ~ p
    e ~ p
    f ~ p
    g ~ p
    h ~ p
    words[i] ~ emit(h)
}

model { all(0) }
