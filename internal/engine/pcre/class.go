package pcre

import (
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// classItem is one member of a character class: a character, a range, or a set.
type classItem struct {
	lo, hi rune
	set    string // Go class contents for a set (\d, [:alpha:], \p{L}, …); "" otherwise
	// noFold marks a set caseless mode must leave alone: PCRE tests character types,
	// POSIX classes and Unicode properties as they are, where Go would case-fold them
	// (making \w match the Kelvin sign, or \p{Lu} match "a").
	noFold bool
}

func char(r rune) classItem { return classItem{lo: r, hi: r} }

// posixNames are the POSIX class names PCRE2 knows; Go knows the same ones, with the same
// ASCII meanings.
var posixNames = []string{"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "word", "xdigit"}

// class translates the character class at t.i. The items are parsed into characters,
// ranges and sets and written back out with every character escaped, so nothing PCRE
// reads literally can turn into Go syntax.
func (t *translator) class() error {
	if strings.HasPrefix(t.pat[t.i:], "[[:<:]]") || strings.HasPrefix(t.pat[t.i:], "[[:>:]]") {
		// PCRE's start- and end-of-word assertions need lookaround.
		t.markUnsupported("a POSIX word boundary [[:<:]] or [[:>:]]")
		t.i += len("[[:<:]]")
		t.b.WriteString(`\b`)
		return nil
	}
	if t.i+1 < len(t.pat) && posixEnd(t.pat, t.i+1) > 0 {
		return syntaxErr("POSIX named classes are supported only within a class")
	}
	t.i++
	negated := t.i < len(t.pat) && t.pat[t.i] == '^'
	if negated {
		t.i++
	}
	var items []classItem
	first := true // a ] first in the class is a literal
	for {
		a, done, err := t.classAtom(&first)
		if err != nil {
			return err
		}
		if done {
			break
		}
		if a.set != "" {
			// A hyphen after a set cannot make a range; PCRE2 rejects it unless last.
			if t.rangeDash() {
				return syntaxErr(msgBadRange)
			}
			items = append(items, a)
			continue
		}
		if t.rangeDash() {
			t.i++
			b, done, err := t.classAtom(&first)
			if err != nil {
				return err
			}
			if done {
				items = append(items, a, char('-'))
				break
			}
			switch {
			case b.set != "":
				return syntaxErr(msgBadRange)
			case b.lo < a.lo:
				return syntaxErr("range out of order in character class")
			}
			a.hi = b.lo
		}
		items = append(items, a)
	}
	return t.writeClass(items, negated)
}

// rangeDash reports whether t.i is at a hyphen that makes a range: one that is not
// quoted and not just before the closing ].
func (t *translator) rangeDash() bool {
	return !t.inQuote && t.i+1 < len(t.pat) && t.pat[t.i] == '-' && t.pat[t.i+1] != ']'
}

// classAtom reads the next member of a class. done reports the closing ].
func (t *translator) classAtom(first *bool) (item classItem, done bool, err error) {
	for {
		if t.i >= len(t.pat) {
			return item, false, syntaxErr(msgMissingBracket)
		}
		rest := t.pat[t.i:]
		if t.inQuote {
			if strings.HasPrefix(rest, `\E`) {
				t.inQuote = false
				t.i += 2
				continue
			}
			*first = false
			return t.classChar()
		}
		c := rest[0]
		switch {
		case t.state.extendedMore && (c == ' ' || c == '\t'):
			t.i++
			continue
		case c == ']' && !*first:
			t.i++
			return item, true, nil
		case strings.HasPrefix(rest, `\Q`):
			t.inQuote = true
			t.i += 2
			continue
		case strings.HasPrefix(rest, `\E`):
			t.i += 2
			continue
		}
		*first = false
		switch {
		case c == '\\':
			return t.classEscape()
		case c == '[' && len(rest) > 1:
			if end := posixEnd(t.pat, t.i+1); end > 0 {
				return t.posixClass(end)
			}
		}
		return t.classChar()
	}
}

// classChar reads one literal character of a class.
func (t *translator) classChar() (classItem, bool, error) {
	r, size := utf8.DecodeRuneInString(t.pat[t.i:])
	if r == utf8.RuneError && size == 1 {
		return classItem{}, false, syntaxErr("UTF-8 error: invalid UTF-8 string")
	}
	t.i += size
	return char(r), false, nil
}

// posixEnd returns the index just past a POSIX class item ([:name:], [.x.] or [=x=]) whose
// opening [ is just before i, or 0 when the text there is not one. As in PCRE, a ] or a
// nested opening before the terminator means it is not one.
func posixEnd(pat string, i int) int {
	term := pat[i]
	if term != ':' && term != '.' && term != '=' {
		return 0
	}
	for j := i + 1; j < len(pat); j++ {
		switch c := pat[j]; {
		case c == '\\' && j+1 < len(pat) && (pat[j+1] == ']' || pat[j+1] == '\\'):
			j++
		case c == '[' && j+1 < len(pat) && pat[j+1] == term, c == ']':
			return 0
		case c == term && j+1 < len(pat) && pat[j+1] == ']':
			return j + 2
		}
	}
	return 0
}

// posixClass reads the POSIX class item at t.i, which ends at end.
func (t *translator) posixClass(end int) (classItem, bool, error) {
	if t.pat[t.i+1] != ':' {
		return classItem{}, false, syntaxErr("POSIX collating elements are not supported")
	}
	name := t.pat[t.i+2 : end-2]
	t.i = end
	base := strings.TrimPrefix(name, "^")
	if !slices.Contains(posixNames, base) {
		return classItem{}, false, syntaxErr("unknown POSIX class name")
	}
	if t.state.caseless && (base == "upper" || base == "lower") {
		// PCRE matches these caselessly as letters of either case.
		name = name[:len(name)-len(base)] + "alpha"
	}
	return classItem{set: "[:" + name + ":]", noFold: true}, false, nil
}

// classEscape reads the escape sequence at t.i inside a class.
func (t *translator) classEscape() (classItem, bool, error) {
	if t.i+1 >= len(t.pat) {
		return classItem{}, false, syntaxErr(msgTrailingBackslash)
	}
	c := t.pat[t.i+1]
	if c >= utf8.RuneSelf || !isAlnum(c) {
		t.i++
		return t.classChar()
	}
	t.i += 2
	if set := typeSet(c); set != "" {
		return classItem{set: set, noFold: c == 'w' || c == 'W'}, false, nil
	}
	switch c {
	case 'b':
		return char('\b'), false, nil // backspace inside a class
	case 'p', 'P':
		set, _, err := t.property(c == 'P')
		if set == "" {
			set = `\x00` // placeholder for an unsupported property
		}
		return classItem{set: set, noFold: true}, false, err
	case 'N':
		if strings.HasPrefix(t.pat[t.i:], "{U+") {
			r, err := t.unicodeName()
			return char(r), false, err
		}
		return classItem{}, false, syntaxErr(`\N is not supported in a class`)
	case '1', '2', '3', '4', '5', '6', '7':
		// Always octal inside a class.
		t.i--
		return char(t.octalDigits(3)), false, nil
	case '8', '9':
		return char(rune(c)), false, nil
	case 'B', 'R', 'X', 'A', 'z', 'Z', 'G', 'K', 'C', 'g', 'k':
		return classItem{}, false, syntaxErr(msgBadClassEscape)
	}
	r, err := t.charEscape(c)
	return char(r), false, err
}

// writeClass writes a parsed class.
func (t *translator) writeClass(items []classItem, negated bool) error {
	if t.state.caseless && slices.ContainsFunc(items, func(it classItem) bool { return it.noFold }) {
		// Go would fold every member: spell the exact set out instead.
		ranges, err := caselessRanges(items)
		if err != nil {
			return err
		}
		if negated {
			ranges = negateRanges(ranges)
		}
		t.b.WriteString("(?-i:[")
		if len(ranges) == 0 {
			t.b.WriteString(`^\x00-\x{10FFFF}`)
		}
		for k := 0; k < len(ranges); k += 2 {
			writeClassRange(&t.b, ranges[k], ranges[k+1])
		}
		t.b.WriteString("])")
		return nil
	}
	t.b.WriteByte('[')
	if negated {
		t.b.WriteByte('^')
	}
	for _, it := range items {
		if it.set != "" {
			t.b.WriteString(it.set)
		} else {
			writeClassRange(&t.b, it.lo, it.hi)
		}
	}
	t.b.WriteByte(']')
	return nil
}

func writeClassRange(b *strings.Builder, lo, hi rune) {
	writeClassChar(b, lo)
	if hi != lo {
		b.WriteByte('-')
		writeClassChar(b, hi)
	}
}

func writeClassChar(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && isAlnum(byte(r)) {
		b.WriteByte(byte(r))
	} else {
		writeCode(b, r)
	}
}

// caselessRanges returns the characters a caseless class matches, as sorted, merged
// [lo, hi] pairs: its noFold sets as they are, everything else case-folded.
func caselessRanges(items []classItem) ([]rune, error) {
	var folded, plain strings.Builder
	for _, it := range items {
		switch {
		case it.noFold:
			plain.WriteString(it.set)
		case it.set != "":
			folded.WriteString(it.set)
		default:
			writeClassRange(&folded, it.lo, it.hi)
		}
	}
	var ranges []rune
	for _, part := range []string{"(?i:[" + folded.String() + "])", "[" + plain.String() + "]"} {
		if strings.HasSuffix(part, "[])") || part == "[]" {
			continue
		}
		re, err := syntax.Parse(part, syntax.Perl)
		if err != nil {
			return nil, goParseError(err)
		}
		r, ok := nodeRanges(re)
		if !ok {
			return nil, &UnsupportedError{Construct: "this case-insensitive character class"}
		}
		ranges = append(ranges, r...)
	}
	return mergeRanges(ranges), nil
}

// nodeRanges returns the characters a parsed one-character pattern matches.
func nodeRanges(re *syntax.Regexp) ([]rune, bool) {
	switch re.Op {
	case syntax.OpCharClass:
		return slices.Clone(re.Rune), true
	case syntax.OpAnyChar:
		return []rune{0, unicode.MaxRune}, true
	case syntax.OpAnyCharNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}, true
	case syntax.OpNoMatch:
		return nil, true
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return nil, false
		}
		r := re.Rune[0]
		out := []rune{r, r}
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				out = append(out, f, f)
			}
		}
		return out, true
	}
	return nil, false
}

