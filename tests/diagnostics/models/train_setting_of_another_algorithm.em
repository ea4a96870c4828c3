# A prior for variational Bayes in a block that trains by EM: silently unused.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
train { iterations: 20, prior: 0.1, anneal: 0.5 }
model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
