package expr

// $regexFind, $regexFindAll and $regexMatch. MongoDB matches with PCRE (UTF mode, ASCII
// character classes); patterns are translated to Go's RE2 syntax, which agrees with PCRE
// on leftmost-first matching. PCRE features RE2 lacks (look-around, backreferences,
// atomic groups, possessive quantifiers, recursion, …) are reported as NotImplemented
// rather than approximated.

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	for _, m := range []regexMode{regexFind, regexFindAll, regexMatch} {
		register(m.String(), func(args any, sc *scope) (node, error) { return parseRegexOp(m, args, sc) })
	}
}

type regexMode uint8

const (
	regexFind regexMode = iota
	regexFindAll
	regexMatch
)

func (m regexMode) String() string {
	return [...]string{"$regexFind", "$regexFindAll", "$regexMatch"}[m]
}

// regexNode is one of the three regex operators.
type regexNode struct {
	mode                  regexMode
	input, regex, options node
	// fixed is the regex compiled once when regex and options are constants; nil with
	// fixedNull means the constant regex is null.
	fixed     *pcre
	fixedNull bool
	// last caches the most recent regex compiled from non-constant arguments.
	last atomic.Pointer[pcre]
}

func parseRegexOp(mode regexMode, args any, sc *scope) (node, error) {
	op := mode.String()
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(51103, "%s expects an object of named arguments but found: %s", op, typeName(args))
	}
	n := &regexNode{mode: mode}
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "input":
			dst = &n.input
		case "regex":
			dst = &n.regex
		case "options":
			dst = &n.options
		default:
			return nil, mongoerr.Newf(31024, "%s found an unknown argument: %s", op, e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.input == nil {
		return nil, mongoerr.Newf(31022, "%s requires 'input' parameter", op)
	}
	if n.regex == nil {
		return nil, mongoerr.Newf(31023, "%s requires 'regex' parameter", op)
	}
	if sdAllConstant(n.regex, n.options) {
		// MongoDB compiles a constant regex when parsing, so its errors do not depend on
		// the documents.
		var opts any
		if n.options != nil {
			opts = n.options.(literal).v
		}
		re, err := n.compile(n.regex.(literal).v, opts)
		if err != nil {
			return nil, err
		}
		n.fixed, n.fixedNull = re, re == nil
	}
	// Unlike most operators, MongoDB does not fold a regex operator with constant
	// arguments: input errors surface only when it is evaluated.
	return n, nil
}

// compile validates the regex and options values and compiles them; it returns nil for a
// nullish pattern.
func (n *regexNode) compile(regex, options any) (*pcre, error) {
	op := n.mode.String()
	var pattern, flags string
	hasPattern := false
	switch x := regex.(type) {
	case string:
		pattern, hasPattern = x, true
	case bson.Regex:
		pattern, flags, hasPattern = x.Pattern, x.Options, true
	default:
		if !value.IsNullish(regex) {
			return nil, mongoerr.Newf(51105, "%s needs 'regex' to be of type string or regex", op)
		}
	}
	if !value.IsNullish(options) {
		o, ok := options.(string)
		if !ok {
			return nil, mongoerr.Newf(51106, "%s needs 'options' to be of type string", op)
		}
		if _, isRegex := regex.(bson.Regex); isRegex && flags != "" {
			return nil, mongoerr.Newf(51107, "%s: found regex option(s) specified in both 'regex' and 'option' fields", op)
		}
		flags = o
	}
	if hasPattern && strings.IndexByte(pattern, 0) >= 0 {
		return nil, mongoerr.Newf(51109, "%s: regular expression cannot contain an embedded null byte", op)
	}
	if strings.IndexByte(flags, 0) >= 0 {
		return nil, mongoerr.Newf(51110, "%s: regular expression options cannot contain an embedded null byte", op)
	}
	if !hasPattern {
		return nil, nil
	}
	if re := n.last.Load(); re != nil && re.pattern == pattern && re.flags == flags {
		return re, nil
	}
	re, err := compilePCRE(op, pattern, flags)
	if err != nil {
		return nil, err
	}
	n.last.Store(re)
	return re, nil
}

