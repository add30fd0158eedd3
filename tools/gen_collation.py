#!/usr/bin/python3
"""Generate librouter/core/collate_tables.c: the data of the primary-strength
collation key of golang.org/x/text/collate (x/text 0.7.0, Unicode 6.2.0
collation tables, CLDR 23) for collate.New(language.English, collate.Loose),
which Vitess's unicode_loose_md5 / unicode_loose_xxhash hash.

Inputs (read, never copied as code):
  - x/text's generated table source collate/tables.go from Debian's
    golang-golang-x-text-dev (the trie, expansions, contraction tries);
  - UnicodeData.txt, CompositionExclusions.txt and PropList.txt of Unicode
    15.0.0 from Debian's unicode-data (the normalization properties the
    collator asks x/text's unicode/norm for, and the Ideographic property
    that picks the implicit weight of a code point the tables do not list).

Run `make regen-collation` (or this script with --help for the paths).
The output is deterministic: the same inputs give the same bytes.
"""
import argparse
import hashlib
import re
import sys

XTEXT = '/usr/share/gocode/src/golang.org/x/text/collate/tables.go'
UCD = '/usr/share/unicode'

# ---- x/text's Elem encoding (internal/colltab/collelem.go), restated --------
MAX_CE = 0xAFFFFFFF
MAX_CONTRACT = 0xDFFFFFFF
MAX_EXPAND = 0xEFFFFFFF
NORMAL, CONTRACT, EXPAND, DECOMP = range(4)


def ctype(ce):
    if ce <= MAX_CE:
        return NORMAL
    if ce <= MAX_CONTRACT:
        return CONTRACT
    if ce <= MAX_EXPAND:
        return EXPAND
    return DECOMP


def primary(ce):
    if ce >= 0x80000000:
        if ce > 0xA0000000:
            return 0
        return ce & 0xFFFF
    return (ce & 0x3FFFFE00) >> 9


def ccc_of(ce):
    if ce & 0x80000000:
        if ce & 0xA0000000 == 0x80000000:
            return (ce >> 16) & 0xFF
        return (ce >> 20) & 0xFF
    return 0


def update_tertiary(ce, t):
    if ce & 0xC0000000 == 0x40000000:
        nce = ce & 0x3FFFFE00
        nce |= (((ce & 0xFF) - 0x1C) & 0xFF) << 5
        ce = nce
    elif ce & 0xE0000000 == 0x80000000:
        ce &= ~(0x1F << 24) & 0xFFFFFFFF
        return (ce | (t << 24)) & 0xFFFFFFFF
    else:
        ce &= ~0x1F & 0xFFFFFFFF
    return (ce | t) & 0xFFFFFFFF


def canonical(ce):
    """The same Primary() and CCC() (all a primary key reads) with the
    secondary and tertiary bits dropped, so equal entries deduplicate."""
    assert ctype(ce) == NORMAL
    p, c = primary(ce), ccc_of(ce)
    if ce & 0x80000000 == 0:
        assert c == 0 and p > 0, hex(ce)
        out = 0x40000000 | (p << 9)
    elif ce < 0xA0000000:
        out = 0x80000000 | (c << 16) | p
    else:
        assert p == 0
        out = 0xA0000000 | (c << 20)
    assert primary(out) == p and ccc_of(out) == c and ctype(out) == NORMAL
    return out


def implicit_primary(r, ideographic):
    if r in ideographic:
        if 0x4E00 <= r <= 0x9FFF or 0xF900 <= r <= 0xFAFF:
            return r + 0x10000
        return r + 0x20000
    return r + 0x50000


def make_implicit_ce(p):
    return 0x40000000 | (p << 9) | 0x20


