# Weights of cars (kg) of two unlabelled types, after the first example of "EM for
# Gaussian mixtures" tutorials: models/car_weights.txt was drawn with
#   emc sample models/car_weights.em --params models/car_weights.truth.json -n 500 --seed 7
# from the parameters in models/car_weights.truth.json (30% small cars around 1100 kg, sd 90;
# 70% large ones around 1650 kg, sd 160), and training recovers them within sampling error.

domain Type = {small, large}
data weight : Real

param share : Categorical(Type)
param mass  : Gaussian(Real | Type) { covariance: full }

train { iterations: 200, tolerance: 1e-10, seed: 0 }

model {
    hidden t : Type
    t ~ share
    weight ~ mass(t)
}