func (n *regexNode) eval(c *ctx) (any, error) {
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	re := n.fixed
	if re == nil && !n.fixedNull {
		rv, err := n.regex.eval(c)
		if err != nil {
			return nil, err
		}
		var ov any
		if n.options != nil {
			if ov, err = n.options.eval(c); err != nil {
				return nil, err
			}
		}
		if re, err = n.compile(rv, ov); err != nil {
			return nil, err
		}
	}
	if !value.IsNullish(in) {
		if _, ok := in.(string); !ok {
			return nil, mongoerr.Newf(51104, "%s needs 'input' to be of type string", n.mode)
		}
	}
	if re == nil || value.IsNullish(in) {
		switch n.mode {
		case regexFindAll:
			return bson.A{}, nil
		case regexMatch:
			return false, nil
		}
		return nil, nil
	}
	s := in.(string)
	switch n.mode {
	case regexMatch:
		loc, err := re.find(s, 0)
		return loc != nil, err
	case regexFind:
		loc, err := re.find(s, 0)
		if err != nil || loc == nil {
			return nil, err
		}
		return re.matchDoc(s, loc, utf8.RuneCountInString(s[:loc[0]])), nil
	}
	out := bson.A{}
	pos, cpPos := 0, 0
	for {
		loc, err := re.find(s, pos)
		if err != nil {
			return nil, err
		}
		if loc == nil {
			break
		}
		cpPos += utf8.RuneCountInString(s[pos:loc[0]])
		out = append(out, re.matchDoc(s, loc, cpPos))
		if loc[1] == loc[0] {
			// An empty match: move one code point on so the next search makes progress.
			if loc[0] >= len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[loc[0]:])
			pos = loc[0] + w
			cpPos++
		} else {
			cpPos += utf8.RuneCountInString(s[loc[0]:loc[1]])
			pos = loc[1]
		}
		if pos >= len(s) {
			break
		}
	}
	return out, nil
}

// matchDoc builds {match, idx, captures} for one match; unmatched groups are null.
func (p *pcre) matchDoc(s string, loc []int, idx int) bson.D {
	caps := make(bson.A, p.ncap)
	for i := 0; i < p.ncap; i++ {
		if a := loc[2*i+2]; a >= 0 {
			caps[i] = s[a:loc[2*i+3]]
		} else {
			caps[i] = nil
		}
	}
	return bson.D{
		{Key: "match", Value: s[loc[0]:loc[1]]},
		{Key: "idx", Value: int32(idx)},
		{Key: "captures", Value: caps},
	}
}

// pcre is a compiled MongoDB regular expression.
type pcre struct {
	pattern, flags string
	tree           *syntax.Regexp
	ncap           int
	// ctxSensitive means the pattern has ^, \A, \b or \B, whose meaning at the start of a
	// search depends on the text before it, so a search cannot just slice the input.
	ctxSensitive bool
	// hasDollar means the pattern has a non-multiline $ (or \Z), which PCRE also lets
	// match before a final newline.
	hasDollar bool
	// hasBeginLine means the pattern has a multiline ^, which PCRE does not let match
	// after a final newline.
	hasBeginLine bool
	variants     [4]pcreVariant
}

// Variant flags: bit 0 compiles $ as (?m:$), bit 1 makes multiline ^ never match.
const (
	variantDollarAsLine = 1
	variantNoBeginLine  = 2
)

type pcreVariant struct {
	once sync.Once
	base *regexp.Regexp // searches from the start of the text it is given
	ctx  *regexp.Regexp // \A(?s:.)(?s:.*?)(base): searches after one rune of context
	err  error
}

func regexCompileError(op string, err error) error {
	if e, ok := err.(*syntax.Error); ok && e.Code == syntax.ErrInvalidRepeatSize {
		return mongoerr.Newf(mongoerr.NotImplemented, "Invalid Regex in %s: repetition counts above 1000 are not supported: %s", op, e.Expr)
	}
	return mongoerr.Newf(51111, "Invalid Regex in %s: %v", op, err)
}

