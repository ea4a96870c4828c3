# `output` says what decoding prints of a structured derivation; a plain story has none.
domain Coin = {A, B}
domain Face = {H, T}
data face : Face
param pick : Categorical(Coin)
param toss : Categorical(Face | Coin)
model {
    hidden c : Coin
    c ~ pick
    face ~ toss(c)
    output which[0] = 1
}
