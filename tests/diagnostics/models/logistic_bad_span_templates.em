# Span feature templates with the wrong arguments: a count needs its characters, a class
# cannot be empty, `length` takes nothing, and a class comes after the length of an end.
const MAXLEN = 4
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = MAXLEN)
domain More = {yes, no}
data chars : [Char]
param more : Categorical(More)
param word : Logistic(Word) {
    features: [word, count, count(""), length(2), suffix(2, ""), prefix("aeiou", 2), count(3)]
}
proc utterance(i) {
    if i == len(chars) {
        no ~ more
    } else {
        yes ~ more
        for some j in i + 1 .. min(i + MAXLEN, len(chars)) + 1 {
            chars[i..j] ~ word
            utterance(j)
        }
    }
}
model { utterance(0) }
