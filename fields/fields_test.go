package fields_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKindString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "CharField", fields.CharField.String())
	assert.Equal(t, "PolymorphicEmbeddedModelArrayField", fields.PolymorphicEmbeddedModelArrayField.String())
	assert.Equal(t, "Kind(200)", fields.Kind(200).String())
	assert.True(t, fields.BigAutoField.IsAuto())
	assert.True(t, fields.BigAutoField.IsInteger())
	assert.False(t, fields.ObjectIdAutoField.IsInteger())
	assert.True(t, fields.DecimalField.IsNumeric())
	assert.True(t, fields.SlugField.IsString())
	assert.True(t, fields.TimeField.IsTemporal())
	assert.True(t, fields.EmbeddedModelArrayField.IsArray())
	assert.True(t, fields.EmbeddedModelArrayField.IsEmbedded())
	for k := fields.Invalid; k <= fields.CompositePrimaryKey; k++ {
		assert.NotContains(t, k.String(), "Kind(", "kind %d has no name", k)
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	d, err := fields.ParseDate("2024-02-29")
	require.NoError(t, err)
	assert.Equal(t, fields.Date{Year: 2024, Month: time.February, Day: 29}, d)
	assert.Equal(t, "2024-02-29", d.String())
	assert.True(t, d.IsValid())
	assert.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), d.Time())
	assert.Equal(t, fields.Date{Year: 2024, Month: time.March, Day: 1}, d.AddDays(1))
	assert.True(t, d.Before(d.AddDays(1)))
	assert.True(t, d.AddDays(1).After(d))
	assert.Equal(t, 0, d.Compare(d))

	_, err = fields.ParseDate("2023-02-29")
	assert.Error(t, err)
	_, err = fields.ParseDate("yesterday")
	assert.Error(t, err)
	assert.False(t, fields.Date{Year: 2023, Month: 2, Day: 30}.IsValid())

	// The zero Date and 0001-01-01 are the same date, the zero time.Time's.
	assert.True(t, fields.Date{}.IsZero())
	assert.True(t, fields.Date{}.IsValid())
	assert.True(t, fields.Date{}.Time().IsZero())
	assert.Equal(t, fields.Date{}, fields.DateOf(time.Time{}))
	assert.Equal(t, "0001-01-01", fields.Date{}.String())

	// DateOf uses the time's own location.
	tokyo := time.FixedZone("JST", 9*3600)
	assert.Equal(t, fields.Date{Year: 2024, Month: 1, Day: 2}, fields.DateOf(time.Date(2024, 1, 2, 1, 0, 0, 0, tokyo)))

	b, err := d.MarshalText()
	require.NoError(t, err)
	var back fields.Date
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, d, back)
	assert.Error(t, back.UnmarshalText([]byte("nope")))
}

func TestTimeOfDay(t *testing.T) {
	t.Parallel()
	tod := fields.NewTimeOfDay(13, 45, 30, 250)
	assert.Equal(t, 13, tod.Hour())
	assert.Equal(t, 45, tod.Minute())
	assert.Equal(t, 30, tod.Second())
	assert.Equal(t, 250, tod.Microsecond())
	assert.Equal(t, "13:45:30.000250", tod.String())
	assert.Equal(t, "00:00:00", fields.TimeOfDay(0).String())
	assert.True(t, tod.IsValid())
	assert.False(t, fields.NewTimeOfDay(24, 0, 0, 0).IsValid())
	assert.False(t, fields.TimeOfDay(-1).IsValid())
	assert.Contains(t, fields.TimeOfDay(-1).String(), "TimeOfDay(")

	for in, want := range map[string]fields.TimeOfDay{
		"00:00":           0,
		"23:59":           fields.NewTimeOfDay(23, 59, 0, 0),
		"08:30:15":        fields.NewTimeOfDay(8, 30, 15, 0),
		"08:30:15.5":      fields.NewTimeOfDay(8, 30, 15, 500000),
		"08:30:15.123456": fields.NewTimeOfDay(8, 30, 15, 123456),
	} {
		got, err := fields.ParseTimeOfDay(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "8:30", "24:00", "12:60", "12:30:60", "12:30:15.", "12:30:15.1234567", "12:30:1x", "ab:cd", "12-30"} {
		_, err := fields.ParseTimeOfDay(bad)
		assert.Error(t, err, bad)
	}
	at := time.Date(2024, 1, 1, 9, 8, 7, 6543210, time.UTC)
	assert.Equal(t, fields.NewTimeOfDay(9, 8, 7, 6543), fields.TimeOfDayOf(at))
	assert.Equal(t, time.Date(2024, 1, 1, 9, 8, 7, 6543000, time.UTC),
		fields.TimeOfDayOf(at).On(fields.Date{Year: 2024, Month: 1, Day: 1}, time.UTC))

	b, _ := tod.MarshalText()
	var back fields.TimeOfDay
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, tod, back)
}

