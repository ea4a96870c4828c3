# `Hx` in the table is not a symbol of `Face`.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
table flip(Face) -> Face {
    H -> T
    Hx -> H
}

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ uniform
}
