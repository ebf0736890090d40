#!/usr/bin/env python3
"""Build the bundled sample dataset ``resources/manpages/`` from Debian's manual pages.

Each document is one English manual page that a pinned Debian package installs: its NAME line
plus the beginning of its DESCRIPTION section, as plain text (roff and mdoc markup removed).
The label is the manual section, as a readable name (``1`` = ``user-command`` ...).

The script downloads the pinned packages with ``apt-get download`` (run ``apt-get update``
first), unpacks them with ``dpkg-deb -x`` into a scratch folder, parses the roff sources in
pure Python and writes ``manpages.tsv`` and ``README.md``.  It uses the standard library only
and is deterministic: two runs give byte-identical files.

    python scripts/build_manpages_dataset.py [--out resources/manpages] [--work /tmp/manpages-build]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEBIAN_RELEASE = "Debian 12 (bookworm)"
REBUILD_COMMAND = "python scripts/build_manpages_dataset.py --out resources/manpages"

# Pinned packages: (name, version) as `apt-cache policy` gave the candidate on Debian 12.
PACKAGES: tuple[tuple[str, str], ...] = (
    ("manpages", "6.03-2"),
    ("manpages-dev", "6.03-2"),
    ("freebsd-manpages", "12.2-1"),
    ("coreutils", "9.1-1"),
    ("util-linux", "2.38.1-5+deb12u3"),
    ("bsdextrautils", "2.38.1-5+deb12u3"),
    ("findutils", "4.9.0-4"),
    ("procps", "2:4.0.2-3"),
    ("psmisc", "23.6-1"),
    ("man-db", "2.11.2-2"),
    ("tar", "1.34+dfsg-1.2+deb12u1"),
    ("grep", "3.8-5"),
    ("sed", "4.9-1+deb12u1"),
    ("diffutils", "1:3.8-4"),
    ("gzip", "1.12-1"),
    ("xz-utils", "5.4.1-1+deb12u2"),
    ("file", "1:5.44-3"),
    ("wget", "1.21.3-1+deb12u1"),
    ("curl", "7.88.1-10+deb12u15"),
    ("rsync", "3.5.0+ds1-0+deb12u1"),
    ("less", "590-2.1~deb12u2"),
    ("make", "4.3-4.1"),
    ("gawk", "1:5.2.1-2"),
    ("strace", "6.1-0.1"),
    ("dpkg", "1.21.23"),
    ("apt", "2.6.2"),
    ("debianutils", "5.7-0.5~deb12u1"),
    ("bash", "5.2.15-2+b13"),
    ("tmux", "3.3a-3"),
    ("xterm", "379-1"),
    ("kbd", "2.5.1-1+b1"),
    ("login", "1:4.13+dfsg1-1+deb12u2"),
    ("passwd", "1:4.13+dfsg1-1+deb12u2"),
    ("sudo", "1.9.13p3-1+deb12u4"),
    ("cron", "3.0pl1-162"),
    ("openssh-client", "1:9.2p1-2+deb12u10"),
    ("openssh-server", "1:9.2p1-2+deb12u10"),
    ("openssl", "3.0.22-1~deb12u2"),
    ("git-man", "1:2.39.5-0+deb12u3"),
    ("groff-base", "1.22.4-10"),
    ("groff", "1.22.4-10"),
    ("mtools", "4.0.33-1+really4.0.32-1"),
    ("x11-utils", "7.7+5"),
    ("x11-xserver-utils", "7.7+9+b1"),
    ("graphviz", "2.42.2-7+deb12u1"),
    ("nmh", "1.8~RC2-2"),
    ("poppler-utils", "22.12.0-2+deb12u3"),
    ("ghostscript", "10.0.0~dfsg-11+deb12u9"),
    ("sharutils", "1:4.15.2-9"),
    ("moreutils", "0.67-1"),
    ("ncurses-bin", "6.4-4"),
    ("texinfo", "6.8-6+b1"),
    ("mailutils", "1:3.15-4"),
    ("libssl-doc", "3.0.22-1~deb12u2"),
    ("libcurl4-doc", "7.88.1-10+deb12u15"),
    ("libsystemd-dev", "252.39-1~deb12u2"),
    ("libbsd-dev", "0.11.7-2"),
    ("libpcap0.8-dev", "1.10.3-1"),
    ("libpam0g-dev", "1.5.2-6+deb12u2"),
    ("libcap-dev", "1:2.66-4+deb12u3+b1"),
    ("libibverbs-dev", "44.0-2"),
    ("mdadm", "4.2-5"),
    ("xserver-xorg-core", "2:21.1.7-3+deb12u13"),
    ("xserver-xorg-input-libinput", "1.2.1-1+b1"),
    ("xserver-xorg-input-evdev", "1:2.10.6-2+b1"),
    ("xserver-xorg-input-synaptics", "1.9.2-1+b1"),
    ("xserver-xorg-input-wacom", "1.1.0-1"),
    ("xserver-xorg-input-kbd", "1:1.9.0-1+b3"),
    ("xserver-xorg-input-mouse", "1:1.9.3-1+b1"),
    ("xserver-xorg-input-elographics", "1:1.4.3-1"),
    ("xserver-xorg-video-intel", "2:2.99.917+git20210115-1"),
    ("xserver-xorg-video-nouveau", "1:1.0.17-2"),
    ("xserver-xorg-video-amdgpu", "23.0.0-1"),
    ("xserver-xorg-video-ati", "1:19.1.0-3"),
    ("xserver-xorg-video-radeon", "1:19.1.0-3"),
    ("xserver-xorg-video-fbdev", "1:0.5.0-2"),
    ("xserver-xorg-video-vesa", "1:2.5.0-1+b1"),
    ("xserver-xorg-video-vmware", "1:13.3.0-3.1+b1"),
    ("systemd", "252.39-1~deb12u2"),
    ("udev", "252.39-1~deb12u2"),
    ("libsane-common", "1.2.1-2"),
    ("sane-utils", "1.2.1-2"),
    ("postfix", "3.7.11-0+deb12u1"),
    ("e2fsprogs", "1.47.0-2+b2"),
    ("xfsprogs", "6.1.0-1"),
    ("btrfs-progs", "6.2-1+deb12u2"),
    ("kmod", "30+20221128-1"),
    ("libpam-modules", "1.5.2-6+deb12u2"),
    ("libpam-runtime", "1.5.2-6+deb12u2"),
    ("cups-daemon", "2.4.2-3+deb12u9"),
    ("cups-client", "2.4.2-3+deb12u9"),
    ("iproute2", "6.1.0-3"),
    ("lvm2", "2.03.16-2"),
    ("iptables", "1.8.9-2"),
    ("nftables", "1.0.6-2+deb12u2"),
    ("exim4-base", "4.96-15+deb12u10"),
    ("nfs-common", "1:2.6.2-4+deb12u1"),
    ("nfs-kernel-server", "1:2.6.2-4+deb12u1"),
    ("net-tools", "2.10-0.1+deb12u2"),
    ("iputils-ping", "3:20221126-1+deb12u1"),
    ("open-iscsi", "2.1.8-1+deb12u1"),
    ("pciutils", "1:3.9.0-4"),
    ("usbutils", "1:014-1+deb12u1"),
    ("smartmontools", "7.3-1+b1"),
    ("hdparm", "9.65+ds-1"),
    ("dosfstools", "4.2-1"),
    ("fdisk", "2.38.1-5+deb12u3"),
    ("mount", "2.38.1-5+deb12u3"),
    ("sysvinit-utils", "3.06-4"),
    ("ppp", "2.4.9-1+1.1+b1"),
    ("wireless-tools", "30~pre9-14"),
    ("rdma-core", "44.0-2"),
    ("libcap2-bin", "1:2.66-4+deb12u3+b1"),
    ("chrony", "4.3-2+deb12u3"),
)

SECTION_LABELS: dict[int, str] = {
    1: "user-command",
    2: "system-call",
    3: "library-function",
    4: "device",
    5: "file-format",
    7: "overview",
    8: "admin-command",
}
MAX_DESCRIPTION_WORDS = 120
MIN_TEXT_WORDS = 8
CLASS_CAP = 1000

NOSPACE = "\x01"  # joins the words on either side (roff `\c`, mdoc `Ns`)
HARDSPACE = "\x02"  # a space that NOSPACE does not swallow (roff `\ `, `\~`, `\h'...'`)

# ---------------------------------------------------------------------------------------------
# roff escapes
# ---------------------------------------------------------------------------------------------

SIMPLE_ESCAPES: dict[str, str] = {
    "-": "-",
    "e": "\\",
    "E": "\\",
    "\\": "\\",
    ".": ".",
    "&": "",
    ")": "",
    " ": HARDSPACE,
    "~": HARDSPACE,
    "0": " ",
    "|": "",
    "^": "",
    ",": "",
    "/": "",
    "%": "",
    ":": "",
    "'": "'",
    "`": "`",
    "c": NOSPACE,
    "p": "",
    "t": " ",
    "a": "",
    "d": "",
    "u": "",
    "r": "",
    "{": "",
    "}": "",
    "!": "",
    "?": "",
    "z": "",
}

GLYPHS: dict[str, str] = {
    "em": "—",
    "en": "–",
    "hy": "-",
    "mi": "-",
    "aq": "'",
    "dq": '"',
    "lq": "“",
    "rq": "”",
    "oq": "‘",
    "cq": "’",
    "bq": "‚",
    "Bq": "„",
    "Fo": "«",
    "Fc": "»",
    "fo": "‹",
    "fc": "›",
    "bu": "•",
    "co": "©",
    "rg": "®",
    "tm": "™",
    "de": "°",
    "mu": "×",
    "di": "÷",
    "+-": "±",
    "pl": "+",
    "eq": "=",
    ">=": "≥",
    "<=": "≤",
    "!=": "≠",
    "==": "≡",
    "~~": "≈",
    "->": "→",
    "<-": "←",
    "<>": "↔",
    "rA": "⇒",
    "lA": "⇐",
    "ua": "↑",
    "da": "↓",
    "ga": "`",
    "ti": "~",
    "ha": "^",
    "rs": "\\",
    "sl": "/",
    "ba": "|",
    "or": "|",
    "at": "@",
    "sh": "#",
    "Do": "$",
    "ct": "¢",
    "Po": "£",
    "Ye": "¥",
    "Eu": "€",
    "eu": "€",
    "es": "∅",
    "if": "∞",
    "**": "*",
    "sc": "§",
    "ps": "¶",
    "dg": "†",
    "dd": "‡",
    "ss": "ß",
    "lh": "☜",
    "rh": "☞",
    "sq": "□",
    "ci": "○",
    "ul": "_",
    "ru": "_",
    "br": "|",
    "vb": "|",
    "aa": "´",
    "a-": "¯",
    "12": "½",
    "14": "¼",
    "34": "¾",
    "S1": "¹",
    "S2": "²",
    "S3": "³",
    "Of": "ª",
    "Om": "º",
    "r!": "¡",
    "r?": "¿",
    ".i": "ı",
    "AE": "Æ",
    "ae": "æ",
    "OE": "Œ",
    "oe": "œ",
    "/o": "ø",
    "/O": "Ø",
    "oa": "å",
    "oA": "Å",
    "Sd": "ð",
    "TP": "Þ",
    "Tp": "þ",
    "*a": "α",
    "*b": "β",
    "*g": "γ",
    "*d": "δ",
    "*e": "ε",
    "*l": "λ",
    "*m": "μ",
    "*p": "π",
    "*s": "σ",
    "*t": "τ",
    "*W": "Ω",
    "*D": "Δ",
    "*S": "Σ",
}
ACCENTS: dict[str, str] = {
    ":": "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    ",": "\u0327",
    "v": "\u030c",
}

DEFAULT_STRINGS: dict[str, str] = {
    "lq": "“",
    "rq": "”",
    "Lq": "“",
    "Rq": "”",
    "R": "®",
    "Tm": "™",
    "Aq": "'",
    "C`": '"',
    "C'": '"',
    'L"': '"',
    'R"': '"',
    "--": "—",
    "PI": "π",
    "Ba": "|",
    "Le": "≤",
    "Ge": "≥",
    "Lt": "<",
    "Gt": ">",
    "Ne": "≠",
    "Pi": "π",
    "If": "∞",
    "Am": "&",
    "Na": "NaN",
    "Px": "POSIX",
    "Ai": "ANSI",
}

# escapes taking a name (one char, `(xx` or `[name]`) that produce nothing
NAMED_DROPS = frozenset("fFmMnkgVY$")
# escapes taking a delimited argument, e.g. \h'-2n', that produce nothing (but \N)
DELIMITED_DROPS = frozenset("hvwlLoXDZbxHSNRAB")  # \h (horizontal motion) gives a space


def glyph(name: str) -> str:
    """Return the character for a roff special-character name such as ``em`` or ``u00E9``."""
    if name in GLYPHS:
        return GLYPHS[name]
    if re.fullmatch(r"u[0-9A-Fa-f]{4,6}(_[0-9A-Fa-f]{4,6})*", name):
        return "".join(chr(int(part.lstrip("u"), 16)) for part in name.split("_"))
    if name.startswith("char") and name[4:].isdigit():
        return chr(int(name[4:]))
    if len(name) == 2 and name[0] in ACCENTS and name[1].isalpha():
        return unicodedata.normalize("NFC", name[1] + ACCENTS[name[0]])
    return ""


def read_name(text: str, i: int) -> tuple[str, int]:
    """Read an escape's name at ``text[i]``: ``x``, ``(xx`` or ``[name]``; return it and the end."""
    if i >= len(text):
        return "", i
    if text[i] == "(":
        return text[i + 1 : i + 3], i + 3
    if text[i] == "[":
        end = text.find("]", i)
        end = len(text) if end < 0 else end
        return text[i + 1 : end], end + 1
    return text[i], i + 1


