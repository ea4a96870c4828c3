# Coarse classes written wrongly: none, not a string, empty, a symbol in two classes, a
# `coarse` in `by` without its position or with one the family lacks, and a part twice.
domain Tag = vocabulary(tags)
domain Dir = {L, R}
data tags : [Tag]
param attach : Logistic(Tag | Dir, Tag) {
    features: [
        coarse(),
        coarse(NOUN),
        coarse("NOUN PROPN", "  "),
        coarse("NOUN PROPN", "VERB NOUN"),
        by(coarse("NOUN"), word),
        by(0, coarse(2, "NOUN"), word),
        by(1, coarse(1, "NOUN"), word)
    ]
}
model {
    for i in 1..len(tags): tags[i] ~ attach(R, tags[i-1])
}
