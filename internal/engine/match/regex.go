package match

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
)

// MongoDB error codes for regular expressions (mongod reports them as Location<code>).
const (
	codeRegexInvalid     int32 = 51091
	codeRegexBadFlag     int32 = 51108
	codeOptionsThenRegex int32 = 51074 // options in $options, then on the $regex value too
	codeRegexThenOptions int32 = 51075 // options on the $regex value, then in $options too
)

// regexCache keeps recently compiled patterns, since the same filter is typically compiled
// for every command that uses it. Compiled regexps are safe for concurrent use.
var regexCache = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}

const regexCacheSize = 512

// compileRegex compiles a MongoDB (PCRE) regular expression with its option flags into a Go
// regexp. Flags are i, m, s, x and u (a no-op: patterns are always UTF-8). PCRE constructs Go
// cannot express (lookaround, backreferences, atomic groups, possessive quantifiers,
// recursion, …) are reported as invalid patterns, code 51091, naming the construct.
func compileRegex(pattern, flags string) (*regexp.Regexp, error) {
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case 'i', 'm', 's', 'x', 'u':
		default:
			r, _ := utf8.DecodeRuneInString(flags[i:])
			return nil, mongoerr.Newf(codeRegexBadFlag, " invalid flag in regex options: %c", r)
		}
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, mongoerr.Newf(mongoerr.BadValue, "Regular expression cannot contain an embedded null byte")
	}
	key := flags + "\x00" + pattern
	regexCache.Lock()
	re, ok := regexCache.m[key]
	regexCache.Unlock()
	if ok {
		return re, nil
	}
	src, err := translatePCRE(pattern, flags)
	if err != nil {
		return nil, mongoerr.Newf(codeRegexInvalid, "Regular expression is invalid: %s", err)
	}
	re, err = regexp.Compile(src)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		return nil, mongoerr.Newf(codeRegexInvalid, "Regular expression is invalid: %s", msg)
	}
	regexCache.Lock()
	if len(regexCache.m) >= regexCacheSize {
		clear(regexCache.m)
	}
	regexCache.m[key] = re
	regexCache.Unlock()
	return re, nil
}

