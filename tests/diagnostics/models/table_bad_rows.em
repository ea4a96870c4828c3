# One row has too few inputs, another repeats `A H`.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
table same(Coin, Face) -> Face {
    A H -> H
    A T -> T
    B -> H
    B T -> T
}
table other(Coin, Face) -> Face {
    A H -> H
    A T -> T
    A H -> T
    B H -> H
    B T -> T
}

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ uniform
}
