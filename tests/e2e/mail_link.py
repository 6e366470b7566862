"""Prints a link from the newest email to ADDRESS in a Maildir.

usage: mail_link.py MAILDIR ADDRESS (PATH [--after TEXT] | --list-unsubscribe)
  PATH                 the first URL in the text part whose path is PATH
                       ("/subscribe/confirm"); with --after, the first one
                       after TEXT ("still broken:")
  --list-unsubscribe   the URL in the List-Unsubscribe header; also checks
                       that List-Unsubscribe-Post asks for one-click (RFC 8058)
Exits 1 when there is no such email or link. Run with Debian's
/usr/bin/python3.
"""
import email
import email.policy
import pathlib
import re
import sys


def newest_to(maildir, address):
    found = None
    for path in sorted(pathlib.Path(maildir, "new").glob("*"), key=lambda p: p.stat().st_mtime):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in [a.addr_spec for a in msg["To"].addresses]:
            found = msg
    return found


def main():
    maildir, address, what = sys.argv[1:4]
    msg = newest_to(maildir, address)
    if msg is None:
        return 1
    if what == "--list-unsubscribe":
        if msg["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click":
            return 1
        m = re.fullmatch(r"<([^>]+)>", str(msg["List-Unsubscribe"] or ""))
        if not m:
            return 1
        print(m.group(1))
        return 0
    text = msg.get_body(preferencelist=("plain",)).get_content()
    if sys.argv[4:5] == ["--after"]:
        at = text.find(sys.argv[5])
        if at < 0:
            return 1
        text = text[at:]
    m = re.search(r"https?://\S+" + re.escape(what) + r"\?token=[A-Za-z0-9_.-]+", text)
    if not m:
        return 1
    print(m.group(0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
