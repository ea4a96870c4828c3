# A table is deterministic: `=`, not `~`.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
table face(Coin) -> Face {
    A -> H
    B -> T
}

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ face(coin)
}