// mergeRanges sorts [lo, hi] pairs and merges overlapping and adjacent ones.
func mergeRanges(r []rune) []rune {
	pairs := make([][2]rune, 0, len(r)/2)
	for k := 0; k+1 < len(r); k += 2 {
		pairs = append(pairs, [2]rune{r[k], r[k+1]})
	}
	slices.SortFunc(pairs, func(a, b [2]rune) int { return int(a[0] - b[0]) })
	var out []rune
	for _, p := range pairs {
		if n := len(out); n > 0 && p[0] <= out[n-1]+1 {
			out[n-1] = max(out[n-1], p[1])
			continue
		}
		out = append(out, p[0], p[1])
	}
	return out
}

// negateRanges returns the complement of sorted, merged [lo, hi] pairs.
func negateRanges(r []rune) []rune {
	var out []rune
	next := rune(0)
	for k := 0; k < len(r); k += 2 {
		if r[k] > next {
			out = append(out, next, r[k]-1)
		}
		next = r[k+1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, next, unicode.MaxRune)
	}
	return out
}

// property reads the name of \p or \P at t.i and returns it as Go class contents. prop
// reports a single \p{…} or \P{…}, usable outside a class as is. An unknown or unsupported
// name returns "" after recording it as unsupported: PCRE2 knows properties (binary ones,
// Bidi_Class, script extensions) that Go's regexp does not.
func (t *translator) property(negated bool) (set string, prop bool, err error) {
	if t.i >= len(t.pat) {
		return "", false, syntaxErr(msgBadProperty)
	}
	var name string
	if t.pat[t.i] == '{' {
		end := strings.IndexByte(t.pat[t.i:], '}')
		if end < 0 {
			return "", false, syntaxErr(msgBadProperty)
		}
		name = t.pat[t.i+1 : t.i+end]
		t.i += end + 1
	} else {
		r, size := utf8.DecodeRuneInString(t.pat[t.i:])
		name = string(r)
		t.i += size
	}
	key := looseName(name)
	if strings.HasPrefix(key, "^") {
		negated = !negated
		key = key[1:]
	}
	if key == "" {
		return "", false, syntaxErr(msgBadProperty)
	}
	goName := lookupProperty(key)
	if goName == "" {
		t.markUnsupported(`the Unicode property \p{` + name + `}`)
		return "", false, nil
	}
	if strings.Contains(goName, "_") {
		// Go's parser does not accept these script names: spell the characters out.
		ranges := tableRanges(unicode.Scripts[goName])
		if negated {
			ranges = negateRanges(ranges)
		}
		var b strings.Builder
		for k := 0; k < len(ranges); k += 2 {
			writeClassRange(&b, ranges[k], ranges[k+1])
		}
		return b.String(), false, nil
	}
	if negated {
		return `\P{` + goName + `}`, true, nil
	}
	return `\p{` + goName + `}`, true, nil
}

