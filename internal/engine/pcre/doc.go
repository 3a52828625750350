// Package pcre runs MongoDB regular expressions on Go's regexp package.
//
// MongoDB matches $regex, BSON regex values, $regexFind, $regexFindAll, $regexMatch and
// $jsonSchema patterns with PCRE2 in UTF mode, with ASCII \d, \w and \s and LF as the only
// newline. This package translates that syntax, with MongoDB's option letters (i, m, s, x,
// u), into Go's RE2 syntax with the same meaning, and matches with it. Go and PCRE agree on
// leftmost-first matching, so the translation preserves which match is found, not just
// whether one exists.
//
// PCRE features that RE2 cannot express (lookaround, backreferences, atomic groups,
// possessive quantifiers, recursion, conditionals, \G, \K, \X, \C, backtracking verbs) are
// reported as *UnsupportedError rather than approximated; malformed patterns are reported as
// *SyntaxError with PCRE2's wording; bad option letters as *FlagError. Callers map these to
// their own MongoDB error codes.
//
// One PCRE rule has no RE2 spelling: outside multiline mode, $ (and \Z) also match before a
// newline that ends the subject. Compile keeps a few lazily built variants of the pattern
// and picks one per subject (see Regexp), which is exact except for one rare shape of
// pattern, which FindSubmatchIndex reports as unsupported.
package pcre
