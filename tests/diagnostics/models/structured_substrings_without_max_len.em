# A lexicon of substrings without a longest span: a line of n characters has n(n+1)/2 spans.
domain Char = vocabulary(chars)
domain Word = substrings(chars)
data chars : [Char]
param word : Categorical(Word)

proc utterance(i) {
    if i < len(chars) {
        for some j in i + 1 .. len(chars) + 1 {
            chars[i..j] ~ word
            utterance(j)
        }
    }
}

model { utterance(0) }
