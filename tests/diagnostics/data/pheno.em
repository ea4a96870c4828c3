# A genotype and how many times it was seen (a good model).
domain Allele = {a, b}
domain Geno = {aa, ab, bb}
data g : Geno, n : weight
param allele : Categorical(Allele)
table pair(Allele, Allele) -> Geno {
    a a -> aa
    a b -> ab
    b a -> ab
    b b -> bb
}
train { iterations: 2 }

model {
    hidden x : Allele
    hidden y : Allele
    x ~ allele
    y ~ allele
    g = pair(x, y)
}
