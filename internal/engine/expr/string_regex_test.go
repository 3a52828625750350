package expr_test

import (
	"fmt"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The translation of patterns is tested in package pcre; these tests cover the operators.

// TestRegexUnsupportedFeatures checks that PCRE features Go's engine lacks are reported as
// NotImplemented instead of being matched differently.
func TestRegexUnsupportedFeatures(t *testing.T) {
	for _, pattern := range []string{
		`a(?=b)`, `a(?!b)`, `(?<=a)b`, `(?<!a)b`, `(a)\1`, `(?<n>a)\k<n>`, `(?>ab)`, `a++`,
		`a*+`, `a?+`, `a{2}+`, `(?R)`, `(a)(?1)`, `(?(1)a|b)`, `\Gab`, `a\Kb`, `(*UTF)a`,
		`(?|a|b)`, `\X`, `a{1001}`,
	} {
		for _, op := range []string{"$regexMatch", "$regexFind", "$regexFindAll"} {
			_, err := sdRun(t, `{"`+op+`": {"input": "ab", "regex": `+sdJSONString(pattern)+`}}`, "")
			require.Errorf(t, err, "pattern %q", pattern)
			require.Truef(t, mongoerr.HasCode(err, mongoerr.NotImplemented), "pattern %q: %v", pattern, err)
		}
	}
	_, err := sdRun(t, `{"$regexMatch": {"input": "ab", "regex": "a(?=b)"}}`, "")
	var me *mongoerr.Error
	require.ErrorAs(t, err, &me)
	require.Equal(t, "$regexMatch: a lookaround assertion in regular expressions is not supported", me.Message)
}

// TestRegexErrorMessages checks the codes and messages of invalid patterns and options.
func TestRegexErrorMessages(t *testing.T) {
	for _, c := range []struct {
		expr string
		code int32
		msg  string
	}{
		{`{"$regexFind": {"input": "a", "regex": "("}}`, 51111, "Invalid Regex in $regexFind: missing closing parenthesis"},
		{`{"$regexMatch": {"input": "a", "regex": "[\\d-z]"}}`, 51111, "Invalid Regex in $regexMatch: invalid range in character class"},
		{`{"$regexFindAll": {"input": "a", "regex": "\\8"}}`, 51111, "Invalid Regex in $regexFindAll: reference to non-existent subpattern"},
		{`{"$regexFind": {"input": "a", "regex": "a", "options": "g"}}`, 51108, "$regexFind invalid flag in regex options: g"},
		{`{"$regexFind": {"input": "a", "regex": "a", "options": "\u0000"}}`, 51110, "$regexFind: regular expression options cannot contain an embedded null byte"},
		{`{"$regexFind": {"input": "a", "regex": "a\u0000"}}`, 51109, "$regexFind: regular expression cannot contain an embedded null byte"},
	} {
		_, err := sdRun(t, c.expr, "")
		var me *mongoerr.Error
		require.ErrorAs(t, err, &me, c.expr)
		require.Equal(t, c.code, me.Code, c.expr)
		require.Equal(t, c.msg, me.Message, c.expr)
	}
}

func sdJSONString(s string) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "s", Value: s}}, false, false)
	if err != nil {
		panic(err)
	}
	return string(b[5 : len(b)-1])
}

// TestRegexFind checks a few translated constructs through $regexFind.
func TestRegexFind(t *testing.T) {
	tests := []struct {
		pattern, options, input string
		match                   any // the matched text, or nil for no match
	}{
		{`\h+`, "", "a \t\u00a0b", " \t\u00a0"},
		{`a\Z`, "", "ba\n", "a"},
		{`\Q.*\E+`, "", "x.**", ".**"},
		{`[^]a]+`, "", "]]bc]", "bc"},
		{`(?i)A(?-i)b`, "", "aB ab", "ab"},
		{`a b # comment`, "x", "ab", "ab"},
		{`(?x) a b`, "", "ab", "ab"},
		{`(?J)(?<n>a)|(?<n>b)`, "", "b", "b"},
		{`a{,2}`, "", "a{,2}", "a{,2}"},
		{`\w+`, "", "héllo", "h"},
		{`x`, "u", "y", nil},
	}
	for _, tt := range tests {
		opts := ""
		if tt.options != "" {
			opts = `, "options": "` + tt.options + `"`
		}
		got, err := sdRun(t, `{"$regexFind": {"input": `+sdJSONString(tt.input)+`, "regex": `+sdJSONString(tt.pattern)+opts+`}}`, "")
		require.NoErrorf(t, err, "pattern %q", tt.pattern)
		if tt.match == nil {
			require.Nilf(t, got, "pattern %q", tt.pattern)
			continue
		}
		d, ok := got.(bson.D)
		require.Truef(t, ok, "pattern %q: no match", tt.pattern)
		require.Equalf(t, tt.match, value.Get(d, "match"), "pattern %q", tt.pattern)
	}
}

