"""Text pipeline and LightningDataModules, one per corpus."""
