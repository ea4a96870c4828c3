# A scalar data field drawn twice.
domain Coin = {A, B}
domain Face = {H, T}
data first : Face
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    first ~ toss(coin)
    first ~ toss(coin)
}
