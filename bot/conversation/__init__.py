"""Chat conversations free of any platform SDK: the Telegram customer filing flow, status and
follow-ups, and manager actions behind buttons (penalty decisions). They answer with catalogue
`Text`s; the channel renders them in its markup."""