// compilePCRE translates and compiles a pattern with MongoDB regex options.
func compilePCRE(op, pattern, flags string) (*pcre, error) {
	var goFlags strings.Builder
	extended := false
	for i := 0; i < len(flags); i++ {
		switch f := flags[i]; f {
		case 'i', 'm', 's':
			if !strings.Contains(goFlags.String(), string(f)) {
				goFlags.WriteByte(f)
			}
		case 'x':
			extended = true
		case 'u':
		default:
			return nil, mongoerr.Newf(51108, "%s invalid flag in regex options: %c", op, f)
		}
	}
	src, err := translatePCRE(op, pattern, extended)
	if err != nil {
		return nil, err
	}
	if goFlags.Len() > 0 {
		src = "(?" + goFlags.String() + ")" + src
	}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, regexCompileError(op, err)
	}
	p := &pcre{pattern: pattern, flags: flags, tree: tree, ncap: tree.MaxCap()}
	walkRegex(tree, func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpBeginLine:
			p.hasBeginLine, p.ctxSensitive = true, true
		case syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			p.ctxSensitive = true
		case syntax.OpEndText:
			if r.Flags&syntax.WasDollar != 0 {
				p.hasDollar = true
			}
		}
	})
	v := &p.variants[0]
	v.once.Do(func() { v.base, v.ctx, v.err = p.build(src) })
	if v.err != nil {
		return nil, regexCompileError(op, v.err)
	}
	return p, nil
}

func (p *pcre) build(src string) (*regexp.Regexp, *regexp.Regexp, error) {
	base, err := regexp.Compile(src)
	if err != nil {
		return nil, nil, err
	}
	var ctxRe *regexp.Regexp
	if p.ctxSensitive {
		if ctxRe, err = regexp.Compile(`\A(?s:.)(?s:.*?)(` + src + `)`); err != nil {
			return nil, nil, err
		}
	}
	return base, ctxRe, nil
}

// variant returns the compiled variant i (see variantDollarAsLine and
// variantNoBeginLine), building it on first use.
func (p *pcre) variant(i int) (*pcreVariant, error) {
	v := &p.variants[i]
	v.once.Do(func() {
		tree := rewriteRegex(p.tree, i)
		v.base, v.ctx, v.err = p.build(tree.String())
	})
	return v, v.err
}

func walkRegex(r *syntax.Regexp, f func(*syntax.Regexp)) {
	f(r)
	for _, s := range r.Sub {
		walkRegex(s, f)
	}
}

// rewriteRegex returns a copy of r with the substitutions of variant i.
func rewriteRegex(r *syntax.Regexp, i int) *syntax.Regexp {
	switch {
	case r.Op == syntax.OpEndText && r.Flags&syntax.WasDollar != 0 && i&variantDollarAsLine != 0:
		return &syntax.Regexp{Op: syntax.OpEndLine, Flags: r.Flags &^ (syntax.WasDollar | syntax.OneLine)}
	case r.Op == syntax.OpBeginLine && i&variantNoBeginLine != 0:
		return &syntax.Regexp{Op: syntax.OpNoMatch}
	}
	c := *r
	if len(r.Sub) > 0 {
		c.Sub = make([]*syntax.Regexp, len(r.Sub))
		for j, s := range r.Sub {
			c.Sub[j] = rewriteRegex(s, i)
		}
	}
	return &c
}

// find returns the submatch indexes of the first match at or after byte pos of s, with
// the text before pos still visible to assertions, or nil.
func (p *pcre) find(s string, pos int) ([]int, error) {
	vi := 0
	endsWithNewline := len(s) > 0 && s[len(s)-1] == '\n'
	if p.hasDollar && endsWithNewline {
		if strings.IndexByte(s, '\n') != len(s)-1 {
			return nil, mongoerr.Newf(mongoerr.NotImplemented, "a regex '$' on a multi-line string that ends with a newline is not supported; use the 'm' option or '\\z'")
		}
		vi = variantDollarAsLine
	}
	loc, err := p.search(vi, s, pos)
	if err != nil || loc == nil {
		return loc, err
	}
	if p.hasBeginLine && endsWithNewline && loc[0] == len(s) && loc[1] == len(s) {
		// PCRE's multiline ^ does not match after a final newline: retry at the end
		// without it.
		return p.search(vi|variantNoBeginLine, s, len(s))
	}
	return loc, nil
}

func (p *pcre) search(vi int, s string, pos int) ([]int, error) {
	v, err := p.variant(vi)
	if err != nil {
		return nil, regexCompileError("regex", err)
	}
	if pos == 0 {
		return v.base.FindStringSubmatchIndex(s), nil
	}
	if !p.ctxSensitive {
		loc := v.base.FindStringSubmatchIndex(s[pos:])
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += pos
			}
		}
		return loc, nil
	}
	_, w := utf8.DecodeLastRuneInString(s[:pos])
	from := pos - w
	m := v.ctx.FindStringSubmatchIndex(s[from:])
	if m == nil {
		return nil, nil
	}
	// Group 1 of the context pattern is the whole match of the base pattern.
	loc := make([]int, 2*(p.ncap+1))
	for i := range loc {
		if x := m[i+2]; x >= 0 {
			loc[i] = x + from
		} else {
			loc[i] = -1
		}
	}
	return loc, nil
}

