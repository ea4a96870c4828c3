# `coin` is drawn once per toss.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    for i in 0..len(tosses) {
        coin ~ choice
        tosses[i] ~ toss(coin)
    }
}
