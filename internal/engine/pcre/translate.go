package pcre

import (
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of MongoDB's PCRE2 build.
const (
	maxNesting    = 250   // PARENS_NEST_LIMIT
	maxNameLen    = 32    // MAX_NAME_SIZE, in bytes
	maxRepeat     = 65535 // largest number in a {n,m} quantifier
	maxGroupRef   = 65535 // largest group number a backreference can name
	maxUnicodeVal = unicode.MaxRune
)

// CheckFlags reports a *FlagError for the first option letter MongoDB does not accept.
func CheckFlags(flags string) error {
	for _, r := range flags {
		switch r {
		case 'i', 'm', 's', 'x', 'u':
		default:
			return &FlagError{Flag: r}
		}
	}
	return nil
}

// Translate rewrites a MongoDB regular expression with its option letters into Go regexp
// syntax with the same meaning, and checks that Go accepts it. The result treats a
// non-multiline $ as Go does (only at the very end), so it is exact only on subjects that
// do not end with a newline; Compile handles the others.
func Translate(pattern, flags string) (string, error) {
	src, _, err := translate(pattern, flags)
	return src, err
}

// translate returns the Go source and its parse tree.
func translate(pattern, flags string) (string, *syntax.Regexp, error) {
	if err := CheckFlags(flags); err != nil {
		return "", nil, err
	}
	t := translator{pat: pattern}
	var prefix []byte
	for _, f := range []byte("ims") {
		if strings.IndexByte(flags, f) >= 0 {
			prefix = append(prefix, f)
		}
	}
	t.state.caseless = strings.IndexByte(flags, 'i') >= 0
	t.state.extended = strings.IndexByte(flags, 'x') >= 0
	t.b.Grow(len(pattern) + 16)
	if len(prefix) > 0 {
		t.b.WriteString("(?" + string(prefix) + ")")
	}
	if err := t.run(); err != nil {
		return "", nil, err
	}
	src := t.b.String()
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return "", nil, goParseError(err)
	}
	if t.unsupported != "" {
		return "", nil, &UnsupportedError{Construct: t.unsupported}
	}
	return src, tree, nil
}

// goParseError maps an error from Go's parser on a translated pattern. Patterns reach Go
// only after PCRE's own rules were checked, so Go's size limits mean "valid but too big
// for Go", and its other complaints are syntax errors PCRE reports too.
func goParseError(err error) error {
	e, ok := err.(*syntax.Error)
	if !ok {
		return syntaxErr(err.Error())
	}
	switch e.Code {
	case syntax.ErrInvalidRepeatSize:
		return &UnsupportedError{Construct: "a repetition count above 1000 (including nested repetitions)"}
	case syntax.ErrLarge, syntax.ErrNestingDepth:
		return &UnsupportedError{Construct: "a pattern this large"}
	case syntax.ErrMissingRepeatArgument, syntax.ErrInvalidRepeatOp:
		return syntaxErr(msgNoQuantifiable)
	case syntax.ErrMissingParen:
		return syntaxErr(msgMissingParen)
	case syntax.ErrUnexpectedParen:
		return syntaxErr("unmatched closing parenthesis")
	}
	return syntaxErr(string(e.Code))
}

// flagState is the part of PCRE's option state the translator needs; i, m, s and U are
// also passed on to Go, which scopes them the same way.
type flagState struct {
	caseless      bool // i: sets Go must not fold (properties, \w, POSIX classes) are spelled out
	extended      bool // x: whitespace and # comments are ignored
	extendedMore  bool // xx: also spaces and tabs inside classes
	noAutoCapture bool // n: plain (...) does not capture
	dupNames      bool // J: group names may repeat
}

type translator struct {
	pat   string
	i     int
	b     strings.Builder
	state flagState
	stack []flagState // the option state outside each open group

	groups   int             // capturing groups opened so far
	names    map[string]bool // group names seen
	refNames []string        // group names referenced by backreferences
	maxRef   int             // highest group number referenced by a backreference

	// unsupported is the first construct Go cannot express. Translation goes on, with a
	// placeholder, so a later syntax error is still reported as PCRE would.
	unsupported string
	afterQuant  bool // the last token was a quantifier, so a + makes it possessive
	inQuote     bool // inside \Q...\E in a character class
}

