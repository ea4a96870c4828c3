# KNOWN BUG: `a + b` with a space after `+` is parsed as `a * b` (the `add_op` rule is not
# atomic, so its text is "+ " and `fold_binary` in src/syntax/parse.rs maps anything but "+"
# and "-" to `Mul`). Here `len(tosses) + 1` evaluates to `len(tosses)`, so the loop that
# should run one past the end of `tosses` is silently accepted; `len(tosses)+1` is refused.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses) + 1: tosses[i] ~ toss(coin)
}
