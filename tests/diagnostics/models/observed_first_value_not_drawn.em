# A bigram story that never draws the first word: it would be left out of the likelihood.
domain Word = {a, b, c}
data words : [Word]
param next : Categorical(Word | Word)

model {
    for i in 1..len(words): words[i] ~ next(words[i - 1])
}
