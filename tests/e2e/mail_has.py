"""Whether a Maildir holds an email to ADDRESS whose decoded text contains
PATTERN (a regular expression), looking into every MIME part. White space
is folded first (line breaks, no-break spaces), so that a pattern matches
whatever the plain text's line wrapping did.

usage: mail_has.py MAILDIR ADDRESS PATTERN [--html]
  --html  the match must be an email with text and HTML alternatives, and
          PATTERN must appear in its HTML part.
Exits 0 on a match, 1 otherwise. Run with Debian's /usr/bin/python3.
"""
import email
import email.policy
import pathlib
import re
import sys


def main():
    maildir, address, pattern = sys.argv[1:4]
    want_html = "--html" in sys.argv[4:]
    for path in sorted(pathlib.Path(maildir, "new").glob("*")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address not in [a.addr_spec for a in msg["To"].addresses]:
            continue
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts.setdefault(part.get_content_type(), []).append(part.get_content())
        if want_html:
            if "text/plain" not in parts:
                continue
            texts = parts.get("text/html", [])
        else:
            texts = [str(msg["Subject"])] + [t for ts in parts.values() for t in ts]
        if any(re.search(pattern, re.sub(r"[\s\u00a0\u202f]+", " ", t)) for t in texts):
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
