"""Identity: who is asking. Persons sign in with a mobile number and a one-time code, operators
with a password and TOTP, institutions sign each request (HMAC-SM3) and open desk sessions with
their key. Issues and resolves bearer tokens; every route asks this area for its actor.
"""