def skip_size(text: str, i: int) -> int:
    """Skip the argument of ``\\s`` (``-1``, ``+2``, ``(12``, ``[10]``, ``'12'``, ``0``)."""
    if i < len(text) and text[i] in "+-":
        i += 1
    if i >= len(text):
        return i
    if text[i] in "([":
        return read_name(text, i)[1]
    if text[i] == "'":
        end = text.find("'", i + 1)
        return len(text) if end < 0 else end + 1
    if i < len(text) and text[i].isdigit():
        legacy_two_digits = text[i] in "123" and i + 1 < len(text) and text[i + 1].isdigit()
        i += 2 if legacy_two_digits else 1
    return i


def skip_delimited(text: str, i: int) -> tuple[str, int]:
    """Read a delimited escape argument such as ``'-2n'``; return its content and the end."""
    if i >= len(text):
        return "", i
    delim = text[i]
    end = text.find(delim, i + 1)
    end = len(text) if end < 0 else end
    return text[i + 1 : end], end + 1


def strip_comment(line: str) -> str:
    """Cut a roff comment (``\\"`` or ``\\#``) off the line."""
    i = 0
    while i < len(line) - 1:
        if line[i] == "\\":
            if line[i + 1] in '"#':
                return line[:i]
            i += 2
        else:
            i += 1
    return line


