# A vocabulary extended with the same symbol twice.
domain Word = vocabulary(words) + {UNK, UNK}
data words : [Word]
param t : Categorical(Word)

model {
    for i in 0..len(words): words[i] ~ t
}
