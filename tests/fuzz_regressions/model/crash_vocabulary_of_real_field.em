# A vocabulary of a real-valued field (found by the model fuzz target): the field has no
# domain to name.
data f : Real ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e)
param t : Categorical(E | F)
model { for j in 0..len(e): e[j] ~ t(f) }
