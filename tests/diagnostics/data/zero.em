# A fixed coin that never shows tails.
domain Face = {H, T}
data tosses : [Face]
param toss : Categorical(Face) { fixed, init: [1, 0] }
train { iterations: 2 }

model {
    for i in 0..len(tosses): tosses[i] ~ toss
}
