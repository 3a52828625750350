package compiler

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var (
	errNoMeta = errors.New("modjo: compiler: the query has no model (Meta is nil)")

	typeDuration  = reflect.TypeFor[time.Duration]()
	typeTimeOfDay = reflect.TypeFor[fields.TimeOfDay]()
)

// isNil reports nil or a nil pointer: Go's spelling of SQL NULL in a filter.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch v.(type) {
	case string, int, int32, int64, float64, bool, time.Time, bson.ObjectID:
		return false
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// isNumber reports a Go number (not a duration or a time of day) or a decimal.
func isNumber(v any) bool {
	switch v.(type) {
	case int, int32, int64, float64:
		return true
	case bson.Decimal128, apd.Decimal, *apd.Decimal:
		return true
	case time.Duration, fields.TimeOfDay, string, bool, nil:
		return false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Type() != typeDuration && rv.Type() != typeTimeOfDay
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// number converts a Go number to its natural BSON number: int32 when an integer fits,
// else int64 (a double beyond int64), float64, or decimal128. MongoDB compares numbers
// by value across these types.
func number(v any) (any, error) {
	switch x := v.(type) {
	case int32, int64, float64, bson.Decimal128:
		return v, nil
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x), nil
		}
		return int64(x), nil
	case apd.Decimal:
		return bson.ParseDecimal128(x.String())
	case *apd.Decimal:
		if x == nil {
			return nil, errors.New("nil *apd.Decimal")
		}
		return bson.ParseDecimal128(x.String())
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rv.Int()
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			return int32(n), nil
		}
		return n, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		switch {
		case u <= math.MaxInt32:
			return int32(u), nil
		case u <= math.MaxInt64:
			return int64(u), nil
		}
		return float64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	}
	return nil, fmt.Errorf("want a number, got a %T", v)
}

// intValue reads an integer (a whole float too) for transforms such as year.
func intValue(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	}
	if isNumber(v) {
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return rv.Int(), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if u := rv.Uint(); u <= math.MaxInt64 {
				return int64(u), nil
			}
		case reflect.Float32, reflect.Float64:
			if f := rv.Float(); f == math.Trunc(f) && math.Abs(f) < 1<<62 {
				return int64(f), nil
			}
		}
	}
	return 0, fmt.Errorf("want an integer, got %T %v", v, v)
}

// dateValue reads a calendar date: fields.Date, a time.Time (its UTC date), a
// bson.DateTime, or YYYY-MM-DD.
func dateValue(v any) (fields.Date, error) {
	switch x := v.(type) {
	case fields.Date:
		if !x.IsValid() {
			return fields.Date{}, fmt.Errorf("invalid date %v", x)
		}
		return x, nil
	case time.Time:
		return fields.DateOf(x.UTC()), nil
	case bson.DateTime:
		return fields.DateOf(x.Time().UTC()), nil
	case string:
		return fields.ParseDate(x)
	}
	return fields.Date{}, fmt.Errorf("want a date (fields.Date, time.Time or YYYY-MM-DD), got a %T", v)
}

// timeOfDayValue reads a time of day as stored: microseconds since midnight.
func timeOfDayValue(v any) (int64, error) {
	switch x := v.(type) {
	case fields.TimeOfDay:
		if !x.IsValid() {
			return 0, fmt.Errorf("invalid time of day %d", int64(x))
		}
		return int64(x), nil
	case time.Time:
		return int64(fields.TimeOfDayOf(x)), nil
	case string:
		t, err := fields.ParseTimeOfDay(x)
		return int64(t), err
	}
	return 0, fmt.Errorf("want a time of day (fields.TimeOfDay, time.Time or HH:MM[:SS[.ffffff]]), got a %T", v)
}

// fieldValue converts a filter value for a field to the stored value. For numeric
// fields any Go number is accepted: a value the field's type cannot hold (1.5 for an
// integer field, 1e12 for an int32 one) is kept as a number of its own, since MongoDB
// compares numbers by value.
func fieldValue(f *model.Field, v any) (any, error) {
	x, err := f.ToStored(v)
	if err != nil && f.Kind.IsNumeric() && isNumber(v) {
		return number(v)
	}
	return x, err
}

