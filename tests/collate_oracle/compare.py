#!/usr/bin/python3
"""Differential test of router__collate_key against Go's x/text itself.

Generates strings (every code point alone and after a base letter, then
seeded random mixes across scripts: Latin, Greek, Cyrillic, Hebrew, Arabic
and its presentation forms, Indic, Thai, Tibetan, CJK, Hangul syllables and
jamo, compatibility and width variants, combining marks in and out of
canonical order, contraction starts, emoji, unassigned and private-use code
points, spaces and tabs, invalid UTF-8), feeds them to the Go oracle
(oracle.go) and the C one (ckey.c) and compares line by line.

Expected differences: Debian's x/text 0.7.0 and Go 1.19 carry Unicode 13.0
normalization data, Ideographic property and IsPrint table, where librouter
uses Unicode 15.0.0 (as the Vitess builds do, SPEC.md).  A key may differ
when the string holds an ideograph assigned in Unicode 14.0 or 15.0
(DerivedAge.txt, PropList.txt: its implicit weight) or a combining mark
assigned then (a contraction may skip it in 15.0 where 13.0 sees an
unassigned starter), an error message when
it holds any code point assigned in 14.0 or 15.0 (Go's %q escapes what its
IsPrint does not know); those are counted apart and do not fail the test.
Any other difference fails it.  An error message librouter cut (it ends
in '"...' after the closing quote of a prefix of Go's) counts as equal.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

UCD = '/usr/share/unicode'


def new_in_14_15():
    s = set()
    with open(UCD + '/DerivedAge.txt') as f:
        for line in f:
            line = line.split('#')[0].strip()
            if not line:
                continue
            rng, age = [x.strip() for x in line.split(';')]
            if age in ('14.0', '15.0'):
                lo, _, hi = rng.partition('..')
                s.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return s


def ideographic_new_in_14_15(newer):
    s = set()
    with open(UCD + '/PropList.txt') as f:
        for line in f:
            line = line.split('#')[0].strip()
            if not line or line.split(';')[1].strip() != 'Ideographic':
                continue
            lo, _, hi = line.split(';')[0].strip().partition('..')
            s.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return s & newer


def nonstarters_new_in_14_15(newer):
    s = set()
    with open(UCD + '/UnicodeData.txt') as f:
        for line in f:
            fl = line.split(';')
            if int(fl[3]) != 0:
                s.add(int(fl[0], 16))
    return s & newer


def cps(lo, hi):
    return [c for c in range(lo, hi + 1) if not 0xD800 <= c < 0xE000]


POOLS = {
    'ascii': [c for c in range(0x20, 0x7F)] + [0x09, 0x0A, 0x00, 0x7F],
    'latin': cps(0xC0, 0x24F) + cps(0x1E00, 0x1EFF),
    'combining': cps(0x300, 0x36F) + cps(0x1AB0, 0x1AFF) +
    cps(0x1DC0, 0x1DFF) + cps(0x20D0, 0x20FF) + [0x0F71, 0x0F72, 0x0F74,
                                                0x0F80, 0x05B0, 0x0651],
    'greek': cps(0x370, 0x3FF) + cps(0x1F00, 0x1FFF),
    'cyrillic': cps(0x400, 0x52F),
    'hebrew': cps(0x591, 0x5F4),
    'arabic': cps(0x600, 0x6FF) + cps(0xFB50, 0xFDFF) + cps(0xFE70, 0xFEFF),
    'indic': cps(0x900, 0xDFF),
    'thai': cps(0xE00, 0xEFF),
    'tibetan': cps(0xF00, 0xFFF),
    'cjk': cps(0x4E00, 0x9FFF) + cps(0x3400, 0x4DBF) +
    cps(0x20000, 0x2A6DF) + cps(0xF900, 0xFAFF) + cps(0x2F00, 0x2FDF) +
    cps(0x3000, 0x30FF),
    'hangul': cps(0xAC00, 0xD7A3) + cps(0x1100, 0x11FF) +
    cps(0x3130, 0x318F),
    'compat': cps(0xFF00, 0xFFEF) + cps(0x3300, 0x33FF) +
    cps(0x2460, 0x24FF) + cps(0x1D400, 0x1D7FF) + [0xFDFA, 0xFB01, 0x2126,
                                                   0x212B, 0x1C4, 0x1C9],
    'contraction': [ord('l'), ord('L'), 0xB7, 0x387, 0x627, 0x648, 0x64A,
                    0x653, 0x654, 0x655, 0x0E40, 0x0E01, 0x0EC0, 0x0E81,
                    0x0F71, 0x0F72, 0x0FB2, 0x0FB3, 0x0F80, 0x0F81],
    'emoji': cps(0x1F300, 0x1FAFF) + [0x200D, 0xFE0F, 0x2764, 0x1F3FB],
    'unassigned': [0x378, 0x379, 0x2FFFF, 0xE0080, 0x10FFFF, 0xFFFF,
                   0x50000, 0x3FFFD, 0x1FFFE, 0x0870, 0x31350, 0x9FFE,
                   0xE000, 0xF8FF, 0x100000],
    'space': [0x20, 0x20, 0x09, 0xA0, 0x3000, 0x2003],
}


def random_string(rng):
    names = list(POOLS)
    k = rng.randint(1, 4)
    chosen = [rng.choice(names) for _ in range(k)]
    out = []
    for _ in range(rng.randint(1, 24)):
        pool = POOLS[rng.choice(chosen)]
        out.append(rng.choice(pool))
        # runs of combining marks, in and out of order
        if rng.random() < 0.25:
            for _ in range(rng.randint(1, 5)):
                out.append(rng.choice(POOLS['combining']))
    b = ''.join(map(chr, out)).encode('utf-8')
    r = rng.random()
    if r < 0.05:
        # invalid UTF-8: a stray, truncated, overlong or surrogate form
        bad = rng.choice([b'\xff', b'\x80', b'\xc3', b'\xe2\x82', b'\xc0\xaf',
                          b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'\xf8'])
        i = rng.randint(0, len(b))
        b = b[:i] + bad + b[i:]
    elif r < 0.15:
        b += rng.choice([b' ', b'  ', b'\t', b' \t', b'\t ', b'\xc2\xa0'])
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--go', required=True)
    ap.add_argument('--c', required=True)
    ap.add_argument('--random', type=int, default=200000)
    ap.add_argument('--seed', type=int, default=1915)
    ap.add_argument('--corpus', action='append', default=[],
                    help='also every file of this directory (a fuzz corpus)')
    a = ap.parse_args()

    rng = random.Random(a.seed)
    inputs = []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c).encode('utf-8')
        inputs.append(ch)
    for c in cps(0x80, 0x2FFFF):
        inputs.append(b'a' + chr(c).encode('utf-8') + b'b')
        inputs.append(b'l' + chr(c).encode('utf-8') + b'\xc2\xb7')
    for _ in range(a.random):
        inputs.append(random_string(rng))
    # long runs of marks (past the 30 the iterator may hold back), after
    # letters and contraction starts
    for _ in range(a.random // 20):
        base = rng.choice(POOLS['contraction'] + POOLS['latin'][:50])
        marks = [rng.choice(POOLS['combining'])
                 for _ in range(rng.randint(20, 70))]
        tail = rng.choice(POOLS['contraction'] + [0x61])
        inputs.append(''.join(map(chr, [base] + marks + [tail])).encode())
    for d in a.corpus:
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), 'rb') as f:
                inputs.append(f.read())
    text = ''.join(x.hex() + '\n' for x in inputs).encode()

    def run(prog):
        return subprocess.run([prog], input=text, stdout=subprocess.PIPE,
                              check=True).stdout.decode('utf-8',
                                                        'replace').split('\n')
    go, c = run(a.go), run(a.c)
    assert len(go) == len(c) == len(inputs) + 1, (len(go), len(c))
    newer = new_in_14_15()
    new_key = ideographic_new_in_14_15(newer) | \
        nonstarters_new_in_14_15(newer)
    same = expected = bad = old_only = 0
    for i, x in enumerate(inputs):
        s = x.decode('utf-8', 'replace')
        if not any(ord(ch) in newer for ch in s):
            old_only += 1
        if go[i] == c[i] or (
                # librouter cuts a message past ROUTER_MESSAGE_MAX
                c[i].endswith('"...') and go[i].startswith(c[i][:-4])):
            same += 1
            continue
        # an implicit weight (Ideographic), a combining class (how
        # contractions skip marks), or Go's %q (IsPrint)
        if go[i].startswith('error: ') and c[i].startswith('error: '):
            explained = any(ord(ch) in newer for ch in s)
        else:
            explained = any(ord(ch) in new_key for ch in s)
        if explained:
            expected += 1
            continue
        bad += 1
        if bad <= 20:
            print('DIFF input %s (%r)\n  go %s\n  c  %s' % (
                x.hex(), s, go[i][:200], c[i][:200]))
    print('collation oracle: %d inputs, %d identical, %d differ on code '
          'points new in Unicode 14/15 (expected), %d unexpected '
          'differences; %d inputs hold no code point new in 14/15' % (
              len(inputs), same, expected, bad, old_only))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