// markUnsupported records a construct Go cannot express, keeping the first.
func (t *translator) markUnsupported(what string) {
	if t.unsupported == "" {
		t.unsupported = what
	}
}

func (t *translator) run() error {
	for t.i < len(t.pat) {
		c := t.pat[t.i]
		if t.state.extended {
			if n := patternSpace(t.pat[t.i:]); n > 0 {
				t.i += n
				continue
			}
			if c == '#' {
				if nl := strings.IndexByte(t.pat[t.i:], '\n'); nl >= 0 {
					t.i += nl + 1
				} else {
					t.i = len(t.pat)
				}
				continue
			}
		}
		wasQuant := t.afterQuant
		t.afterQuant = false
		var err error
		switch c {
		case '\\':
			err = t.escape(wasQuant)
		case '[':
			err = t.class()
		case '(':
			err = t.open(wasQuant)
		case ')':
			if len(t.stack) == 0 {
				return syntaxErr("unmatched closing parenthesis")
			}
			t.state = t.stack[len(t.stack)-1]
			t.stack = t.stack[:len(t.stack)-1]
			t.b.WriteByte(')')
			t.i++
		case '*', '+', '?':
			t.i++
			if c == '+' && wasQuant {
				t.markUnsupported("a possessive quantifier")
				break
			}
			t.b.WriteByte(c)
			// A ? after a quantifier makes it lazy; anything after that is an error Go
			// reports itself.
			t.afterQuant = !(c == '?' && wasQuant)
		case '{':
			n, lo, hi, rerr := repeat(t.pat[t.i:])
			if rerr != nil {
				return rerr
			}
			if n == 0 {
				t.i++
				t.b.WriteString(`\{`)
				break
			}
			// Numbers are rewritten because Go reads {01} literally.
			t.i += n
			t.b.WriteByte('{')
			t.b.WriteString(strconv.Itoa(lo))
			if hi != lo {
				t.b.WriteByte(',')
				if hi >= 0 {
					t.b.WriteString(strconv.Itoa(hi))
				}
			}
			t.b.WriteByte('}')
			t.afterQuant = true
		case '^', '$', '.', '|':
			t.i++
			t.b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(t.pat[t.i:])
			if r == utf8.RuneError && size == 1 {
				return syntaxErr("UTF-8 error: invalid UTF-8 string")
			}
			t.i += size
			t.literal(r)
		}
		if err != nil {
			return err
		}
	}
	if len(t.stack) > 0 {
		return syntaxErr(msgMissingParen)
	}
	if t.maxRef > t.groups {
		return syntaxErr(msgNoSuchGroup)
	}
	for _, n := range t.refNames {
		if !t.names[n] {
			return syntaxErr(msgNoSuchGroup)
		}
	}
	return nil
}

// patternSpace returns the length of the white space extended mode ignores at the start of
// s, or 0: ASCII space, tab, LF, VT, FF, CR and the Unicode Pattern_White_Space characters
// NEL, LRM, RLM, LS and PS.
func patternSpace(s string) int {
	switch s[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 1
	}
	if s[0] < utf8.RuneSelf {
		return 0
	}
	switch r, size := utf8.DecodeRuneInString(s); r {
	case 0x85, 0x200E, 0x200F, 0x2028, 0x2029:
		return size
	}
	return 0
}

// repeat parses a {n}, {n,} or {n,m} quantifier at the start of s. It returns its length,
// or 0 when s does not start with one (PCRE then reads the brace literally); hi is -1 when
// unbounded.
func repeat(s string) (n, lo, hi int, err error) {
	i := 1
	number := func() (int, bool) {
		start, v := i, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if v <= maxRepeat {
				v = v*10 + int(s[i]-'0')
			}
			i++
		}
		return v, i > start
	}
	lo, ok := number()
	if !ok {
		return 0, 0, 0, nil
	}
	hi = lo
	if i < len(s) && s[i] == ',' {
		i++
		if hi, ok = number(); !ok {
			hi = -1
		}
	}
	if i >= len(s) || s[i] != '}' {
		return 0, 0, 0, nil
	}
	switch {
	case lo > maxRepeat || hi > maxRepeat:
		return 0, 0, 0, syntaxErr("number too big in {} quantifier")
	case hi >= 0 && hi < lo:
		return 0, 0, 0, syntaxErr("numbers out of order in {} quantifier")
	}
	return i + 1, lo, hi, nil
}

