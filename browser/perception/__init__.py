"""Perception: a page as a list of actions an agent can take (observe) and carrying them out."""
