"""Request authentication: which key, which application, which scope."""
