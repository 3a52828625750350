package expr

// $regexFind, $regexFindAll and $regexMatch. Patterns are translated and matched by package
// pcre; PCRE features Go's regexp lacks (lookaround, backreferences, atomic groups,
// possessive quantifiers, recursion, …) are reported as NotImplemented rather than
// approximated.

import (
	"errors"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/pcre"
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
	fixed     *pcre.Regexp
	fixedNull bool
	// last caches the most recent regex compiled from non-constant arguments.
	last atomic.Pointer[pcre.Regexp]
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
func (n *regexNode) compile(regex, options any) (*pcre.Regexp, error) {
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
	if re := n.last.Load(); re != nil && re.Pattern() == pattern && re.Flags() == flags {
		return re, nil
	}
	re, err := pcre.Compile(pattern, flags)
	if err != nil {
		return nil, regexError(op, err)
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
		ok, err := re.Match(s)
		return ok, regexError(n.mode.String(), err)
	case regexFind:
		loc, err := re.FindSubmatchIndex(s, 0)
		if err != nil || loc == nil {
			return nil, regexError(n.mode.String(), err)
		}
		return matchDoc(re, s, loc, utf8.RuneCountInString(s[:loc[0]])), nil
	}
	out := bson.A{}
	pos, cpPos := 0, 0
	for {
		loc, err := re.FindSubmatchIndex(s, pos)
		if err != nil {
			return nil, regexError(n.mode.String(), err)
		}
		if loc == nil {
			break
		}
		cpPos += utf8.RuneCountInString(s[pos:loc[0]])
		out = append(out, matchDoc(re, s, loc, cpPos))
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
func matchDoc(re *pcre.Regexp, s string, loc []int, idx int) bson.D {
	caps := make(bson.A, re.NumSubexp())
	for i := range caps {
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

// regexError maps an error of package pcre to the error MongoDB reports for op: a pattern
// PCRE rejects is 51111, an option letter 51108, and a construct Go cannot express is
// NotImplemented.
func regexError(op string, err error) error {
	var (
		se *pcre.SyntaxError
		ue *pcre.UnsupportedError
		fe *pcre.FlagError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return mongoerr.Newf(51108, "%s invalid flag in regex options: %c", op, fe.Flag)
	case errors.As(err, &ue):
		return mongoerr.Newf(mongoerr.NotImplemented, "%s: %s in regular expressions is not supported", op, ue.Construct)
	case errors.As(err, &se):
		return mongoerr.Newf(51111, "Invalid Regex in %s: %s", op, se.Msg)
	}
	return mongoerr.Newf(51111, "Invalid Regex in %s: %v", op, err)
}