def ends_with_continuation(line: str) -> bool:
    """True when the line ends with an unescaped backslash (the next line continues it)."""
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def logical_lines(source: str) -> list[str]:
    """Split roff source into lines with comments removed and ``\\``-newlines joined."""
    lines: list[str] = []
    buffer = ""
    for raw in source.split("\n"):
        line = strip_comment(raw.rstrip("\r"))
        if ends_with_continuation(line):
            buffer += line[:-1]
            continue
        lines.append(buffer + line)
        buffer = ""
    if buffer:
        lines.append(buffer)
    return lines


def split_args(text: str) -> list[tuple[str, bool]]:
    """Split a request's raw arguments into ``(raw_arg, was_quoted)`` pairs."""
    args: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        current: list[str] = []
        quoted = text[i] == '"'
        if quoted:
            i += 1
        while i < n:
            char = text[i]
            if char == "\\" and i + 1 < n:
                current.append(text[i : i + 2])
                i += 2
                continue
            if quoted and char == '"':
                if i + 1 < n and text[i + 1] == '"':
                    current.append('"')
                    i += 2
                    continue
                i += 1
                break
            if not quoted and char in " \t":
                break
            current.append(char)
            i += 1
        args.append(("".join(current), quoted))
    return args


# ---------------------------------------------------------------------------------------------
# mdoc
# ---------------------------------------------------------------------------------------------

MDOC_CALLABLE = frozenset(
    "Ac Ad An Ao Ap Aq Ar At Bc Bo Bq Brc Bro Brq Bsx Bx Cd Cm Dc Do Dq Dv Dx Ec Em Eo Er Ev "
    "Fa Fc Fl Fn Fo Fr Ft Fx Ic In Li Lk Ms Mt Nm No Ns Nx Oc Oo Op Ot Ox Pa Pc Pf Po Pq Qc "
    "Ql Qo Qq Sc Sm So Sq St Sx Sy Ta Tn Ux Va Vt Xc Xo Xr".split()
)
MDOC_DROP = frozenset(
    "Dd Dt Os Bl El Bd Ed Pp Lp Bk Ek Bf Ef Rs Re Db Tg Ud Ex Rv Hf Fd Lb In Ft Ot".split()
)
MDOC_WRAP: dict[str, tuple[str, str]] = {
    "Op": ("[", "]"),
    "Dq": ("“", "”"),
    "Qq": ('"', '"'),
    "Sq": ("‘", "’"),
    "Pq": ("(", ")"),
    "Aq": ("<", ">"),
    "Bq": ("[", "]"),
    "Brq": ("{", "}"),
    "Ql": ("‘", "’"),
}
MDOC_OPEN = {"Oo": "[", "Do": "“", "Po": "(", "So": "‘", "Ao": "<", "Bo": "[", "Bro": "{"}
MDOC_CLOSE = {"Oc": "]", "Dc": "”", "Pc": ")", "Sc": "’", "Ac": ">", "Bc": "]", "Brc": "}"}
MDOC_SYSTEMS = {
    "Bx": "BSD",
    "Fx": "FreeBSD",
    "Nx": "NetBSD",
    "Ox": "OpenBSD",
    "Dx": "DragonFly",
    "Bsx": "BSD/OS",
}
MDOC_STANDARDS = {
    "-ansiC": "ANSI X3.159-1989 (“ANSI C89”)",
    "-ansiC-89": "ANSI X3.159-1989 (“ANSI C89”)",
    "-isoC": "ISO/IEC 9899:1990 (“ISO C90”)",
    "-isoC-90": "ISO/IEC 9899:1990 (“ISO C90”)",
    "-isoC-99": "ISO/IEC 9899:1999 (“ISO C99”)",
    "-isoC-2011": "ISO/IEC 9899:2011 (“ISO C11”)",
    "-p1003.1": "IEEE Std 1003.1 (“POSIX.1”)",
    "-p1003.1-88": "IEEE Std 1003.1-1988 (“POSIX.1”)",
    "-p1003.1-90": "IEEE Std 1003.1-1990 (“POSIX.1”)",
    "-p1003.1-96": "ISO/IEC 9945-1:1996 (“POSIX.1”)",
    "-p1003.1-2001": "IEEE Std 1003.1-2001 (“POSIX.1”)",
    "-p1003.1-2004": "IEEE Std 1003.1-2004 (“POSIX.1”)",
    "-p1003.1-2008": "IEEE Std 1003.1-2008 (“POSIX.1”)",
    "-p1003.2": "IEEE Std 1003.2 (“POSIX.2”)",
    "-susv2": "Version 2 of the Single UNIX Specification (“SUSv2”)",
    "-susv3": "Version 3 of the Single UNIX Specification (“SUSv3”)",
    "-svid4": "System V Interface Definition, Fourth Edition (“SVID4”)",
    "-xpg4.2": "X/Open Portability Guide Issue 4, Version 2 (“XPG4.2”)",
    "-ieee754": "IEEE Std 754-1985",
}
OPEN_PUNCT = frozenset("([“‘<{")
CLOSE_PUNCT = frozenset({".", ",", ";", ":", ")", "]", "?", "!", "”", "’", ">", "}"})