// tableRanges returns the characters of a Unicode table as sorted, merged [lo, hi] pairs.
func tableRanges(tab *unicode.RangeTable) []rune {
	var r []rune
	add := func(lo, hi, stride rune) {
		if stride == 1 {
			r = append(r, lo, hi)
			return
		}
		for c := lo; c <= hi; c += stride {
			r = append(r, c, c)
		}
	}
	for _, x := range tab.R16 {
		add(rune(x.Lo), rune(x.Hi), rune(x.Stride))
	}
	for _, x := range tab.R32 {
		add(rune(x.Lo), rune(x.Hi), rune(x.Stride))
	}
	return mergeRanges(r)
}

// looseName applies Unicode loose matching to a property name, as PCRE2 does: ASCII white
// space, hyphens and underscores are ignored and case does not matter.
func looseName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\v', '\f', '\r', '-', '_':
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

var (
	propertyOnce  sync.Once
	propertyNames map[string]string // loose name → Go's name
)

// lookupProperty returns Go's name for a general category or script, given its loose name,
// or "". A script can also be named as sc:Name or script:Name.
func lookupProperty(key string) string {
	propertyOnce.Do(func() {
		propertyNames = map[string]string{"any": "Any", "l&": "LC"}
		for name := range unicode.Categories {
			propertyNames[looseName(name)] = name
		}
		for name := range unicode.Scripts {
			propertyNames[looseName(name)] = name
			propertyNames["sc:"+looseName(name)] = name
		}
	})
	key = strings.Replace(key, "=", ":", 1)
	key = strings.Replace(key, "script:", "sc:", 1)
	return propertyNames[key]
}
