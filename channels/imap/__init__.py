"""Company mailboxes read over IMAP (aioimaplib) into the durable inbox."""

from channels.imap.adapter import ImapChannel
from channels.imap.client import Credentials
from channels.imap.reader import MailboxReader

__all__ = ["Credentials", "ImapChannel", "MailboxReader"]
