"""Answer approval (config `approval`): final answers that a manager approves before they go out."""
