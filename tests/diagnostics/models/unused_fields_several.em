# Two scalar fields nothing reads; the weight field is not one of them.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face] ||| left : Face, right : Face, n : weight
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