def join_words(words: Iterable[str]) -> str:
    """Join rendered words with spaces, attaching punctuation and honouring ``NOSPACE``."""
    result = ""
    attach = True
    for word in words:
        if word == NOSPACE:
            attach = True
            continue
        if not word:
            continue
        if attach or word in CLOSE_PUNCT:
            result += word
        else:
            result += " " + word
        attach = word in OPEN_PUNCT
    return result


# ---------------------------------------------------------------------------------------------
# man(7) macros
# ---------------------------------------------------------------------------------------------

FONT_SPACED = frozenset({"B", "I", "SM", "SB", "R", "CW", "CR", "CB", "CI", "SS", "SY", "Ss"})
FONT_ALTERNATING = frozenset({"BR", "BI", "IB", "IR", "RB", "RI"})
TAGGED = frozenset({"IP", "Ip"})
LINKS_END = frozenset({"UE", "ME"})
COND_TRUE = frozenset({"n", "\\n(.g", "\\n[.g]"})
# requests that open a block to skip, and the name of the request that closes it
SKIP_BLOCKS = {"TS": "TE", "EQ": "EN", "PS": "PE", "de": ".", "de1": ".", "am": ".", "am1": "."}
TARGET_SECTIONS = ("NAME", "DESCRIPTION")


class RoffPage:
    """A minimal roff interpreter that keeps the text of the NAME and DESCRIPTION sections."""

    def __init__(self, source: str) -> None:
        self.lines = logical_lines(source)
        self.mdoc = any(line.startswith((".Dd", ".Sh ")) for line in self.lines)
        self.strings: dict[str, str] = {}
        self.chunks: dict[str, list[str]] = {name: [] for name in TARGET_SECTIONS}
        self.section: str | None = None
        self.seen: set[str] = set()
        self.pending_title = False
        self.skip_until: str | None = None
        self.skip_depth = 0
        self.last_condition = False
        self.first_name = ""
        self.spacing = True  # mdoc `.Sm off` turns spaces between words off
        self.done = False

    # -- driver ---------------------------------------------------------------------------

    def is_redirect(self) -> bool:
        """True for a ``.so`` stub that only points at another page."""
        for line in self.lines:
            stripped = line.strip()
            if stripped and stripped not in (".", "'"):
                return stripped.startswith((".so ", "'so "))
        return True

    def parse(self) -> tuple[str, str]:
        """Return the cleaned NAME line and DESCRIPTION text (either may be empty)."""
        for line in self.lines:
            if self.done:
                break
            self.feed(line)
        return clean_text(" ".join(self.chunks["NAME"])), clean_text(
            " ".join(self.chunks["DESCRIPTION"])
        )

    def feed(self, line: str) -> None:
        """Interpret one logical line."""
        if self.skip_depth:
            self.skip_depth += line.count("\\{") - line.count("\\}")
            self.skip_depth = max(self.skip_depth, 0)
            return
        if self.skip_until is not None:
            match = re.match(r"^[.']\s*([^\s\\]+)", line)
            if match is not None and match.group(1) == self.skip_until:
                self.skip_until = None
            return
        line = line.replace("\\}", "")
        if line.startswith((".", "'")):
            self.request(line)
        else:
            self.text_line(line)

    # -- text and requests ----------------------------------------------------------------

    def emit(self, text: str) -> None:
        """Add rendered text to the current section, when it is one we keep."""
        if self.section in self.chunks and text.strip():
            self.chunks[self.section].append(text)

    def text_line(self, line: str) -> None:
        """Handle a line of running text."""
        if self.pending_title:
            self.pending_title = False
            self.start_section(self.unescape(line))
            return
        self.emit(self.unescape(line))

    def request(self, line: str) -> None:
        """Handle a control line (``.XX args``)."""
        match = re.match(r"^[.']\s*([^\s\\]*)(.*)$", line)
        if match is None or not match.group(1):
            return
        name, rest = match.group(1), match.group(2)
        if name in ("if", "ie", "el", "while"):
            self.conditional(name, rest)
        elif name in SKIP_BLOCKS:
            self.skip_until = SKIP_BLOCKS[name]
        elif name == "ig":
            marker = rest.split()
            self.skip_until = marker[0] if marker else "."
        elif name in ("ds", "ds1", "as"):
            self.define_string(name, rest)
        elif name in ("SH", "Sh"):
            title = self.unescape(" ".join(arg for arg, _ in split_args(rest)))
            if title.strip():
                self.start_section(title)
            else:
                self.pending_title = True
        else:
            args = split_args(rest)
            if self.mdoc and name == "Nm" and args and not self.first_name:
                self.first_name = self.unescape(args[0][0])
            if self.section in self.chunks:
                rendered = self.mdoc_macro(name, args) if self.mdoc else self.man_macro(name, args)
                if rendered:
                    self.emit(rendered)

    def conditional(self, name: str, rest: str) -> None:
        """Handle ``.if``/``.ie``/``.el``: nroff conditions are true, most others false."""
        if name == "el":
            condition, body = not self.last_condition, rest
        else:
            parts = rest.lstrip().split(None, 1)
            token = parts[0] if parts else ""
            body = parts[1] if len(parts) > 1 else ""
            if token.endswith("\\{"):  # `.if n\{` written without a space
                token, body = token[:-2], "\\{" + body
            condition = evaluate_condition(token) and name != "while"
            if name == "ie":
                self.last_condition = condition
        body = body.lstrip()
        if body.startswith("\\{"):
            body = body[2:]
            if not condition:
                self.skip_depth = max(1 + body.count("\\{") - body.count("\\}"), 0)
                return
        if condition and body.strip():
            self.feed(body)

    def define_string(self, name: str, rest: str) -> None:
        """Handle ``.ds name value`` and ``.as name value``."""
        parts = rest.lstrip().split(None, 1)
        if not parts:
            return
        value = parts[1] if len(parts) > 1 else ""
        if value.startswith('"'):
            value = value[1:]
        value = self.unescape(value)
        if name == "as":
            value = self.strings.get(parts[0], "") + value
        self.strings[parts[0]] = value

    def start_section(self, title: str) -> None:
        """Enter a new ``.SH`` section; stop once DESCRIPTION has been read."""
        title = " ".join(title.split()).upper().rstrip(":")
        if self.section == "DESCRIPTION" and self.chunks["DESCRIPTION"]:
            self.done = True
        if title in self.seen and title in self.chunks:
            title = title + " (again)"
        self.seen.add(title)
        self.section = title

    # -- macro rendering ------------------------------------------------------------------

    def man_macro(self, name: str, args: list[tuple[str, bool]]) -> str:
        """Render a man(7) macro line to text ('' for layout macros)."""
        texts = [self.unescape(arg) for arg, _ in args]
        if name in FONT_SPACED:
            return " ".join(texts)
        if name in FONT_ALTERNATING:
            return "".join(texts)
        if name in TAGGED:
            tag = texts[0] if texts else ""
            return tag if re.search(r"\w", tag) else ""
        if name in LINKS_END:
            return "".join(texts)
        if name == "OP":
            return "[" + " ".join(texts) + "]"
        return ""

    def mdoc_macro(self, name: str, args: list[tuple[str, bool]]) -> str:
        """Render an mdoc(7) macro line to text ('' for layout macros)."""
        if name == "Sm":
            self.spacing = (args[0][0] != "off") if args else not self.spacing
            return ""
        if name in MDOC_DROP or name.startswith("%"):
            return ""
        if name == "Nd":
            return "- " + " ".join(self.unescape(arg) for arg, _ in args)
        if name in ("It", "D1", "Dl", "Ss"):
            return self.mdoc_words(args)
        if name in MDOC_CALLABLE:
            return self.mdoc_words([(name, False), *args])
        return ""

    def mdoc_words(self, tokens: Sequence[tuple[str, bool]]) -> str:
        """Render a run of mdoc tokens (macros and their arguments)."""
        return self.mdoc_join(self.mdoc_render(list(tokens)))

    def mdoc_join(self, words: list[str]) -> str:
        """Join words, without spaces while ``.Sm off`` is in force."""
        if not self.spacing:
            words = [part for word in words for part in (word, NOSPACE)]
        return join_words(words)

    def mdoc_render(self, tokens: list[tuple[str, bool]]) -> list[str]:
        """Interpret mdoc tokens into words."""
        words: list[str] = []
        i = 0
        while i < len(tokens):
            raw, quoted = tokens[i]
            if quoted or raw not in MDOC_CALLABLE:
                words.append(self.unescape(raw))
                i += 1
                continue
            if raw in MDOC_WRAP:
                end = len(tokens)
                while end > i + 1 and is_delimiter(tokens[end - 1]):
                    end -= 1
                opening, closing = MDOC_WRAP[raw]
                inner = self.mdoc_join(self.mdoc_render(tokens[i + 1 : end]))
                words.append(opening + inner + closing)
                i = end
                continue
            i = self.mdoc_callable(raw, tokens, i + 1, words)
        return words

    def mdoc_args(self, tokens: list[tuple[str, bool]], i: int) -> tuple[list[str], int]:
        """Collect the plain arguments at ``tokens[i:]`` up to the next macro or delimiter."""
        args: list[str] = []
        while i < len(tokens):
            raw, quoted = tokens[i]
            if not quoted and (raw in MDOC_CALLABLE or is_delimiter(tokens[i])):
                break
            args.append(self.unescape(raw))
            i += 1
        return args, i

    def mdoc_callable(
        self, name: str, tokens: list[tuple[str, bool]], i: int, words: list[str]
    ) -> int:
        """Render one callable mdoc macro whose arguments start at ``tokens[i]``."""
        if name in MDOC_OPEN:
            words.append(MDOC_OPEN[name])
            return i
        if name in MDOC_CLOSE:
            words.append(MDOC_CLOSE[name])
            return i
        if name == "Ns":
            words.append(NOSPACE)
            return i
        args, end = self.mdoc_args(tokens, i)
        words.extend(self.mdoc_special(name, args))
        return end

    def mdoc_special(self, name: str, args: list[str]) -> list[str]:
        """Words for a callable mdoc macro with its plain arguments."""
        if name == "Fl":
            return ["-" + arg for arg in args] or ["-"]
        if name == "Nm":
            return args or [self.first_name]
        if name == "Xr":
            rest = args[2:]
            return [f"{args[0]}({args[1]})", *rest] if len(args) >= 2 else args
        if name == "Fn":
            return [f"{args[0]}({', '.join(args[1:])})"] if args else []
        if name == "Fo":
            return [f"{args[0]}(", NOSPACE] if args else []
        if name == "Fc":
            return [NOSPACE, ")"]
        if name == "Pf":
            return [args[0], NOSPACE, *args[1:]] if args else []
        if name == "St":
            return [MDOC_STANDARDS.get(args[0], args[0].lstrip("-")), *args[1:]] if args else []
        if name in MDOC_SYSTEMS:
            return mdoc_system(name, args)
        if name == "At":
            return [at_and_t(args[0]) if args else "AT&T UNIX", *args[1:]]
        if name == "Ux":
            return ["UNIX", *args]
        if name == "Ar":
            return args or ["file ..."]
        if name == "Pa":
            return args or ["~"]
        if name == "Ap":
            return [NOSPACE, "'", NOSPACE, *args]
        return args

    # -- escapes --------------------------------------------------------------------------

    def unescape(self, text: str) -> str:
        """Replace roff escapes in ``text`` by plain characters."""
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            char = text[i]
            if char != "\\" or i + 1 >= n:
                out.append(char)
                i += 1
                continue
            code = text[i + 1]
            i += 2
            if code in SIMPLE_ESCAPES:
                out.append(SIMPLE_ESCAPES[code])
            elif code in "([":
                name, i = read_name(text, i - 1)
                out.append(glyph(name))
            elif code == "*":
                name, i = read_name(text, i)
                out.append(self.strings.get(name, DEFAULT_STRINGS.get(name, "")))
            elif code in NAMED_DROPS:
                if code == "n" and i < n and text[i] in "+-":
                    i += 1
                i = read_name(text, i)[1]
            elif code == "s":
                i = skip_size(text, i)
            elif code in DELIMITED_DROPS:
                content, i = skip_delimited(text, i)
                if code == "N" and content.isdigit():
                    out.append(chr(int(content)))
                elif code == "h":
                    out.append(HARDSPACE)
            elif code in '"#':
                break
            else:
                out.append(code)
        return "".join(out)


