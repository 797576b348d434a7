"""torchmetrics metrics the tasks share."""