# ---- reading x/text's tables.go ---------------------------------------------
class Tables:
    def __init__(self, path):
        self.src = open(path, encoding='utf-8').read()
        s = self.src
        m = re.search(r'const UnicodeVersion = "([^"]+)"', s)
        self.unicode_version = m.group(1)
        m = re.search(r'const CLDRVersion = "([^"]+)"', s)
        self.cldr_version = m.group(1)
        self.expand = self.arr('mainExpandElem')
        self.contract_elem = self.arr('mainContractElem')
        self.values = self.arr('mainValues')
        self.lookup_tab = self.arr('mainLookup')
        n, b = self.body('mainCTEntries')
        self.ct = [tuple(int(x, 0) for x in t) for t in re.findall(
            r'\{(0x[0-9A-Fa-f]+), (0x[0-9A-Fa-f]+), (\d+), (\d+)\}', b)]
        assert len(self.ct) == n
        # English: collate.New(language.English) matches the locale "en"
        # (colltab.MatchLang); its tableIndex is read from `locales`.
        m = re.search(r'\{ // en\n\s*lookupOffset: (0x[0-9a-f]+),\n'
                      r'\s*valuesOffset: (0x[0-9a-f]+),', s)
        self.lookup_off = int(m.group(1), 16) * 64
        self.values_off = int(m.group(2), 16) * 64

    def body(self, name):
        m = re.search(r'var %s = \[(\d+)\][^{]*\{(.*?)\n\}\n' % name,
                      self.src, re.S)
        return int(m.group(1)), m.group(2)

    def arr(self, name):
        n, b = self.body(name)
        b = re.sub(r'//[^\n]*', '', b)
        a = [0] * n
        if ':' in b:
            for k, v in re.findall(r'(0x[0-9a-fA-F]+)\s*:\s*(0x[0-9a-fA-F]+)',
                                   b):
                a[int(k, 16)] = int(v, 16)
        else:
            a = [int(x, 0) for x in re.findall(r'0x[0-9a-fA-F]+|\d+', b)]
            assert len(a) == n, name
        return a

    def trie_lookup(self, b):
        """colltab.Trie.lookup for the English table: (value, size)."""
        c0 = b[0]
        if c0 < 0x80:
            return self.values[self.values_off + c0], 1
        if c0 < 0xC0:
            return 0, 1
        idx0 = self.lookup_tab[self.lookup_off + c0]
        if c0 < 0xE0:
            return self.values[(idx0 << 6) + b[1]], 2
        i = self.lookup_tab[(idx0 << 6) + b[1]]
        if c0 < 0xF0:
            return self.values[(i << 6) + b[2]], 3
        i = self.lookup_tab[(i << 6) + b[2]]
        return self.values[(i << 6) + b[3]], 4

    def ce(self, r):
        v, sz = self.trie_lookup(chr(r).encode('utf-8'))
        return v


