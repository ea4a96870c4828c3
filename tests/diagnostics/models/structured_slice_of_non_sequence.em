# A span of a scalar field: only a sequence has spans.
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = 4)
data label : Char, chars : [Char]
param word : Categorical(Word)

proc utterance(i) {
    if i < len(chars) {
        for some j in i + 1 .. min(i + 4, len(chars)) + 1 {
            label[i..j] ~ word
            utterance(j)
        }
    }
}

model { utterance(0) }
