# e, s
param emit : Categorical(Word | 