# ---- Unicode 15.0.0 character data -----------------------------------------
class UCD15:
    def __init__(self, ucd_dir):
        self.ccc = {}
        self.decomp = {}      # one level, canonical or compatibility
        self.tagged = set()   # decomposition is a compatibility one
        self.category = {}
        with open(ucd_dir + '/UnicodeData.txt', encoding='utf-8') as f:
            first = None
            for line in f:
                fl = line.rstrip('\n').split(';')
                cp = int(fl[0], 16)
                if fl[1].endswith(', First>'):
                    first = cp
                    continue
                if fl[1].endswith(', Last>'):
                    for r in range(first, cp + 1):
                        self.category[r] = fl[2]
                        if int(fl[3]):
                            self.ccc[r] = int(fl[3])
                    continue
                self.category[cp] = fl[2]
                if int(fl[3]):
                    self.ccc[cp] = int(fl[3])
                if fl[5]:
                    d = fl[5].split()
                    if d[0].startswith('<'):
                        self.tagged.add(cp)
                        d = d[1:]
                    self.decomp[cp] = [int(x, 16) for x in d]
        self.excluded = set()
        with open(ucd_dir + '/CompositionExclusions.txt',
                  encoding='utf-8') as f:
            for line in f:
                line = line.split('#')[0].strip()
                if line:
                    self.excluded.add(int(line, 16))
        self.ideographic = set()
        with open(ucd_dir + '/PropList.txt', encoding='utf-8') as f:
            for line in f:
                line = line.split('#')[0].strip()
                if not line:
                    continue
                rng, prop = [x.strip() for x in line.split(';')]
                if prop != 'Ideographic':
                    continue
                lo, _, hi = rng.partition('..')
                for r in range(int(lo, 16), int(hi or lo, 16) + 1):
                    self.ideographic.add(r)
        self._compute_norm()

    def c(self, r):
        return self.ccc.get(r, 0)

    def form_decomp(self, r, compat):
        d = self.decomp.get(r)
        if d is None or (not compat and r in self.tagged):
            return None
        return d

    def expanded(self, r, compat):
        """Full decomposition in canonical order (x/text's expandedDecomp),
        or None.  Hangul syllables decompose algorithmically."""
        if 0xAC00 <= r <= 0xD7A3:
            s = r - 0xAC00
            out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
            if s % 28:
                out.append(0x11A7 + s % 28)
            return out
        d = self.form_decomp(r, compat)
        if d is None:
            return None
        out = []

        def rec(x):
            dd = self.form_decomp(x, compat)
            if dd is None:
                # insertOrdered: stable insertion by combining class
                cc = self.c(x)
                n = len(out)
                out.append(x)
                if cc:
                    while n > 0 and self.c(out[n - 1]) > cc:
                        out[n] = out[n - 1]
                        n -= 1
                    out[n] = x
            else:
                for y in dd:
                    rec(y)
        for y in d:
            rec(y)
        return out

    def _has_compat(self, r):
        if r in self.tagged:
            return True
        return any(self._has_compat(x) for x in self.decomp.get(r, []))

    def _compute_norm(self):
        # combinesBackward in the compatibility form (unicode/norm's
        # maketables, phases 1 and 2), which counts as a non-starter in
        # stream-safe text processing.
        def one_way(r):
            d = self.form_decomp(r, True)
            ow = r in self.excluded
            ow = ow or (d is not None and len(d) == 1)
            if d is not None and len(d) > 1:
                ow = ow or self.c(r) != 0 or self.c(d[0]) != 0
            ow = ow or (d is not None and len(d) > 2)
            ow = ow or self._has_compat(r)
            return ow
        cb = set()
        for r, d in self.decomp.items():
            if len(d) == 2 and not one_way(r) and not one_way(d[1]):
                cb.add(d[1])
        cb.update(range(0x1161, 0x1176))
        cb.update(range(0x11A8, 0x11C3))
        self.combines_backward = cb

    def nfd_props(self, r):
        """(lead ccc, trail ccc, leading non-starters) as norm.NFD's
        Properties give them."""
        if 0xAC00 <= r <= 0xD7A3:
            return 0, 0, 0
        d = self.expanded(r, False)
        if d:
            lccc, tccc = self.c(d[0]), self.c(d[-1])
        else:
            lccc = tccc = self.c(r)
        runes = self.expanded(r, True) or [r]
        nlead = 0
        for x in runes:
            if self.c(x) == 0 and x not in self.combines_backward:
                break
            nlead += 1
        return lccc, tccc, nlead


