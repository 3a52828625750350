package fields

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Validator checks one field value and returns an error whose message is shown to the
// user when the value is not acceptable. It receives the field's Go value (for a pointer
// field, the value pointed to; validators are not called for nil), for an array field the
// whole slice. A Validator must be safe for concurrent use.
type Validator func(value any) error

var validators = struct {
	sync.RWMutex
	m map[string]Validator
}{m: map[string]Validator{}}

// RegisterValidator makes v available to field tags as validators=name. Register
// validators before registering the models that use them (typically in init). Names are
// made of letters, digits, '_', '.' and '-'; registering a name twice is an error.
// The built-in names email, url, slug, ip, ipv4 and ipv6 are registered already.
func RegisterValidator(name string, v Validator) error {
	if !validName(name) {
		return fmt.Errorf("modjo: invalid validator name %q (letters, digits, '_', '.', '-')", name)
	}
	if v == nil {
		return fmt.Errorf("modjo: validator %q is nil", name)
	}
	validators.Lock()
	defer validators.Unlock()
	if _, dup := validators.m[name]; dup {
		return fmt.Errorf("modjo: validator %q is already registered", name)
	}
	validators.m[name] = v
	return nil
}

// MustRegisterValidator is RegisterValidator that panics on error, for use in init.
func MustRegisterValidator(name string, v Validator) {
	if err := RegisterValidator(name, v); err != nil {
		panic(err)
	}
}

// LookupValidator returns the validator registered under name.
func LookupValidator(name string) (Validator, bool) {
	validators.RLock()
	defer validators.RUnlock()
	v, ok := validators.m[name]
	return v, ok
}

func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// stringValidator adapts a string check to a Validator (strings and *string; any other
// type is reported rather than ignored).
func stringValidator(check func(string) error) Validator {
	return func(v any) error {
		switch s := v.(type) {
		case string:
			return check(s)
		case *string:
			if s == nil {
				return nil
			}
			return check(*s)
		case fmt.Stringer:
			return check(s.String())
		}
		return fmt.Errorf("expected a string, got %T", v)
	}
}

func init() {
	MustRegisterValidator("email", stringValidator(ValidateEmail))
	MustRegisterValidator("url", stringValidator(ValidateURL))
	MustRegisterValidator("slug", stringValidator(ValidateSlug))
	MustRegisterValidator("ip", stringValidator(ValidateIP))
	MustRegisterValidator("ipv4", stringValidator(ValidateIPv4))
	MustRegisterValidator("ipv6", stringValidator(ValidateIPv6))
}

// The messages of the built-in validators. Validation messages follow Go's error style
// (lower case, no final period) so they read well inside a ValidationError.
var (
	ErrInvalidEmail = errors.New("enter a valid email address")
	ErrInvalidURL   = errors.New("enter a valid URL")
	ErrInvalidSlug  = errors.New("enter a valid “slug” consisting of letters, numbers, underscores or hyphens")
	ErrInvalidIP    = errors.New("enter a valid IPv4 or IPv6 address")
	ErrInvalidIPv4  = errors.New("enter a valid IPv4 address")
	ErrInvalidIPv6  = errors.New("enter a valid IPv6 address")
)

// ValidateSlug accepts a non-empty string of ASCII letters, digits, '_' and '-'.
func ValidateSlug(s string) error {
	if s == "" {
		return ErrInvalidSlug
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return ErrInvalidSlug
		}
	}
	return nil
}

// ValidateIP accepts an IPv4 address in dotted-decimal form (no leading zeros) or an IPv6
// address (IPv4-mapped forms included), without a zone.
func ValidateIP(s string) error {
	if _, ok := parseIP(s); !ok {
		return ErrInvalidIP
	}
	return nil
}

// ValidateIPv4 accepts only IPv4 addresses in dotted-decimal form.
func ValidateIPv4(s string) error {
	if a, ok := parseIP(s); !ok || !a.Is4() {
		return ErrInvalidIPv4
	}
	return nil
}

// ValidateIPv6 accepts only IPv6 addresses.
func ValidateIPv6(s string) error {
	if a, ok := parseIP(s); !ok || !a.Is6() {
		return ErrInvalidIPv6
	}
	return nil
}