def evaluate_condition(token: str) -> bool:
    """Evaluate a roff condition the way nroff (groff in terminal mode) would, roughly."""
    negate = token.startswith("!")
    token = token[1:] if negate else token
    if token in COND_TRUE:
        value = True
    elif token.isdigit():
        value = int(token) > 0
    else:
        value = False
    return value != negate


def is_delimiter(token: tuple[str, bool]) -> bool:
    """True for an unquoted mdoc delimiter token such as ``.`` or ``)``."""
    raw, quoted = token
    return not quoted and (raw in CLOSE_PUNCT or raw in OPEN_PUNCT or raw == "|")


def mdoc_system(name: str, args: list[str]) -> list[str]:
    """``.Bx 4.4`` -> ``4.4BSD``, ``.Fx 5.0`` -> ``FreeBSD 5.0``."""
    system = MDOC_SYSTEMS[name]
    if not args:
        return [system]
    if name == "Bx":
        return [args[0] + system, *args[1:]]
    return [f"{system} {args[0]}", *args[1:]]


def at_and_t(version: str) -> str:
    """``v7`` -> ``Version 7 AT&T UNIX``; ``V.4`` -> ``AT&T System V Release 4 UNIX``."""
    match = re.fullmatch(r"v(\d+)", version)
    if match:
        return f"Version {match.group(1)} AT&T UNIX"
    match = re.fullmatch(r"V(?:\.(\d))?", version)
    if match:
        release = f" Release {match.group(1)}" if match.group(1) else ""
        return f"AT&T System V{release} UNIX"
    return f"AT&T UNIX {version}"


