"""Black Friday order pipeline: boto3 infrastructure scripts and the local emulator they run on.

Kept import-free: the Lambda deployment zips ship `blackfriday.domain` without the rest.
"""
