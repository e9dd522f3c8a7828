"""Trade rate and rho_cost, and the economics report with its figures."""
