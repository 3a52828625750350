package pcre

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Regexp is a compiled MongoDB regular expression. It is safe for concurrent use.
//
// Go's $ outside multiline mode matches only at the very end of the subject, PCRE's also
// before a final newline, and Go's multiline ^ matches after a final newline, PCRE's does
// not. So a pattern using them is kept in a few variants, built on first use, and each
// subject is searched with the one that is exact for it:
//   - a subject that does not end with a newline needs no rewriting;
//   - one whose only newline is the last character: $ becomes a multiline $;
//   - otherwise, when every $ ends the pattern (nothing but the end of groups and
//     alternatives follows it), $ becomes "end of text, or a newline then end of text",
//     with a marker group that tells when the newline was taken so it can be given back;
//   - otherwise $ becomes a multiline $ and the search runs on a copy of the subject whose
//     other newlines are NULs, with the pattern rewritten to treat NUL exactly as it
//     treats a newline (this needs a subject without NULs and a pattern without multiline
//     anchors);
//   - a multiline ^ that produced an empty match at the very end is retried without ^.
//
// That leaves one rare case with no exact variant: a $ followed by more of a pattern that
// also has a multiline anchor, or a subject containing NUL, when the subject has several
// lines and ends with a newline. Match and FindSubmatchIndex report it as unsupported;
// MatchString answers as if $ could take the final newline, which is right unless what
// follows the $ needs that newline.
type Regexp struct {
	pattern, flags string
	src            string
	tree           *syntax.Regexp
	numSubexp      int

	// contextual means the pattern has ^, \A, \b or \B, whose meaning at a search's start
	// depends on the text before it, so a search from an offset cannot just slice the
	// subject.
	contextual bool
	// dollar means the pattern has a non-multiline $ or \Z; dollarsLast that each one
	// ends the pattern.
	dollar, dollarsLast bool
	// beginLine means the pattern has a multiline ^, lineAnchor a multiline ^ or $.
	beginLine, lineAnchor bool

	variants [2 * numModes]variant
}

// Variant numbers: the way $ is rewritten, plus noBeginLine.
const (
	dollarEnd     = iota // as translated: only at the very end
	dollarLine           // a multiline $
	dollarMarked         // \z, or a newline in a marker group then \z
	dollarConsume        // \z, or a newline then \z (an approximation)
	dollarMirror         // a multiline $, with NUL standing for the subject's other newlines
	numModes
	noBeginLine = numModes // added to a mode: multiline ^ never matches
)

type variant struct {
	once sync.Once
	base *regexp.Regexp // searches the text it is given
	ctx  *regexp.Regexp // \A(?s:.)(?s:.*?)(base): searches after one character of context
	// For dollarMarked: the variant's group number for each group of the pattern (index 0
	// unused), and the marker groups' numbers.
	groups, markers []int
	err             error
}

// Compile translates and compiles a MongoDB regular expression with its option letters.
// Results are cached, since the same filter or expression is compiled again for every
// command that uses it.
func Compile(pattern, flags string) (*Regexp, error) {
	if err := CheckFlags(flags); err != nil {
		return nil, err
	}
	key := flags + "\x00" + pattern // flags never contain NUL
	cache.Lock()
	re, ok := cache.m[key]
	cache.Unlock()
	if ok {
		return re, nil
	}
	re, err := compile(pattern, flags)
	if err != nil {
		return nil, err
	}
	cache.Lock()
	if len(cache.m) >= cacheSize {
		clear(cache.m)
	}
	cache.m[key] = re
	cache.Unlock()
	return re, nil
}

const cacheSize = 512

var cache = struct {
	sync.Mutex
	m map[string]*Regexp
}{m: map[string]*Regexp{}}

func compile(pattern, flags string) (*Regexp, error) {
	src, tree, err := translate(pattern, flags)
	if err != nil {
		return nil, err
	}
	re := &Regexp{pattern: pattern, flags: flags, src: src, tree: tree, numSubexp: tree.MaxCap()}
	walk(tree, func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpBeginLine:
			re.beginLine, re.lineAnchor, re.contextual = true, true, true
		case syntax.OpEndLine:
			re.lineAnchor = true
		case syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			re.contextual = true
		case syntax.OpEndText:
			if r.Flags&syntax.WasDollar != 0 {
				re.dollar = true
			}
		}
	})
	re.dollarsLast = re.dollar && dollarsLast(tree, true)
	if _, err := re.variant(dollarEnd); err != nil {
		return nil, goParseError(err)
	}
	return re, nil
}