# ---- building the compact tables --------------------------------------------
class Builder:
    def __init__(self, t, u):
        self.t, self.u = t, u
        self.exp_pool = [0]          # index 0 unused: 0 means "none"
        self.exp_index = {}
        self.ct_out = []
        self.celem_out = []
        self.ct_index = {}
        self.dec_pool = bytearray(b'\0')
        self.dec_index = {}
        self.cp_ce = {}
        for r in range(0x110000):
            if 0xD800 <= r < 0xE000:
                continue
            ce = t.ce(r)
            if ce:
                self.cp_ce[r] = self.convert(ce, r)

    def expansion(self, ce):
        i = ce & 0xFFFF
        n = self.t.expand[i]
        seq = tuple(canonical(e) for e in self.t.expand[i + 1:i + 1 + n])
        assert n >= 1
        if seq not in self.exp_index:
            self.exp_index[seq] = len(self.exp_pool)
            self.exp_pool.append(n)
            self.exp_pool.extend(seq)
        off = self.exp_index[seq]
        assert off < 1 << 28
        return 0xE0000000 | off

    def contraction(self, ce):
        n = ce & 0xF
        index = (ce >> 4) & 0xFFF
        offset = (ce >> 16) & 0x1FFF
        key = (index, n, offset)
        if key in self.ct_index:
            return self.ct_index[key]
        nodes, elems = set(), {0}
        stack = [(index, n)]
        while stack:
            base, cnt = stack.pop()
            for i in range(cnt):
                L, H, N, I = self.t.ct[base + i]
                nodes.add(base + i)
                if N != 0:
                    stack.append((base + H + cnt, N))
                    if I != 0xFF:
                        elems.add(I)
                elif I != 0xFF:
                    for c in range(L, max(L, H) + 1):
                        elems.add(I + c - L)
        lo, hi = min(nodes), max(nodes)
        assert lo == index
        new_index = len(self.ct_out)
        self.ct_out.extend(self.t.ct[lo:hi + 1])
        new_off = len(self.celem_out)
        for j in range(max(elems) + 1):
            e = self.t.contract_elem[offset + j]
            if j not in elems:
                e = 0
            elif ctype(e) == NORMAL:
                e = canonical(e)
            else:
                assert ctype(e) == EXPAND
                e = self.expansion(e)
            self.celem_out.append(e)
        assert new_index < 1 << 12 and new_off < 1 << 13
        out = 0xC0000000 | (new_off << 16) | (new_index << 4) | n
        assert ctype(out) == CONTRACT
        self.ct_index[key] = out
        return out

    def decomposition(self, r):
        d = self.u.expanded(r, True)
        assert d
        b = ''.join(chr(x) for x in d).encode('utf-8')
        assert len(b) < 256
        if b not in self.dec_index:
            self.dec_index[b] = len(self.dec_pool)
            self.dec_pool.append(len(b))
            self.dec_pool.extend(b)
        return 0xF0000000 | self.dec_index[b]

    def convert(self, ce, r):
        k = ctype(ce)
        if k == NORMAL:
            return canonical(ce)
        if k == EXPAND:
            return self.expansion(ce)
        if k == CONTRACT:
            return self.contraction(ce)
        # Decompose: the tertiary replacements are all <= maxTertiary, so
        # updateTertiary never touches a primary weight or a combining
        # class (checked here) and a primary key can skip it.
        assert ce & 0xFFFF0000 == 0xF0000000
        assert ce & 0xFF <= 0x1F and (ce >> 8) & 0xFF <= 0x1F
        return self.decomposition(r)


def check_update_tertiary_neutral(t):
    """Every type-1 element has a secondary >= 0x1C, so updateTertiary (run
    on the elements of a decomposed rune) keeps Primary() and CCC()."""
    for ce in list(t.values) + t.expand + t.contract_elem:
        if ctype(ce) == NORMAL and ce & 0xC0000000 == 0x40000000:
            assert ce & 0xFF >= 0x1C, hex(ce)


def ranges(pred_set):
    out = []
    for r in sorted(pred_set):
        if out and out[-1][1] == r - 1:
            out[-1][1] = r
        else:
            out.append([r, r])
    return out


def wrap(text):
    import textwrap
    return '\n'.join(' *   ' + x for x in textwrap.wrap(text, 70))


def sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def c_array(ctype_name, name, values, per_line, fmt):
    lines = ['const %s %s[%d] = {' % (ctype_name, name, len(values))]
    for i in range(0, len(values), per_line):
        lines.append('\t' + ', '.join(fmt % v for v in
                                      values[i:i + per_line]) + ',')
    lines.append('};')
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--xtext', default=XTEXT,
                    help='x/text collate/tables.go (default %(default)s)')
    ap.add_argument('--ucd', default=UCD,
                    help='Unicode 15.0.0 data directory (default %(default)s)')
    ap.add_argument('--package', default='golang-golang-x-text-dev 0.7.0-1',
                    help='the Debian package and version of --xtext')
    ap.add_argument('-o', '--output', default='librouter/core/collate_tables.c')
    a = ap.parse_args()

    t = Tables(a.xtext)
    u = UCD15(a.ucd)
    with open(a.ucd + '/DerivedNormalizationProps.txt') as f:
        m = re.search(r'-(\d+\.\d+\.\d+)\.txt', f.readline())
    ucd_version = m.group(1)
    assert ucd_version == '15.0.0', ucd_version
    check_update_tertiary_neutral(t)
    b = Builder(t, u)

    # Hangul: the jamo a syllable decomposes into are looked up raw (no
    # expansion or contraction processing), so they must be plain elements.
    for r in range(0x1100, 0x1200):
        assert ctype(b.cp_ce.get(r, 0)) == NORMAL, hex(r)

    # Code point -> element: 3 levels (cp >> 11, 64 blocks of 32).
    leaf_ids, leaves = {}, []
    mid_ids, mids = {}, []
    top = []
    for hi in range(0x110000 >> 11):
        mid = []
        for j in range(64):
            base = (hi << 11) | (j << 5)
            blk = tuple(b.cp_ce.get(base + i, 0) for i in range(32))
            if blk not in leaf_ids:
                leaf_ids[blk] = len(leaves)
                leaves.append(blk)
            mid.append(leaf_ids[blk])
        mid = tuple(mid)
        if mid not in mid_ids:
            mid_ids[mid] = len(mids)
            mids.append(mid)
        top.append(mid_ids[mid])
    assert len(leaves) < 65536 and len(mids) < 65536

    # ASCII fast path: the primary weight of a byte < 0x80 when it is a
    # plain element with combining class 0, or a contraction start whose
    # trie cannot continue with an ASCII byte and whose "no match" element
    # is plain; bit 31 sends every other byte to the full path.
    ascii = []
    for c in range(128):
        ce = b.cp_ce.get(c, 0)
        if ce == 0:
            ascii.append(0x80000000)
        elif ctype(ce) == NORMAL and ccc_of(ce) == 0:
            ascii.append(primary(ce))
        elif ctype(ce) == CONTRACT:
            n, index, off = ce & 0xF, (ce >> 4) & 0xFFF, (ce >> 16) & 0x1FFF
            first = b.ct_out[index:index + n]
            d = b.celem_out[off]
            if all(L >= 0x80 for L, H, N, I in first) and \
                    ctype(d) == NORMAL and ccc_of(d) == 0:
                ascii.append(0x40000000 | primary(d))
            else:
                ascii.append(0x80000000)
        else:
            ascii.append(0x80000000)
        assert ascii[-1] & 0x3FFFFFFF <= 0x7FFF

    # norm.NFD properties: (lead ccc, trail ccc, leading non-starters),
    # in the same three levels as the elements, with byte indexes.
    props_ids, props = {(0, 0, 0): 0}, [(0, 0, 0)]
    nleaf_ids, nleaves, nmid_ids, nmids, nfd_top = {}, [], {}, [], []
    for hi in range(0x110000 >> 11):
        mid = []
        for j in range(64):
            blk = []
            for i in range(32):
                r = (hi << 11) | (j << 5) | i
                p = (0, 0, 0) if 0xD800 <= r < 0xE000 else u.nfd_props(r)
                if p not in props_ids:
                    props_ids[p] = len(props)
                    props.append(p)
                blk.append(props_ids[p])
            blk = tuple(blk)
            if blk not in nleaf_ids:
                nleaf_ids[blk] = len(nleaves)
                nleaves.append(blk)
            mid.append(nleaf_ids[blk])
        mid = tuple(mid)
        if mid not in nmid_ids:
            nmid_ids[mid] = len(nmids)
            nmids.append(mid)
        nfd_top.append(nmid_ids[mid])
    assert len(props) < 256 and len(nleaves) < 256 and len(nmids) < 256

    # The largest number of elements one rune (with what a contraction
    # pulls in) can append: bounds the iterator's fixed buffer.
    def explen(e):
        return b.exp_pool[e & 0x0FFFFFFF]
    cmax = max([1] + [explen(e) for e in b.celem_out if ctype(e) == EXPAND])

    def m1(r):
        ce = b.cp_ce.get(r, 0)
        k = ctype(ce)
        if ce == 0:
            return 3 if 0xAC00 <= r <= 0xD7A3 else 1
        if k == NORMAL:
            return 1
        if k == EXPAND:
            return explen(ce)
        if k == CONTRACT:
            return cmax
        return sum(m1(x) for x in u.expanded(r, True))
    per_ccc = {}
    for r in range(0x110000):
        if 0xD800 <= r < 0xE000:
            continue
        lc = u.nfd_props(r)[0]
        if lc:
            per_ccc[lc] = max(per_ccc.get(lc, 0), m1(r))
    # the contraction's elements, then its interstitial non-starters
    # (strictly increasing lead ccc, so at most one per class), each of
    # which may itself start a contraction with more interstitials drawn
    # from the same ascending run: 2x covers that.
    max_interstitial = 2 * sum(per_ccc.values())
    max_single = max(m1(r) for r in b.cp_ce)
    max_append = max(max_single, cmax + max_interstitial)

    ideo = ranges(u.ideographic)
    # collate.c tests U+4E00..9FFF before searching these ranges
    assert all(r in u.ideographic for r in range(0x4E00, 0xA000))
    printable = set(r for r, cat in u.category.items()
                    if cat[0] in 'LMNPS') | {0x20}
    prn = ranges(printable)

    sizes = {
        'top': len(top) * 2, 'mid': len(mids) * 64 * 2,
        'leaf': len(leaves) * 32 * 4, 'expand': len(b.exp_pool) * 4,
        'ct': len(b.ct_out) * 4, 'contract': len(b.celem_out) * 4,
        'decomp': len(b.dec_pool), 'ascii': 128 * 4,
        'nfd': len(nfd_top) + len(nmids) * 64 + len(nleaves) * 32 +
        len(props) * 3,
        'ideo': len(ideo) * 8, 'print': len(prn) * 8,
    }
    total = sum(sizes.values())
    collation_bytes = total - sizes['print']

    o = []
    o.append('''/*
 * GENERATED by tools/gen_collation.py; do not edit.  Regenerate with
 *     make regen-collation
 * (python3 tools/gen_collation.py --xtext %(xtext)s
 *  --ucd %(ucd)s -o %(out)s).
 *
 * The data of the primary-strength collation key that golang.org/x/text's
 * collate.New(language.English, collate.Loose).Key() computes, as
 * Vitess's unicode_loose_md5 / unicode_loose_xxhash hash it (collate.c
 * holds the algorithm).
 *
 * Provenance:
 *   %(pkg)s (x/text 0.7.0): %(xtext)s
 *     sha256 %(sha_x)s
 *     UnicodeVersion = "%(uv)s", CLDRVersion = "%(cv)s"; locale "en"
 *     (lookupOffset 0x%(lo)x, valuesOffset 0x%(vo)x, the same as root)
 *   unicode-data, Unicode %(ucdv)s:
 *     %(ucd)s/UnicodeData.txt sha256 %(sha_u)s
 *     %(ucd)s/CompositionExclusions.txt sha256 %(sha_c)s
 *     %(ucd)s/PropList.txt sha256 %(sha_p)s
 *     %(ucd)s/DerivedNormalizationProps.txt sha256 %(sha_d)s (version)
 *   The collation elements are x/text's (Unicode 6.2.0, CLDR 23); the
 *   normalization properties the collator asks unicode/norm for (NFKD
 *   decompositions, combining classes, stream-safe non-starter counts) and
 *   the Ideographic property used for implicit weights are Unicode 15.0.0,
 *   as in the Vitess builds the golden vectors come from.
 *
 * Elements keep only what a primary key reads (x/text's Primary() and
 * CCC(); secondary and tertiary bits dropped); x/text's decomposition
 * elements are replaced by an offset into router__coll_decomp, its
 * expansion indexes by offsets into router__coll_expand (pruned to what
 * English reaches, deduplicated), its contraction tries re-based.
 *
 * Size: %(total)d bytes of collation data, plus %(prn)d bytes of
 * printable ranges for Go's %%q quoting in the error message:
%(detail)s.
 */
#include "collate_tables.h"
''' % dict(xtext=a.xtext, ucd=a.ucd, out=a.output, pkg=a.package,
           sha_x=sha256(a.xtext), uv=t.unicode_version, cv=t.cldr_version,
           lo=t.lookup_off // 64, vo=t.values_off // 64, ucdv=ucd_version,
           sha_u=sha256(a.ucd + '/UnicodeData.txt'),
           sha_c=sha256(a.ucd + '/CompositionExclusions.txt'),
           sha_p=sha256(a.ucd + '/PropList.txt'),
           sha_d=sha256(a.ucd + '/DerivedNormalizationProps.txt'),
           total=collation_bytes, prn=sizes['print'],
           detail=wrap(', '.join('%s %d' % (k, v) for k, v in sizes.items()
                                 if k != 'print'))))
    o.append('''
#if ROUTER__COLL_MAX_APPEND != %d
#error "collate_tables.h and collate_tables.c disagree: regenerate"
#endif
const size_t router__coll_table_bytes = %d;
''' % (max_append, collation_bytes))
    o.append(c_array('uint16_t', 'router__coll_top', top, 16, '%d'))
    o.append(c_array('uint16_t', 'router__coll_mid',
                     [x for m in mids for x in m], 16, '%d'))
    o.append(c_array('uint32_t', 'router__coll_leaf',
                     [x for l in leaves for x in l], 8, '0x%08x'))
    o.append(c_array('uint32_t', 'router__coll_expand', b.exp_pool, 8,
                     '0x%08x'))
    o.append('const router__coll_ct_node router__coll_ct[%d] = {\n' %
             len(b.ct_out) + ''.join('\t{0x%02x, 0x%02x, %d, %d},\n' % e
                                     for e in b.ct_out) + '};\n')
    o.append(c_array('uint32_t', 'router__coll_contract', b.celem_out, 8,
                     '0x%08x'))
    o.append(c_array('uint8_t', 'router__coll_decomp', list(b.dec_pool), 16,
                     '0x%02x'))
    o.append(c_array('uint32_t', 'router__coll_ascii', ascii, 8, '0x%08x'))
    o.append(c_array('uint8_t', 'router__coll_nfd_top', nfd_top, 16, '%d'))
    o.append(c_array('uint8_t', 'router__coll_nfd_mid',
                     [x for m in nmids for x in m], 16, '%d'))
    o.append(c_array('uint8_t', 'router__coll_nfd_leaf',
                     [x for bl in nleaves for x in bl], 16, '%d'))
    o.append('const uint8_t router__coll_nfd_props[%d][3] = {\n' %
             len(props) + ''.join('\t{%d, %d, %d},\n' % p for p in props)
             + '};\n')
    o.append('const size_t router__coll_ideographic_n = %d;\n' % len(ideo))
    o.append(c_array('uint32_t', 'router__coll_ideographic',
                     [x for r in ideo for x in r], 8, '0x%05x'))
    o.append('const size_t router__coll_printable_n = %d;\n' % len(prn))
    o.append(c_array('uint32_t', 'router__coll_printable',
                     [x for r in prn for x in r], 8, '0x%05x'))
    with open(a.output, 'w') as f:
        f.write('\n'.join(o))
    print('%s: %d bytes of collation tables (%s); max append %d' % (
        a.output, collation_bytes, ', '.join(
            '%s %d' % kv for kv in sizes.items()), max_append))


if __name__ == '__main__':
    main()