func parseIP(s string) (netip.Addr, bool) {
	if strings.IndexByte(s, '%') >= 0 { // zones name an interface, not an address
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// ValidateEmail accepts addresses of the form local@domain where local is a dot-atom
// (ASCII letters, digits and !#$%&'*+-/=?^_`{|}~, dot-separated) or a quoted string, and
// domain is a host name with at least two labels and a non-numeric top-level label
// (letters of any script allowed), "localhost", or an address literal such as
// [192.0.2.1] or [IPv6:2001:db8::1]. The whole address is at most 320 bytes.
func ValidateEmail(s string) error {
	if s == "" || len(s) > 320 {
		return ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ErrInvalidEmail
	}
	local, domain := s[:at], s[at+1:]
	if !validLocalPart(local) || !validEmailDomain(domain) {
		return ErrInvalidEmail
	}
	return nil
}

func isAtomChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func validLocalPart(s string) bool {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		body := s[1 : len(s)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			switch {
			case c == '\\':
				i++
				if i >= len(body) || body[i] < 0x20 || body[i] > 0x7e {
					return false
				}
			case c == '"' || c < 0x20 || c > 0x7e:
				return false
			}
		}
		return true
	}
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isAtomChar(s[i]) {
			return false
		}
	}
	return true
}

func validEmailDomain(d string) bool {
	if strings.EqualFold(d, "localhost") {
		return true
	}
	if len(d) >= 2 && d[0] == '[' && d[len(d)-1] == ']' {
		lit := d[1 : len(d)-1]
		if rest, ok := cutPrefixFold(lit, "IPv6:"); ok {
			a, ok := parseIP(rest)
			return ok && a.Is6()
		}
		a, ok := parseIP(lit)
		return ok && a.Is4()
	}
	return validHostName(d, false)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// validHostName checks a dotted host name: at least two labels of letters (any script),
// digits and inner hyphens, each at most 63 bytes, 253 bytes in all. The last label must
// be at least two characters and not all digits; letterTLD further requires it to be
// letters only (or an xn-- punycode label), as for URLs.
func validHostName(h string, letterTLD bool) bool {
	if h == "" || len(h) > 253 || !utf8.ValidString(h) {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') ||
				r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if utf8.RuneCountInString(tld) < 2 {
		return false
	}
	if letterTLD {
		if rest, ok := cutPrefixFold(tld, "xn--"); ok {
			return rest != ""
		}
		for _, r := range tld {
			if !unicode.IsLetter(r) {
				return false
			}
		}
		return true
	}
	for _, r := range tld {
		if !unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// ValidateURL accepts absolute http, https, ftp and ftps URLs: scheme://[user[:password]@]host[:port][/path][?query][#fragment],
// where host is a host name whose last label is letters only (or xn--…), "localhost", an
// IPv4 address or a bracketed IPv6 address, port is 1 to 65535, and the URL contains no
// whitespace and is at most 2048 bytes.
func ValidateURL(s string) error {
	if s == "" || len(s) > 2048 || !utf8.ValidString(s) {
		return ErrInvalidURL
	}
	for _, r := range s {
		if unicode.IsSpace(r) || r < 0x20 || r == 0x7f {
			return ErrInvalidURL
		}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return ErrInvalidURL
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "ftp", "ftps":
	default:
		return ErrInvalidURL
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		user, pass, _ := strings.Cut(authority[:at], ":")
		if user == "" || strings.ContainsAny(user, "@/") || strings.ContainsAny(pass, "@/:") {
			return ErrInvalidURL
		}
		authority = authority[at+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		closeIdx := strings.IndexByte(host, ']')
		if closeIdx < 0 {
			return ErrInvalidURL
		}
		a, ok := parseIP(host[1:closeIdx])
		if !ok || !a.Is6() {
			return ErrInvalidURL
		}
		after := host[closeIdx+1:]
		if after != "" {
			if after[0] != ':' {
				return ErrInvalidURL
			}
			port = after[1:]
			if port == "" {
				return ErrInvalidURL
			}
		}
	} else {
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host, port = host[:i], host[i+1:]
			if port == "" {
				return ErrInvalidURL
			}
		}
		if !validURLHost(host) {
			return ErrInvalidURL
		}
	}
	if port != "" {
		if len(port) > 5 {
			return ErrInvalidURL
		}
		n := 0
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return ErrInvalidURL
			}
			n = n*10 + int(port[i]-'0')
		}
		if n < 1 || n > 65535 {
			return ErrInvalidURL
		}
	}
	return nil
}

func validURLHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	if a, ok := parseIP(h); ok {
		return a.Is4()
	}
	h = strings.TrimSuffix(h, ".") // a fully qualified name may end with a dot
	return validHostName(h, true)
}
