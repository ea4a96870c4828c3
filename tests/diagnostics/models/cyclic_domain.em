# `A` extends `B` which extends `A`.
domain A = B + {x}
domain B = A + {y}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(A)
param toss : Categorical(Face | A)

model {
    hidden a : A
    a ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(a)
}