def clean_text(text: str) -> str:
    """Apply ``NOSPACE`` joins, drop control characters and normalise whitespace."""
    text = re.sub(NOSPACE + r"\s*", "", text)
    text = re.sub(r"[\x00-\x1f\x7f\u00ad\u200b]", " ", text)
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManFile:
    """One English manual page file inside an extracted package."""

    package: str
    section: int
    page: str
    path: Path


@dataclass(frozen=True)
class Document:
    """One row of the dataset."""

    package: str
    section: int
    page: str
    text: str


def decode(data: bytes) -> str:
    """Decode a man page: UTF-8 when valid, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_source(path: Path) -> str:
    """Read a (possibly gzip-compressed) roff source."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return decode(data)


def iter_man_files(package: str, root: Path) -> Iterator[ManFile]:
    """Yield the English pages of sections 1-8 (not 6) that are regular files, sorted."""
    for section in sorted(SECTION_LABELS):
        directory = root / "usr" / "share" / "man" / f"man{section}"
        if not directory.is_dir():
            continue
        pattern = re.compile(rf"^(.+)\.({section}[A-Za-z0-9_+-]*)(?:\.gz)?$")
        for entry in sorted(directory.iterdir()):
            match = pattern.match(entry.name)
            if match is None or entry.is_symlink() or not entry.is_file():
                continue
            yield ManFile(package, section, f"{match.group(1)}.{match.group(2)}", entry)


def compose_text(name_line: str, description: str) -> str:
    """NAME line, then the first ``MAX_DESCRIPTION_WORDS`` words of DESCRIPTION."""
    words = description.split()[:MAX_DESCRIPTION_WORDS]
    if not name_line or not words:
        return ""
    separator = " " if name_line[-1] in ".!?:;" else ". "
    return name_line + separator + " ".join(words)


def page_document(man: ManFile) -> Document | None:
    """Parse one page into a document, or None for stubs and pages without usable text."""
    page = RoffPage(read_source(man.path))
    if page.is_redirect():
        return None
    name_line, description = page.parse()
    text = compose_text(name_line, description)
    if len(text.split()) < MIN_TEXT_WORDS:
        return None
    return Document(man.package, man.section, man.page, text)