// Pattern returns the pattern as given to Compile.
func (re *Regexp) Pattern() string { return re.pattern }

// Flags returns the option letters as given to Compile.
func (re *Regexp) Flags() string { return re.flags }

// Source returns the Go regexp syntax the pattern translates to (see Translate).
func (re *Regexp) Source() string { return re.src }

// NumSubexp returns the number of capturing groups in the pattern.
func (re *Regexp) NumSubexp() int { return re.numSubexp }

// MatchString reports whether s contains a match of the pattern. In the one rare case no
// variant handles exactly (see Regexp) it answers as if $ could take the final newline;
// Match reports that case instead.
func (re *Regexp) MatchString(s string) bool {
	ok, _ := re.match(s, false)
	return ok
}

// Match reports whether s contains a match of the pattern, or an *UnsupportedError in the
// one rare case no variant handles exactly (see Regexp).
func (re *Regexp) Match(s string) (bool, error) {
	return re.match(s, true)
}

func (re *Regexp) match(s string, exact bool) (bool, error) {
	mode, subject := re.mode(s, exact, false)
	if mode < 0 {
		return false, errNoExactVariant
	}
	v, err := re.variant(mode)
	if err != nil {
		return false, goParseError(err)
	}
	if !re.beginLine || !endsWithNewline(s) {
		return v.base.MatchString(subject), nil
	}
	loc := v.base.FindStringIndex(subject)
	if loc == nil || loc[0] < len(s) {
		return loc != nil, nil
	}
	loc, err = re.search(mode+noBeginLine, subject, len(s))
	return loc != nil, err
}

var errNoExactVariant = &UnsupportedError{Construct: "a $ or \\Z followed by more of a pattern that also has multiline anchors, on a subject with several lines that ends with a newline or that contains NUL,"}

func endsWithNewline(s string) bool { return len(s) > 0 && s[len(s)-1] == '\n' }

// mirrorSubject returns s with every newline but the last replaced by NUL, for the
// dollarMirror variant. Byte offsets are unchanged.
func mirrorSubject(s string) string {
	b := []byte(s)
	for i, c := range b[:len(b)-1] {
		if c == '\n' {
			b[i] = 0
		}
	}
	return string(b)
}

// mode picks the variant that is exact for subject s (see Regexp), and the text to search
// with it; positions asks for exact match positions, not just a yes or no. When no variant
// is exact, it returns dollarConsume, or -1 if exact is set.
func (re *Regexp) mode(s string, exact, positions bool) (int, string) {
	if !re.dollar || !endsWithNewline(s) {
		return dollarEnd, s
	}
	switch {
	case strings.IndexByte(s, '\n') == len(s)-1:
		return dollarLine, s
	case re.dollarsLast && positions:
		return dollarMarked, s
	case re.dollarsLast:
		return dollarConsume, s // exact too for a yes/no answer when every $ is last
	case !re.lineAnchor && strings.IndexByte(s, 0) < 0:
		return dollarMirror, mirrorSubject(s)
	case exact:
		return -1, s
	}
	return dollarConsume, s
}

// FindSubmatchIndex returns the submatch indexes (as regexp.FindStringSubmatchIndex does)
// of the first match in s that starts at or after byte offset pos, with the text before
// pos still visible to ^, \b and \B; or nil. Past the start, \A and a non-multiline ^
// never match, as in PCRE with a start offset. It returns an *UnsupportedError for the one
// case no variant handles exactly (see Regexp).
func (re *Regexp) FindSubmatchIndex(s string, pos int) ([]int, error) {
	if pos < 0 || pos > len(s) {
		return nil, nil
	}
	mode, subject := re.mode(s, true, true)
	if mode < 0 {
		return nil, errNoExactVariant
	}
	loc, err := re.search(mode, subject, pos)
	if err != nil || loc == nil {
		return loc, err
	}
	if re.beginLine && endsWithNewline(s) && loc[0] == len(s) {
		// PCRE's multiline ^ does not match after a final newline: retry the empty match
		// at the end without it.
		return re.search(mode+noBeginLine, subject, len(s))
	}
	return loc, nil
}

