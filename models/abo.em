# ABO blood groups (Hardy-Weinberg; Clarke et al. 1959 data, as used in K. Lange's texts).
# Each person carries two alleles drawn independently from one allele distribution; only the
# phenotype is observed, a deterministic function of the genotype (A and B dominate O, and
# are codominant). Each data line is a phenotype and how many people have it.

domain Allele    = {A, B, O}
domain Phenotype = {A, B, AB, O}
data phenotype : Phenotype, people : weight

param allele : Categorical(Allele)

table blood(Allele, Allele) -> Phenotype {
    A A -> A    A B -> AB   A O -> A
    B A -> AB   B B -> B    B O -> B
    O A -> A    O B -> B    O O -> O
}

train { init: uniform, iterations: 20, tolerance: 0 }

model {
    hidden first  : Allele
    hidden second : Allele
    first  ~ allele
    second ~ allele
    phenotype = blood(first, second)
}
