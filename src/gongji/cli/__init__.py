"""The `gongji` command (Typer). Only this layer chooses exit codes: 0 success, 1 a failed check,
2 a refusal or bad input — always one readable line, never a traceback.
"""
