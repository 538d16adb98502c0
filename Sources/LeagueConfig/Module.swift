// placeholder until first commit
