"""The /pqr command layer shared by every chat: grammar, date phrases, the handler that turns a
command into a channel-neutral `Reply`, and the one refusal mapping (`refusals.refusal_text`)."""
