package pcre

import "fmt"

// SyntaxError is a pattern PCRE2 itself rejects. Msg uses PCRE2's wording, as MongoDB
// reports it after its own prefix.
type SyntaxError struct {
	Msg string
}

// Error returns PCRE2's message.
func (e *SyntaxError) Error() string { return e.Msg }

// UnsupportedError is a valid PCRE pattern that Go's regexp package cannot express.
// Construct names the feature, e.g. "a lookahead assertion".
type UnsupportedError struct {
	Construct string
}

// Error names the construct and says why it is rejected.
func (e *UnsupportedError) Error() string {
	return e.Construct + " is not supported by mongotest (Go regular expressions have no equivalent)"
}

// FlagError is an option letter other than i, m, s, x and u.
type FlagError struct {
	Flag rune
}

// Error returns mongod's message, without the operator name some callers prefix.
func (e *FlagError) Error() string {
	return fmt.Sprintf("invalid flag in regex options: %c", e.Flag)
}

func syntaxErr(msg string) error { return &SyntaxError{Msg: msg} }

// PCRE2 error messages used in more than one place.
const (
	msgTrailingBackslash = `\ at end of pattern`
	msgUnknownEscape     = `unrecognized character follows \`
	msgBadClassEscape    = "escape sequence is invalid in character class"
	msgMissingBracket    = "missing terminating ] for character class"
	msgMissingParen      = "missing closing parenthesis"
	msgNoSuchGroup       = "reference to non-existent subpattern"
	msgBadRange          = "invalid range in character class"
	msgNoQuantifiable    = "quantifier does not follow a repeatable item"
	msgUnsupportedEscape = `PCRE2 does not support \F, \L, \l, \N{name}, \U, or \u`
	msgCodePointTooLarge = `character code point value in \x{} or \o{} is too large`
	msgSurrogate         = "disallowed Unicode code point (>= 0xd800 && <= 0xdfff)"
	msgDigitsMissing     = `digits missing in \x{} or \o{} or \N{U+}`
	msgBadProperty       = `malformed \P or \p sequence`
)
