# `hidden` belongs at the top of the model block.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    for i in 0..len(tosses) {
        hidden coin : Coin
        coin ~ choice
        tosses[i] ~ toss(coin)
    }
}
