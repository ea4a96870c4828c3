param t : Categorical(F)
model { [1] ~ t }
