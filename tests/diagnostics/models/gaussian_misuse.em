# Gaussian families used wrongly: over a domain, with a real condition, drawing a hidden
# variable, an unknown covariance type, and a real field drawn from a categorical.
domain Mode = {idle, busy}
data reading : Real[2] ||| tag : Mode
param mode : Categorical(Mode)
param bad_outcome : Gaussian(Mode | Mode)
param g : Gaussian(Real[2] | Mode) { covariance: wobbly, reg_covar: -1 }
param h : Gaussian(Real[3] | Mode)
param emit : Categorical(Mode | Mode)
model {
    hidden m : Mode
    m ~ mode
    reading ~ h(m)
    reading ~ emit(m)
    tag ~ emit(reading)
}