def spread(items: list[Document], cap: int) -> list[Document]:
    """Keep at most ``cap`` items, evenly spread over the (already sorted) list."""
    if len(items) <= cap:
        return items
    return [items[i * len(items) // cap] for i in range(cap)]


def select_documents(documents: list[Document]) -> list[Document]:
    """One document per page name and per text, then at most ``CLASS_CAP`` per section."""
    order = {name: index for index, (name, _) in enumerate(PACKAGES)}
    ranked = sorted(documents, key=lambda d: (d.section, d.page, order[d.package]))
    pages: set[str] = set()
    texts: set[str] = set()
    unique: list[Document] = []
    for document in ranked:
        if document.page in pages or document.text in texts:
            continue
        pages.add(document.page)
        texts.add(document.text)
        unique.append(document)
    selected: list[Document] = []
    for section in sorted(SECTION_LABELS):
        selected.extend(spread([d for d in unique if d.section == section], CLASS_CAP))
    return selected


# ---------------------------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------------------------


def deb_path(debs: Path, name: str, version: str) -> Path | None:
    """The downloaded ``.deb`` for ``name=version``, if present."""
    quoted = version.replace(":", "%3a")
    matches = sorted(debs.glob(f"{name}_{quoted}_*.deb"))
    return matches[0] if matches else None


def download_packages(debs: Path) -> dict[str, Path]:
    """Run ``apt-get download`` for the pinned packages that are not downloaded yet."""
    debs.mkdir(parents=True, exist_ok=True)
    missing = [f"{n}={v}" for n, v in PACKAGES if deb_path(debs, n, v) is None]
    if missing:
        print(f"downloading {len(missing)} packages with apt-get download", file=sys.stderr)
        result = subprocess.run(
            ["apt-get", "download", *missing], cwd=debs, capture_output=True, text=True
        )
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(
                "apt-get download failed: run `apt-get update` first; a pinned version may "
                "also have left the archive (update PACKAGES from `apt-cache policy`)"
            )
    paths: dict[str, Path] = {}
    for name, version in PACKAGES:
        path = deb_path(debs, name, version)
        if path is None:
            raise SystemExit(f"{name}={version} was not downloaded")
        paths[name] = path
    return paths


def extract_packages(debs: dict[str, Path], roots: Path) -> dict[str, Path]:
    """Unpack each ``.deb`` into a fresh ``roots/<package>`` folder with ``dpkg-deb -x``."""
    if roots.exists():
        shutil.rmtree(roots)
    extracted: dict[str, Path] = {}
    for name, deb in debs.items():
        target = roots / name
        target.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
        extracted[name] = target
    return extracted


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# licences
# ---------------------------------------------------------------------------------------------

FREEFORM_LICENCES: tuple[tuple[str, str], ...] = (
    (r"Permission is hereby granted, free of charge", "MIT/X11-style permission notice"),
    (r"Permission to use, copy, modify,? (?:and/or |and )?distribute", "ISC/MIT-style notice"),
    (r"Redistribution and use in source and binary forms", "BSD-style"),
    (r"GNU (?:Lesser|Library) General Public License", "LGPL"),
    (r"GNU General Public License", "GPL"),
    (r"GNU Free Documentation License", "GFDL"),
    (r"[Pp]ublic [Dd]omain", "public-domain"),
)


def find_copyright(package: str, roots: dict[str, Path]) -> tuple[Path | None, str]:
    """Locate ``usr/share/doc/<package>/copyright``, following a doc-dir symlink if needed.

    Returns the file and, when it lives in another package's tree, that package's name.
    """
    doc = roots[package] / "usr" / "share" / "doc" / package
    if doc.is_symlink():
        target = Path(os.readlink(doc)).name
        for other, root in roots.items():
            candidate = root / "usr" / "share" / "doc" / target / "copyright"
            if candidate.is_file() and not (root / "usr" / "share" / "doc" / target).is_symlink():
                return candidate, other
        return None, ""
    candidate = doc / "copyright"
    return (candidate, "") if candidate.is_file() else (None, "")


def dep5_licences(text: str) -> tuple[list[str], list[str]]:
    """From a machine-readable copyright file: the ``Files: *`` licences and all licences."""
    main: list[str] = []
    everything: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        fields = dep5_fields(paragraph)
        licence = fields.get("License", "").split("\n")[0].strip()
        if not licence:
            continue
        everything.append(licence)
        if "*" in fields.get("Files", "").split():
            main.append(licence)
    return distinct(main), distinct(everything)


def dep5_fields(paragraph: str) -> dict[str, str]:
    """Fields of one copyright-format paragraph; continuation lines are joined with newlines."""
    fields: dict[str, str] = {}
    current = ""
    for line in paragraph.splitlines():
        match = re.match(r"^([A-Za-z-]+):[ \t]*(.*)$", line)
        if match is not None:
            current = match.group(1)
            fields[current] = match.group(2)
        elif current and line[:1] in (" ", "\t"):
            fields[current] += "\n" + line.strip()
    return fields


def freeform_licences(text: str) -> list[str]:
    """Licences named by a free-form copyright file (common-licenses references and notices)."""
    names = re.findall(r"common-licenses/([\w.+-]+)", text)
    found = [f"{name.rstrip('.')} (common-licenses)" for name in names]
    for pattern, name in FREEFORM_LICENCES:
        if re.search(pattern, text):
            found.append(name)
    return distinct(found)


def distinct(items: Iterable[str]) -> list[str]:
    """Case-insensitively distinct items, sorted."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return sorted(seen.values(), key=str.casefold)


@dataclass(frozen=True)
class Licence:
    """The licence information of one package."""

    main: list[str]
    everything: list[str]
    note: str


def package_licence(package: str, roots: dict[str, Path]) -> Licence:
    """Read a package's copyright file and summarise its licences."""
    path, via = find_copyright(package, roots)
    if path is None:
        return Licence([], [], "no copyright file found")
    text = path.read_text(encoding="utf-8", errors="replace")
    note = f"copyright file of `{via}`" if via else ""
    if text.startswith("Format:"):
        main, everything = dep5_licences(text)
        return Licence(main, everything, note)
    note = "; ".join(filter(None, [note, "free-form file: licences recognised in its text"]))
    return Licence([], freeform_licences(text), note)


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------


def tsv_bytes(documents: list[Document]) -> bytes:
    """The dataset as TSV (csv-module quoting for fields that contain a double quote)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["page", "section", "text"])
    for document in documents:
        writer.writerow([document.page, SECTION_LABELS[document.section], document.text])
    return buffer.getvalue().encode("utf-8")


def markdown_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    """Lines of a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    return lines


def readme_text(
    documents: list[Document],
    size: int,
    licences: dict[str, Licence],
    hashes: dict[str, str],
) -> str:
    """The README that documents the dataset."""
    counts = Counter(d.section for d in documents)
    per_package: dict[str, Counter[int]] = {name: Counter() for name, _ in PACKAGES}
    for document in documents:
        per_package[document.package][document.section] += 1
    class_rows = [[SECTION_LABELS[s], str(s), str(counts[s])] for s in sorted(SECTION_LABELS)] + [
        ["**total**", "", f"**{len(documents)}**"]
    ]
    package_rows = []
    for name, version in PACKAGES:
        used = ", ".join(f"{s}: {c}" for s, c in sorted(per_package[name].items())) or "—"
        licence = licences[name]
        package_rows.append(
            [
                f"`{name}`",
                f"`{version}`",
                used,
                ", ".join(licence.main) or "—",
                ", ".join(licence.everything) or "—",
                licence.note,
            ]
        )
    values = {
        "total": len(documents),
        "size": size,
        "release": DEBIAN_RELEASE,
        "words": MAX_DESCRIPTION_WORDS,
        "min_words": MIN_TEXT_WORDS,
        "cap": CLASS_CAP,
        "command": REBUILD_COMMAND,
        "count": len(PACKAGES),
    }
    lines = README_HEAD.format(**values).splitlines()
    lines += markdown_table(["section (label)", "manual section", "documents"], class_rows)
    lines += README_MIDDLE.format(**values).splitlines()
    header = ["package", "version", "documents used (section: n)", "`Files: *` licence"]
    header += ["all licences in its copyright file", "note"]
    lines += markdown_table(header, package_rows)
    lines += README_TAIL.splitlines()
    lines += ["```"] + [f"{hashes[name]}  {hashes[name + '#file']}" for name, _ in PACKAGES]
    lines += ["```", ""]
    return "\n".join(lines)


README_HEAD = """\
# Manual pages by section (sample dataset)

A small, real, labelled text-classification dataset: {total} English manual pages installed by
{release} packages.  Each document is the page's NAME line plus the beginning of its
DESCRIPTION section as plain text; the label is the page's manual section.

File: `manpages.tsv` ({size} bytes), UTF-8 without BOM, tab-separated, `\\n` line ends, one
header row and then one document per line, sorted by section and then page name.

| column | content |
|---|---|
| `page` | the page's file name without `.gz`: `open.2`, `SSL_get_certificate.3ssl`, ... |
| `section` | the label (below) |
| `text` | the NAME line, then the first {words} words of DESCRIPTION |

The text never contains a tab or a newline.  Fields are written with Python's `csv` module
(`delimiter="\\t"`, minimal quoting): a text that contains a double quote `"` is wrapped in
double quotes with inner quotes doubled, as every CSV/TSV reader (Python `csv`, pandas,
Embedding Studio's `tsv` reader) expects.

## Classes

"""

README_MIDDLE = """
Only plain sections 1, 2, 3, 4, 5, 7 and 8 are used (6 and 9 are skipped); a page belongs to
the section of the `man<N>` folder it is installed in, so `SSL_get_certificate.3ssl` is in
section 3 and `em.4freebsd` in section 4.  A class with more than {cap} pages after
de-duplication keeps {cap} of them, evenly spread over the pages sorted by name (this only
applies to section 3).  The {words}-word limit and this cap keep the file under 3 MB.

How each document is made:

- Only English pages: `usr/share/man/man<N>/*` of each package, never the translated
  `usr/share/man/<lang>/` folders.  Symbolic links and `.so` redirect stubs are skipped.
- The roff source (man(7) or mdoc(7)) is interpreted by a small pure-Python reader: font and
  text macros (`.B`, `.BR`, `.I`, `.IR`, `.Nm`, `.Nd`, `.Fl`, `.Fn`, `.Xr`, ...) keep their
  arguments, layout macros (`.PP`, `.TP`, `.RS`, `.sp`, ...), tables, macro definitions and
  comments are dropped, escapes become characters (`\\-` -> `-`, `\\(em` -> `—`) or go (`\\fB`).
- Text = NAME line + `. ` + the first {words} words of DESCRIPTION, whitespace normalised.
  Pages without a NAME or DESCRIPTION section, or with fewer than {min_words} words, are left
  out.  The section number is not part of the text (cross-references such as `open(2)` in the
  running text are kept as written).
- A page name that two packages install is taken once (from the package listed first below);
  identical texts are kept once.

Section 2 and section 4 include FreeBSD's pages from Debian's `freebsd-manpages` package
(file names ending in `freebsd`): Linux ships few section-4 pages, so most `device` documents
are FreeBSD drivers; section 2 mixes Linux and FreeBSD system calls.

## Rebuilding

```
sudo apt-get update        # once, so that apt knows the pinned versions
{command}
```

(`--work DIR` picks the scratch folder, default `/tmp/manpages-build`; the script needs
`apt-get` and `dpkg-deb`, i.e. a Debian system, and Python 3.11 without third-party
packages.)  The build is deterministic: two runs give byte-identical files.  It downloads
{count} packages of {release} (main, with its `-updates` and `-security` suites) at the pinned
versions below; when a pinned version has been superseded in the archive, `apt-get download`
fails and the pins in `PACKAGES` at the top of the script must be updated.

## Packages, versions and licences

Every page keeps the licence of the Debian package that ships it.  The excerpts in
`manpages.tsv` are redistributed under those licences, as parts of Debian's free (main)
packages; the `page` column tells which page each row comes from and the table below which
package installs it.  The licence columns list the distinct `License:` lines of each
package's `/usr/share/doc/<package>/copyright` file as extracted from the `.deb` (the
`Files: *` stanza separately, which usually covers the documentation); for copyright files
that are not machine-readable, the licences named in their text are listed.

"""

README_TAIL = """
SHA-256 of the downloaded `.deb` files:

"""


def write_outputs(
    out: Path, documents: list[Document], roots: dict[str, Path], debs: dict[str, Path]
) -> int:
    """Write ``manpages.tsv`` and ``README.md``; return the TSV size in bytes."""
    out.mkdir(parents=True, exist_ok=True)
    data = tsv_bytes(documents)
    (out / "manpages.tsv").write_bytes(data)
    licences = {name: package_licence(name, roots) for name, _ in PACKAGES}
    hashes: dict[str, str] = {}
    for name, _ in PACKAGES:
        hashes[name] = sha256(debs[name])
        hashes[name + "#file"] = debs[name].name
    readme = readme_text(documents, len(data), licences, hashes)
    (out / "README.md").write_bytes(readme.encode("utf-8"))
    return len(data)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("resources/manpages"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/manpages-build"))
    return parser.parse_args(argv)


def collect_documents(roots: dict[str, Path]) -> list[Document]:
    """Parse every English page of every package."""
    documents: list[Document] = []
    for name, _ in PACKAGES:
        for man in iter_man_files(name, roots[name]):
            document = page_document(man)
            if document is not None:
                documents.append(document)
    return documents


def main(argv: Sequence[str] | None = None) -> int:
    """Build the dataset."""
    args = parse_args(argv)
    debs = download_packages(args.work / "debs")
    roots = extract_packages(debs, args.work / "root")
    parsed = collect_documents(roots)
    documents = select_documents(parsed)
    size = write_outputs(args.out, documents, roots, debs)
    counts = Counter(d.section for d in documents)
    print(f"parsed {len(parsed)} pages; kept {len(documents)} documents; {size} bytes")
    for section in sorted(SECTION_LABELS):
        print(f"  {section} {SECTION_LABELS[section]:<17} {counts[section]:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
