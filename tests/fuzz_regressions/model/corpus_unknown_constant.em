# `His nDta`  inZ2738
domain S = 1..K