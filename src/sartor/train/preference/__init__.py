"""Preference training: encoding pairs with the SFT template, the losses, the trainer, reference and reward models."""
