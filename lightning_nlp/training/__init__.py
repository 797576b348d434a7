"""What training uses beside the tasks: callbacks, schedules, precision, loggers, metrics."""
