# A sequence field swallows the rest of its group, so it must come last.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face], first : Face
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    first ~ toss(coin)
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
