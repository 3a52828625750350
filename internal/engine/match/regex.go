package match

import (
	"errors"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/pcre"
)

// MongoDB error codes for regular expressions (mongod reports them as Location<code>).
const (
	codeRegexInvalid     int32 = 51091
	codeRegexBadFlag     int32 = 51108
	codeOptionsThenRegex int32 = 51074 // options in $options, then on the $regex value too
	codeRegexThenOptions int32 = 51075 // options on the $regex value, then in $options too
)

// compileRegex compiles a MongoDB (PCRE) regular expression with its option flags (i, m, s,
// x and u) for $regex, regex values and $jsonSchema patterns. An invalid pattern is error
// 51091 as in MongoDB. A valid PCRE construct Go's engine cannot run (lookaround,
// backreferences, atomic groups, possessive quantifiers, recursion, …) is a limitation of
// mongotest, not of the pattern: NotImplemented (238), naming the construct.
func compileRegex(pattern, flags string) (*pcre.Regexp, error) {
	if err := pcre.CheckFlags(flags); err != nil {
		return nil, mongoerr.Newf(codeRegexBadFlag, " invalid flag in regex options: %c", err.(*pcre.FlagError).Flag)
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, mongoerr.Newf(mongoerr.BadValue, "Regular expression cannot contain an embedded null byte")
	}
	re, err := pcre.Compile(pattern, flags)
	var unsupported *pcre.UnsupportedError
	switch {
	case errors.As(err, &unsupported):
		return nil, mongoerr.Newf(mongoerr.NotImplemented, "mongotest cannot run this regular expression: %s is not supported", unsupported.Construct)
	case err != nil:
		return nil, mongoerr.Newf(codeRegexInvalid, "Regular expression is invalid: %s", err)
	}
	return re, nil
}
