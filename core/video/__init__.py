"""The video pipeline: job kinds run by workers (encode, runner, worker) and what they made."""