// search runs variant vi from byte offset pos and returns submatch indexes numbered as in
// the pattern.
func (re *Regexp) search(vi int, s string, pos int) ([]int, error) {
	v, err := re.variant(vi)
	if err != nil {
		return nil, goParseError(err)
	}
	var m []int
	from := pos
	switch {
	case pos == 0:
		m = v.base.FindStringSubmatchIndex(s)
	case !re.contextual:
		m = v.base.FindStringSubmatchIndex(s[pos:])
	default:
		_, w := utf8.DecodeLastRuneInString(s[:pos])
		from = pos - w
		if m = v.ctx.FindStringSubmatchIndex(s[from:]); m != nil {
			m = m[2:] // group 1 of the context pattern is the whole match
		}
	}
	if m == nil {
		return nil, nil
	}
	if from > 0 {
		for i, x := range m {
			if x >= 0 {
				m[i] = x + from
			}
		}
	}
	if v.groups == nil {
		return m, nil
	}
	loc := make([]int, 2*(re.numSubexp+1))
	loc[0], loc[1] = m[0], m[1]
	for g := 1; g <= re.numSubexp; g++ {
		k := v.groups[g]
		loc[2*g], loc[2*g+1] = m[2*k], m[2*k+1]
	}
	for _, k := range v.markers {
		if m[2*k] >= 0 {
			// $ took the final newline: it really matched just before it, and everything
			// after it in the match is empty.
			for i, x := range loc {
				if x == len(s) {
					loc[i] = len(s) - 1
				}
			}
			break
		}
	}
	return loc, nil
}

// variant returns variant i, building it on first use.
func (re *Regexp) variant(i int) (*variant, error) {
	v := &re.variants[i]
	v.once.Do(func() {
		src := re.src
		if i != dollarEnd {
			tree := rewrite(re.tree, i%numModes, i >= noBeginLine)
			src = tree.String()
			if i%numModes == dollarMarked {
				v.groups, v.markers = numberGroups(tree, re.numSubexp)
			}
		}
		if v.base, v.err = regexp.Compile(src); v.err != nil {
			return
		}
		if re.contextual {
			v.ctx, v.err = regexp.Compile(`\A(?s:.)(?s:.*?)(` + src + `)`)
		}
	})
	return v, v.err
}

func walk(r *syntax.Regexp, f func(*syntax.Regexp)) {
	f(r)
	for _, s := range r.Sub {
		walk(s, f)
	}
}

// markerCap marks the capture groups rewrite adds.
const markerCap = -1

// rewrite returns a copy of r with the substitutions of a variant.
func rewrite(r *syntax.Regexp, mode int, noBegin bool) *syntax.Regexp {
	switch {
	case r.Op == syntax.OpEndText && r.Flags&syntax.WasDollar != 0 && mode != dollarEnd:
		if mode == dollarLine || mode == dollarMirror {
			return &syntax.Regexp{Op: syntax.OpEndLine}
		}
		nl := &syntax.Regexp{Op: syntax.OpLiteral, Rune: []rune{'\n'}}
		if mode == dollarMarked {
			nl = &syntax.Regexp{Op: syntax.OpCapture, Cap: markerCap, Sub: []*syntax.Regexp{nl}}
		}
		return &syntax.Regexp{Op: syntax.OpAlternate, Sub: []*syntax.Regexp{
			{Op: syntax.OpEndText},
			{Op: syntax.OpConcat, Sub: []*syntax.Regexp{nl, {Op: syntax.OpEndText}}},
		}}
	case r.Op == syntax.OpBeginLine && noBegin:
		return &syntax.Regexp{Op: syntax.OpNoMatch}
	case mode == dollarMirror:
		if m := mirrorNewline(r); m != nil {
			return m
		}
	}
	c := *r
	if len(r.Sub) > 0 {
		c.Sub = make([]*syntax.Regexp, len(r.Sub))
		for j, s := range r.Sub {
			c.Sub[j] = rewrite(s, mode, noBegin)
		}
	}
	return &c
}

