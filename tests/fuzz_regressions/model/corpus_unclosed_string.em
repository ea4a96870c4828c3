# fr
param choice  :C""a""z"u