"""Events: what a customer did, outside a cart (Talon.One's custom and built-in profile events), and the campaigns
they trigger."""