// Class bodies for PCRE escapes Go lacks or defines differently.
const (
	classSpace  = `\t\n\x0B\f\r `                                                      // PCRE \s includes VT
	classHSpace = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}` // \h
	classVSpace = `\n\x0B\f\r\x{85}\x{2028}\x{2029}`                                   // \v
)

// unsupported reports a PCRE construct Go's regexp cannot express.
func unsupported(what string) error {
	return fmt.Errorf("%s is not supported by mongotest (Go regular expressions have no equivalent)", what)
}

// translatePCRE rewrites a PCRE pattern into Go regexp syntax with the same meaning: option
// flags become inline flags, extended mode (x) is applied by dropping whitespace and
// comments, and escapes Go lacks (\h, \v, \R, \Z, \e, \cX, octal, short \x) are expanded. A
// $ outside multiline mode also matches before a final newline, as in PCRE.
func translatePCRE(pat, flags string) (string, error) {
	var b strings.Builder
	b.Grow(len(pat) + 16)
	for _, f := range []byte{'i', 'm', 's'} {
		if strings.IndexByte(flags, f) >= 0 {
			b.WriteString("(?" + string(f) + ")")
		}
	}
	t := translator{pat: pat, b: &b, extended: strings.IndexByte(flags, 'x') >= 0, multiline: strings.IndexByte(flags, 'm') >= 0,
		groups: countGroups(pat)}
	if err := t.run(); err != nil {
		return "", err
	}
	return b.String(), nil
}

type translator struct {
	pat       string
	i         int
	groups    int // capturing groups in the pattern, to tell backreferences from octal
	b         *strings.Builder
	extended  bool
	multiline bool
	quant     bool // the last token written was a quantifier
}

func (t *translator) run() error {
	for t.i < len(t.pat) {
		c := t.pat[t.i]
		if t.extended {
			if isPCRESpace(c) {
				t.i++
				continue
			}
			if c == '#' {
				for t.i < len(t.pat) && t.pat[t.i] != '\n' {
					t.i++
				}
				continue
			}
		}
		wasQuant := t.quant
		t.quant = false
		switch c {
		case '\\':
			if err := t.escape(false); err != nil {
				return err
			}
		case '[':
			if err := t.class(); err != nil {
				return err
			}
		case '(':
			if err := t.group(); err != nil {
				return err
			}
		case '$':
			t.i++
			if t.multiline {
				t.b.WriteByte('$')
			} else {
				t.b.WriteString(`(?:$|\n\z)`)
			}
		case '*', '+', '?':
			if c == '+' && wasQuant {
				return unsupported("a possessive quantifier")
			}
			t.i++
			t.b.WriteByte(c)
			// A ? after a quantifier makes it lazy; a further quantifier is then an error
			// Go reports itself.
			t.quant = !(c == '?' && wasQuant)
		case '{':
			if n := repeatLen(t.pat[t.i:]); n > 0 {
				t.b.WriteString(t.pat[t.i : t.i+n])
				t.i += n
				t.quant = true
			} else {
				t.i++
				t.b.WriteString(`\{`)
			}
		default:
			_, size := utf8.DecodeRuneInString(t.pat[t.i:])
			t.b.WriteString(t.pat[t.i : t.i+size])
			t.i += size
		}
	}
	return nil
}

// countGroups counts the capturing groups of a pattern: "(" not followed by "?", and named
// groups.
func countGroups(pat string) int {
	n, inClass := 0, false
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(pat) && pat[i+1] == '^' {
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				i++ // a ] first in a class is a literal
			}
		case c == '(':
			rest := pat[i+1:]
			if !strings.HasPrefix(rest, "?") || strings.HasPrefix(rest, "?P<") || strings.HasPrefix(rest, "?'") ||
				strings.HasPrefix(rest, "?<") && !strings.HasPrefix(rest, "?<=") && !strings.HasPrefix(rest, "?<!") {
				n++
			}
		}
	}
	return n
}

// isPCRESpace reports the characters extended mode ignores.
func isPCRESpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// repeatLen returns the length of a {n}, {n,} or {n,m} quantifier at the start of s, or 0
// when s does not start with one (PCRE then reads the brace literally).
func repeatLen(s string) int {
	i := 1
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if digits() == 0 {
		return 0
	}
	if i < len(s) && s[i] == ',' {
		i++
		digits()
	}
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	return 0
}

// group translates the opening of a group.
func (t *translator) group() error {
	rest := t.pat[t.i+1:]
	if strings.HasPrefix(rest, "*") {
		return unsupported("a backtracking control verb (*...)")
	}
	if !strings.HasPrefix(rest, "?") {
		t.i++
		t.b.WriteByte('(')
		return nil
	}
	rest = rest[1:]
	switch {
	case strings.HasPrefix(rest, "#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return fmt.Errorf("missing ) after (?# comment")
		}
		t.i += 2 + end + 1
		return nil
	case strings.HasPrefix(rest, ":"):
		t.i += 3
		t.b.WriteString("(?:")
		return nil
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"),
		strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return unsupported("lookaround (?=, (?!, (?<=, (?<!")
	case strings.HasPrefix(rest, ">"):
		return unsupported("an atomic group (?>")
	case strings.HasPrefix(rest, "|"):
		return unsupported("a branch reset group (?|")
	case strings.HasPrefix(rest, "("):
		return unsupported("a conditional group (?(")
	case strings.HasPrefix(rest, "P="), strings.HasPrefix(rest, "P>"), strings.HasPrefix(rest, "&"):
		return unsupported("a named backreference or subroutine call")
	case strings.HasPrefix(rest, "P<"):
		t.i += 2
		t.b.WriteString("(?")
		return nil
	case strings.HasPrefix(rest, "<"):
		t.i += 2
		t.b.WriteString("(?P")
		return nil
	case strings.HasPrefix(rest, "'"):
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return fmt.Errorf("syntax error in subpattern name (missing terminator)")
		}
		t.b.WriteString("(?P<" + rest[1:1+end] + ">")
		t.i += 3 + end + 1
		return nil
	case strings.HasPrefix(rest, "R"), strings.HasPrefix(rest, "+"),
		len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9',
		len(rest) > 1 && rest[0] == '-' && rest[1] >= '0' && rest[1] <= '9':
		return unsupported("recursion or a subroutine call")
	case strings.HasPrefix(rest, "C"):
		return unsupported("a callout (?C")
	}
	// Inline option setting: (?imsU-imsU) or (?imsU-imsU: …).
	j := 0
	for j < len(rest) && strings.IndexByte("imsxnUJ-^", rest[j]) >= 0 {
		j++
	}
	if j < len(rest) && (rest[j] == ')' || rest[j] == ':') {
		opts := rest[:j]
		if strings.ContainsAny(opts, "xnJ^") {
			return unsupported("the inline option setting (?" + opts + ")")
		}
		t.b.WriteString("(?" + rest[:j+1])
		t.i += 2 + j + 1
		return nil
	}
	return fmt.Errorf("unrecognized character after (? or (?-")
}

// class translates a character class [...].
func (t *translator) class() error {
	t.i++
	t.b.WriteByte('[')
	if t.i < len(t.pat) && t.pat[t.i] == '^' {
		t.b.WriteByte('^')
		t.i++
	}
	if t.i < len(t.pat) && t.pat[t.i] == ']' {
		// A ] first in the class is a literal in PCRE.
		t.b.WriteString(`\]`)
		t.i++
	}
	for t.i < len(t.pat) {
		c := t.pat[t.i]
		switch {
		case c == ']':
			t.i++
			t.b.WriteByte(']')
			return nil
		case c == '\\':
			if err := t.escape(true); err != nil {
				return err
			}
		case c == '[' && strings.HasPrefix(t.pat[t.i:], "[:"):
			end := strings.Index(t.pat[t.i+2:], ":]")
			if end < 0 {
				t.i++
				t.b.WriteString(`\[`)
				continue
			}
			t.b.WriteString(t.pat[t.i : t.i+2+end+2])
			t.i += 2 + end + 2
		case c == '[':
			t.i++
			t.b.WriteString(`\[`)
		default:
			_, size := utf8.DecodeRuneInString(t.pat[t.i:])
			t.b.WriteString(t.pat[t.i : t.i+size])
			t.i += size
		}
	}
	return fmt.Errorf("missing terminating ] for character class")
}

// escape translates the escape sequence at t.i, inside a character class or not.
func (t *translator) escape(inClass bool) error {
	if t.i+1 >= len(t.pat) {
		return fmt.Errorf("\\ at end of pattern")
	}
	r, size := utf8.DecodeRuneInString(t.pat[t.i+1:])
	t.i += 1 + size
	w := t.b
	set := func(body string, negate bool) {
		switch {
		case inClass:
			w.WriteString(body)
		case negate:
			w.WriteString("[^" + body + "]")
		default:
			w.WriteString("[" + body + "]")
		}
	}
	switch r {
	case 's':
		set(classSpace, false)
	case 'S':
		if inClass {
			w.WriteString(`\S`)
		} else {
			set(classSpace, true)
		}
	case 'h', 'v':
		body := classHSpace
		if r == 'v' {
			body = classVSpace
		}
		set(body, false)
	case 'H', 'V':
		if inClass {
			return unsupported(`\` + string(r) + " inside a character class")
		}
		body := classHSpace
		if r == 'V' {
			body = classVSpace
		}
		set(body, true)
	case 'R':
		if inClass {
			return fmt.Errorf(`escape sequence \R is invalid in character class`)
		}
		w.WriteString(`(?:\r\n|[` + classVSpace + `])`)
	case 'N':
		if inClass {
			return fmt.Errorf(`escape sequence \N is invalid in character class`)
		}
		w.WriteString(`[^\n]`)
	case 'Z':
		if inClass {
			return fmt.Errorf(`escape sequence \Z is invalid in character class`)
		}
		w.WriteString(`(?:\n?\z)`)
	case 'b':
		if inClass {
			w.WriteString(`\x08`) // backspace inside a class
		} else {
			w.WriteString(`\b`)
		}
	case 'e':
		w.WriteString(`\x1B`)
	case 'a':
		w.WriteString(`\x07`)
	case 'c':
		if t.i >= len(t.pat) || t.pat[t.i] > 127 {
			return fmt.Errorf(`\c at end of pattern`)
		}
		ch := t.pat[t.i]
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		t.i++
		fmt.Fprintf(w, `\x{%X}`, ch^0x40)
	case 'x':
		if t.i < len(t.pat) && t.pat[t.i] == '{' {
			end := strings.IndexByte(t.pat[t.i:], '}')
			if end < 0 {
				return fmt.Errorf(`missing } after \x{`)
			}
			w.WriteString(`\x` + t.pat[t.i:t.i+end+1]) // \x{hhh…} is the same in Go
			t.i += end + 1
			return nil
		}
		n, j := 0, 0
		for j < 2 && t.i+j < len(t.pat) && isHex(t.pat[t.i+j]) {
			n = n*16 + hexVal(t.pat[t.i+j])
			j++
		}
		t.i += j
		fmt.Fprintf(w, `\x{%X}`, n)
	case 'o':
		end := strings.IndexByte(t.pat[t.i:], '}')
		if t.i >= len(t.pat) || t.pat[t.i] != '{' || end < 0 {
			return fmt.Errorf(`missing opening brace after \o`)
		}
		n, err := strconv.ParseUint(t.pat[t.i+1:t.i+end], 8, 32)
		if err != nil {
			return fmt.Errorf(`non-octal character in \o{} (closing brace missing?)`)
		}
		t.i += end + 1
		fmt.Fprintf(w, `\x{%X}`, n)
	case '0':
		n, j := 0, 0
		for j < 2 && t.i+j < len(t.pat) && t.pat[t.i+j] >= '0' && t.pat[t.i+j] <= '7' {
			n = n*8 + int(t.pat[t.i+j]-'0')
			j++
		}
		t.i += j
		fmt.Fprintf(w, `\x{%X}`, n)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// PCRE: outside a class, \N is a backreference when N < 10 or names an existing group;
		// otherwise (and always inside a class) up to three octal digits are a character.
		start := t.i - 1
		end := start
		for end < len(t.pat) && t.pat[end] >= '0' && t.pat[end] <= '9' {
			end++
		}
		if !inClass {
			n, _ := strconv.Atoi(t.pat[start:end])
			if end-start > 6 || n < 10 || n <= t.groups {
				return unsupported(`a backreference \` + t.pat[start:end])
			}
		}
		if r > '7' {
			return fmt.Errorf(`\%c is not a valid escape`, r)
		}
		n, j := 0, 0
		for j < 3 && start+j < len(t.pat) && t.pat[start+j] >= '0' && t.pat[start+j] <= '7' {
			n = n*8 + int(t.pat[start+j]-'0')
			j++
		}
		t.i = start + j
		fmt.Fprintf(w, `\x{%X}`, n)
	case 'g', 'k':
		return unsupported(`a backreference \` + string(r))
	case 'K':
		return unsupported(`\K (reset match start)`)
	case 'G':
		return unsupported(`\G (first matching position)`)
	case 'X', 'C':
		return unsupported(`\` + string(r))
	case 'Q':
		end := strings.Index(t.pat[t.i:], `\E`)
		lit := t.pat[t.i:]
		if end >= 0 {
			lit = t.pat[t.i : t.i+end]
			t.i += end + 2
		} else {
			t.i = len(t.pat)
		}
		w.WriteString(regexp.QuoteMeta(lit))
	case 'E':
		// A stray \E is ignored by PCRE.
	case 'p', 'P':
		w.WriteByte('\\')
		w.WriteRune(r)
		if t.i < len(t.pat) && t.pat[t.i] == '{' {
			end := strings.IndexByte(t.pat[t.i:], '}')
			if end < 0 {
				return fmt.Errorf(`malformed \%c{ sequence`, r)
			}
			w.WriteString(t.pat[t.i : t.i+end+1])
			t.i += end + 1
		}
	case 'd', 'D', 'w', 'W', 'B', 'A', 'z', 'f', 'n', 'r', 't':
		if (r == 'B' || r == 'A' || r == 'z') && inClass {
			return fmt.Errorf(`escape sequence \%c is invalid in character class`, r)
		}
		w.WriteByte('\\')
		w.WriteRune(r)
	default:
		switch {
		case r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
			return fmt.Errorf(`unrecognized character follows \: %c`, r)
		case r < 128 && (r <= ' ' || r == 127):
			fmt.Fprintf(w, `\x{%X}`, r)
		default:
			// Any other escaped character stands for itself.
			w.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
