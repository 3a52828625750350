package model

import (
	"errors"
	"fmt"
	"strings"
)

// Struct tag syntax (documented in docs/models.md):
//
//	modjo:"name;name=value;…"
//
// Options are separated by ';'. Spaces around names and unquoted values are ignored. A
// value runs to the next ';' that is neither quoted nor escaped. Inside a value, text
// between single quotes is literal (';', '|', ':', ',' and '=' lose their meaning), and a
// backslash makes the next character literal, inside quotes or not ("\'" is a quote,
// "\\" a backslash). List values (choices, validators, types, array defaults) separate
// their items with '|' (validators and types also accept ','), and a choice item is
// value or value:label, split at the first unquoted, unescaped ':'.

// tagOption is one option of a modjo tag, its value still raw (quoted/escaped).
type tagOption struct {
	name     string
	raw      string
	hasValue bool
}

// parseTag splits a tag into options. Names are validated; values are not interpreted.
func parseTag(tag string) ([]tagOption, error) {
	var opts []tagOption
	seen := map[string]bool{}
	for _, part := range splitRaw(tag, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // tolerate "a;;b" and a trailing ';'
		}
		name, raw, hasValue := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !validOptionName(name) {
			return nil, fmt.Errorf("invalid tag option %q", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("tag option %q given twice", name)
		}
		seen[name] = true
		opts = append(opts, tagOption{name: name, raw: strings.TrimSpace(raw), hasValue: hasValue})
	}
	return opts, nil
}

func validOptionName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// splitRaw splits s at every byte of seps that is outside quotes and not escaped, keeping
// the parts raw. An unterminated quote or a trailing backslash leaves the rest in the last
// part; unquote reports it.
func splitRaw(s, seps string) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '\'':
			quoted = !quoted
		case !quoted && strings.IndexByte(seps, c) >= 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// cutRaw splits s at the first sep that is outside quotes and not escaped.
func cutRaw(s string, sep byte) (before, after string, found bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '\'':
			quoted = !quoted
		case !quoted && c == sep:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

var errUnterminated = errors.New("unterminated quote")

// unquote removes quotes and escapes from a raw value. Unquoted leading and trailing
// spaces are dropped; quoted ones are kept.
func unquote(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if strings.IndexByte(raw, '\'') < 0 && strings.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	var b strings.Builder
	quoted := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '\\':
			i++
			if i >= len(raw) {
				return "", errors.New("backslash at the end of a value")
			}
			b.WriteByte(raw[i])
		case '\'':
			quoted = !quoted
		default:
			b.WriteByte(c)
		}
	}
	if quoted {
		return "", errUnterminated
	}
	return b.String(), nil
}

// listItems unquotes the items of a list value; seps names the separators.
func listItems(raw, seps string) ([]string, error) {
	var items []string
	for _, part := range splitRaw(raw, seps) {
		v, err := unquote(part)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}
