#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Drives orgvaultctl's interactive add through a pseudo-terminal, as a person
# at a terminal would, in the product page's order: the secret field is not
# echoed; "Next" rejects a bad field (asked again) and shows warnings (confirmed
# or declined) before the display name is asked; the id is printed; ^C at a
# hidden prompt leaves echo on.
# Run by test-ctl-pty.sh (private bus set up, $ORGVAULT_BUS_ADDRESS exported).
# Prints "ok - ..." / "not ok - ..." lines for the wrapper to count.
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time

CTL = os.environ["ORGVAULTCTL"]
USER = sys.argv[1]                       # an admin of acme
SLACK_OK = "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx"
# Passes the hard pattern but not the "24-character token" hint: a warning.
SLACK_ODD = "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
# Not a Slack URL: passes the CLI's own checks, the daemon rejects it.
SLACK_BAD = "https://example.com/services/TFAKE0000/BFAKE0000/zzzzzzzzzzzzzzzzzzzzzzzz"
failures = 0


def report(ok, desc):
    global failures
    print(("ok - " if ok else "not ok - ") + desc, flush=True)
    if not ok:
        failures += 1


class Session:
    def __init__(self, *args, user=USER, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if env:
                os.environ.update(env)
            if user == "root":
                os.execv(CTL, [CTL] + list(args))
            os.execvp("setpriv", ["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--", CTL] + list(args))
        self.out = ""
        self.pos = 0                    # end of the last match

    def expect(self, pattern, timeout=15):
        """Reads until pattern matches the output after the last match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.compile(pattern).search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                print("# timed out waiting for %r; output so far:\n# %s" % (pattern, self.out.replace("\n", "\n# ")))
                return None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:             # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.out += data.decode("utf-8", "replace")
        return True

    def send(self, line):
        os.write(self.fd, line.encode() + b"\r")

    def echo_on(self):
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    def wait(self):
        while self._read(15):
            pass
        _, st = os.waitpid(self.pid, 0)
        return st

    def close(self):
        os.close(self.fd)


# 1. The whole Add flow in the page's order: type (from the numbered list),
#    fields, "Next" (the daemon validates; a rejected field is asked again
#    before the display name; warnings shown and confirmed), display name, add.
s = Session("add")
m = s.expect(r"(\d+)\) Slack Webhook URL \(slack-webhook\)")
report(m is not None, "add without TYPE shows a numbered type list")
report(s.expect(r"Type \[1-\d+ or id\]: ") is not None, "add asks for the type by number")
s.send(m.group(1) if m else "1")
report(s.expect(r"Webhook URL \(input is not shown\): ") is not None, "the secret field is asked by its label")
report(not s.echo_on(), "echo is off while the secret field is read")
s.send("")
report(s.expect(r"Rejected: Webhook URL is required\.") is not None, "an empty required field is asked again with the reason")
s.expect(r"Webhook URL \(input is not shown\): ")
s.send(SLACK_BAD)
m = s.expect(r"Rejected: ([^\r\n]+)")
report(m is not None and "hooks.slack.com" in m.group(1), "Next: the daemon's rejection is shown with its reason")
report(m is not None and "Display name" not in s.out, "Next: a bad value is caught before the display name is asked")
report(s.expect(r"Webhook URL \(input is not shown\): ") is not None, "the rejected field is asked again")
report(s.echo_on() is False, "echo is off again for the re-asked secret field")
s.send(SLACK_ODD)
report(s.expect(r"Warning: Webhook URL: [^\r\n]+") is not None, "Next: the daemon's warning is shown with the field's label")
report(s.expect(r"Save with this value anyway\? \[y/N\] ") is not None and "Display name" not in s.out,
       "the warning is confirmed before the display name is asked")
s.send("y")
report(s.expect(r"Display name \(how the secret appears in lists\): ") is not None, "the display name is asked after Next")
report(s.echo_on(), "echo is back on after the secret field")
s.send("Pty Slack")
report(s.expect(r"\r\npty-slack\r\n") is not None, "the new id is printed")
st = s.wait()
report(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, "interactive add exits 0")
report(SLACK_BAD not in s.out and SLACK_ODD not in s.out and "zzzzzzzz" not in s.out and "xxxxxxxx" not in s.out,
       "no typed secret value appears on the terminal")
report(s.out.count("Display name") == 1, "the display name is asked once")
report(s.out.count("Warning:") == 1, "the confirmed warning is not repeated after the add")
s.close()

# 1b. A warning declined: the warned field is asked again; a clean value then
#     goes on to the display name with no question.
s = Session("add", "slack-webhook")
s.expect(r"Webhook URL \(input is not shown\): ")
s.send(SLACK_ODD)
s.expect(r"Warning: Webhook URL: ")
report(s.expect(r"Save with this value anyway\? \[y/N\] ") is not None, "a warning asks [y/N]")
s.send("")
report(s.expect(r"\r\n  Warning: [^\r\n]+") is not None, "declining (Enter) asks the warned field again, with the warning")
report(s.expect(r"Webhook URL \(input is not shown\): ") is not None and "Display name" not in s.out,
       "... before any display name")
s.send(SLACK_OK.replace("TFAKE0000", "TFAKE0002"))
report(s.expect(r"Display name \(how the secret appears in lists\): ") is not None, "a clean value goes on to the name")
report(s.out.count("Save with this value anyway") == 1, "a clean value asks no question")
s.send("Pty Declined")
report(s.expect(r"\r\npty-declined\r\n") is not None, "the secret is added with the corrected value")
st = s.wait()
report(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, "add after a declined warning exits 0")
s.close()

# 1c. A warning declined, then ^D: nothing is saved, exit 3.
s = Session("add", "slack-webhook", "--name=Never Saved")
s.expect(r"Webhook URL \(input is not shown\): ")
s.send(SLACK_ODD)
s.expect(r"Save with this value anyway\? \[y/N\] ")
s.send("n")
s.expect(r"Webhook URL \(input is not shown\): ")
os.write(s.fd, b"\x04")
report(s.expect(r"Cancelled; nothing was saved\.") is not None, "declined, then ^D: cancelled")
st = s.wait()
report(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 3, "declined, then ^D: exit 3")
s.close()

# 1d. --yes accepts the warning: shown, not asked.
s = Session("add", "slack-webhook", "--name=Pty Yes", "--yes")
s.expect(r"Webhook URL \(input is not shown\): ")
s.send(SLACK_ODD.replace("TFAKE0000", "TFAKE0003"))
report(s.expect(r"Warning: Webhook URL: ") is not None, "--yes still shows the warning")
report(s.expect(r"\r\npty-yes\r\n") is not None and "[y/N]" not in s.out, "--yes accepts it without asking")
s.wait()
s.close()

# 1e. update follows the same order: a bad value is re-asked, a warning
#     confirmed, then saved.
s = Session("update", "pty-declined")
s.expect(r"Webhook URL \(input is not shown\): ")
s.send(SLACK_BAD)
report(s.expect(r"Rejected: [^\r\n]*hooks\.slack\.com") is not None, "update: a bad value is rejected at Next")
s.expect(r"Webhook URL \(input is not shown\): ")
s.send(SLACK_ODD.replace("TFAKE0000", "TFAKE0004"))
report(s.expect(r"Save with this value anyway\? \[y/N\] ") is not None, "update: a warning is confirmed before saving")
s.send("yes")
report(s.expect(r"it is now version 2\.") is not None, "update: saved after the confirmation")
s.wait()
s.close()

# 2. An optional field can be left empty; --name skips the name prompt.
s = Session("add", "openai-protocol", "--name=Local LLM")
report(s.expect(r"Server URL: ") is not None, "a non-secret field is asked by its label")
report(s.echo_on(), "a non-secret field is echoed")
s.send("http://localhost:11434/v1")
report(s.expect(r"API Key \(optional, Enter to skip\) \(input is not shown\): ") is not None,
       "an optional field says it may be skipped")
s.send("")
report(s.expect(r"\r\nlocal-llm\r\n") is not None, "skipping the optional field adds the secret")
st = s.wait()
report("Display name" not in s.out, "--name is not asked again")
report(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, "add with an optional field left empty exits 0")
s.close()

# 3. Allowed values are shown and enforced before anything is sent.
s = Session("add", "twilio-auth-token", "--name=Twilio main")
report(s.expect(r"Allowed values: us1, ie1, au1") is not None, "an enum field lists its allowed values")
s.expect(r"API Region: ")
s.send("eu1")
report(s.expect(r"Rejected: API Region must be one of: us1, ie1, au1\.") is not None,
       "a value outside the allowed ones is asked again")
s.send("US1")
report(s.expect(r"Account SID: ") is not None, "an allowed value in another case is accepted")
os.kill(s.pid, signal.SIGINT)    # leave mid-flow: nothing is saved
s.wait()
s.close()

# 4. ^C at a hidden prompt restores the terminal.
s = Session("update", "pty-slack")
s.expect(r"Webhook URL \(input is not shown\): ")
off = not s.echo_on()
os.write(s.fd, b"\x03")
st = s.wait()
report(off and os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGINT, "^C at a hidden prompt ends orgvaultctl")
report(s.echo_on(), "the terminal has echo on again after ^C")
s.close()

# 5. ^D at a prompt cancels with exit code 3 and nothing saved.
s = Session("add", "slack-webhook")
s.expect(r"Webhook URL \(input is not shown\): ")
os.write(s.fd, b"\x04")
report(s.expect(r"Cancelled; nothing was saved\.") is not None, "^D cancels the add")
st = s.wait()
report(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 3, "a cancelled add exits 3")
report(s.echo_on(), "echo is on after a cancelled hidden prompt")
s.close()

# 6. On a terminal, tables go through the pager and get colour; not with --no-pager.
s = Session("list", env={"PAGER": "sed s/^/PAGED:/"})
report(s.expect(r"PAGED:\x1b\[1mNAME") is not None, "list on a terminal goes through $PAGER, header in bold")
report(s.expect(r"PAGED:4 secrets listed\.") is not None, "the footer goes through the pager too")
s.wait()
s.close()
s = Session("list", "--no-pager", env={"PAGER": "sed s/^/PAGED:/"})
report(s.expect(r"4 secrets listed\.") is not None and "PAGED:" not in s.out, "--no-pager prints directly")
s.wait()
s.close()

# 7. unseal asks the passphrase with echo off (keyfile mode reloads the key file).
subprocess.run([CTL, "seal"], check=True)
s = Session("unseal", user="root")
report(s.expect(r"Vault passphrase \(input is not shown\): ") is not None, "unseal asks for the passphrase")
report(not s.echo_on(), "the passphrase is read with echo off")
s.send("FAKE-passphrase-0000")
st = s.wait()
report(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 and "FAKE-passphrase" not in s.out,
       "unseal succeeds without echoing the passphrase")
report(s.echo_on(), "echo is on after unseal")
s.close()
sealed = subprocess.run([CTL, "status", "--json"], capture_output=True, text=True).stdout
report('"sealed":false' in sealed.replace(" ", ""), "the vault is unsealed")

sys.exit(1 if failures else 0)
