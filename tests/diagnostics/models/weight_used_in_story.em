# A weight field says how often a line counts; the story cannot draw it.
domain Coin = {A, B}
domain Face = {H, T}
data n : weight, tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    n ~ toss(coin)
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