// kindValue converts a constant compared with a transform's output.
func kindValue(k fields.Kind, v any) (any, error) {
	switch k {
	case fields.DateField:
		d, err := dateValue(v)
		if err != nil {
			return nil, err
		}
		return bson.DateTime(d.Time().UnixMilli()), nil
	case fields.TimeField:
		return timeOfDayValue(v)
	}
	if !isNumber(v) {
		return nil, fmt.Errorf("want a number, got a %T", v)
	}
	return number(v)
}

// constant converts a Go value used inside an expression to BSON, and reports its kind
// (0 when it has none, such as a document).
func constant(v any) (any, fields.Kind, error) {
	switch x := v.(type) {
	case nil:
		return nil, 0, nil
	case string:
		return x, fields.TextField, nil
	case bool:
		return x, fields.BooleanField, nil
	case time.Time:
		if x.Year() < -292_000_000 || x.Year() > 292_000_000 {
			return nil, 0, fmt.Errorf("time %v is outside the range of a BSON date", x)
		}
		return bson.DateTime(x.UnixMilli()), fields.DateTimeField, nil
	case fields.Date:
		return bson.DateTime(x.Time().UnixMilli()), fields.DateField, nil
	case fields.TimeOfDay:
		return int64(x), fields.TimeField, nil
	case time.Duration:
		return int64(x), fields.DurationField, nil
	case bson.DateTime:
		return x, fields.DateTimeField, nil
	case bson.ObjectID:
		return x, fields.ObjectIdField, nil
	case bson.Decimal128:
		return x, fields.DecimalField, nil
	case []byte:
		return bson.Binary{Data: x}, fields.BinaryField, nil
	case bson.Binary, bson.D, bson.A, bson.Regex, bson.Raw:
		return x, 0, nil
	}
	if isNumber(v) {
		n, err := number(v)
		if err != nil {
			return nil, 0, err
		}
		switch n.(type) {
		case float64:
			return n, fields.FloatField, nil
		case bson.Decimal128:
			return n, fields.DecimalField, nil
		}
		return n, fields.BigIntegerField, nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.String:
		return rv.String(), fields.TextField, nil
	case rv.Kind() == reflect.Bool:
		return rv.Bool(), fields.BooleanField, nil
	case rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 && rv.Len() == 16:
		b := make([]byte, 16)
		reflect.Copy(reflect.ValueOf(b), rv)
		return bson.Binary{Subtype: 4, Data: b}, fields.UUIDField, nil
	case rv.Kind() == reflect.Pointer && !rv.IsNil():
		return constant(rv.Elem().Interface())
	}
	return nil, 0, fmt.Errorf("%w: a %T cannot be used as a constant in an expression", model.ErrNotSupported, v)
}

// textValue reads the text of a pattern lookup: a string or a string-kinded value.
func textValue(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String(), nil
	}
	return "", fmt.Errorf("want a string, got a %T", v)
}

// regexMeta marks the characters that mean something in a PCRE pattern outside a
// character class.
var regexMeta = [256]bool{'\\': true, '.': true, '+': true, '*': true, '?': true, '(': true, ')': true,
	'|': true, '[': true, ']': true, '{': true, '}': true, '^': true, '$': true, '#': true}

// escapeRegex quotes s so that a PCRE (and Go) pattern matches exactly its text: meta
// characters get a backslash, and NUL, which a BSON regex cannot hold, becomes \x00.
func escapeRegex(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("the text %q is not valid UTF-8, which MongoDB's regular expressions require", s)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == 0:
			n += 3
		case regexMeta[s[i]]:
			n++
		}
	}
	if n == 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s) + n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			b.WriteString(`\x00`)
		case regexMeta[c]:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// isDocLike reports values that must be compared with $eq: a document or an array as a
// bare value could be read as operators (or match elements), a regex as a pattern.
func isDocLike(v any) bool {
	switch v.(type) {
	case bson.D, bson.A, bson.M, bson.Raw, bson.Regex, map[string]any, []any:
		return true
	}
	return false
}
