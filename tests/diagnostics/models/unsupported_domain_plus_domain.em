# A domain extended by another domain (the grammar takes only `+ {...}` sets). Parsing used
# to stop on the next line.
domain Coin = {A, B}
domain Face = {H, T}
domain Both = Coin + Face
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