// TestRegexLineAnchors covers PCRE's rules for ^ and $ around a final newline.
func TestRegexLineAnchors(t *testing.T) {
	got, err := sdRun(t, `{"$regexFindAll": {"input": "a\n", "regex": "^", "options": "m"}}`, "")
	require.NoError(t, err)
	require.True(t, conformance.Same(bson.A{bson.D{{Key: "match", Value: ""}, {Key: "idx", Value: int32(0)}, {Key: "captures", Value: bson.A{}}}}, got), conformance.Show(got))

	got, err = sdRun(t, `{"$regexFindAll": {"input": "a\n", "regex": {"$literal": "$"}, "options": "m"}}`, "")
	require.NoError(t, err)
	require.Len(t, got, 1) // before the newline; the search stops at the end of the input

	got, err = sdRun(t, `{"$regexMatch": {"input": "ab\n", "regex": "b$"}}`, "")
	require.NoError(t, err)
	require.Equal(t, true, got)

	// The rewritten pattern keeps options, captures and names.
	got, err = sdRun(t, `{"$regexFind": {"input": "xab\n", "regex": "(?<g>A)(b)$", "options": "i"}}`, "")
	require.NoError(t, err)
	require.True(t, conformance.Same(bson.D{{Key: "match", Value: "ab"}, {Key: "idx", Value: int32(1)}, {Key: "captures", Value: bson.A{"a", "b"}}}, got), conformance.Show(got))

	got, err = sdRun(t, `{"$regexMatch": {"input": "ab\nc", "regex": "b$"}}`, "")
	require.NoError(t, err)
	require.Equal(t, false, got)

	// Non-multiline $ on a multi-line string that ends with a newline: before the final
	// newline only.
	got, err = sdRun(t, `{"$regexMatch": {"input": "a\nb\n", "regex": "b$"}}`, "")
	require.NoError(t, err)
	require.Equal(t, true, got)
	got, err = sdRun(t, `{"$regexMatch": {"input": "a\nb\n", "regex": "a$"}}`, "")
	require.NoError(t, err)
	require.Equal(t, false, got)
	got, err = sdRun(t, `{"$regexFindAll": {"input": "a\nb\nb\n", "regex": "(b)$"}}`, "")
	require.NoError(t, err)
	require.True(t, conformance.Same(bson.A{bson.D{{Key: "match", Value: "b"}, {Key: "idx", Value: int32(4)}, {Key: "captures", Value: bson.A{"b"}}}}, got), conformance.Show(got))
	got, err = sdRun(t, `{"$regexFind": {"input": "a\nb\nb\n", "regex": "b$\n"}}`, "")
	require.NoError(t, err)
	require.True(t, conformance.Same(bson.D{{Key: "match", Value: "b\n"}, {Key: "idx", Value: int32(4)}, {Key: "captures", Value: bson.A{}}}, got), conformance.Show(got))
	got, err = sdRun(t, `{"$regexMatch": {"input": "a\nb\n", "regex": "b$", "options": "m"}}`, "")
	require.NoError(t, err)
	require.Equal(t, true, got)

	// The one shape package pcre cannot match exactly: $ followed by more of a pattern that
	// also has a multiline anchor, on such a subject.
	for _, op := range []string{"$regexMatch", "$regexFind", "$regexFindAll"} {
		_, err = sdRun(t, `{"`+op+`": {"input": "x\nab\n", "regex": "(?m:^a)b$\n"}}`, "")
		require.True(t, mongoerr.HasCode(err, mongoerr.NotImplemented), "%s: %v", op, err)
	}
}

// TestRegexDynamicPatterns exercises regexes that change per document, concurrently (the
// compiled-regex cache must be safe for concurrent use).
func TestRegexDynamicPatterns(t *testing.T) {
	e, err := expr.Compile(bson.D{{Key: "$regexMatch", Value: bson.D{
		{Key: "input", Value: "$s"}, {Key: "regex", Value: "$r"}, {Key: "options", Value: "$o"}}}})
	require.NoError(t, err)
	docs := []struct {
		doc  bson.D
		want any
	}{
		{bson.D{{Key: "s", Value: "ABC"}, {Key: "r", Value: "b"}, {Key: "o", Value: "i"}}, true},
		{bson.D{{Key: "s", Value: "ABC"}, {Key: "r", Value: "b"}, {Key: "o", Value: ""}}, false},
		{bson.D{{Key: "s", Value: "xyz"}, {Key: "r", Value: bson.Regex{Pattern: "^X", Options: "i"}}}, true},
		{bson.D{{Key: "s", Value: "xyz"}, {Key: "r", Value: "^y"}}, false},
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				d := docs[(i+g)%len(docs)]
				got, err := e.Eval(nil, d.doc)
				if err != nil || got != d.want {
					done <- fmt.Errorf("doc %v: got %v, %v", d.doc, got, err)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		require.NoError(t, <-done)
	}
	_, err = e.Eval(nil, bson.D{{Key: "s", Value: "a"}, {Key: "r", Value: "("}})
	require.True(t, mongoerr.HasCode(err, 51111), "%v", err)
}

func BenchmarkRegexFindAll(b *testing.B) {
	e, err := expr.Compile(bson.D{{Key: "$regexFindAll", Value: bson.D{{Key: "input", Value: "$s"}, {Key: "regex", Value: `\b(\w)(\w*)`}}}})
	require.NoError(b, err)
	doc := bson.D{{Key: "s", Value: "the quick brown fox jumps over the lazy dog"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
}