// literal writes one character outside a class.
func (t *translator) literal(r rune) {
	switch {
	case r < utf8.RuneSelf && strings.IndexByte(`\.+*?()|[]{}^$`, byte(r)) >= 0:
		t.b.WriteByte('\\')
		t.b.WriteByte(byte(r))
	case r < ' ' || r == 0x7F:
		writeCode(&t.b, r)
	default:
		t.b.WriteRune(r)
	}
}

func writeCode(b *strings.Builder, r rune) {
	b.WriteString(`\x{`)
	b.WriteString(strconv.FormatInt(int64(r), 16))
	b.WriteByte('}')
}

// PCRE character sets that Go spells differently or lacks, as class contents.
const (
	setSpace     = `\t\n\x0B\f\r `
	setNotSpace  = `\x00-\x08\x0E-\x1F!-\x{10FFFF}`
	setHSpace    = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`
	setNotHSpace = `\x00-\x08\n-\x1F!-\x{9F}\x{A1}-\x{167F}\x{1681}-\x{180D}\x{180F}-\x{1FFF}\x{200B}-\x{202E}\x{2030}-\x{205E}\x{2060}-\x{2FFF}\x{3001}-\x{10FFFF}`
	setVSpace    = `\n\x0B\f\r\x{85}\x{2028}\x{2029}`
	setNotVSpace = `\x00-\x09\x0E-\x{84}\x{86}-\x{2027}\x{202A}-\x{10FFFF}`
)

// typeSet returns the class contents for the character-type escape \c (d, D, w, W, s, S,
// h, H, v, V), or "".
func typeSet(c byte) string {
	switch c {
	case 'd', 'D', 'w', 'W':
		return `\` + string(c) // ASCII in Go as in PCRE without UCP
	case 's':
		return setSpace // PCRE's \s includes VT, Go's does not
	case 'S':
		return setNotSpace
	case 'h':
		return setHSpace
	case 'H':
		return setNotHSpace
	case 'v':
		return setVSpace
	case 'V':
		return setNotVSpace
	}
	return ""
}

// escape translates the escape sequence at t.i outside a character class.
func (t *translator) escape(wasQuant bool) error {
	if t.i+1 >= len(t.pat) {
		return syntaxErr(msgTrailingBackslash)
	}
	c := t.pat[t.i+1]
	if c >= utf8.RuneSelf || !isAlnum(c) {
		// Any other character stands for itself.
		r, size := utf8.DecodeRuneInString(t.pat[t.i+1:])
		if r == utf8.RuneError && size == 1 {
			return syntaxErr("UTF-8 error: invalid UTF-8 string")
		}
		t.i += 1 + size
		t.literal(r)
		return nil
	}
	t.i += 2
	if set := typeSet(c); set != "" {
		switch {
		case (c == 'w' || c == 'W') && t.state.caseless:
			// PCRE tests \w as is; Go would fold it (adding the Kelvin sign and long s).
			t.b.WriteString(`(?-i:` + set + `)`)
		case c == 'd' || c == 'D' || c == 'w' || c == 'W':
			t.b.WriteString(set)
		default:
			t.b.WriteString("[" + set + "]")
		}
		return nil
	}
	switch c {
	case 'b', 'B', 'A', 'z':
		t.b.WriteByte('\\')
		t.b.WriteByte(c)
	case 'Z':
		// Like a non-multiline $: Compile makes it match before a final newline too.
		t.b.WriteString(`(?-m:$)`)
	case 'R':
		t.b.WriteString(`(?:\r\n|[` + setVSpace + `])`)
	case 'N':
		if t.i < len(t.pat) && t.pat[t.i] == '{' {
			if n, _, _, _ := repeat(t.pat[t.i:]); n == 0 {
				r, err := t.unicodeName()
				if err != nil {
					return err
				}
				t.literal(r)
				return nil
			}
		}
		t.b.WriteString(`[^\n]`)
	case 'G', 'K':
		t.markUnsupported(`\` + string(c))
		t.b.WriteString(`(?:)`)
	case 'X', 'C':
		t.markUnsupported(`\` + string(c))
		t.b.WriteString(`(?s:.)`)
	case 'g', 'k':
		return t.namedReference(c)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		start := t.i - 1
		end := start
		for end < len(t.pat) && t.pat[end] >= '0' && t.pat[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(t.pat[start:end])
		if err != nil || n > maxGroupRef {
			n = -1
		}
		// PCRE: \1-\9, a number starting with 8 or 9, or one naming an already opened
		// group is a backreference; any other number starts an octal escape.
		if n >= 0 && (n < 10 || c >= '8' || n <= t.groups) {
			t.i = end
			t.maxRef = max(t.maxRef, n)
			t.markUnsupported("a backreference")
			t.b.WriteString(`(?:)`)
			return nil
		}
		if c >= '8' {
			t.i = start + 1
			t.literal(rune(c))
			return nil
		}
		t.i = start
		t.literal(t.octalDigits(3))
	case 'p', 'P':
		set, prop, err := t.property(c == 'P')
		if err != nil {
			return err
		}
		switch {
		case set == "":
			t.b.WriteString(`(?s:.)`)
		case t.state.caseless:
			// PCRE ignores caseless mode for properties; Go would fold them.
			t.b.WriteString(`(?-i:[` + set + `])`)
		case prop:
			t.b.WriteString(set)
		default:
			t.b.WriteString("[" + set + "]")
		}
	case 'Q':
		end := strings.Index(t.pat[t.i:], `\E`)
		lit := t.pat[t.i:]
		if end >= 0 {
			lit = t.pat[t.i : t.i+end]
			t.i += end + 2
		} else {
			t.i = len(t.pat)
		}
		if !utf8.ValidString(lit) {
			return syntaxErr("UTF-8 error: invalid UTF-8 string")
		}
		for _, r := range lit {
			t.literal(r)
		}
		if lit == "" {
			t.afterQuant = wasQuant
		}
	case 'E':
		// A \E without \Q is ignored.
		t.afterQuant = wasQuant
	default:
		r, err := t.charEscape(c)
		if err != nil {
			return err
		}
		t.literal(r)
	}
	return nil
}

// charEscape handles the escapes that stand for one character the same way inside and
// outside a class (\a \e \f \n \r \t \cX \xhh \x{h…} \o{o…} \0oo); t.i is just past c.
func (t *translator) charEscape(c byte) (rune, error) {
	switch c {
	case 'a':
		return 0x07, nil
	case 'e':
		return 0x1B, nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'c':
		if t.i >= len(t.pat) {
			return 0, syntaxErr(`\c at end of pattern`)
		}
		ch := t.pat[t.i]
		if ch < ' ' || ch > '~' {
			return 0, syntaxErr(`\c must be followed by a printable ASCII character`)
		}
		t.i++
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		return rune(ch ^ 0x40), nil
	case 'x':
		if t.i < len(t.pat) && t.pat[t.i] == '{' {
			t.i++
			return t.braced(16, `non-hex character in \x{} (closing brace missing?)`)
		}
		v := 0
		for k := 0; k < 2 && t.i < len(t.pat) && isHex(t.pat[t.i]); k++ {
			v = v*16 + hexValue(t.pat[t.i])
			t.i++
		}
		return rune(v), nil
	case 'o':
		if t.i >= len(t.pat) || t.pat[t.i] != '{' {
			return 0, syntaxErr(`missing opening brace after \o`)
		}
		t.i++
		return t.braced(8, `non-octal character in \o{} (closing brace missing?)`)
	case '0':
		t.i--
		return t.octalDigits(3), nil
	case 'F', 'L', 'l', 'U', 'u':
		return 0, syntaxErr(msgUnsupportedEscape)
	}
	return 0, syntaxErr(msgUnknownEscape)
}

// octalDigits reads up to n octal digits at t.i (there is at least one).
func (t *translator) octalDigits(n int) rune {
	v := rune(0)
	for k := 0; k < n && t.i < len(t.pat) && t.pat[t.i] >= '0' && t.pat[t.i] <= '7'; k++ {
		v = v*8 + rune(t.pat[t.i]-'0')
		t.i++
	}
	return v
}

// braced reads the digits and closing brace of \x{…}, \o{…} or \N{U+…}; t.i is just past
// the digits' start.
func (t *translator) braced(base int, badDigit string) (rune, error) {
	start, v := t.i, 0
	for t.i < len(t.pat) {
		c := t.pat[t.i]
		var d int
		switch {
		case base == 16 && isHex(c):
			d = hexValue(c)
		case base == 8 && c >= '0' && c <= '7':
			d = int(c - '0')
		default:
			d = -1
		}
		if d < 0 {
			break
		}
		if v <= maxUnicodeVal {
			v = v*base + d
		}
		t.i++
	}
	if t.i >= len(t.pat) || t.pat[t.i] != '}' {
		return 0, syntaxErr(badDigit)
	}
	t.i++
	switch {
	case t.i-1 == start:
		return 0, syntaxErr(msgDigitsMissing)
	case v > maxUnicodeVal:
		return 0, syntaxErr(msgCodePointTooLarge)
	case v >= 0xD800 && v <= 0xDFFF:
		return 0, syntaxErr(msgSurrogate)
	}
	return rune(v), nil
}

// unicodeName reads {U+hhh…} after \N.
func (t *translator) unicodeName() (rune, error) {
	if !strings.HasPrefix(t.pat[t.i:], "{U+") {
		return 0, syntaxErr(msgUnsupportedEscape)
	}
	t.i += 3
	return t.braced(16, `non-hex character in \x{} (closing brace missing?)`)
}

// namedReference handles \g and \k (backreferences and subroutine calls), which Go cannot
// express; t.i is just past the letter.
func (t *translator) namedReference(c byte) error {
	const (
		badG = `\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number`
		badK = `\k is not followed by a braced, angle-bracketed, or quoted name`
	)
	rest := t.pat[t.i:]
	if closer := strings.IndexByte("{<'", firstByte(rest)); closer >= 0 {
		n := strings.IndexByte(rest[1:], "}>'"[closer])
		if n < 0 {
			if c == 'k' {
				return syntaxErr(badK)
			}
			return syntaxErr(badG)
		}
		t.i += n + 2
		// \g<…> and \g'…' are Oniguruma-style subroutine calls; \g{…} and \k are
		// backreferences.
		if c == 'g' && rest[0] != '{' {
			t.markUnsupported("a subroutine call")
		} else {
			t.markUnsupported("a backreference")
			t.noteRef(rest[1 : 1+n])
		}
		t.b.WriteString(`(?:)`)
		return nil
	}
	if c == 'g' {
		j := 0
		if j < len(rest) && (rest[j] == '-' || rest[j] == '+') {
			j++
		}
		k := j
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			k++
		}
		if k > j {
			t.noteRef(rest[:k])
			t.i += k
			t.markUnsupported("a backreference")
			t.b.WriteString(`(?:)`)
			return nil
		}
		return syntaxErr(badG)
	}
	return syntaxErr(badK)
}

// noteRef records a backreference by absolute number or name, so references to groups that
// do not exist are reported as PCRE reports them.
func (t *translator) noteRef(ref string) {
	if ref == "" || ref[0] == '-' || ref[0] == '+' {
		return
	}
	if n, err := strconv.Atoi(ref); err == nil {
		t.maxRef = max(t.maxRef, n)
		return
	}
	t.refNames = append(t.refNames, ref)
}

// open translates the start of a group at t.i.
func (t *translator) open(wasQuant bool) error {
	if len(t.stack) >= maxNesting {
		return syntaxErr("parentheses are too deeply nested")
	}
	rest := t.pat[t.i+1:]
	if strings.HasPrefix(rest, "*") {
		return t.verb()
	}
	if !strings.HasPrefix(rest, "?") {
		t.i++
		t.push(t.state)
		if t.state.noAutoCapture {
			t.b.WriteString("(?:")
		} else {
			t.groups++
			t.b.WriteByte('(')
		}
		return nil
	}
	rest = rest[1:]
	body := t.i + 2 // just past "(?"
	hasPrefix := func(p string) bool { return strings.HasPrefix(rest, p) }
	switch {
	case hasPrefix("#"):
		// A comment runs to the next ), with no nesting.
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return syntaxErr("missing ) after (?# comment")
		}
		t.i = body + end + 1
		t.afterQuant = wasQuant
		return nil
	case hasPrefix(":"):
		t.i = body + 1
		t.push(t.state)
		t.b.WriteString("(?:")
		return nil
	case hasPrefix("="), hasPrefix("!"), hasPrefix("<="), hasPrefix("<!"):
		t.markUnsupported("a lookaround assertion")
		return t.placeholderGroup(body + strings.IndexAny(rest, "=!") + 1)
	case hasPrefix(">"):
		t.markUnsupported("an atomic group")
		return t.placeholderGroup(body + 1)
	case hasPrefix("|"):
		t.markUnsupported("a branch reset group")
		return t.placeholderGroup(body + 1)
	case hasPrefix("("):
		t.markUnsupported("a conditional group")
		if strings.HasPrefix(rest[1:], "?") || strings.HasPrefix(rest[1:], "*") {
			// An assertion condition: the main loop reads the assertion itself.
			t.i = body
			t.push(t.state)
			t.b.WriteString("(?:")
			return nil
		}
		end := strings.IndexByte(rest[1:], ')')
		if end < 0 {
			return syntaxErr("missing closing parenthesis for condition")
		}
		return t.placeholderGroup(body + 1 + end + 1)
	case hasPrefix("P<"):
		return t.namedGroup(body+2, '>')
	case hasPrefix("<"):
		return t.namedGroup(body+1, '>')
	case hasPrefix("'"):
		return t.namedGroup(body+1, '\'')
	case hasPrefix("P="):
		if err := t.skipCall(body, "a backreference"); err != nil {
			return err
		}
		t.refNames = append(t.refNames, rest[2:strings.IndexByte(rest, ')')])
		return nil
	case hasPrefix("P>"), hasPrefix("&"), hasPrefix("R"),
		len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9',
		len(rest) > 1 && (rest[0] == '+' || rest[0] == '-') && rest[1] >= '0' && rest[1] <= '9':
		return t.skipCall(body, "recursion or a subroutine call")
	case hasPrefix("C"):
		return t.skipCall(body, "a callout")
	}
	return t.options(body)
}

func (t *translator) push(outer flagState) {
	t.stack = append(t.stack, outer)
}

// placeholderGroup stands a non-capturing group in for an unsupported one whose contents
// start at i, so the rest of the pattern is still checked.
func (t *translator) placeholderGroup(i int) error {
	t.i = i
	t.push(t.state)
	t.b.WriteString("(?:")
	return nil
}

// skipCall stands an empty group in for an unsupported item ending at the next ).
func (t *translator) skipCall(body int, what string) error {
	end := strings.IndexByte(t.pat[body:], ')')
	if end < 0 {
		return syntaxErr(msgMissingParen)
	}
	t.markUnsupported(what)
	t.i = body + end + 1
	t.b.WriteString("(?:)")
	return nil
}

// verb handles (*…): backtracking control verbs, start-of-pattern options and alphabetic
// assertions such as (*pla:…).
func (t *translator) verb() error {
	j := t.i + 2
	for j < len(t.pat) && (t.pat[j] == '_' || isAlnum(t.pat[j])) {
		j++
	}
	name := t.pat[t.i+2 : j]
	if name != "" && j < len(t.pat) && t.pat[j] == ':' && strings.ToLower(name) == name {
		t.markUnsupported("an alphabetic assertion (*" + name + ":")
		return t.placeholderGroup(j + 1)
	}
	end := strings.IndexByte(t.pat[t.i:], ')')
	if end < 0 || name == "" {
		return syntaxErr("(*VERB) not recognized or malformed")
	}
	t.markUnsupported("a backtracking control verb or start-of-pattern option (*" + name + ")")
	t.i += end + 1
	t.b.WriteString("(?:)")
	return nil
}

// namedGroup reads a group name starting at i, ended by term. Go has no use for the names
// (MongoDB reports captures by number), so the group becomes a plain capturing one.
func (t *translator) namedGroup(i int, term byte) error {
	j := i
	for j < len(t.pat) {
		r, size := utf8.DecodeRuneInString(t.pat[j:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		j += size
	}
	name := t.pat[i:j]
	switch {
	case name == "":
		return syntaxErr("subpattern name expected")
	case name[0] >= '0' && name[0] <= '9':
		return syntaxErr("subpattern name must start with a non-digit")
	case len(name) > maxNameLen:
		return syntaxErr("subpattern name is too long (maximum 32 code units)")
	case j >= len(t.pat) || t.pat[j] != term:
		return syntaxErr("syntax error in subpattern name (missing terminator?)")
	case t.names[name] && !t.state.dupNames:
		return syntaxErr("two named subpatterns have the same name (PCRE2_DUPNAMES not set)")
	}
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
	t.i = j + 1
	t.push(t.state)
	t.groups++
	t.b.WriteByte('(')
	return nil
}

// options translates an option setting, (?imnsxJU-imnsxJU) or (?^…), alone or starting a
// group (…:); body is just past "(?".
func (t *translator) options(body int) error {
	st := t.state
	var goOn, goOff []byte
	set := func(f byte, on bool) {
		if on {
			goOn = append(goOn, f)
		} else {
			goOff = append(goOff, f)
		}
	}
	j := body
	on := true
	if j < len(t.pat) && t.pat[j] == '^' {
		// (?^) unsets i, m, n, s and x; letters after it set options again.
		st.caseless, st.noAutoCapture, st.extended, st.extendedMore = false, false, false, false
		j++
	}
	caret := j > body
	for ; j < len(t.pat) && t.pat[j] != ')' && t.pat[j] != ':'; j++ {
		switch f := t.pat[j]; f {
		case '-':
			if !on || caret {
				return syntaxErr("invalid hyphen in option setting")
			}
			on = false
		case 'i':
			st.caseless = on
			set(f, on)
		case 'm', 's', 'U':
			set(f, on)
		case 'n':
			st.noAutoCapture = on
		case 'J':
			st.dupNames = on
		case 'x':
			// x and xx are not independent: unsetting either cancels both.
			st.extended = on
			st.extendedMore = false
			if on && j+1 < len(t.pat) && t.pat[j+1] == 'x' {
				st.extendedMore = true
				j++
			}
		case 'a', 'r', 't':
			// Options of PCRE2 10.43 and later (ASCII restrictions, caseless restrictions,
			// Turkish casing), which change what Go's classes mean.
			name := string(f)
			if f == 'a' && j+1 < len(t.pat) && strings.IndexByte("DSWPT", t.pat[j+1]) >= 0 {
				j++
				name += string(t.pat[j])
			}
			t.markUnsupported("the inline option (?" + name + ")")
		default:
			return syntaxErr("unrecognized character after (? or (?-")
		}
	}
	if j >= len(t.pat) {
		return syntaxErr(msgMissingParen)
	}
	if caret {
		goOff = removeAll([]byte("ims"), goOn)
	}
	// A letter both before and after the hyphen ends up unset, as in PCRE.
	goOn = removeAll(goOn, goOff)
	flags := string(goOn)
	if len(goOff) > 0 {
		flags += "-" + string(goOff)
	}
	t.i = j + 1
	if t.pat[j] == ')' {
		t.state = st
		if flags != "" {
			t.b.WriteString("(?" + flags + ")")
		}
		return nil
	}
	t.push(t.state)
	t.state = st
	t.b.WriteString("(?" + flags + ":")
	return nil
}

func removeAll(s, drop []byte) []byte {
	out := s[:0]
	for _, c := range s {
		if strings.IndexByte(string(drop), c) < 0 && strings.IndexByte(string(out), c) < 0 {
			out = append(out, c)
		}
	}
	return out
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func hexValue(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c|0x20-'a') + 10
}
