"""`pqrbot doctor`: what can be checked without a platform SDK (the database, the listen ports,
the secrets' presence, the outgoing-mail folder). The platform checks live in channels/ and are
wired by `bot.bootstrap.doctor_checks`; `bot.cli.doctor` runs them all and prints the lines."""
