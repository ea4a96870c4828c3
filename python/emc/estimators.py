class CategoricalHMM: pass
class GaussianMixture: pass