// PCRE character sets that Go spells differently or lacks, as class contents.
var (
	pcreSpace     = `\t\n\x0B\f\r `
	pcreNotSpace  = `\x00-\x08\x0E-\x1F!-\x{10FFFF}`
	pcreHSpace    = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`
	pcreNotHSpace = `\x00-\x08\n-\x1F!-\x{9F}\x{A1}-\x{167F}\x{1681}-\x{180D}\x{180F}-\x{1FFF}\x{200B}-\x{202E}\x{2030}-\x{205E}\x{2060}-\x{2FFF}\x{3001}-\x{10FFFF}`
	pcreVSpace    = `\n\x0B\f\r\x{85}\x{2028}\x{2029}`
	pcreNotVSpace = `\x00-\x09\x0E-\x{84}\x{86}-\x{2027}\x{202A}-\x{10FFFF}`
)

func regexUnsupported(op, what string) error {
	return mongoerr.Newf(mongoerr.NotImplemented, "%s: %s in regular expressions is not supported", op, what)
}

// translatePCRE rewrites a PCRE pattern into Go regexp syntax.
func translatePCRE(op, p string, extended bool) (string, error) {
	var b strings.Builder
	b.Grow(len(p) + 8)
	n := len(p)
	i := 0
	if strings.HasPrefix(p, "(?x)") {
		extended = true
		i = 4
	}
	quantified := false // the previous token was a quantifier
	for i < n {
		c := p[i]
		wasQuantified := quantified
		quantified = false
		switch {
		case extended && (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'):
			i++
			quantified = wasQuantified
		case extended && c == '#':
			for i < n && p[i] != '\n' {
				i++
			}
			quantified = wasQuantified
		case c == '\\':
			adv, err := translateEscape(op, &b, p, i, false)
			if err != nil {
				return "", err
			}
			i += adv
		case c == '[':
			adv, err := translateClass(op, &b, p, i)
			if err != nil {
				return "", err
			}
			i += adv
		case c == '(':
			adv, err := translateGroup(op, &b, p, i)
			if err != nil {
				return "", err
			}
			i += adv
		case c == '*' || c == '+' || c == '?':
			if wasQuantified && c == '+' {
				return "", regexUnsupported(op, "a possessive quantifier")
			}
			b.WriteByte(c)
			i++
			quantified = c != '?' || !wasQuantified
		case c == '{':
			if l := repeatLen(p[i:]); l > 0 {
				b.WriteString(p[i : i+l])
				i += l
				quantified = true
				break
			}
			b.WriteString(`\{`)
			i++
		default:
			r, w := utf8.DecodeRuneInString(p[i:])
			if r == utf8.RuneError && w == 1 {
				return "", mongoerr.Newf(51111, "Invalid Regex in %s: invalid UTF-8 string", op)
			}
			b.WriteString(p[i : i+w])
			i += w
		}
	}
	return b.String(), nil
}

// repeatLen returns the length of a {n}, {n,} or {n,m} quantifier at the start of s, or 0.
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

// translateGroup handles a '(' at p[i] and returns how many bytes it consumed.
func translateGroup(op string, b *strings.Builder, p string, i int) (int, error) {
	rest := p[i:]
	if strings.HasPrefix(rest, "(*") {
		return 0, regexUnsupported(op, "a backtracking control verb")
	}
	if !strings.HasPrefix(rest, "(?") {
		b.WriteByte('(')
		return 1, nil
	}
	switch {
	case strings.HasPrefix(rest, "(?#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: missing ) after (?# comment", op)
		}
		return end + 1, nil
	case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"),
		strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
		return 0, regexUnsupported(op, "a look-around assertion")
	case strings.HasPrefix(rest, "(?>"):
		return 0, regexUnsupported(op, "an atomic group")
	case strings.HasPrefix(rest, "(?|"):
		return 0, regexUnsupported(op, "a branch reset group")
	case strings.HasPrefix(rest, "(?("):
		return 0, regexUnsupported(op, "a conditional group")
	case strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?<"):
		b.WriteString("(?P<")
		if rest[2] == 'P' {
			return 4, nil
		}
		return 3, nil
	case strings.HasPrefix(rest, "(?'"):
		end := strings.IndexByte(rest[3:], '\'')
		if end < 0 {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: syntax error in subpattern name (missing terminator?)", op)
		}
		b.WriteString("(?P<" + rest[3:3+end] + ">")
		return 3 + end + 1, nil
	case strings.HasPrefix(rest, "(?P"), strings.HasPrefix(rest, "(?R"), strings.HasPrefix(rest, "(?&"),
		strings.HasPrefix(rest, "(?C"), len(rest) > 2 && (rest[2] == '+' || (rest[2] >= '0' && rest[2] <= '9')):
		return 0, regexUnsupported(op, "recursion, a subroutine call or a callout")
	}
	// Inline flags: (?flags) or (?flags:...).
	j := 2
	for j < len(rest) && rest[j] != ')' && rest[j] != ':' {
		switch rest[j] {
		case 'i', 'm', 's', 'U', '-':
		case 'x', 'n', 'J', '^':
			return 0, regexUnsupported(op, "the inline option '"+string(rest[j])+"'")
		default:
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: unrecognized character after (? or (?-", op)
		}
		j++
	}
	if j == len(rest) {
		return 0, mongoerr.Newf(51111, "Invalid Regex in %s: missing closing parenthesis", op)
	}
	b.WriteString(rest[:j+1])
	return j + 1, nil
}

// translateEscape handles a backslash at p[i], inside a character class or not, and
// returns how many bytes it consumed.
func translateEscape(op string, b *strings.Builder, p string, i int, inClass bool) (int, error) {
	if i+1 >= len(p) {
		return 0, mongoerr.Newf(51111, "Invalid Regex in %s: \\ at end of pattern", op)
	}
	c := p[i+1]
	set := func(in, negated string) {
		if inClass {
			if negated != "" {
				b.WriteString(negated)
			} else {
				b.WriteString(in)
			}
			return
		}
		if negated != "" {
			b.WriteString("[" + negated + "]")
		} else {
			b.WriteString("[" + in + "]")
		}
	}
	writeCode := func(r rune) {
		b.WriteString(`\x{` + strconv.FormatInt(int64(r), 16) + `}`)
	}
	switch c {
	case 's':
		set(pcreSpace, "")
	case 'S':
		set("", pcreNotSpace)
	case 'h':
		set(pcreHSpace, "")
	case 'H':
		set("", pcreNotHSpace)
	case 'v':
		set(pcreVSpace, "")
	case 'V':
		set("", pcreNotVSpace)
	case 'd', 'D', 'w', 'W', 'a', 'f', 'n', 'r', 't':
		b.WriteString(p[i : i+2])
	case 'b':
		if inClass {
			b.WriteString(`\x08`)
		} else {
			b.WriteString(`\b`)
		}
	case 'B', 'A', 'z':
		if inClass {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: escape sequence is invalid in character class", op)
		}
		b.WriteString(p[i : i+2])
	case 'Z':
		if inClass {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: escape sequence is invalid in character class", op)
		}
		b.WriteString(`(?-m:$)`)
	case 'e':
		b.WriteString(`\x1B`)
	case 'c':
		if i+2 >= len(p) || p[i+2] >= utf8.RuneSelf {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: \\c at end of pattern", op)
		}
		writeCode(rune(sdASCIIUpper(p[i+2]) ^ 0x40))
		return 3, nil
	case 'x':
		j := i + 2
		if j < len(p) && p[j] == '{' {
			end := strings.IndexByte(p[j:], '}')
			if end < 0 {
				return 0, mongoerr.Newf(51111, "Invalid Regex in %s: missing } in \\x{}", op)
			}
			v, err := strconv.ParseUint(p[j+1:j+end], 16, 32)
			if err != nil || v > utf8.MaxRune {
				return 0, mongoerr.Newf(51111, "Invalid Regex in %s: character code point value in \\x{} is too large", op)
			}
			writeCode(rune(v))
			return j + end + 1 - i, nil
		}
		v := 0
		for k := 0; k < 2 && j < len(p) && sdIsHex(p[j]); k++ {
			v = v*16 + sdHexValue(p[j])
			j++
		}
		writeCode(rune(v))
		return j - i, nil
	case 'o':
		j := i + 2
		if j >= len(p) || p[j] != '{' {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: missing opening brace after \\o", op)
		}
		end := strings.IndexByte(p[j:], '}')
		if end < 0 {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: missing } after \\o{", op)
		}
		v, err := strconv.ParseUint(p[j+1:j+end], 8, 32)
		if err != nil || v > utf8.MaxRune {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: invalid octal value", op)
		}
		writeCode(rune(v))
		return j + end + 1 - i, nil
	case '0':
		j, v := i+2, 0
		for k := 0; k < 2 && j < len(p) && p[j] >= '0' && p[j] <= '7'; k++ {
			v = v*8 + int(p[j]-'0')
			j++
		}
		writeCode(rune(v))
		return j - i, nil
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if inClass {
			return 0, regexUnsupported(op, "an octal escape in a character class")
		}
		return 0, regexUnsupported(op, "a backreference")
	case 'g', 'k':
		return 0, regexUnsupported(op, "a backreference")
	case 'G', 'K', 'X', 'C', 'R', 'N':
		if c == 'R' && !inClass {
			b.WriteString(`(?:\r\n|[` + pcreVSpace + `])`)
			return 2, nil
		}
		if c == 'N' && !inClass && (i+2 >= len(p) || p[i+2] != '{') {
			b.WriteString(`[^\n]`)
			return 2, nil
		}
		return 0, regexUnsupported(op, `\`+string(c))
	case 'p', 'P':
		j := i + 2
		if j < len(p) && p[j] == '{' {
			end := strings.IndexByte(p[j:], '}')
			if end < 0 {
				return 0, mongoerr.Newf(51111, "Invalid Regex in %s: malformed \\P or \\p sequence", op)
			}
			name := p[j+1 : j+end]
			if strings.TrimPrefix(name, "^") == "L&" || strings.HasPrefix(name, "X") {
				return 0, regexUnsupported(op, `the property \p{`+name+`}`)
			}
			b.WriteString(p[i : j+end+1])
			return j + end + 1 - i, nil
		}
		if j >= len(p) {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: malformed \\P or \\p sequence", op)
		}
		b.WriteString(p[i : j+1])
		return 3, nil
	case 'Q':
		rest := p[i+2:]
		end := strings.Index(rest, `\E`)
		lit := rest
		adv := len(p) - i
		if end >= 0 {
			lit = rest[:end]
			adv = 2 + end + 2
		}
		if inClass {
			for _, r := range lit {
				writeCode(r)
			}
		} else {
			b.WriteString(regexp.QuoteMeta(lit))
		}
		return adv, nil
	case 'E':
		return 2, nil
	default:
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(p[i+1:])
			writeCode(r)
			return 1 + w, nil
		}
		if sdIsAlnum(c) {
			return 0, mongoerr.Newf(51111, "Invalid Regex in %s: unrecognized character follows \\", op)
		}
		b.WriteString(p[i : i+2])
	}
	return 2, nil
}

// translateClass handles a character class starting at p[i] and returns how many bytes
// it consumed. A ']' right after '[' or '[^' is a literal, as in PCRE.
func translateClass(op string, b *strings.Builder, p string, i int) (int, error) {
	j := i + 1
	b.WriteByte('[')
	if j < len(p) && p[j] == '^' {
		b.WriteByte('^')
		j++
	}
	first := true
	for j < len(p) {
		c := p[j]
		switch {
		case c == ']' && !first:
			b.WriteByte(']')
			return j + 1 - i, nil
		case c == ']':
			b.WriteString(`\]`)
			j++
		case c == '[' && j+1 < len(p) && (p[j+1] == ':' || p[j+1] == '.' || p[j+1] == '='):
			end := strings.Index(p[j+2:], string(p[j+1])+"]")
			if end < 0 {
				b.WriteString(`\[`)
				j++
				break
			}
			if p[j+1] != ':' {
				return 0, regexUnsupported(op, "a POSIX collating element")
			}
			b.WriteString(p[j : j+2+end+2])
			j += 2 + end + 2
		case c == '[':
			b.WriteString(`\[`)
			j++
		case c == '\\':
			adv, err := translateEscape(op, b, p, j, true)
			if err != nil {
				return 0, err
			}
			j += adv
		default:
			r, w := utf8.DecodeRuneInString(p[j:])
			if r == utf8.RuneError && w == 1 {
				return 0, mongoerr.Newf(51111, "Invalid Regex in %s: invalid UTF-8 string", op)
			}
			b.WriteString(p[j : j+w])
			j += w
		}
		first = false
	}
	return 0, mongoerr.Newf(51111, "Invalid Regex in %s: missing terminating ] for character class", op)
}

func sdIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func sdHexValue(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c|0x20-'a') + 10
}

func sdIsAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}