// mirrorNewline rewrites a character-matching node so that NUL, which then stands for a
// newline of the subject, matches exactly where a newline does: the subject has no NUL of
// its own. It returns nil for other nodes.
func mirrorNewline(r *syntax.Regexp) *syntax.Regexp {
	switch r.Op {
	case syntax.OpAnyCharNotNL:
		return &syntax.Regexp{Op: syntax.OpCharClass, Rune: []rune{1, '\n' - 1, '\n' + 1, unicode.MaxRune}}
	case syntax.OpCharClass:
		hasNL, hasNUL := inRanges(r.Rune, '\n'), inRanges(r.Rune, 0)
		c := *r
		switch {
		case hasNL && !hasNUL:
			c.Rune = mergeRanges(append([]rune{0, 0}, r.Rune...))
		case hasNUL && !hasNL:
			c.Rune = negateRanges(mergeRanges(append([]rune{0, 0}, negateRanges(r.Rune)...)))
		}
		return &c
	case syntax.OpLiteral:
		if !slices.Contains(r.Rune, '\n') && !slices.Contains(r.Rune, 0) {
			return nil
		}
		// Split the string at newlines and NULs.
		cat := &syntax.Regexp{Op: syntax.OpConcat}
		start := 0
		for k, c := range r.Rune {
			if c != '\n' && c != 0 {
				continue
			}
			if k > start {
				cat.Sub = append(cat.Sub, &syntax.Regexp{Op: syntax.OpLiteral, Flags: r.Flags, Rune: r.Rune[start:k]})
			}
			if c == '\n' {
				cat.Sub = append(cat.Sub, &syntax.Regexp{Op: syntax.OpCharClass, Rune: []rune{0, 0, '\n', '\n'}})
			} else {
				cat.Sub = append(cat.Sub, &syntax.Regexp{Op: syntax.OpNoMatch})
			}
			start = k + 1
		}
		if start < len(r.Rune) {
			cat.Sub = append(cat.Sub, &syntax.Regexp{Op: syntax.OpLiteral, Flags: r.Flags, Rune: r.Rune[start:]})
		}
		return cat
	}
	return nil
}

func inRanges(r []rune, c rune) bool {
	for k := 0; k+1 < len(r); k += 2 {
		if r[k] <= c && c <= r[k+1] {
			return true
		}
	}
	return false
}

// numberGroups returns, for a rewritten tree, the group number Go gives each of the
// pattern's groups and each marker: groups are numbered by their opening parenthesis,
// which is the tree's pre-order.
func numberGroups(tree *syntax.Regexp, n int) (groups, markers []int) {
	groups = make([]int, n+1)
	k := 0
	walk(tree, func(r *syntax.Regexp) {
		if r.Op != syntax.OpCapture {
			return
		}
		k++
		if r.Cap == markerCap {
			markers = append(markers, k)
		} else {
			groups[r.Cap] = k
		}
	})
	return groups, markers
}

// dollarsLast reports whether every non-multiline $ in r ends the pattern when last is
// set: only the ends of groups, alternatives, optional items and empty groups may follow
// it. Anything under a repetition that can run again is not last.
func dollarsLast(r *syntax.Regexp, last bool) bool {
	switch r.Op {
	case syntax.OpEndText:
		return r.Flags&syntax.WasDollar == 0 || last
	case syntax.OpConcat:
		for j, s := range r.Sub {
			if !dollarsLast(s, last && allEmpty(r.Sub[j+1:])) {
				return false
			}
		}
		return true
	case syntax.OpAlternate, syntax.OpCapture, syntax.OpQuest:
		for _, s := range r.Sub {
			if !dollarsLast(s, last) {
				return false
			}
		}
		return true
	case syntax.OpRepeat:
		return dollarsLast(r.Sub[0], last && r.Max == 1)
	case syntax.OpStar, syntax.OpPlus:
		return dollarsLast(r.Sub[0], false)
	}
	return true
}

// allEmpty reports whether the items can only match the empty string without asserting
// anything.
func allEmpty(items []*syntax.Regexp) bool {
	for _, r := range items {
		switch r.Op {
		case syntax.OpEmptyMatch:
		case syntax.OpCapture, syntax.OpConcat:
			if !allEmpty(r.Sub) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