func TestJSONHelpers(t *testing.T) {
	t.Parallel()
	assert.True(t, fields.JSON{}.IsNone())
	assert.False(t, fields.JSON{Null: true}.IsNone())
	assert.False(t, fields.JSON{Value: 0}.IsNone())
	var v any = fields.JSONNull
	assert.Equal(t, fields.JSONNull, v)
}

func TestValidateEmail(t *testing.T) {
	t.Parallel()
	valid := []string{
		"a@example.com", "first.last@example.co.uk", "x+tag@sub.example.org", "o'hara@example.com",
		"user@localhost", "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]", `"john doe"@example.com`,
		"user@exämple.de", "u_s-e.r@a-b.example", "a@b.cd", "x@example.c0m",
	}
	invalid := []string{
		"", "plain", "@example.com", "user@", "user@@example.com", "user@example", ".user@example.com",
		"user.@example.com", "us..er@example.com", "user@-example.com", "user@example-.com", "user@example.c",
		"user@example..com", "user@exa mple.com", "us er@example.com", "user@[300.1.1.1]", "user@[IPv6:zz]",
		"user@example.123", `"unterminated@example.com`, "user@.example.com", "user@example.com.",
		strings.Repeat("a", 310) + "@example.com",
	}
	for _, s := range valid {
		assert.NoError(t, fields.ValidateEmail(s), s)
	}
	for _, s := range invalid {
		assert.ErrorIs(t, fields.ValidateEmail(s), fields.ErrInvalidEmail, s)
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	valid := []string{
		"http://example.com", "https://www.example.com/path?q=1#frag", "ftp://ftp.example.org/file.txt",
		"ftps://files.example.org", "http://localhost:8000/", "http://127.0.0.1/", "http://[::1]:8080/x",
		"https://user:pass@example.com/", "HTTP://EXAMPLE.COM", "http://xn--bcher-kva.example/", "http://bücher.de/",
		"http://example.com.", "https://example.com:65535",
	}
	invalid := []string{
		"", "example.com", "mailto:a@example.com", "javascript:alert(1)", "http://", "http://example",
		"http://exa mple.com", "http://example.com/ space", "http://-example.com", "http://example.c",
		"http://example.com:0", "http://example.com:65536", "http://example.com:", "http://[::1", "http://[zz]/",
		"http://999.1.1.1/", "http://example.123/", "gopher://example.com", "http://example.com:80a",
		"http://" + strings.Repeat("a", 2048) + ".com",
	}
	for _, s := range valid {
		assert.NoError(t, fields.ValidateURL(s), s)
	}
	for _, s := range invalid {
		assert.ErrorIs(t, fields.ValidateURL(s), fields.ErrInvalidURL, s)
	}
}

func TestValidateSlugAndIP(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"a", "my-slug_2", "ABC"} {
		assert.NoError(t, fields.ValidateSlug(s), s)
	}
	for _, s := range []string{"", "with space", "ünïcode", "a/b", "a.b"} {
		assert.Error(t, fields.ValidateSlug(s), s)
	}
	for _, s := range []string{"192.0.2.1", "0.0.0.0", "::1", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1"} {
		assert.NoError(t, fields.ValidateIP(s), s)
	}
	for _, s := range []string{"", "256.1.1.1", "1.2.3", "01.2.3.4", "fe80::1%eth0", "host", "1.2.3.4.5", ":::"} {
		assert.Error(t, fields.ValidateIP(s), s)
	}
	assert.NoError(t, fields.ValidateIPv4("10.0.0.1"))
	assert.Error(t, fields.ValidateIPv4("::1"))
	assert.NoError(t, fields.ValidateIPv6("::1"))
	assert.Error(t, fields.ValidateIPv6("10.0.0.1"))
}

func TestRegisterValidator(t *testing.T) {
	t.Parallel()
	even := func(v any) error {
		if n, ok := v.(int); ok && n%2 != 0 {
			return errors.New("must be even")
		}
		return nil
	}
	require.NoError(t, fields.RegisterValidator("fields_test.even", even))
	got, ok := fields.LookupValidator("fields_test.even")
	require.True(t, ok)
	assert.EqualError(t, got(3), "must be even")
	assert.Error(t, fields.RegisterValidator("fields_test.even", even), "duplicate")
	assert.Error(t, fields.RegisterValidator("bad name", even))
	assert.Error(t, fields.RegisterValidator("", even))
	assert.Error(t, fields.RegisterValidator("fields_test.nil", nil))
	assert.Panics(t, func() { fields.MustRegisterValidator("email", even) })

	email, ok := fields.LookupValidator("email")
	require.True(t, ok)
	assert.NoError(t, email("a@example.com"))
	assert.Error(t, email("nope"))
	s := "nope"
	assert.Error(t, email(&s))
	assert.NoError(t, email((*string)(nil)))
	assert.Error(t, email(42), "a non-string is reported, not ignored")
	for _, name := range []string{"url", "slug", "ip", "ipv4", "ipv6"} {
		_, ok := fields.LookupValidator(name)
		assert.True(t, ok, name)
	}
}
