# `if` is not in the language: the story has no branches.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    if coin == A {
        for i in 0..len(tosses): tosses[i] ~ toss(coin)
    }
}
