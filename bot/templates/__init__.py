"""Answer templates (config `templates.dir`): the folder, answers filled from it, `/pqr templates`."""
