package match

import (
	"errors"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegexFilters runs $regex filters end to end; the translation itself is tested in
// package pcre.
func TestRegexFilters(t *testing.T) {
	cases := []struct {
		filter, doc string
		want        bool
	}{
		{`{"a": {"$regex": "b$"}}`, `{"a": "a\nb\n"}`, true}, // $ before a final newline
		{`{"a": {"$regex": "b$\n"}}`, `{"a": "a\nb\n"}`, true},
		{`{"a": {"$regex": "^$", "$options": "m"}}`, `{"a": "a\n"}`, false},
		{`{"a": {"$regex": "^[\\H]$"}}`, `{"a": "x"}`, true},
		{`{"a": {"$regex": "(?x) a b"}}`, `{"a": "ab"}`, true},
		{`{"a": {"$regex": "^\\p{Lu}$", "$options": "i"}}`, `{"a": "a"}`, false},
		{`{"a": {"$regularExpression": {"pattern": "^a b$", "options": "x"}}}`, `{"a": "ab"}`, true},
		{`{"a": {"$not": {"$regex": "^\\s$"}}}`, `{"a": "\u000b"}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"pattern": "^\\d+$"}}}}`, `{"a": "12"}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"pattern": "^\\d+$"}}}}`, `{"a": "1x"}`, false},
		{`{"$jsonSchema": {"patternProperties": {"^x\\d$": {"type": "string"}}}}`, `{"x1": 1}`, false},
	}
	for _, c := range cases {
		m, err := Compile(ext(t, c.filter), nil)
		require.NoError(t, err, c.filter)
		got, err := m.Match(ext(t, c.doc), nil)
		require.NoError(t, err, c.filter)
		assert.Equal(t, c.want, got, "%s on %s", c.filter, c.doc)
	}
}

// TestRegexErrors checks the codes and messages for bad patterns: invalid PCRE is 51091
// as in mongod; valid PCRE that Go's engine cannot run is mongotest's own limitation,
// NotImplemented (238).
func TestRegexErrors(t *testing.T) {
	for _, p := range []string{
		`a(?=b)`, `a(?!b)`, `(?<=a)b`, `(?<!a)b`, `(?>a)`, `(a)\1`, `(?<n>a)\k<n>`, `(a)\g1`,
		`a++`, `a*+`, `a?+`, `a{2}+`, `(?R)`, `(?1)`, `(?|a)`, `(?(1)a|b)`, `\K`, `\G`, `(*UTF)a`,
	} {
		_, err := compileRegex(p, "")
		requireCode(t, err, mongoerr.NotImplemented)
	}
	for _, p := range []string{
		`(`, `)`, `[a`, `a{2,1}`, `*a`, `\`, `\i`, `(?P=n)`, `\8`, `[\d-z]`, `(?<n>a)(?<n>b)`,
	} {
		_, err := compileRegex(p, "")
		requireCode(t, err, codeRegexInvalid)
	}
	message := func(err error) string {
		var me *mongoerr.Error
		require.True(t, errors.As(err, &me), "%v", err)
		return me.Message
	}
	_, err := compileRegex("(?=a)", "")
	assert.Equal(t, "mongotest cannot run this regular expression: a lookaround assertion is not supported", message(err))
	_, err = compileRegex("(", "")
	assert.Equal(t, "Regular expression is invalid: missing closing parenthesis", message(err))
	_, err = compileRegex("a", "z")
	requireCode(t, err, codeRegexBadFlag)
	assert.Equal(t, " invalid flag in regex options: z", message(err))
	// A bad flag is reported before an embedded null byte.
	_, err = compileRegex("a\x00b", "z")
	requireCode(t, err, codeRegexBadFlag)
	_, err = compileRegex("a\x00b", "")
	requireCode(t, err, mongoerr.BadValue)

	// Twelve groups make \12 a backreference: valid PCRE that Go cannot run.
	_, err = compileRegex(`(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)\12`, "")
	requireCode(t, err, mongoerr.NotImplemented)
}
